import { useId, useRef, useState, type FormEvent } from "react";
import { messageOf } from "../../api/errors";
import { formatDateTime } from "../../lib/format";
import { isSessionEnd, localInputToIso, toLocalInput } from "../channels/forms";

export interface SilenceState {
  muted: boolean;
  snoozed_until: string | null;
}

export const isSnoozed = (s: SilenceState, now = Date.now()) => Boolean(s.snoozed_until && new Date(s.snoozed_until).getTime() > now);

/** Badges for a muted or snoozed rule. */
export function SilenceBadges({ rule }: { rule: SilenceState }) {
  return (
    <>
      {rule.muted && <span className="badge badge-muted">Muted</span>}
      {isSnoozed(rule) && <span className="badge badge-snoozed">Snoozed until {formatDateTime(rule.snoozed_until)}</span>}
    </>
  );
}

const PRESETS: [string, () => Date][] = [
  ["1 hour", () => new Date(Date.now() + 3600_000)],
  ["1 day", () => new Date(Date.now() + 86400_000)],
  ["1 week", () => new Date(Date.now() + 7 * 86400_000)],
];

/**
 * Mute / unmute and snooze / end snooze for one rule. PATCH answers with the rule, which ONPATCH stores.
 * Muted and snoozed rules still record their alerts (marked silenced) but notify nobody. ONREVOKELINKS makes
 * every mute link already sent in an alert message stop working (a forwarded or leaked mail).
 */
export function SilenceControls({
  rule,
  name,
  onPatch,
  onRevokeLinks,
}: {
  rule: SilenceState;
  name: string;
  onPatch: (body: { muted?: boolean; snoozed_until?: string | null }) => Promise<unknown>;
  onRevokeLinks: () => Promise<unknown>;
}) {
  const [open, setOpen] = useState(false);
  const [until, setUntil] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [revoked, setRevoked] = useState(false);
  const id = `snooze-${useId().replace(/:/g, "")}`;
  const snoozeButton = useRef<HTMLButtonElement>(null);
  const snoozed = isSnoozed(rule);

  const run = async (body: { muted?: boolean; snoozed_until?: string | null }) => {
    setBusy(true);
    setError(null);
    try {
      await onPatch(body);
      return true;
    } catch (err) {
      if (!isSessionEnd(err)) setError(messageOf(err));
      return false;
    } finally {
      setBusy(false);
    }
  };

  const revokeLinks = async () => {
    setBusy(true);
    setError(null);
    setRevoked(false);
    try {
      await onRevokeLinks();
      setRevoked(true);
    } catch (err) {
      if (!isSessionEnd(err)) setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  const submitSnooze = async (event: FormEvent) => {
    event.preventDefault();
    const iso = localInputToIso(until);
    if (!iso) return setProblem("Choose a date and time.");
    if (new Date(iso).getTime() <= Date.now()) return setProblem("Choose a time in the future.");
    setProblem(null);
    if (await run({ snoozed_until: iso })) {
      setOpen(false);
      requestAnimationFrame(() => snoozeButton.current?.focus());
    }
  };

  return (
    <>
      <button type="button" className="btn btn-secondary" disabled={busy} onClick={() => run({ muted: !rule.muted })} aria-pressed={rule.muted}>
        {rule.muted ? "Unmute" : "Mute"}
      </button>
      {snoozed ? (
        <button type="button" className="btn btn-secondary" disabled={busy} onClick={() => run({ snoozed_until: null })}>
          End snooze
        </button>
      ) : (
        <button
          type="button"
          className="btn btn-secondary"
          ref={snoozeButton}
          aria-expanded={open}
          aria-controls={id}
          onClick={() => {
            setOpen((o) => !o);
            if (!until) setUntil(toLocalInput(new Date(Date.now() + 86400_000)));
          }}
        >
          Snooze…
        </button>
      )}
      <button
        type="button"
        className="btn btn-ghost"
        disabled={busy}
        onClick={revokeLinks}
        title="Mute links in alert messages already sent stop working; new messages carry new links"
      >
        Revoke mute links
      </button>
      <p className="muted small" role="status" hidden={!revoked}>
        {revoked ? `Mute links already sent for ${name} no longer work.` : ""}
      </p>
      {error && (
        <p className="field-error action-error" role="alert">
          {error}
        </p>
      )}
      {open && !snoozed && (
        <form id={id} className="snooze-form" onSubmit={submitSnooze} aria-label={`Snooze ${name}`}>
          <div className="field">
            <label htmlFor={`${id}-until`}>Snooze until</label>
            <input
              id={`${id}-until`}
              type="datetime-local"
              value={until}
              min={toLocalInput(new Date())}
              onChange={(e) => setUntil(e.target.value)}
              aria-invalid={problem ? true : undefined}
              aria-describedby={`${id}-problem ${id}-help`}
              autoFocus
            />
            <p className="help" id={`${id}-help`}>
              Your local time. Alerts are still recorded while snoozed, but nobody is notified.
            </p>
            <p className="field-error" id={`${id}-problem`} hidden={!problem}>
              {problem}
            </p>
          </div>
          <div className="form-actions">
            {PRESETS.map(([label, at]) => (
              <button key={label} type="button" className="btn btn-ghost btn-small" onClick={() => setUntil(toLocalInput(at()))}>
                {label}
              </button>
            ))}
          </div>
          <div className="form-actions">
            <button type="submit" className="btn btn-primary btn-small" disabled={busy}>
              {busy ? "Snoozing…" : "Snooze"}
            </button>
            <button type="button" className="btn btn-ghost btn-small" onClick={() => setOpen(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </>
  );
}
