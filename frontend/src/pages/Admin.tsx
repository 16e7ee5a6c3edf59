import { useRef, useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { api, type SettingsPatch } from "../api/endpoints";
import { ApiError } from "../api/errors";
import type { InstanceSettings, SmtpTestOutcome } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { Invites } from "../components/admin/Invites";
import { Members } from "../components/admin/Members";
import { Prices } from "../components/admin/Prices";
import "../components/budgets/alerting.css";
import { CheckboxField, focusFirstError, FormError, SelectField, TextField } from "../components/Field";
import { ErrorState, Loading, Notice } from "../components/Notice";
import { PageHeader } from "../components/PageHeader";
import { formatDateTime, formatInteger } from "../lib/format";
import { useAsync } from "../lib/useAsync";

const REGISTRATION_MODES: [InstanceSettings["registration_mode"], string][] = [
  ["open", "Open — anyone can create an account"],
  ["invite", "By invitation only"],
  ["closed", "Closed — nobody can sign up"],
];

/** Provider kinds whose API address the instance admin may replace (a proxy or gateway). */
const PROVIDER_ADDRESSES: [string, string][] = [
  ["openai", "OpenAI"],
  ["anthropic", "Anthropic"],
  ["openrouter", "OpenRouter"],
  ["plaid", "Plaid"],
];

const SMTP_SECURITY: [InstanceSettings["smtp"]["security"], string][] = [
  ["none", "None (plain SMTP)"],
  ["starttls", "STARTTLS"],
  ["tls", "TLS (implicit, usually port 465)"],
];

interface FormValues {
  registration_mode: InstanceSettings["registration_mode"];
  ai_minutes: string;
  money_minutes: string;
  host: string;
  port: string;
  security: InstanceSettings["smtp"]["security"];
  from_address: string;
  username: string;
  password: string;
  base_url: string;
  allow_private_webhooks: boolean;
  provider_urls: Record<string, string>;
}

function valuesOf(s: InstanceSettings): FormValues {
  return {
    registration_mode: s.registration_mode,
    ai_minutes: String(s.sync_intervals.ai_minutes),
    money_minutes: String(s.sync_intervals.money_minutes),
    host: s.smtp.host,
    port: String(s.smtp.port),
    security: s.smtp.security,
    from_address: s.smtp.from_address,
    username: s.smtp.username,
    password: s.smtp.password,
    base_url: s.base_url ?? "",
    allow_private_webhooks: s.allow_private_webhooks,
    provider_urls: Object.fromEntries(PROVIDER_ADDRESSES.map(([kind]) => [kind, s.provider_urls?.[kind] ?? ""])),
  };
}

/** Only what differs from S, in the API's nested shape. */
export function settingsChanges(v: FormValues, s: InstanceSettings): SettingsPatch {
  const changes: SettingsPatch = {};
  if (v.registration_mode !== s.registration_mode) changes.registration_mode = v.registration_mode;
  if (v.allow_private_webhooks !== s.allow_private_webhooks) changes.allow_private_webhooks = v.allow_private_webhooks;
  if (v.base_url.trim() !== (s.base_url ?? "")) changes.base_url = v.base_url.trim() || null;
  const intervals: SettingsPatch["sync_intervals"] = {};
  if (Number(v.ai_minutes) !== s.sync_intervals.ai_minutes) intervals.ai_minutes = Number(v.ai_minutes);
  if (Number(v.money_minutes) !== s.sync_intervals.money_minutes) intervals.money_minutes = Number(v.money_minutes);
  if (Object.keys(intervals).length) changes.sync_intervals = intervals;
  const smtp: SettingsPatch["smtp"] = {};
  for (const key of ["host", "username", "from_address"] as const) if (v[key].trim() !== s.smtp[key]) smtp[key] = v[key].trim();
  if (v.security !== s.smtp.security) smtp.security = v.security;
  if (v.password !== s.smtp.password) smtp.password = v.password;
  if (Number(v.port) !== s.smtp.port) smtp.port = Number(v.port);
  if (Object.keys(smtp).length) changes.smtp = smtp;
  const urls: Record<string, string | null> = {};
  for (const [kind] of PROVIDER_ADDRESSES) {
    const typed = (v.provider_urls[kind] ?? "").trim();
    if (typed !== (s.provider_urls?.[kind] ?? "")) urls[kind] = typed || null;
  }
  if (Object.keys(urls).length) changes.provider_urls = urls;
  return changes;
}

function SettingsForm({ initial }: { initial: InstanceSettings }) {
  const [settings, setSettings] = useState(initial);
  const [v, setV] = useState<FormValues>(valuesOf(initial));
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<{ kind: "success" | "info"; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const set = <K extends keyof FormValues>(key: K) => (value: FormValues[K]) => setV((cur) => ({ ...cur, [key]: value }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setMessage(null);
    const changes = settingsChanges(v, settings);
    if (!Object.keys(changes).length) {
      setMessage({ kind: "info", text: "Nothing changed." });
      return;
    }
    setBusy(true);
    try {
      const saved = await api.admin.updateSettings(changes);
      setSettings(saved);
      setV(valuesOf(saved));
      setMessage({ kind: "success", text: "Settings saved." });
    } catch (err) {
      setError(err);
      focusFirstError(formRef.current);
    } finally {
      setBusy(false);
    }
  };

  const fields = [
    "registration_mode",
    "sync_intervals.ai_minutes",
    "sync_intervals.money_minutes",
    "smtp.host",
    "smtp.port",
    "smtp.security",
    "smtp.from_address",
    "smtp.username",
    "smtp.password",
    "base_url",
    "allow_private_webhooks",
    "provider_urls",
  ];

  return (
    <>
      <form ref={formRef} className="settings-form" onSubmit={submit} aria-busy={busy}>
        <FormError error={error} fields={fields} />
        {message && <Notice kind={message.kind}>{message.text}</Notice>}
        <fieldset>
          <legend>Sign-up</legend>
          <SelectField
            name="registration_mode"
            label="Who can create an account"
            value={v.registration_mode}
            onChange={(e) => set("registration_mode")(e.target.value as FormValues["registration_mode"])}
            error={error}
          >
            {REGISTRATION_MODES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </SelectField>
        </fieldset>
        <fieldset>
          <legend>Sync intervals</legend>
          <div className="field-grid">
            <TextField name="sync_intervals.ai_minutes" label="AI providers (minutes)" type="number" required min={1} max={1440} help="1 to 1440." value={v.ai_minutes} onChange={(e) => set("ai_minutes")(e.target.value)} error={error} />
            <TextField name="sync_intervals.money_minutes" label="Money accounts (minutes)" type="number" required min={15} max={10080} help="15 to 10080." value={v.money_minutes} onChange={(e) => set("money_minutes")(e.target.value)} error={error} />
          </div>
        </fieldset>
        <fieldset>
          <legend>Outgoing email (SMTP)</legend>
          <p className="help">
            With no host, emails are written to the server's <code>mail-outbox</code> folder instead of being sent. To check these settings, save
            them, then send a test email (below the form). Alerts go to the recipients of email channels (<Link to="/channels">Channels</Link>).
          </p>
          <div className="field-grid">
            <TextField name="smtp.host" label="Host" autoComplete="off" placeholder="smtp.example.com" value={v.host} onChange={(e) => set("host")(e.target.value)} error={error} />
            <TextField name="smtp.port" label="Port" type="number" required min={1} max={65535} value={v.port} onChange={(e) => set("port")(e.target.value)} error={error} />
            <SelectField name="smtp.security" label="Security" value={v.security} onChange={(e) => set("security")(e.target.value as FormValues["security"])} error={error}>
              {SMTP_SECURITY.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </SelectField>
            <TextField name="smtp.from_address" label="From address" autoComplete="off" placeholder="spendwatch@example.com" value={v.from_address} onChange={(e) => set("from_address")(e.target.value)} error={error} />
            <TextField name="smtp.username" label="Username" autoComplete="off" value={v.username} onChange={(e) => set("username")(e.target.value)} error={error} />
            <TextField
              name="smtp.password"
              label="Password"
              type="password"
              autoComplete="new-password"
              value={v.password}
              onChange={(e) => set("password")(e.target.value)}
              error={error}
              note={
                settings.smtp.password
                  ? `Stored password shown as a hint (${settings.smtp.password}). Leave it unchanged to keep it, clear the field to remove it, or type a new one.`
                  : "No password stored."
              }
            />
          </div>
        </fieldset>
        <fieldset>
          <legend>Web</legend>
          <TextField
            name="base_url"
            label="Public address (base URL)"
            type="url"
            placeholder="https://spendwatch.example.com"
            value={v.base_url}
            onChange={(e) => set("base_url")(e.target.value)}
            error={error}
            help="Used for links in emails and invitations. Leave empty to use the BASE_URL environment setting."
          />
          <CheckboxField
            name="allow_private_webhooks"
            label="Allow webhooks to private network addresses"
            checked={v.allow_private_webhooks}
            onChange={(e) => set("allow_private_webhooks")(e.target.checked)}
            error={error}
            help="Off by default: webhook URLs and SimpleFIN bridges that resolve to private or loopback addresses are refused."
          />
        </fieldset>
        <fieldset>
          <legend>Provider API addresses</legend>
          <p className="help">
            Leave empty to use each provider&apos;s own address. Set one only to route a provider through your proxy or gateway: Spendwatch
            sends that provider&apos;s keys there, private addresses included. An address set in the server&apos;s environment
            (SPENDWATCH_PROVIDER_URL_&lt;KIND&gt;) wins over these.
          </p>
          <div className="field-grid">
            {PROVIDER_ADDRESSES.map(([kind, label]) => (
              <TextField
                key={kind}
                name={`provider_urls.${kind}`}
                label={`${label} API address`}
                type="url"
                autoComplete="off"
                placeholder="https://…"
                value={v.provider_urls[kind] ?? ""}
                onChange={(e) => set("provider_urls")({ ...v.provider_urls, [kind]: e.target.value })}
                error={error}
              />
            ))}
          </div>
        </fieldset>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? "Saving…" : "Save settings"}
          </button>
          <span className="muted">{settings.updated_at ? `Last changed ${formatDateTime(settings.updated_at)}` : "Never changed (defaults)"}</span>
        </div>
      </form>
      <SmtpTest settings={settings} unsaved={Boolean(settingsChanges(v, settings).smtp)} />
    </>
  );
}

/** "Send test email": one message through the saved SMTP settings, and how it went. */
function SmtpTest({ settings, unsaved }: { settings: InstanceSettings; unsaved: boolean }) {
  const { user } = useAuth();
  const [to, setTo] = useState(user?.email ?? "");
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<(SmtpTestOutcome & { to: string }) | null>(null);
  const [error, setError] = useState<unknown>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const smtp = settings.smtp;

  const send = async (event: FormEvent) => {
    event.preventDefault();
    setOutcome(null);
    setError(null);
    setBusy(true);
    try {
      const recipient = to.trim();
      setOutcome({ ...(await api.admin.testSmtp(recipient)), to: recipient });
    } catch (err) {
      setError(err);
      focusFirstError(formRef.current);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form ref={formRef} className="smtp-test" aria-labelledby="smtp-test-h" onSubmit={send} aria-busy={busy} noValidate>
      <h3 id="smtp-test-h">Send a test email</h3>
      <p className="help">
        {smtp.host
          ? `Sent now through the saved settings: ${smtp.host}:${smtp.port} (${smtp.security}).`
          : "No SMTP host is saved, so the test message is written to the server's mail-outbox folder instead of being sent."}
      </p>
      {unsaved && <Notice kind="warning">The SMTP fields above have unsaved changes: the test uses the saved settings. Save first to test your changes.</Notice>}
      <FormError error={error} fields={["to"]} />
      <div className="smtp-test-row">
        <TextField name="to" label="Recipient" type="email" required autoComplete="email" value={to} onChange={(e) => setTo(e.target.value)} error={error} />
        <button type="submit" className="btn btn-secondary" disabled={busy || !to.trim()}>
          {busy ? "Sending…" : "Send test email"}
        </button>
      </div>
      {outcome &&
        (outcome.ok ? (
          <Notice kind="success">
            {outcome.via === "outbox"
              ? (outcome.note ?? "Written to the mail outbox folder.")
              : `Sent to ${outcome.to}: the mail server accepted it. Check that inbox.${outcome.note ? ` (${outcome.note})` : ""}`}
          </Notice>
        ) : (
          <Notice kind="error">
            The test email was not sent: {outcome.error ?? "unknown error"}.
          </Notice>
        ))}
    </form>
  );
}

/** The answer for someone the API refuses (the page is hidden for non-admins, but rights can change meanwhile). */
export function AdminsOnly() {
  return (
    <section className="panel">
      <h1 tabIndex={-1}>Admins only</h1>
      <Notice kind="error">
        This page is for instance administrators only. Your account is not an instance administrator, so it cannot see or change the instance settings.
        Ask an administrator if something here needs changing.
      </Notice>
    </section>
  );
}

const refused = (error: unknown) => error instanceof ApiError && error.status === 403;

export default function Admin() {
  const settings = useAsync(() => api.admin.settings(), []);
  const keys = useAsync(() => api.admin.keys(), []);
  if (refused(settings.error) || refused(keys.error)) return <AdminsOnly />;
  return (
    <>
      <PageHeader title="Admin" subtitle="Instance settings apply to the whole instance; members and invitations are the current workspace's." />
      <section className="panel" aria-labelledby="settings-h">
        <h2 id="settings-h">Instance settings</h2>
        {settings.error ? (
          <ErrorState error={settings.error} what="the settings" onRetry={settings.reload} />
        ) : !settings.data ? (
          <Loading>Loading settings…</Loading>
        ) : (
          <SettingsForm initial={settings.data} />
        )}
      </section>
      <section className="panel" aria-labelledby="members-h">
        <h2 id="members-h">Members and roles</h2>
        <Members />
      </section>
      <section className="panel" aria-labelledby="invites-h">
        <h2 id="invites-h">Invitations</h2>
        <Invites />
      </section>
      <section className="panel" aria-labelledby="prices-h">
        <h2 id="prices-h">Price overrides</h2>
        <Prices />
      </section>
      <section className="panel" aria-labelledby="keys-h">
        <h2 id="keys-h">Encryption keys</h2>
        {keys.error ? (
          <ErrorState error={keys.error} what="the key status" onRetry={keys.reload} />
        ) : !keys.data ? (
          <Loading />
        ) : (
          <>
            <dl className="facts">
              <div>
                <dt>Keys configured</dt>
                <dd>{formatInteger(keys.data.keys)}</dd>
              </div>
              <div>
                <dt>Secrets under the newest key</dt>
                <dd>{formatInteger(keys.data.secrets_current)}</dd>
              </div>
              <div>
                <dt>Secrets under older keys</dt>
                <dd>{formatInteger(keys.data.secrets_stale)}</dd>
              </div>
              <div>
                <dt>Unreadable secrets</dt>
                <dd className={keys.data.secrets_unreadable > 0 ? "text-danger strong" : undefined}>{formatInteger(keys.data.secrets_unreadable)}</dd>
              </div>
            </dl>
            {keys.data.secrets_stale > 0 && (
              <Notice kind="info">
                Some secrets are still encrypted with an older key. Run <code>spendwatch keys rotate</code> to re-encrypt them.
              </Notice>
            )}
            {keys.data.secrets_unreadable > 0 ? (
              <Notice kind="error">
                {keys.data.secrets_unreadable === 1 ? "1 stored secret cannot" : `${formatInteger(keys.data.secrets_unreadable)} stored secrets cannot`} be
                decrypted with the configured keys (a key was removed too early). The accounts and channels that use them fail until the missing key is
                restored, or their credentials are entered again.
              </Notice>
            ) : (
              keys.data.secrets_stale === 0 && <Notice kind="success">Every stored secret is readable and under the newest key.</Notice>
            )}
          </>
        )}
      </section>
    </>
  );
}
