import { PageHeader } from "../../components/PageHeader";
import { EmptyState, ErrorState, Loading } from "../../components/Notice";
import { Amount } from "../../components/transactions/Amount";
import { MoneyTabs } from "../../components/transactions/MoneyTabs";
import { formatDay, formatInteger, formatMoney } from "../../lib/format";
import { useAsync } from "../../lib/useAsync";
import { moneyApi } from "./api";
import { useMoney } from "./context";
import type { Cadence, RecurringStream, UpcomingCharge } from "./types";

const CADENCE: Record<Cadence, string> = { weekly: "Weekly", biweekly: "Every two weeks", monthly: "Monthly", yearly: "Yearly" };
const STATUS: Record<RecurringStream["status"], string> = { early: "New", established: "Established", ended: "Ended" };
const DAYS = 30;

function dueLabel(charge: UpcomingCharge, today: string): string {
  if (charge.date < today) return "overdue";
  if (charge.date === today) return "today";
  return "";
}

export function UpcomingList({ items, today }: { items: UpcomingCharge[]; today: string }) {
  return (
    <ul className="upcoming-list">
      {items.map((charge, i) => {
        const due = dueLabel(charge, today);
        return (
          <li key={`${charge.merchant_key}-${charge.date}-${i}`}>
            <time dateTime={charge.date} className="upcoming-date">
              {formatDay(charge.date)}
            </time>
            <span className="upcoming-name">
              {charge.merchant}
              <span className="muted small"> · {CADENCE[charge.cadence] ?? charge.cadence}</span>
              {due && <span className={`badge badge-due-${due}`}>{due}</span>}
            </span>
            <Amount value={charge.amount} currency={charge.currency} className="upcoming-amount" />
          </li>
        );
      })}
    </ul>
  );
}

export default function Recurring() {
  const money = useMoney();
  const upcoming = useAsync((signal) => moneyApi.recurring.upcoming(DAYS, signal), []);
  const streams = useAsync((signal) => moneyApi.recurring.list(signal), []);
  const active = streams.data?.items.filter((s) => s.status !== "ended") ?? [];
  const ended = streams.data?.items.filter((s) => s.status === "ended") ?? [];

  return (
    <>
      <PageHeader title="Recurring" subtitle="Bills, subscriptions and pay found in your transactions, and what is due next." />
      <MoneyTabs />
      <div className="grid-2 recurring-grid">
        <section className="panel" aria-labelledby="upcoming-h">
          <h2 id="upcoming-h">Next {DAYS} days</h2>
          {upcoming.error ? (
            <ErrorState error={upcoming.error} what="the upcoming charges" onRetry={upcoming.reload} />
          ) : !upcoming.data ? (
            <Loading>Loading upcoming charges…</Loading>
          ) : upcoming.data.items.length === 0 ? (
            <EmptyState title="Nothing expected in the next 30 days." />
          ) : (
            <>
              <UpcomingList items={upcoming.data.items} today={upcoming.data.today} />
              {upcoming.data.totals.map((t) => (
                <p key={t.currency} className="upcoming-total">
                  Expected net{upcoming.data && upcoming.data.totals.length > 1 ? ` (${t.currency})` : ""}:{" "}
                  <strong>
                    <Amount value={t.net} currency={t.currency} />
                  </strong>{" "}
                  <span className="muted small">
                    (<Amount value={t.expenses} currency={t.currency} /> out, <Amount value={t.income} currency={t.currency} /> in)
                  </span>
                </p>
              ))}
            </>
          )}
        </section>

        <section className="panel" aria-labelledby="streams-h">
          <h2 id="streams-h">Recurring bills and income</h2>
          {streams.error ? (
            <ErrorState error={streams.error} what="the recurring charges" onRetry={streams.reload} />
          ) : !streams.data ? (
            <Loading>Loading recurring charges…</Loading>
          ) : streams.data.items.length === 0 ? (
            <EmptyState title="No recurring charges found yet.">
              <p className="muted small">A charge counts as recurring from its third regular occurrence (yearly: the second).</p>
            </EmptyState>
          ) : (
            <div className="table-wrap">
              <table className="table">
                <caption className="visually-hidden">Recurring charges and income, by next expected date</caption>
                <thead>
                  <tr>
                    <th scope="col">Merchant</th>
                    <th scope="col" className="num">
                      Usually
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {[...active, ...ended].map((s) => (
                    <tr key={`${s.merchant_key}-${s.currency}-${s.kind}`} className={s.status === "ended" ? "row-ended" : undefined}>
                      <td className="wrap stream-name">
                        {s.merchant} {s.status !== "established" && <span className={`badge badge-stream-${s.status}`}>{STATUS[s.status]}</span>}
                        <div className="muted small">
                          {CADENCE[s.cadence] ?? s.cadence} · {money.categoryLabel(s.category_id)} · {formatInteger(s.occurrences)} times, last{" "}
                          {formatDay(s.last_date, true)}
                        </div>
                      </td>
                      <td className="num">
                        <Amount value={s.average_amount} currency={s.currency} />
                        {s.amount_min !== s.amount_max && (
                          <div className="muted small">
                            {formatMoney(s.amount_min, s.currency)} to {formatMoney(s.amount_max, s.currency)}
                          </div>
                        )}
                        <div className="muted small">{s.status === "ended" ? "ended" : `next ${formatDay(s.next_expected)}`}</div>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      </div>
    </>
  );
}
