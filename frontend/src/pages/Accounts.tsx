import { useEffect, useRef, useState, type FormEvent } from "react";
import { useLocation, useSearchParams } from "react-router-dom";
import { api } from "../api/endpoints";
import { ApiError, messageOf } from "../api/errors";
import type { Account, AccountPatch, CredentialField, ProviderKind, SyncRun } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { CheckboxField, focusFirstError, FormError, SelectField, TextField } from "../components/Field";
import { EmptyState, ErrorState, Loading, Notice } from "../components/Notice";
import { PageHeader } from "../components/PageHeader";
import { StatusBadge } from "../components/StatusBadge";
import { formatDateTime, formatInteger, formatRelative } from "../lib/format";
import { useAsync } from "../lib/useAsync";

const POLL_MS = 2000;
const POLL_LIMIT_MS = 120_000;

type RowMessage = { kind: "success" | "error" | "info"; text: string };

/** Text with `backticked` parts shown as code. */
function withCode(text: string) {
  return text.split("`").map((part, i) => (i % 2 ? <code key={i}>{part}</code> : <span key={i}>{part}</span>));
}

function credentialInput(field: CredentialField, value: string, onChange: (v: string) => void, error: unknown, hint?: string) {
  const note =
    field.secret && hint
      ? `Stored value: ${hint} (a hint, not the secret). Leave it unchanged to keep it, or type a new value to replace it.`
      : undefined;
  return (
    <TextField
      key={field.name}
      name={`credentials.${field.name}`}
      label={field.label}
      type={field.secret ? "password" : "text"}
      required={field.required}
      value={value}
      onChange={(e) => onChange(e.target.value)}
      help={field.help || undefined}
      note={note}
      placeholder={field.placeholder || undefined}
      // "new-password" keeps browsers from filling the Spendwatch password into an API-key field.
      autoComplete={field.secret ? "new-password" : "off"}
      spellCheck={false}
      autoCapitalize="off"
      error={error}
    />
  );
}

// --- Add ------------------------------------------------------------------------------------------

function AddAccountForm({
  providers,
  onAdded,
  onCancel,
  autoFocus,
}: {
  providers: ProviderKind[];
  onAdded: (a: Account) => void;
  onCancel: () => void;
  /** Focus the first control (when the user asked for the form, not when an empty workspace shows it). */
  autoFocus: boolean;
}) {
  const [kind, setKind] = useState(providers[0]?.kind ?? "");
  const [name, setName] = useState("");
  const [interval, setIntervalText] = useState("");
  const [credentials, setCredentials] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const provider = providers.find((p) => p.kind === kind);
  const groups: [string, ProviderKind[]][] = [
    ["AI providers", providers.filter((p) => p.category === "ai")],
    ["Banks and money", providers.filter((p) => p.category === "money")],
  ];

  useEffect(() => {
    if (autoFocus) formRef.current?.querySelector<HTMLElement>("select")?.focus();
  }, [autoFocus]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!provider) return;
    setError(null);
    setBusy(true);
    try {
      const creds: Record<string, string> = {};
      for (const f of provider.credential_fields) if (credentials[f.name]) creds[f.name] = credentials[f.name];
      const account = await api.accounts.create({
        kind,
        name: name.trim() || provider.label,
        credentials: creds,
        ...(interval.trim() ? { sync_interval_minutes: Number(interval) } : {}),
      });
      onAdded(account);
    } catch (err) {
      setError(err);
      setBusy(false);
      focusFirstError(formRef.current);
    }
  };

  const fields = ["kind", "name", "sync_interval_minutes", ...(provider?.credential_fields.map((f) => `credentials.${f.name}`) ?? [])];
  return (
    <form ref={formRef} className="card add-account" aria-labelledby="add-account-h" onSubmit={submit} aria-busy={busy}>
      <h2 id="add-account-h">Add a provider account</h2>
      <FormError error={error} fields={fields} />
      <SelectField
        name="kind"
        label="Provider"
        value={kind}
        onChange={(e) => {
          setKind(e.target.value);
          setCredentials({});
          setError(null);
        }}
        error={error}
      >
        {groups.map(([label, list]) =>
          list.length ? (
            <optgroup key={label} label={label}>
              {list.map((p) => (
                <option key={p.kind} value={p.kind}>
                  {p.label}
                </option>
              ))}
            </optgroup>
          ) : null,
        )}
      </SelectField>
      {provider && (
        <>
          {provider.description && <p className="help provider-description">{withCode(provider.description)}</p>}
          <TextField
            name="name"
            label="Account name"
            value={name}
            placeholder={provider.label}
            autoComplete="off"
            onChange={(e) => setName(e.target.value)}
            help={`Optional. Defaults to “${provider.label}”.`}
            error={error}
          />
          {provider.credential_fields.map((f) =>
            credentialInput(f, credentials[f.name] ?? "", (v) => setCredentials((c) => ({ ...c, [f.name]: v })), error),
          )}
          {provider.kind !== "manual" && (
            <TextField
              name="sync_interval_minutes"
              label="Sync every (minutes)"
              type="number"
              min={1}
              max={10080}
              inputMode="numeric"
              value={interval}
              onChange={(e) => setIntervalText(e.target.value)}
              help="Optional. Leave empty for the instance default."
              error={error}
            />
          )}
        </>
      )}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy || !provider}>
          {busy ? "Adding…" : "Add account"}
        </button>
        <button type="button" className="btn btn-ghost" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

