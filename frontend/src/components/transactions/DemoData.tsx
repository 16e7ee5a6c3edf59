// The dashboard's demo data controls: load it into an empty workspace, remove it in one action (POST/DELETE /api/demo).
import { useEffect, useRef, useState } from "react";
import { api } from "../../api/endpoints";
import { ApiError, messageOf } from "../../api/errors";
import type { Account } from "../../api/types";
import { Notice } from "../Notice";

export const isDemoAccount = (account: Account) => account.config?.demo === true;

export function LoadDemoButton({ onLoaded }: { onLoaded: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const load = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.demo.load();
      onLoaded();
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) onLoaded(); // already there: just show it
      else if (!(err instanceof ApiError && err.sessionEnded)) setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className="btn btn-secondary" onClick={() => void load()} disabled={busy} aria-describedby="demo-help">
        {busy ? "Loading demo data…" : "Load demo data"}
      </button>
      <p className="help" id="demo-help" style={{ flexBasis: "100%" }}>
        Made-up AI usage, bank transactions, budgets and a webhook channel that is never contacted, all named “Demo…”. Removable
        in one click.
      </p>
      {error && (
        <div style={{ flexBasis: "100%" }}>
          <Notice kind="error">Could not load the demo data: {error}</Notice>
        </div>
      )}
    </>
  );
}

export function DemoBanner({ onRemoved }: { onRemoved: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (confirming) cancelRef.current?.focus();
  }, [confirming]);
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.demo.remove();
      setConfirming(false);
      onRemoved();
    } catch (err) {
      if (!(err instanceof ApiError && err.sessionEnded)) setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="banner banner-info demo-banner" role="status">
      <div>
        This workspace has <strong>demo data</strong>: the accounts, bank account, budgets and channel named “Demo…”.{" "}
        {confirming ? (
          <span role="group" aria-label="Confirm removing the demo data">
            Remove all of it? Your own data stays.{" "}
            <button type="button" className="btn btn-danger btn-small" onClick={() => void remove()} disabled={busy}>
              {busy ? "Removing…" : "Remove demo data"}
            </button>{" "}
            <button type="button" className="btn btn-ghost btn-small" ref={cancelRef} onClick={() => setConfirming(false)} disabled={busy}>
              Cancel
            </button>
          </span>
        ) : (
          <button type="button" className="btn btn-secondary btn-small" onClick={() => setConfirming(true)}>
            Remove demo data
          </button>
        )}
        {error && <Notice kind="error">Could not remove the demo data: {error}</Notice>}
      </div>
    </div>
  );
}
