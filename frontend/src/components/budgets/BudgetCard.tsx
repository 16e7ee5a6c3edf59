import { useState } from "react";
import { api } from "../../api/endpoints";
import { messageOf } from "../../api/errors";
import type { Budget, BudgetDetail, ThresholdState } from "../../api/types";
import { compareDecimals, ratio, subtractDecimals } from "../../lib/decimal";
import { formatDateTime, formatDay, formatMoney, formatPercent, formatRelative } from "../../lib/format";
import { Gauge, type GaugeMark } from "../Gauge";
import { Notice } from "../Notice";
import { ConfirmBox, isSessionEnd, useFocusLater } from "../channels/forms";
import type { Namers } from "./refs";
import { SilenceBadges, SilenceControls } from "./SilenceControls";

// GET /api/budgets lists each budget with its status: the cards need no call of their own.
export type BudgetItem = BudgetDetail;

export const isMoneyBudget = (b: Budget) => b.scope.category_id != null || b.scope.bank_account_id != null;

export function budgetScopeText(b: Budget, names: Namers): string {
  const s = b.scope;
  if (isMoneyBudget(b)) {
    const parts = [];
    if (s.category_id != null) parts.push(names.category(s.category_id));
    if (s.bank_account_id != null) parts.push(`from ${names.bankAccount(s.bank_account_id)}`);
    return `Bank spending: ${parts.join(" ")}`;
  }
  const parts = [];
  if (s.provider) parts.push(names.provider(s.provider));
  if (s.account_id != null) parts.push(names.account(s.account_id));
  if (s.model) parts.push(s.model);
  if (s.project) parts.push(`project ${s.project}`);
  return parts.length ? `AI spend: ${parts.join(" · ")}` : "All AI spend";
}

const thresholdLabel = (type: string, value: string, currency: string) =>
  type === "percent" ? formatPercent(value) : formatMoney(value, currency);

function marks(budget: BudgetDetail): GaugeMark[] {
  const at = (type: string, value: string) => (type === "percent" ? Number(value) : ratio(value, budget.amount) * 100);
  return budget.status.thresholds
    .filter((t) => t.basis === "actual" || budget.basis === "forecast")
    .map((t) => ({
      at: at(t.type, t.value),
      label: `${t.basis === "forecast" ? "Forecast threshold" : "Threshold"} ${thresholdLabel(t.type, t.value, budget.currency)}${t.state === "firing" ? " (firing)" : ""}`,
      firing: t.state === "firing",
    }));
}