// --- Edit -----------------------------------------------------------------------------------------

function EditAccountForm({
  account,
  provider,
  onSaved,
  onCancel,
}: {
  account: Account;
  provider?: ProviderKind;
  onSaved: (a: Account, credentialsChanged: boolean) => void;
  onCancel: () => void;
}) {
  const fields = provider?.credential_fields ?? [];
  const [name, setName] = useState(account.name);
  const [enabled, setEnabled] = useState(account.enabled);
  const [interval, setIntervalText] = useState(String(account.sync_interval_minutes));
  const [credentials, setCredentials] = useState<Record<string, string>>(
    Object.fromEntries(fields.map((f) => [f.name, account.credentials?.[f.name] ?? ""])),
  );
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);

  useEffect(() => {
    formRef.current?.querySelector<HTMLElement>("input")?.focus();
  }, []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const body: AccountPatch = {};
    if (name.trim() !== account.name) body.name = name.trim();
    if (enabled !== account.enabled) body.enabled = enabled;
    if (interval.trim() && Number(interval) !== account.sync_interval_minutes) body.sync_interval_minutes = Number(interval);
    // Send all credential fields when any changed: unchanged secrets go back as their hint, which keeps them.
    const credentialsChanged = fields.some((f) => credentials[f.name] !== (account.credentials?.[f.name] ?? ""));
    if (credentialsChanged) body.credentials = credentials;
    if (!Object.keys(body).length) {
      onCancel();
      return;
    }
    setError(null);
    setBusy(true);
    try {
      onSaved(await api.accounts.update(account.id, body), credentialsChanged);
    } catch (err) {
      setError(err);
      setBusy(false);
      focusFirstError(formRef.current);
    }
  };

  return (
    <form ref={formRef} className="edit-account" aria-labelledby={`edit-${account.id}-h`} onSubmit={submit} aria-busy={busy}>
      <h3 id={`edit-${account.id}-h`}>Edit “{account.name}”</h3>
      <FormError error={error} fields={["name", "enabled", "sync_interval_minutes", ...fields.map((f) => `credentials.${f.name}`)]} />
      <TextField name="name" label="Account name" required value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" error={error} />
      {fields.map((f) =>
        credentialInput(
          f,
          credentials[f.name] ?? "",
          (v) => setCredentials((c) => ({ ...c, [f.name]: v })),
          error,
          account.credentials?.[f.name],
        ),
      )}
      {account.kind !== "manual" && (
        <TextField
          name="sync_interval_minutes"
          label="Sync every (minutes)"
          type="number"
          min={1}
          max={10080}
          required
          inputMode="numeric"
          value={interval}
          onChange={(e) => setIntervalText(e.target.value)}
          error={error}
        />
      )}
      <CheckboxField
        name="enabled"
        label="Enabled (synced on schedule)"
        checked={enabled}
        onChange={(e) => setEnabled(e.target.checked)}
        error={error}
      />
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? "Saving…" : "Save changes"}
        </button>
        <button type="button" className="btn btn-ghost" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

// --- Sync history ---------------------------------------------------------------------------------

const SYNC_STATUS: Record<SyncRun["status"], string> = {
  running: "Running",
  ok: "OK",
  failed: "Failed",
  abandoned: "Abandoned",
};

