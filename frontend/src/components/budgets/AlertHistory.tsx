// Alert history: GET /api/alerts with filters and a cursor, and each alert's detail with its deliveries.
import { Fragment, useEffect, useId, useState } from "react";
import { api } from "../../api/endpoints";
import { messageOf } from "../../api/errors";
import type { Alert, AlertDetail, AlertFilters, AlertNotification } from "../../api/types";
import { formatDateTime } from "../../lib/format";
import { EmptyState, ErrorState, Loading } from "../Notice";
import { isSessionEnd } from "../channels/forms";

export const ALERT_TYPES: [string, string][] = [
  ["budget.threshold_crossed", "Budget threshold crossed"],
  ["budget.forecast_exceeded", "Budget forecast exceeded"],
  ["budget.resolved", "Budget resolved"],
  ["usage.anomaly", "Spend anomaly"],
  ["usage.anomaly_resolved", "Anomaly resolved"],
  ["account.sync_failing", "Sync failing"],
  ["account.recovered", "Account recovered"],
  ["test", "Test sends"],
];
const typeLabel = (type: string) => ALERT_TYPES.find(([t]) => t === type)?.[1] ?? type.replace(/[._]/g, " ");

export interface RuleOption {
  id: number;
  name: string;
  group: "Budgets" | "Rules";
}

const PAGE = 25;