function ThresholdTable({ states, currency }: { states: ThresholdState[]; currency: string }) {
  return (
    <div className="table-wrap">
      <table className="table table-compact">
        <caption className="visually-hidden">Threshold states this period</caption>
        <thead>
          <tr>
            <th scope="col">Threshold</th>
            <th scope="col">Basis</th>
            <th scope="col" className="num">
              Fires at
            </th>
            <th scope="col">State</th>
            <th scope="col">Since</th>
          </tr>
        </thead>
        <tbody>
          {states.map((t) => (
            <tr key={t.key}>
              <td>{thresholdLabel(t.type, t.value, currency)}</td>
              <td>{t.basis}</td>
              <td className="num">{formatMoney(t.level, currency)}</td>
              <td>
                <span className={`badge badge-alert-${t.state === "firing" ? "firing" : "resolved"}`}>{t.state === "firing" ? "Firing" : "OK"}</span>
              </td>
              <td>{t.since ? <time dateTime={t.since} title={formatDateTime(t.since)}>{formatRelative(t.since)}</time> : "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function BudgetCard({
  budget,
  names,
  canWrite,
  onChanged,
  onDeleted,
  onEdit,
  onShowAlerts,
}: {
  budget: BudgetItem;
  names: Namers;
  canWrite: boolean;
  onChanged: (b: BudgetDetail) => void;
  onDeleted: (b: Budget) => void;
  onEdit: () => void;
  onShowAlerts: () => void;
}) {
  const focusLater = useFocusLater();
  const [confirming, setConfirming] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [message, setMessage] = useState<string | null>(null);

  const remove = async () => {
    setDeleting(true);
    try {
      await api.budgets.remove(budget.id);
      onDeleted(budget);
    } catch (err) {
      setDeleting(false);
      setConfirming(false);
      if (!isSessionEnd(err)) setMessage(messageOf(err));
    }
  };

  const status = budget.status;
  const forecastPercent = ratio(status.forecast, budget.amount) * 100;
  const firing = status.thresholds.filter((t) => t.state === "firing");
  const headingId = `budget-${budget.id}-h`;

  return (
    <li className="card budget-card" id={`budget-${budget.id}`} aria-labelledby={headingId}>
      <div className="budget-card-head">
        <h3 id={headingId} tabIndex={-1}>{budget.name}</h3>
        <span className={`badge ${isMoneyBudget(budget) ? "badge-money" : "badge-ai"}`}>{isMoneyBudget(budget) ? "Money" : "AI"}</span>
        {firing.length > 0 && <span className="badge badge-alert-firing">{firing.length === 1 ? "1 threshold firing" : `${firing.length} thresholds firing`}</span>}
        <SilenceBadges rule={budget} />
      </div>
      <p className="muted small budget-scope">
        {budgetScopeText(budget, names)} · {formatMoney(budget.amount, budget.currency)} per {budget.period}
        {budget.period === "week" ? ` (from ${budget.week_start})` : ""} · basis {budget.basis}
      </p>
      <div className="budget-figures">
        <span className="budget-spent">
          {formatMoney(status.spent, budget.currency)} <span className="muted">of</span> {formatMoney(budget.amount, budget.currency)}
        </span>
        <span className="muted">{formatPercent(status.percent)} used</span>
      </div>
      <Gauge label={`${budget.name}: spent this ${budget.period}`} percent={status.percent} forecastPercent={forecastPercent} marks={marks(budget)} />
      <p className="small budget-forecast">
        Forecast <strong>{formatMoney(status.forecast, budget.currency)}</strong> by {formatDay(status.period.end, true)} ·{" "}
        {compareDecimals(status.spent, budget.amount) > 0 ? (
          <strong className="text-danger">over by {formatMoney(subtractDecimals(status.spent, budget.amount), budget.currency)}</strong>
        ) : (
          <>remaining {formatMoney(status.remaining, budget.currency)}</>
        )}{" "}
        · period {formatDay(status.period.start)} – {formatDay(status.period.end)} ({status.period.timezone})
      </p>
      {status.thresholds.length > 0 && (
        <details className="threshold-details">
          <summary>Thresholds ({status.thresholds.length})</summary>
          <ThresholdTable states={status.thresholds} currency={budget.currency} />
        </details>
      )}
      <p className="muted small">
        Notifies:{" "}
        {budget.channels.length ? budget.channels.map(names.channel).join(", ") : "no channel (alerts go to the history only)"}
        {budget.repeat_minutes ? ` · repeats every ${budget.repeat_minutes} min while firing` : ""}
        {budget.notify_on_resolve ? " · tells when resolved" : ""}
      </p>
      {message && <Notice kind="error">{message}</Notice>}
      {confirming ? (
        <ConfirmBox
          label={`Confirm deleting ${budget.name}`}
          confirmText="Delete budget"
          busyText="Deleting…"
          busy={deleting}
          onConfirm={remove}
          onCancel={() => {
            setConfirming(false);
            focusLater(`#budget-${budget.id} [data-delete]`);
          }}
        >
          <p>
            Delete the budget “{budget.name}”? The alerts it fired stay in the history. <strong>This cannot be undone.</strong>
          </p>
        </ConfirmBox>
      ) : (
        <div className="account-actions" role="group" aria-label={`Actions for ${budget.name}`}>
          {canWrite && (
            <button type="button" className="btn btn-secondary" onClick={onEdit}>
              Edit
            </button>
          )}
          {canWrite && <SilenceControls rule={budget} name={budget.name} onPatch={async (body) => onChanged(await api.budgets.update(budget.id, body))} onRevokeLinks={() => api.budgets.revokeMuteLinks(budget.id)} />}
          <button type="button" className="btn btn-ghost" onClick={onShowAlerts}>
            Alerts
          </button>
          {canWrite && (
            <button type="button" className="btn btn-danger-outline" data-delete="" onClick={() => setConfirming(true)}>
              Delete
            </button>
          )}
        </div>
      )}
    </li>
  );
}
