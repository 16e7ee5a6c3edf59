import { useEffect, useState } from "react";
import { api } from "../api/endpoints";
import { messageOf } from "../api/errors";
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

function marksFor(budget: Budget, detail?: BudgetDetail): GaugeMark[] {
  const at = (type: string, value: string) => (type === "percent" ? Number(value) : ratio(value, budget.amount) * 100);
  const label = (type: string, value: string) => (type === "percent" ? formatPercent(value) : formatMoney(value, budget.currency));
  if (detail) {
    return detail.status.thresholds
      .filter((t) => t.basis === "actual" || budget.basis === "forecast")
      .map((t) => ({
        at: at(t.type, t.value),
        label: `${t.basis === "forecast" ? "Forecast threshold" : "Threshold"} ${label(t.type, t.value)}${t.state === "firing" ? " (firing)" : ""}`,
        firing: t.state === "firing",
      }));
  }
  return budget.thresholds.map((t) => ({ at: at(t.type, t.value), label: `Threshold ${label(t.type, t.value)}` }));
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
 * Budget gauges. GET /api/budgets has no spend figures, so each budget's status comes from
 * GET /api/budgets/{id}: fetched after the first paint, for the first INITIAL budgets, the rest on demand.
 */
export function BudgetGauges({
  budgets,
  initial = 6,
  accountName = (id) => `Account #${id}`,
}: {
  budgets: Budget[];
  initial?: number;
  accountName?: (id: number) => string;
}) {
  const [limit, setLimit] = useState(initial);
  const [details, setDetails] = useState<Record<number, BudgetDetail>>({});
  const [errors, setErrors] = useState<Record<number, string>>({});
  const shown = budgets.slice(0, limit);

  useEffect(() => {
    const controller = new AbortController();
    const wanted = shown.filter((b) => !details[b.id] && !errors[b.id]);
    if (!wanted.length) return;
    // After first paint: the page's own data comes first.
    const timer = window.setTimeout(() => {
      for (const budget of wanted) {
        api.budgets
          .get(budget.id, controller.signal)
          .then((detail) => setDetails((d) => ({ ...d, [budget.id]: detail })))
          .catch((error: unknown) => {
            if (error instanceof Error && error.name === "AbortError") return;
            setErrors((e) => ({ ...e, [budget.id]: messageOf(error) }));
          });
      }
    }, 0);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [limit, budgets]);

  return (
    <>
      <ul className="budget-list">
        {shown.map((budget) => {
          const detail = details[budget.id];
          const status = detail?.status;
          const forecastPercent = status ? ratio(status.forecast, budget.amount) * 100 : null;
          return (
            <li key={budget.id} className="budget">
              <div className="budget-head">
                <span className="budget-name">{budget.name}</span>
                <span className="budget-amount">
                  {status ? (
                    <>
                      {formatMoney(status.spent, budget.currency)} <span className="muted">of</span>{" "}
                    </>
                  ) : null}
                  {formatMoney(budget.amount, budget.currency)}
                  <span className="muted"> / {PERIOD_NAMES[budget.period]}</span>
                </span>
              </div>
              <Gauge
                label={`${budget.name}: spent this ${PERIOD_NAMES[budget.period]}`}
                percent={status ? status.percent : null}
                forecastPercent={forecastPercent}
                marks={marksFor(budget, detail)}
              />
              <p className="budget-meta muted">
                {scopeText(budget, accountName)}
                {status && (
                  <>
                    {" · "}
                    {formatPercent(status.percent)} used · forecast {formatMoney(status.forecast, budget.currency)} by{" "}
                    {formatDay(status.period.end)}
                  </>
                )}
                {!status && !errors[budget.id] && " · loading status…"}
                {errors[budget.id] && <span className="field-error"> · {errors[budget.id]}</span>}
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
