import { useState } from "react";
import { api } from "../../api/endpoints";
import { messageOf } from "../../api/errors";
import type { Channel, ChannelTestOutcome } from "../../api/types";
import { formatDateTime, formatInteger, formatRelative } from "../../lib/format";
import { Notice } from "../Notice";
import { ChannelForm } from "./ChannelForm";
import { DeliveryLog } from "./DeliveryLog";
import { ConfirmBox, isSessionEnd, OnceSecret, useFocusLater } from "./forms";

export interface ShownSecret {
  secret: string;
  reason: "created" | "rotated";
  previousValidUntil?: string;
}

function TestResult({ outcome }: { outcome: ChannelTestOutcome }) {
  const parts = [
    outcome.status_code != null ? `response ${outcome.status_code}` : null,
    `${formatInteger(outcome.duration_ms)} ms`,
  ].filter(Boolean);
  return (
    <Notice kind={outcome.ok ? "success" : "error"}>
      <strong>{outcome.ok ? "Test sent." : "Test failed."}</strong> {parts.join(" · ")}
      {outcome.error && (
        <>
          <br />
          Error: {outcome.error}
        </>
      )}
      {outcome.note && (
        <>
          <br />
          {outcome.note}
        </>
      )}
    </Notice>
  );
}

export function ChannelCard({
  channel,
  canWrite,
  secret,
  onSecretDismissed,
  onSecretRotated,
  onChanged,
  onDeleted,
}: {
  channel: Channel;
  canWrite: boolean;
  secret?: ShownSecret;
  onSecretDismissed: () => void;
  onSecretRotated: (s: ShownSecret) => void;
  onChanged: (c: Channel) => void;
  onDeleted: (c: Channel) => void;
}) {
  const [mode, setMode] = useState<"view" | "edit" | "delete" | "rotate">("view");
  const [busy, setBusy] = useState<"test" | "toggle" | "rotate" | "delete" | null>(null);
  const [outcome, setOutcome] = useState<ChannelTestOutcome | null>(null);
  const [message, setMessage] = useState<{ kind: "success" | "error"; text: string } | null>(null);
  const [logOpen, setLogOpen] = useState(false);
  const [logVersion, setLogVersion] = useState(0);
  const focusLater = useFocusLater();
  const webhook = channel.kind === "webhook";
  const headingId = `channel-${channel.id}-h`;

  const fail = (err: unknown) => {
    if (!isSessionEnd(err)) setMessage({ kind: "error", text: messageOf(err) });
  };

  const test = async () => {
    setBusy("test");
    setOutcome(null);
    setMessage(null);
    try {
      setOutcome(await api.channels.test(channel.id));
      setLogVersion((n) => n + 1);
      try {
        onChanged(await api.channels.get(channel.id));
      } catch {
        /* the card keeps what it had */
      }
    } catch (err) {
      fail(err);
    } finally {
      setBusy(null);
    }
  };

  const toggle = async () => {
    setBusy("toggle");
    setMessage(null);
    try {
      const updated = await api.channels.update(channel.id, { enabled: !channel.enabled });
      onChanged(updated);
      setMessage({ kind: "success", text: updated.enabled ? "Enabled." : "Disabled: it gets no notifications until enabled again." });
    } catch (err) {
      fail(err);
    } finally {
      setBusy(null);
    }
  };

  const rotate = async () => {
    setBusy("rotate");
    setMessage(null);
    try {
      const rotated = await api.channels.rotateSecret(channel.id);
      onSecretRotated({ secret: rotated.secret, reason: "rotated", previousValidUntil: rotated.previous_secret_valid_until });
      setMode("view");
      try {
        onChanged(await api.channels.get(channel.id));
      } catch {
        /* fine */
      }
    } catch (err) {
      setMode("view");
      fail(err);
    } finally {
      setBusy(null);
    }
  };

  const remove = async () => {
    setBusy("delete");
    try {
      await api.channels.remove(channel.id);
      onDeleted(channel);
    } catch (err) {
      setBusy(null);
      setMode("view");
      fail(err);
    }
  };

  if (mode === "edit") {
    return (
      <li className="card channel-card" id={`channel-${channel.id}`}>
        <ChannelForm
          channel={channel}
          onCancel={() => {
            setMode("view");
            focusLater(`#channel-${channel.id} [data-edit]`);
          }}
          onSaved={(saved) => {
            onChanged(saved);
            setMode("view");
            setMessage({ kind: "success", text: "Saved." });
            focusLater(`#channel-${channel.id} [data-edit]`);
          }}
        />
      </li>
    );
  }

  return (
    <li className={`card channel-card${channel.enabled ? "" : " channel-disabled"}`} id={`channel-${channel.id}`} aria-labelledby={headingId}>
      <div className="budget-card-head">
        <h3 id={headingId} tabIndex={-1}>{channel.name}</h3>
        <span className="badge">{webhook ? (channel.format === "slack" ? "Webhook · Slack" : "Webhook") : "Email"}</span>
        {channel.enabled ? <span className="badge badge-ok">Enabled</span> : <span className="badge badge-needs_attention">Disabled</span>}
      </div>
      {secret && (
        <OnceSecret
          title={secret.reason === "created" ? "Signing secret of the new webhook" : "New signing secret"}
          label="Signing secret"
          value={secret.secret}
          onDismiss={onSecretDismissed}
        >
          <p className="help">
            Use it to verify the <code>webhook-signature</code> header (Standard Webhooks).
            {channel.format === "slack" && " Slack messages are not signed; the secret matters only if you switch to the standard format."}
            {secret.previousValidUntil && ` The previous secret keeps signing too until ${formatDateTime(secret.previousValidUntil)}.`}
          </p>
        </OnceSecret>
      )}
      {!channel.enabled && channel.disabled_reason && <Notice kind="warning">Disabled: {channel.disabled_reason}</Notice>}
      <dl className="facts">
        {webhook ? (
          <>
            <div className="fact-wide">
              <dt>URL</dt>
              <dd>
                <code>{channel.url}</code>
              </dd>
            </div>
            {channel.headers && Object.keys(channel.headers).length > 0 && (
              <div>
                <dt>Extra headers</dt>
                <dd>
                  {Object.entries(channel.headers).map(([name, hint]) => (
                    <span key={name} className="block">
                      <code>
                        {name}: {hint}
                      </code>
                    </span>
                  ))}
                </dd>
              </div>
            )}
          </>
        ) : (
          <div className="fact-wide">
            <dt>Recipients</dt>
            <dd>{(channel.recipients ?? []).join(", ")}</dd>
          </div>
        )}
        <div>
          <dt>Last delivery</dt>
          <dd>{channel.last_delivery_at ? <time dateTime={channel.last_delivery_at} title={formatDateTime(channel.last_delivery_at)}>{formatRelative(channel.last_delivery_at)}</time> : "never"}</dd>
        </div>
        {channel.previous_secret_valid_until && new Date(channel.previous_secret_valid_until).getTime() > Date.now() && (
          <div>
            <dt>Previous secret signs until</dt>
            <dd>{formatDateTime(channel.previous_secret_valid_until)}</dd>
          </div>
        )}
      </dl>
      {channel.last_error && (
        <p className="account-error">
          <strong>Last error: </strong>
          {channel.last_error}
        </p>
      )}
      {outcome && <TestResult outcome={outcome} />}
      {message && <Notice kind={message.kind}>{message.text}</Notice>}

      {mode === "delete" ? (
        <ConfirmBox label={`Confirm deleting ${channel.name}`} confirmText="Delete channel" busyText="Deleting…" busy={busy === "delete"} onConfirm={remove} onCancel={() => {
            setMode("view");
            focusLater(`#channel-${channel.id} [data-delete]`);
          }}>
          <p>
            Delete “{channel.name}” with its delivery log? Budgets and rules stop notifying it. <strong>This cannot be undone.</strong>
          </p>
        </ConfirmBox>
      ) : mode === "rotate" ? (
        <div className="confirm confirm-neutral" role="group" aria-label={`Confirm rotating the secret of ${channel.name}`}>
          <p>Make a new signing secret? The current one keeps signing (as a second signature) for 24 hours, so you can update the receiver meanwhile.</p>
          <div className="form-actions">
            <button type="button" className="btn btn-primary" onClick={rotate} disabled={busy === "rotate"} autoFocus>
              {busy === "rotate" ? "Rotating…" : "Rotate secret"}
            </button>
            <button
              type="button"
              className="btn btn-ghost"
              onClick={() => {
                setMode("view");
                focusLater(`#channel-${channel.id} [data-rotate]`);
              }}
              disabled={busy === "rotate"}
            >
              Cancel
            </button>
          </div>
        </div>
      ) : (
        <div className="account-actions" role="group" aria-label={`Actions for ${channel.name}`}>
          {canWrite && (
            <button type="button" className="btn btn-primary" onClick={test} disabled={busy === "test"}>
              {busy === "test" ? "Sending…" : "Send test"}
            </button>
          )}
          <button type="button" className="btn btn-secondary" aria-expanded={logOpen} aria-controls={`deliveries-${channel.id}`} onClick={() => setLogOpen((o) => !o)}>
            {logOpen ? "Hide deliveries" : "Deliveries"}
          </button>
          {canWrite && (
            <>
              <button type="button" className="btn btn-secondary" data-edit="" onClick={() => setMode("edit")}>
                Edit
              </button>
              <button type="button" className="btn btn-secondary" onClick={toggle} disabled={busy === "toggle"}>
                {channel.enabled ? "Disable" : "Enable"}
              </button>
              {webhook && (
                <button type="button" className="btn btn-secondary" data-rotate="" onClick={() => setMode("rotate")}>
                  Rotate secret
                </button>
              )}
              <button type="button" className="btn btn-danger-outline" data-delete="" onClick={() => setMode("delete")}>
                Delete
              </button>
            </>
          )}
        </div>
      )}
      {logOpen && (
        <div className="account-history" id={`deliveries-${channel.id}`}>
          <h4>Delivery log</h4>
          <DeliveryLog channelId={channel.id} version={logVersion} canWrite={canWrite} />
        </div>
      )}
    </li>
  );
}
