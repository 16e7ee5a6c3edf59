import { api } from "../api/endpoints";
import type { Alert } from "../api/types";
import { BudgetGauges } from "../components/BudgetGauges";
import { EmptyState, ErrorState, Loading } from "../components/Notice";
import { PageHeader } from "../components/PageHeader";
import { formatDateTime } from "../lib/format";
import { useAsync } from "../lib/useAsync";

function AlertTable({ alerts, names }: { alerts: Alert[]; names: Map<number, string> }) {
  return (
    <div className="table-wrap">
      <table className="table">
        <caption className="visually-hidden">Alert history, newest first</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Rule</th>
            <th scope="col">Type</th>
            <th scope="col">State</th>
            <th scope="col">Threshold</th>
            <th scope="col">Period</th>
            <th scope="col">Notifications</th>
          </tr>
        </thead>
        <tbody>
          {alerts.map((alert) => (
            <tr key={alert.id}>
              <td>{formatDateTime(alert.created_at)}</td>
              <td>{(alert.rule_id != null && names.get(alert.rule_id)) || (alert.rule_id != null ? `#${alert.rule_id}` : "—")}</td>
              <td>{alert.type.replace(/_/g, " ")}</td>
              <td>
                <span className={`badge badge-alert-${alert.state}`}>{alert.state}</span>
                {alert.silenced && <span className="muted small"> ({alert.silenced})</span>}
              </td>
              <td>{alert.threshold_key || "—"}</td>
              <td>{alert.period_key || "—"}</td>
              <td className="small">
                {Object.entries(alert.notifications)
                  .map(([status, n]) => `${n} ${status}`)
                  .join(", ") || "—"}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Budgets with their gauges and the alert history (read-only; editing arrives in the next release). */
export default function Budgets() {
  const budgets = useAsync((signal) => api.budgets.list(signal), []);
  const alerts = useAsync((signal) => api.alerts.recent(50, signal), []);
  const names = new Map((budgets.data?.items ?? []).map((b) => [b.id, b.name]));
  return (
    <>
      <PageHeader title="Budgets & alerts" subtitle="Where each budget stands this period, and what fired recently." />
      <section className="panel" aria-labelledby="b-h">
        <h2 id="b-h">Budgets</h2>
        {budgets.error ? (
          <ErrorState error={budgets.error} what="the budgets" onRetry={budgets.reload} />
        ) : !budgets.data ? (
          <Loading />
        ) : budgets.data.items.length === 0 ? (
          <EmptyState title="No budgets yet.">
            <p className="muted">
              Creating and editing budgets in the app comes next; until then use <code>POST /api/budgets</code> (see{" "}
              <a href="/api/docs">the API documentation</a>).
            </p>
          </EmptyState>
        ) : (
          <BudgetGauges budgets={budgets.data.items} initial={12} />
        )}
      </section>
      <section className="panel" aria-labelledby="a-h">
        <h2 id="a-h">Alert history</h2>
        {alerts.error ? (
          <ErrorState error={alerts.error} what="the alerts" onRetry={alerts.reload} />
        ) : !alerts.data ? (
          <Loading />
        ) : alerts.data.items.length === 0 ? (
          <EmptyState title="No alerts yet." />
        ) : (
          <AlertTable alerts={alerts.data.items} names={names} />
        )}
      </section>
      <section className="panel coming-next">
        <h2>Coming next</h2>
        <p>Creating, editing, muting and snoozing budgets and alert rules from this page.</p>
      </section>
    </>
  );
}