function Deliveries({
  deliveries,
  channelName,
  canWrite,
}: {
  deliveries: AlertNotification[];
  channelName: (id: number) => string;
  canWrite: boolean;
}) {
  const [rows, setRows] = useState(deliveries);
  const [busy, setBusy] = useState<number | null>(null);
  const [messages, setMessages] = useState<Record<number, { ok: boolean; text: string }>>({});
  const retry = async (n: AlertNotification) => {
    setBusy(n.id);
    try {
      const updated = await api.notifications.retry(n.id);
      setRows((list) => list.map((r) => (r.id === n.id ? { ...r, ...updated } : r)));
      setMessages((m) => ({ ...m, [n.id]: { ok: true, text: "Retry scheduled: it is sent within seconds." } }));
    } catch (err) {
      if (!isSessionEnd(err)) setMessages((m) => ({ ...m, [n.id]: { ok: false, text: messageOf(err) } }));
    } finally {
      setBusy(null);
    }
  };
  if (!rows.length) return <p className="muted small">No notifications: the rule had no enabled channel, or the alert was silenced.</p>;
  return (
    <div className="table-wrap">
      <table className="table table-compact">
        <caption className="visually-hidden">Notifications of this alert</caption>
        <thead>
          <tr>
            <th scope="col">Channel</th>
            <th scope="col">Status</th>
            <th scope="col" className="num">
              Attempts
            </th>
            <th scope="col">Next attempt</th>
            <th scope="col">Delivered</th>
            <th scope="col">Last error</th>
            {canWrite && <th scope="col">Action</th>}
          </tr>
        </thead>
        <tbody>
          {rows.map((n) => (
            <tr key={n.id}>
              <td>{channelName(n.channel_id)}</td>
              <td>
                <span className={`badge badge-delivery-${n.status}`}>{n.status}</span>
              </td>
              <td className="num">{n.attempts}</td>
              <td>{n.next_attempt_at ? formatDateTime(n.next_attempt_at) : "—"}</td>
              <td>{n.delivered_at ? formatDateTime(n.delivered_at) : "—"}</td>
              <td className="wrap small">{n.last_error ?? ""}</td>
              {canWrite && (
                <td className="wrap">
                  {n.status === "dead" && (
                    <button type="button" className="btn btn-secondary btn-small" disabled={busy === n.id} onClick={() => retry(n)}>
                      {busy === n.id ? "Retrying…" : "Retry"}
                    </button>
                  )}
                  {messages[n.id] && (
                    <span className={`small ${messages[n.id].ok ? "" : "text-danger"}`} role="status">
                      {" "}
                      {messages[n.id].text}
                    </span>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function text(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "object") {
    return Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== null && v !== undefined && typeof v !== "object")
      .map(([k, v]) => `${k} ${String(v)}`)
      .join(", ");
  }
  return String(value);
}

function Payload({ payload }: { payload: Record<string, unknown> }) {
  const entries = Object.entries(payload).filter(([key, value]) => key !== "links" && key !== "top_contributors" && value !== undefined);
  const top = Array.isArray(payload.top_contributors) ? (payload.top_contributors as { dimension?: string; name?: string; cost?: string }[]) : [];
  return (
    <>
      <dl className="facts">
        {entries.map(([key, value]) => (
          <div key={key}>
            <dt>{key.replace(/_/g, " ")}</dt>
            <dd>{text(value)}</dd>
          </div>
        ))}
      </dl>
      {top.length > 0 && (
        <p className="small">
          Top contributors: {top.map((t) => `${t.name ?? "?"} (${t.dimension ?? ""}) ${t.cost ?? ""}`).join(" · ")}
        </p>
      )}
      <details>
        <summary className="small">Payload as sent (JSON)</summary>
        <pre className="json">{JSON.stringify(payload, null, 2)}</pre>
      </details>
    </>
  );
}

function AlertDetailView({ id, channelName, canWrite }: { id: number; channelName: (id: number) => string; canWrite: boolean }) {
  const [detail, setDetail] = useState<AlertDetail | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    setError(null);
    api.alerts
      .get(id, controller.signal)
      .then(setDetail)
      .catch((err: unknown) => {
        if (!(err instanceof Error && err.name === "AbortError")) setError(err);
      });
    return () => controller.abort();
  }, [id, tick]);
  if (error) return <ErrorState error={error} what="the alert" onRetry={() => setTick((t) => t + 1)} />;
  if (!detail) return <Loading>Loading the alert…</Loading>;
  return (
    <div className="alert-detail">
      <h4>What was sent</h4>
      <Payload payload={detail.payload} />
      <h4>Deliveries</h4>
      <Deliveries deliveries={detail.deliveries} channelName={channelName} canWrite={canWrite} />
    </div>
  );
}

export function AlertHistory({
  filters,
  onFiltersChange,
  rules,
  ruleName,
  channelName,
  canWrite,
}: {
  filters: AlertFilters;
  onFiltersChange: (f: AlertFilters) => void;
  rules: RuleOption[];
  ruleName: (id: number) => string | undefined;
  channelName: (id: number) => string;
  canWrite: boolean;
}) {
  const id = `hist-${useId().replace(/:/g, "")}`;
  const [items, setItems] = useState<Alert[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [moreError, setMoreError] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [open, setOpen] = useState<number | null>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    setItems(null);
    setError(null);
    setOpen(null);
    api.alerts
      .list(filters, null, PAGE, controller.signal)
      .then((page) => {
        setItems(page.items);
        setCursor(page.next_cursor);
      })
      .catch((err: unknown) => {
        if (!(err instanceof Error && err.name === "AbortError")) setError(err);
      });
    return () => controller.abort();
  }, [filters.rule_id, filters.type, filters.state, tick]); // eslint-disable-line react-hooks/exhaustive-deps

  const loadMore = async () => {
    if (!cursor) return;
    setLoadingMore(true);
    setMoreError(null);
    try {
      const page = await api.alerts.list(filters, cursor, PAGE);
      setItems((cur) => [...(cur ?? []), ...page.items]);
      setCursor(page.next_cursor);
    } catch (err) {
      if (!isSessionEnd(err)) setMoreError(messageOf(err));
    } finally {
      setLoadingMore(false);
    }
  };

  const filtered = Boolean(filters.rule_id || filters.type || filters.state);
  const budgetsOpts = rules.filter((r) => r.group === "Budgets");
  const ruleOpts = rules.filter((r) => r.group === "Rules");
  const selectedMissing = filters.rule_id != null && !rules.some((r) => r.id === filters.rule_id);

  return (
    <>
      <div className="filters alert-filters" role="search" aria-label="Filter the alert history">
        <div className="field">
          <label htmlFor={`${id}-rule`}>Rule</label>
          <select
            id={`${id}-rule`}
            value={filters.rule_id ?? ""}
            onChange={(e) => onFiltersChange({ ...filters, rule_id: e.target.value ? Number(e.target.value) : undefined })}
          >
            <option value="">All rules</option>
            {budgetsOpts.length > 0 && (
              <optgroup label="Budgets">
                {budgetsOpts.map((r) => (
                  <option key={r.id} value={r.id}>
                    {r.name}
                  </option>
                ))}
              </optgroup>
            )}
            {ruleOpts.length > 0 && (
              <optgroup label="Anomaly and sync-health rules">
                {ruleOpts.map((r) => (
                  <option key={r.id} value={r.id}>
                    {r.name}
                  </option>
                ))}
              </optgroup>
            )}
            {selectedMissing && <option value={filters.rule_id}>Rule #{filters.rule_id} (deleted)</option>}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-type`}>Type</label>
          <select id={`${id}-type`} value={filters.type ?? ""} onChange={(e) => onFiltersChange({ ...filters, type: e.target.value || undefined })}>
            <option value="">All types</option>
            {ALERT_TYPES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-state`}>State</label>
          <select
            id={`${id}-state`}
            value={filters.state ?? ""}
            onChange={(e) => onFiltersChange({ ...filters, state: (e.target.value || undefined) as AlertFilters["state"] })}
          >
            <option value="">Any state</option>
            <option value="firing">Firing</option>
            <option value="resolved">Resolved</option>
          </select>
        </div>
        <div className="filters-actions">
          {filtered && (
            <button type="button" className="btn btn-ghost btn-small" onClick={() => onFiltersChange({})}>
              Clear filters
            </button>
          )}
          <button type="button" className="btn btn-ghost btn-small" onClick={() => setTick((t) => t + 1)}>
            Refresh
          </button>
        </div>
      </div>
      {error ? (
        <ErrorState error={error} what="the alerts" onRetry={() => setTick((t) => t + 1)} />
      ) : !items ? (
        <Loading>Loading alerts…</Loading>
      ) : items.length === 0 ? (
        <EmptyState title={filtered ? "No alerts match these filters." : "No alerts yet."}>
          {!filtered && <p className="muted">When a budget or rule fires, it is listed here with how its notifications fared.</p>}
        </EmptyState>
      ) : (
        <>
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
                  <th scope="col">
                    <span className="visually-hidden">Details</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((alert) => (
                  <Fragment key={alert.id}>
                    <tr>
                      <td>{formatDateTime(alert.created_at)}</td>
                      <td>{alert.rule_id == null ? (alert.type === "test" ? "Test" : "(deleted)") : (ruleName(alert.rule_id) ?? `#${alert.rule_id}`)}</td>
                      <td>{typeLabel(alert.type)}</td>
                      <td>
                        <span className={`badge badge-alert-${alert.state}`}>{alert.state}</span>
                        {alert.silenced && <span className="muted small"> ({alert.silenced})</span>}
                      </td>
                      <td>{alert.threshold_key || "—"}</td>
                      <td>{alert.period_key || "—"}</td>
                      <td className="small">
                        {Object.entries(alert.notifications)
                          .filter(([, n]) => n > 0)
                          .map(([status, n]) => `${n} ${status}`)
                          .join(", ") || "—"}
                      </td>
                      <td>
                        <button
                          type="button"
                          className="btn btn-ghost btn-small"
                          aria-expanded={open === alert.id}
                          aria-controls={`${id}-d-${alert.id}`}
                          onClick={() => setOpen((o) => (o === alert.id ? null : alert.id))}
                        >
                          {open === alert.id ? "Hide" : "Details"}
                          <span className="visually-hidden"> of the alert of {formatDateTime(alert.created_at)}</span>
                        </button>
                      </td>
                    </tr>
                    {open === alert.id && (
                      <tr className="detail-row">
                        <td colSpan={8} id={`${id}-d-${alert.id}`}>
                          <AlertDetailView id={alert.id} channelName={channelName} canWrite={canWrite} />
                        </td>
                      </tr>
                    )}
                  </Fragment>
                ))}
              </tbody>
            </table>
          </div>
          {moreError && <p className="field-error">{moreError}</p>}
          {cursor && (
            <button type="button" className="btn btn-secondary" onClick={loadMore} disabled={loadingMore}>
              {loadingMore ? "Loading…" : "Load more"}
            </button>
          )}
        </>
      )}
    </>
  );
}
