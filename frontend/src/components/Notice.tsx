import type { ReactNode } from "react";
import { ApiError, messageOf } from "../api/errors";

export type NoticeKind = "info" | "success" | "error" | "warning";

/** A status line; errors are announced at once (role=alert), the others politely. */
export function Notice({ kind, children, extra }: { kind: NoticeKind; children: ReactNode; extra?: string[] }) {
  return (
    <div className={`banner banner-${kind}`} role={kind === "error" ? "alert" : "status"}>
      <div>{children}</div>
      {extra && extra.length > 0 && (
        <ul>
          {extra.map((line, i) => (
            <li key={i}>{line}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Loading({ children = "Loading…" }: { children?: ReactNode }) {
  return (
    <p className="loading" role="status">
      <span className="spinner" aria-hidden="true" /> {children}
    </p>
  );
}

/** An error state with a "Try again" button. Errors that ended the session show nothing. */
export function ErrorState({ error, what, onRetry }: { error: unknown; what: string; onRetry?: () => void }) {
  if (error instanceof ApiError && error.sessionEnded) return null;
  return (
    <div className="error-state">
      <Notice kind="error">
        Could not load {what}: {messageOf(error)}
      </Notice>
      {onRetry && (
        <button type="button" className="btn btn-secondary" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children}
    </div>
  );
}