function SyncHistory({ accountId, version }: { accountId: number; version: number }) {
  const runs = useAsync((signal) => api.accounts.syncs(accountId, 20, signal), [accountId, version]);
  if (runs.error) return <ErrorState error={runs.error} what="the sync history" onRetry={runs.reload} />;
  if (!runs.data) return <Loading>Loading the sync history…</Loading>;
  if (!runs.data.items.length) return <EmptyState title="No syncs yet." />;
  return (
    <div className="table-wrap">
      <table className="table">
        <caption className="visually-hidden">Recent sync runs, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Started</th>
            <th scope="col">Trigger</th>
            <th scope="col">Outcome</th>
            <th scope="col" className="num">
              Records
            </th>
            <th scope="col">Window</th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {runs.data.items.map((run) => (
            <tr key={run.id}>
              <td>{formatDateTime(run.started_at)}</td>
              <td>{run.trigger}</td>
              <td>
                <span className={`badge badge-sync-${run.status}`}>{SYNC_STATUS[run.status] ?? run.status}</span>
              </td>
              <td className="num">{formatInteger(run.records)}</td>
              <td className="small">
                {run.window_start ? `${formatDateTime(run.window_start)} – ${formatDateTime(run.window_end)}` : "—"}
              </td>
              <td className="small wrap">{run.error ? `${run.error_kind ? `${run.error_kind}: ` : ""}${run.error}` : ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

// --- One account ----------------------------------------------------------------------------------

interface SyncProgress {
  phase: "requesting" | "waiting" | "running" | "done" | "failed" | "timeout";
  text: string;
}

function useSyncNow(account: Account, onFinished: () => void) {
  const [progress, setProgress] = useState<SyncProgress | null>(null);
  const cancelled = useRef(false);
  useEffect(
    () => () => {
      cancelled.current = true;
    },
    [],
  );

  const start = async () => {
    cancelled.current = false;
    setProgress({ phase: "requesting", text: "Requesting a sync…" });
    try {
      const before = await api.accounts.syncs(account.id, 1);
      // A run already in progress counts as ours: the request makes the account due again after it.
      const newest = before.items[0];
      const lastId = newest ? (newest.status === "running" ? newest.id - 1 : newest.id) : 0;
      const requested = await api.accounts.sync(account.id);
      setProgress({ phase: "waiting", text: requested.message || "Sync requested; waiting for a worker…" });
      const started = Date.now();
      while (!cancelled.current && Date.now() - started < POLL_LIMIT_MS) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        if (cancelled.current) return;
        const runs = await api.accounts.syncs(account.id, 5);
        const run = runs.items.find((r) => r.id > lastId);
        if (!run) continue;
        if (run.status === "running") {
          setProgress({ phase: "running", text: `Syncing… started ${formatRelative(run.started_at)}.` });
          continue;
        }
        if (run.status === "ok") {
          setProgress({ phase: "done", text: `Sync finished: ${formatInteger(run.records)} records stored.` });
        } else {
          setProgress({ phase: "failed", text: `Sync ${run.status}: ${run.error ?? "no details"}` });
        }
        onFinished();
        return;
      }
      if (!cancelled.current) {
        setProgress({ phase: "timeout", text: "The sync has not finished yet. It goes on in the background; check the history later." });
        onFinished();
      }
    } catch (error) {
      if (cancelled.current || (error instanceof ApiError && error.sessionEnded)) return;
      setProgress({ phase: "failed", text: messageOf(error) });
    }
  };
  const busy = progress !== null && ["requesting", "waiting", "running"].includes(progress.phase);
  return { progress, start, busy, clear: () => setProgress(null) };
}

function AccountCard({
  account,
  provider,
  canWrite,
  onChanged,
  onDeleted,
  initialMessage,
}: {
  account: Account;
  provider?: ProviderKind;
  canWrite: boolean;
  onChanged: (a: Account) => void;
  onDeleted: (a: Account) => void;
  initialMessage?: RowMessage;
}) {
  const [mode, setMode] = useState<"view" | "edit" | "confirm-delete">("view");
  const [message, setMessage] = useState<RowMessage | null>(initialMessage ?? null);
  const [testing, setTesting] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [historyOpen, setHistoryOpen] = useState(false);
  const [historyVersion, setHistoryVersion] = useState(0);
  const editButton = useRef<HTMLButtonElement>(null);
  const cancelDelete = useRef<HTMLButtonElement>(null);

  const refresh = async () => {
    setHistoryVersion((v) => v + 1);
    try {
      onChanged(await api.accounts.get(account.id));
    } catch {
      /* the list stays as it was */
    }
  };
  const sync = useSyncNow(account, refresh);
  const syncable = account.kind !== "manual";

  useEffect(() => {
    if (mode === "confirm-delete") cancelDelete.current?.focus();
  }, [mode]);

  const test = async () => {
    setTesting(true);
    setMessage(null);
    try {
      const result = await api.accounts.test(account.id);
      setMessage({ kind: result.ok ? "success" : "error", text: result.message });
      await refresh();
    } catch (error) {
      if (!(error instanceof ApiError && error.sessionEnded)) setMessage({ kind: "error", text: messageOf(error) });
    } finally {
      setTesting(false);
    }
  };

  const remove = async () => {
    setDeleting(true);
    try {
      await api.accounts.remove(account.id);
      onDeleted(account);
    } catch (error) {
      setDeleting(false);
      setMode("view");
      setMessage({ kind: "error", text: messageOf(error) });
    }
  };

  if (mode === "edit") {
    return (
      <li className="account account-editing" id={`account-${account.id}`}>
        <EditAccountForm
          account={account}
          provider={provider}
          onCancel={() => {
            setMode("view");
            requestAnimationFrame(() => editButton.current?.focus());
          }}
          onSaved={(updated, credentialsChanged) => {
            onChanged(updated);
            setMode("view");
            setMessage({
              kind: "success",
              text: credentialsChanged ? "Saved. Use “Test connection” to check the new credentials." : "Saved.",
            });
            requestAnimationFrame(() => editButton.current?.focus());
          }}
        />
      </li>
    );
  }

  const credentialEntries = Object.entries(account.credentials ?? {});
  const labelOf = (name: string) => provider?.credential_fields.find((f) => f.name === name)?.label ?? name;

  return (
    <li className={`account account-${account.status}`} id={`account-${account.id}`}>
      <div className="account-main">
        <div className="account-title">
          <h3>{account.name}</h3>
          <StatusBadge status={account.status} />
          {!account.enabled && <span className="badge badge-muted">Disabled</span>}
        </div>
        <p className="account-meta">
          {provider?.label ?? account.kind}
          {syncable && <> · syncs every {formatInteger(account.sync_interval_minutes)} min</>}
        </p>
        <dl className="facts">
          {syncable && (
            <>
              <div>
                <dt>Last sync</dt>
                <dd>
                  {account.last_sync_at ? <time dateTime={account.last_sync_at}>{formatRelative(account.last_sync_at)}</time> : "never"}
                </dd>
              </div>
              <div>
                <dt>Last success</dt>
                <dd>{account.last_success_at ? formatRelative(account.last_success_at) : "never"}</dd>
              </div>
              <div>
                <dt>Next sync</dt>
                <dd>{account.next_sync_at ? formatRelative(account.next_sync_at) : account.enabled ? "not scheduled" : "disabled"}</dd>
              </div>
              <div>
                <dt>Complete up to</dt>
                <dd>{account.synced_until ? formatDateTime(account.synced_until) : "—"}</dd>
              </div>
            </>
          )}
          {credentialEntries.map(([name, hint]) => (
            <div key={name}>
              <dt>{labelOf(name)}</dt>
              <dd>
                <code>{hint || "—"}</code>
              </dd>
            </div>
          ))}
        </dl>
        {account.last_error && (
          <p className="account-error">
            <strong>Last error: </strong>
            {account.last_error}
          </p>
        )}
        {message && <Notice kind={message.kind}>{message.text}</Notice>}
        {sync.progress && (
          <div className={`sync-progress sync-${sync.progress.phase}`} role="status">
            {sync.busy && <span className="spinner" aria-hidden="true" />} {sync.progress.text}
          </div>
        )}
      </div>

      {mode === "confirm-delete" ? (
        <div className="confirm" role="group" aria-label={`Confirm deleting ${account.name}`}>
          <p>
            Delete “{account.name}” and everything synced from it? <strong>This cannot be undone.</strong>
          </p>
          <div className="form-actions">
            <button type="button" className="btn btn-danger" onClick={remove} disabled={deleting}>
              {deleting ? "Deleting…" : "Delete account"}
            </button>
            <button type="button" className="btn btn-ghost" ref={cancelDelete} onClick={() => setMode("view")} disabled={deleting}>
              Cancel
            </button>
          </div>
        </div>
      ) : (
        <div className="account-actions" role="group" aria-label={`Actions for ${account.name}`}>
          {canWrite && syncable && (
            <button
              type="button"
              className="btn btn-primary"
              onClick={() => {
                setMessage(null);
                void sync.start();
              }}
              disabled={sync.busy}
            >
              {sync.busy ? "Syncing…" : "Sync now"}
            </button>
          )}
          {canWrite && syncable && (
            <button type="button" className="btn btn-secondary" onClick={test} disabled={testing}>
              {testing ? "Testing…" : "Test connection"}
            </button>
          )}
          {syncable && (
            <button
              type="button"
              className="btn btn-secondary"
              aria-expanded={historyOpen}
              aria-controls={`history-${account.id}`}
              onClick={() => setHistoryOpen((o) => !o)}
            >
              {historyOpen ? "Hide history" : "Sync history"}
            </button>
          )}
          {canWrite && (
            <>
              <button type="button" className="btn btn-secondary" ref={editButton} onClick={() => setMode("edit")}>
                Edit
              </button>
              <button type="button" className="btn btn-danger-outline" onClick={() => setMode("confirm-delete")}>
                Delete
              </button>
            </>
          )}
        </div>
      )}
      {historyOpen && (
        <div className="account-history" id={`history-${account.id}`}>
          <h4>Sync history</h4>
          <SyncHistory accountId={account.id} version={historyVersion} />
        </div>
      )}
    </li>
  );
}

// --- Page -----------------------------------------------------------------------------------------

export default function Accounts() {
  const { canWrite, membership } = useAuth();
  const [search, setSearch] = useSearchParams();
  const location = useLocation();
  const data = useAsync(async (signal) => {
    const [providers, accounts] = await Promise.all([api.providers.list(), api.accounts.list(signal)]);
    return { providers: providers.items, accounts: accounts.items };
  }, []);
  const [adding, setAdding] = useState(search.get("add") === "1");
  const [addFocus, setAddFocus] = useState(search.get("add") === "1");
  const [flash, setFlash] = useState<RowMessage | null>(null);
  const [newMessages, setNewMessages] = useState<Record<number, RowMessage>>({});
  const addButton = useRef<HTMLButtonElement>(null);

  // Open the add form on an empty workspace; scroll to #account-N from a link.
  useEffect(() => {
    if (data.data && data.data.accounts.length === 0 && canWrite) setAdding(true);
    if (data.data && location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
  }, [data.data, canWrite, location.hash]);

  const closeAdd = () => {
    setAdding(false);
    if (search.has("add")) {
      const next = new URLSearchParams(search);
      next.delete("add");
      setSearch(next, { replace: true });
    }
    requestAnimationFrame(() => addButton.current?.focus());
  };

  const update = (account: Account) =>
    data.setData((d) => ({ ...d!, accounts: d!.accounts.map((a) => (a.id === account.id ? account : a)) }));

  return (
    <>
      <PageHeader title="Accounts" subtitle="The provider and bank accounts Spendwatch reads usage and spend from.">
        {canWrite && !adding && data.data && (
          <button
            type="button"
            className="btn btn-primary"
            ref={addButton}
            onClick={() => {
              setAddFocus(true);
              setAdding(true);
            }}
          >
            Add account
          </button>
        )}
      </PageHeader>
      {membership?.role === "viewer" && (
        <p className="muted">You have the viewer role in this workspace, so accounts are read-only for you.</p>
      )}
      {flash && <Notice kind={flash.kind}>{flash.text}</Notice>}
      {adding && data.data && (
        <AddAccountForm
          providers={data.data.providers}
          autoFocus={addFocus}
          onCancel={closeAdd}
          onAdded={(account) => {
            data.setData((d) => ({ ...d!, accounts: [...d!.accounts, account] }));
            setNewMessages((m) => ({
              ...m,
              [account.id]: {
                kind: "success",
                text: "Account added. It syncs within a minute; use “Sync now” to start at once, or “Test connection” to check the credentials.",
              },
            }));
            setFlash(null);
            closeAdd();
          }}
        />
      )}
      {data.error ? (
        <ErrorState error={data.error} what="the accounts" onRetry={data.reload} />
      ) : !data.data ? (
        <Loading>Loading accounts…</Loading>
      ) : data.data.accounts.length === 0 ? (
        <EmptyState title={canWrite ? "No accounts yet — add one." : "No accounts yet."}>
          {canWrite && <p className="muted">Try the Demo provider: any key that starts with demo- works, and no network is needed.</p>}
        </EmptyState>
      ) : (
        <>
          {/* The cards' names are h3s: this heading keeps the outline in order for screen readers. */}
          <h2 id="accounts-list-h" className="visually-hidden">
            Provider accounts
          </h2>
          <ul className="accounts" aria-labelledby="accounts-list-h">
            {data.data.accounts.map((account) => (
              <AccountCard
                key={account.id}
                account={account}
                provider={data.data!.providers.find((p) => p.kind === account.kind)}
                canWrite={canWrite}
                onChanged={update}
                initialMessage={newMessages[account.id]}
                onDeleted={(gone) => {
                  data.setData((d) => ({ ...d!, accounts: d!.accounts.filter((a) => a.id !== gone.id) }));
                  setFlash({ kind: "success", text: `Deleted “${gone.name}”.` });
                  requestAnimationFrame(() => (addButton.current ?? document.querySelector<HTMLElement>("h1"))?.focus());
                }}
              />
            ))}
          </ul>
        </>
      )}
    </>
  );
}
