import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { api } from "../../api/endpoints";
import type { Channel, ChannelCreated, ChannelIn, ChannelKind, ChannelPatch, WebhookFormat } from "../../api/types";
import { useAuth } from "../../auth/AuthContext";
import { CheckboxField, focusFirstError, FormError, SelectField, TextField } from "../Field";
import { errorsUnder, TextAreaField } from "./forms";
import { headerProblems, headersObject, HeadersEditor, type HeaderRow } from "./HeadersEditor";

export const parseRecipients = (text: string) =>
  text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);

interface Values {
  name: string;
  kind: ChannelKind;
  recipients: string;
  url: string;
  format: WebhookFormat;
  headers: HeaderRow[];
  enabled: boolean;
}

function valuesOf(channel?: Channel): Values {
  return {
    name: channel?.name ?? "",
    kind: channel?.kind ?? "email",
    recipients: (channel?.recipients ?? []).join("\n"),
    url: channel?.url ?? "",
    format: channel?.format ?? "standard",
    headers: Object.entries(channel?.headers ?? {}).map(([name, value]) => ({ name, value })),
    enabled: channel?.enabled ?? true,
  };
}

function problemsOf(v: Values): Record<string, string> {
  const p: Record<string, string> = {};
  if (!v.name.trim()) p.name = "Give the channel a name.";
  if (v.kind === "email") {
    const list = parseRecipients(v.recipients);
    const bad = list.filter((r) => !/^[^@\s]+@[^@\s]+$/.test(r));
    if (!list.length) p.recipients = "Enter at least one email address.";
    else if (list.length > 20) p.recipients = "At most 20 addresses.";
    else if (bad.length) p.recipients = `Not an email address: ${bad.join(", ")}`;
  } else {
    if (!v.url.trim()) p.url = "Enter the webhook's URL.";
    else if (!/^https?:\/\//i.test(v.url.trim())) p.url = "Start with https:// (or http://).";
    if (Object.keys(headerProblems(v.headers)).length) p.headers = "Fix the headers marked below.";
  }
  return p;
}

/** Only what changed: a URL hint or header hints sent back unchanged keep the stored secret values. */
export function channelChanges(v: Values, channel: Channel): ChannelPatch {
  const body: ChannelPatch = {};
  if (v.name.trim() !== channel.name) body.name = v.name.trim();
  if (v.enabled !== channel.enabled) body.enabled = v.enabled;
  if (channel.kind === "email") {
    const list = parseRecipients(v.recipients);
    if (list.join("\n") !== (channel.recipients ?? []).join("\n")) body.recipients = list;
  } else {
    if (v.url.trim() !== (channel.url ?? "")) body.url = v.url.trim();
    if (v.format !== channel.format) body.format = v.format;
    const next = headersObject(v.headers);
    if (JSON.stringify(next) !== JSON.stringify(channel.headers ?? {})) body.headers = next;
  }
  return body;
}

const FIELDS = ["name", "kind", "recipients", "url", "format", "headers", "enabled"];

export function ChannelForm({
  channel,
  onCreated,
  onSaved,
  onCancel,
}: {
  channel?: Channel;
  onCreated?: (c: ChannelCreated) => void;
  onSaved?: (c: Channel) => void;
  onCancel: () => void;
}) {
  const { user } = useAuth();
  const [v, setV] = useState<Values>(() => valuesOf(channel));
  const [checked, setChecked] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const headingId = `channel-form-${useId().replace(/:/g, "")}`;
  const set = <K extends keyof Values>(key: K, value: Values[K]) => setV((cur) => ({ ...cur, [key]: value }));
  const problems = checked ? problemsOf(v) : {};
  const msg = (name: string) => (problems[name] ? [problems[name]] : []);

  useEffect(() => {
    formRef.current?.querySelector<HTMLElement>("input:not([type=radio]), select, textarea")?.focus();
  }, []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setChecked(true);
    setError(null);
    if (Object.keys(problemsOf(v)).length) {
      focusFirstError(formRef.current);
      return;
    }
    setBusy(true);
    try {
      if (channel) {
        const body = channelChanges(v, channel);
        if (!Object.keys(body).length) {
          onCancel();
          return;
        }
        onSaved?.(await api.channels.update(channel.id, body));
      } else {
        const body: ChannelIn =
          v.kind === "email"
            ? { name: v.name.trim(), kind: "email", recipients: parseRecipients(v.recipients) }
            : {
                name: v.name.trim(),
                kind: "webhook",
                url: v.url.trim(),
                format: v.format,
                ...(v.headers.length ? { headers: headersObject(v.headers) } : {}),
              };
        onCreated?.(await api.channels.create(body));
      }
    } catch (err) {
      setError(err);
      setBusy(false);
      focusFirstError(formRef.current);
    }
  };

  const urlNote =
    channel?.kind === "webhook"
      ? "The stored URL is shown as a hint (its origin and first path segment): the rest is often the credential. Leave the hint unchanged to keep the URL, or enter a whole new URL."
      : undefined;
  const privateHint =
    error && errorsUnder(error, "url").some((m) => /private|loopback|link-local/i.test(m))
      ? user?.is_admin
        ? "An instance admin can allow private-network webhooks on the Admin page."
        : "Only an instance administrator can allow webhooks to private networks."
      : undefined;

  return (
    <form ref={formRef} className={channel ? "channel-form" : "card channel-form"} aria-labelledby={headingId} onSubmit={submit} aria-busy={busy} noValidate>
      {channel ? <h3 id={headingId}>Edit “{channel.name}”</h3> : <h2 id={headingId}>Add a channel</h2>}
      <FormError error={error} fields={FIELDS} />
      {!channel && (
        <fieldset className="kind-choice">
          <legend>Kind</legend>
          <div className="segmented" role="radiogroup" aria-label="Channel kind">
            {(
              [
                ["email", "Email"],
                ["webhook", "Webhook"],
              ] as [ChannelKind, string][]
            ).map(([kind, label]) => (
              <label key={kind} className={v.kind === kind ? "active" : undefined}>
                <input type="radio" name={`${headingId}-kind`} value={kind} checked={v.kind === kind} onChange={() => set("kind", kind)} />
                {label}
              </label>
            ))}
          </div>
        </fieldset>
      )}
      <TextField name="name" label="Name" required autoComplete="off" value={v.name} onChange={(e) => set("name", e.target.value)} error={error} messages={msg("name")} placeholder={v.kind === "email" ? "Ops team" : "Slack #alerts"} />
      {v.kind === "email" ? (
        <TextAreaField
          name="recipients"
          label="Recipients"
          required
          rows={3}
          spellCheck={false}
          autoComplete="off"
          value={v.recipients}
          onChange={(e) => set("recipients", e.target.value)}
          help="1 to 20 addresses, one per line (or separated by commas)."
          messages={[...msg("recipients"), ...errorsUnder(error, "recipients")]}
        />
      ) : (
        <>
          <TextField
            name="url"
            label="URL"
            required
            type="url"
            inputMode="url"
            autoComplete="off"
            spellCheck={false}
            placeholder="https://hooks.example.com/spendwatch"
            value={v.url}
            onChange={(e) => set("url", e.target.value)}
            error={error}
            messages={msg("url")}
            note={urlNote}
            help={privateHint}
          />
          <SelectField
            name="format"
            label="Format"
            value={v.format}
            onChange={(e) => set("format", e.target.value as WebhookFormat)}
            error={error}
            help={
              v.format === "slack"
                ? "A Slack incoming-webhook message. Not signed: Slack authenticates by the URL."
                : "Signed JSON (Standard Webhooks): verify it with the signing secret shown once after saving."
            }
          >
            <option value="standard">Standard (signed JSON)</option>
            <option value="slack">Slack</option>
          </SelectField>
          <HeadersEditor rows={v.headers} onChange={(rows) => set("headers", rows)} error={error} showProblems={checked} hints={Boolean(channel)} />
        </>
      )}
      {channel && (
        <CheckboxField
          name="enabled"
          label="Enabled"
          checked={v.enabled}
          onChange={(e) => set("enabled", e.target.checked)}
          error={error}
          help={channel.disabled_reason ? `Disabled: ${channel.disabled_reason}. Tick to enable it again.` : "A disabled channel gets no notifications."}
        />
      )}
      {v.kind === "email" && !channel && (
        <p className="help">
          Emails go out through the instance's SMTP settings{user?.is_admin ? <> (<Link to="/admin">Admin</Link>)</> : ""}; without SMTP they are written
          to the server's mail-outbox folder.
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? "Saving…" : channel ? "Save changes" : "Add channel"}
        </button>
        <button type="button" className="btn btn-ghost" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}
