import type { AccountStatus } from "../api/types";

export const STATUS_LABELS: Record<AccountStatus, string> = {
  new: "New — not synced yet",
  ok: "OK",
  failing: "Failing",
  needs_attention: "Needs attention",
};

export function StatusBadge({ status }: { status: AccountStatus | string }) {
  const label = STATUS_LABELS[status as AccountStatus] ?? status;
  return <span className={`badge badge-${status}`}>{label}</span>;
}

export const needsAttention = (status: string) => status === "failing" || status === "needs_attention";
