import { useEffect, useState } from "react";
import { api } from "../../api/endpoints";
import { messageOf } from "../../api/errors";
import type { Delivery } from "../../api/types";
import { formatDateTime, formatInteger } from "../../lib/format";
import { EmptyState, ErrorState, Loading } from "../Notice";
import { isSessionEnd } from "./forms";

const PAGE = 25;

const EVENT_NAMES: Record<string, string> = {
  "budget.threshold_crossed": "Budget threshold",
  "budget.forecast_exceeded": "Budget forecast",
  "budget.resolved": "Budget resolved",
  "usage.anomaly": "Anomaly",
  "usage.anomaly_resolved": "Anomaly resolved",
  "account.sync_failing": "Sync failing",
  "account.recovered": "Recovered",
  test: "Test",
};

/**
 * Delivery attempts to one channel, newest first, with "Retry" on dead notifications (on the newest attempt
 * of each). VERSION changes (after a test send) reload it.
 */
export function DeliveryLog({ channelId, version, canWrite }: { channelId: number; version: number; canWrite: boolean }) {
  const [items, setItems] = useState<Delivery[] | null>(null);
  const [next, setNext] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  const [loadingMore, setLoadingMore] = useState(false);
  const [retrying, setRetrying] = useState<number | null>(null);
  const [notes, setNotes] = useState<Record<number, { ok: boolean; text: string }>>({});

  useEffect(() => {
    const controller = new AbortController();
    setError(null);
    api.channels
      .deliveries(channelId, null, PAGE, controller.signal)
      .then((page) => {
        setItems(page.items);
        setNext(page.next_before);
      })
      .catch((err: unknown) => {
        if (!(err instanceof Error && err.name === "AbortError")) setError(err);
      });
    return () => controller.abort();
  }, [channelId, version, tick]);

  const more = async () => {
    if (next == null) return;
    setLoadingMore(true);
    try {
      const page = await api.channels.deliveries(channelId, next, PAGE);
      setItems((cur) => [...(cur ?? []), ...page.items]);
      setNext(page.next_before);
    } catch (err) {
      if (!isSessionEnd(err)) setError(err);
    } finally {
      setLoadingMore(false);
    }
  };

  const retry = async (notificationId: number) => {
    setRetrying(notificationId);
    try {
      const n = await api.notifications.retry(notificationId);
      setItems((cur) => (cur ?? []).map((d) => (d.notification_id === notificationId ? { ...d, notification_status: n.status as Delivery["notification_status"] } : d)));
      setNotes((m) => ({ ...m, [notificationId]: { ok: true, text: "Retry scheduled: it is sent within seconds. Refresh to see the attempt." } }));
    } catch (err) {
      if (!isSessionEnd(err)) setNotes((m) => ({ ...m, [notificationId]: { ok: false, text: messageOf(err) } }));
    } finally {
      setRetrying(null);
    }
  };

  if (error) return <ErrorState error={error} what="the delivery log" onRetry={() => setTick((t) => t + 1)} />;
  if (!items) return <Loading>Loading deliveries…</Loading>;
  if (!items.length) return <EmptyState title="Nothing sent to this channel yet." />;

  const newestOf = new Set<number>();
  const seen = new Set<number>();
  for (const d of items) {
    if (!seen.has(d.notification_id)) newestOf.add(d.id);
    seen.add(d.notification_id);
  }

  return (
    <>
      <div className="table-wrap">
        <table className="table table-compact">
          <caption className="visually-hidden">Delivery attempts, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Outcome</th>
              <th scope="col">Notification</th>
              <th scope="col">Event</th>
              <th scope="col" className="num">
                Response
              </th>
              <th scope="col" className="num">
                Time
              </th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {items.map((d) => (
              <tr key={d.id}>
                <td>{formatDateTime(d.attempted_at)}</td>
                <td>
                  <span className={`badge ${d.ok ? "badge-ok" : "badge-needs_attention"}`}>{d.ok ? "OK" : "Failed"}</span>
                </td>
                <td className="wrap-narrow">
                  <span className={`badge badge-delivery-${d.notification_status}`}>{d.notification_status}</span>
                  {canWrite && d.notification_status === "dead" && newestOf.has(d.id) && (
                    <>
                      {" "}
                      <button type="button" className="btn btn-secondary btn-small" onClick={() => retry(d.notification_id)} disabled={retrying === d.notification_id}>
                        {retrying === d.notification_id ? "Retrying…" : "Retry"}
                        <span className="visually-hidden"> notification {d.notification_id}</span>
                      </button>
                    </>
                  )}
                  {notes[d.notification_id] && newestOf.has(d.id) && (
                    <span className={`small block ${notes[d.notification_id].ok ? "" : "text-danger"}`} role="status">
                      {notes[d.notification_id].text}
                    </span>
                  )}
                </td>
                <td>
                  {EVENT_NAMES[d.event_type] ?? d.event_type} <span className="muted small">#{d.event_id}</span>
                </td>
                <td className="num">{d.response_code ?? "—"}</td>
                <td className="num">{formatInteger(d.duration_ms)} ms</td>
                <td className="wrap small">{d.error ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="form-actions">
        {next != null && (
          <button type="button" className="btn btn-secondary btn-small" onClick={more} disabled={loadingMore}>
            {loadingMore ? "Loading…" : "Older attempts"}
          </button>
        )}
        <button type="button" className="btn btn-ghost btn-small" onClick={() => setTick((t) => t + 1)}>
          Refresh
        </button>
      </div>
    </>
  );
}
