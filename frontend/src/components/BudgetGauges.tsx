import { useState } from "react";
import type { Budget, BudgetDetail } from "../api/types";
import { ratio } from "../lib/decimal";
import { formatDay, formatMoney, formatPercent } from "../lib/format";
import { Gauge, type GaugeMark } from "./Gauge";

const PERIOD_NAMES: Record<Budget["period"], string> = {
  day: "day",
  week: "week",
  month: "month",
  quarter: "quarter",
  year: "year",
};

function marksFor(budget: BudgetDetail): GaugeMark[] {
  const at = (type: string, value: string) => (type === "percent" ? Number(value) : ratio(value, budget.amount) * 100);
  const label = (type: string, value: string) => (type === "percent" ? formatPercent(value) : formatMoney(value, budget.currency));
  return budget.status.thresholds
    .filter((t) => t.basis === "actual" || budget.basis === "forecast")
    .map((t) => ({
      at: at(t.type, t.value),
      label: `${t.basis === "forecast" ? "Forecast threshold" : "Threshold"} ${label(t.type, t.value)}${t.state === "firing" ? " (firing)" : ""}`,
      firing: t.state === "firing",
    }));
}

function scopeText(budget: Budget, accountName: (id: number) => string): string {
  const parts = [];
  if (budget.scope.provider) parts.push(budget.scope.provider);
  if (budget.scope.account_id) parts.push(accountName(budget.scope.account_id));
  if (budget.scope.model) parts.push(budget.scope.model);
  if (budget.scope.project) parts.push(`project ${budget.scope.project}`);
  // Money budgets name a category and/or a bank account (their names are on the Budgets page).
  if (budget.scope.category_id != null || budget.scope.bank_account_id != null) {
    return parts.length ? parts.join(" · ") : "Bank spending";
  }
  return parts.length ? parts.join(" · ") : "All AI spend";
}

/**
 * Budget gauges, drawn from GET /api/budgets alone: each listed budget carries its current status
 * (spent, percent, forecast, period, threshold states), so no call per budget. The first INITIAL are shown.
 */
export function BudgetGauges({
  budgets,
  initial = 6,
  accountName = (id) => `Account #${id}`,
}: {
  budgets: BudgetDetail[];
  initial?: number;
  accountName?: (id: number) => string;
}) {
  const [limit, setLimit] = useState(initial);
  const shown = budgets.slice(0, limit);

  return (
    <>
      <ul className="budget-list">
        {shown.map((budget) => {
          const status = budget.status;
          const forecastPercent = ratio(status.forecast, budget.amount) * 100;
          return (
            <li key={budget.id} className="budget">
              <div className="budget-head">
                <span className="budget-name">{budget.name}</span>
                <span className="budget-amount">
                  {formatMoney(status.spent, budget.currency)} <span className="muted">of</span> {formatMoney(budget.amount, budget.currency)}
                  <span className="muted"> / {PERIOD_NAMES[budget.period]}</span>
                </span>
              </div>
              <Gauge
                label={`${budget.name}: spent this ${PERIOD_NAMES[budget.period]}`}
                percent={status.percent}
                forecastPercent={forecastPercent}
                marks={marksFor(budget)}
              />
              <p className="budget-meta muted">
                {scopeText(budget, accountName)} · {formatPercent(status.percent)} used · forecast {formatMoney(status.forecast, budget.currency)} by{" "}
                {formatDay(status.period.end)}
                {budget.muted && " · muted"}
              </p>
            </li>
          );
        })}
      </ul>
      {budgets.length > limit && (
        <button type="button" className="btn btn-ghost btn-small" onClick={() => setLimit(budgets.length)}>
          Show all {budgets.length} budgets
        </button>
      )}
    </>
  );
}
