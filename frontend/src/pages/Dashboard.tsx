import { useCallback, useEffect, useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { api } from "../api/endpoints";
import type { Account, Alert, BudgetDetail, GroupKey } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { LazyStackedBarChart, preloadChart } from "../charts/LazyChart";
import { BudgetGauges } from "../components/BudgetGauges";
import { DemoBanner, isDemoAccount, LoadDemoButton } from "../components/transactions/DemoData";
import { EmptyState, ErrorState, Loading } from "../components/Notice";
import { PageHeader } from "../components/PageHeader";
import { PeriodPicker } from "../components/PeriodPicker";
import { needsAttention, StatusBadge } from "../components/StatusBadge";
import { isZero, scaleDecimal } from "../lib/decimal";
import { formatCompact, formatDay, formatMoney, formatRelative, formatTotals, pluralize } from "../lib/format";
import { makeLabeler } from "../lib/labels";
import {
  daysInRange,
  describePeriod,
  forecastEnd,
  listDays,
  periodFromSearch,
  periodToSearch,
  rangeProblem,
  todayIso,
  type Period,
} from "../lib/period";
import { useAsync } from "../lib/useAsync";
import { categoryLabeler, topLevelDaily, totalsOf } from "../lib/categorySpend";
import { contributors, dailySeries, dailySeriesBy, mainCurrency, rankBy, type Contributor } from "../lib/usage";
import type { ChartSeries } from "../charts/types";

// AI usage stacked by one of its dimensions, or bank spending by top-level category.
type StackBy = Extract<GroupKey, "provider" | "model" | "account" | "project"> | "category";
const STACKS: { value: StackBy; label: string; plural: string }[] = [
  { value: "provider", label: "Provider", plural: "providers" },
  { value: "model", label: "Model", plural: "models" },
  { value: "account", label: "Account", plural: "accounts" },
  { value: "project", label: "Project", plural: "projects" },
  { value: "category", label: "Category", plural: "categories (bank spending)" },
];

/** What the chart and the ranking show. */
interface ChartView {
  totals: Record<string, string>;
  currency: string;
  series: ChartSeries[];
  top: Contributor[];
}

function StackSwitch({ value, onChange }: { value: StackBy; onChange: (v: StackBy) => void }) {
  return (
    <fieldset className="segmented">
      <legend className="visually-hidden">Stack the chart by</legend>
      {STACKS.map((s) => (
        <label key={s.value} className={value === s.value ? "active" : undefined}>
          <input type="radio" name="stack-by" value={s.value} checked={value === s.value} onChange={() => onChange(s.value)} />
          {s.label}
        </label>
      ))}
    </fieldset>
  );
}

function AlertList({ alerts, budgets }: { alerts: Alert[]; budgets: BudgetDetail[] }) {
  const names = new Map(budgets.map((b) => [b.id, b.name]));
  if (!alerts.length) return <EmptyState title="No alerts yet.">Alerts appear here when a budget threshold or rule fires.</EmptyState>;
  return (
    <ul className="alert-list">
      {alerts.map((alert) => (
        <li key={alert.id}>
          <span className={`badge badge-alert-${alert.state}`}>{alert.state}</span>{" "}
          <span className="alert-title">
            {(alert.rule_id != null && names.get(alert.rule_id)) || alert.type.replace(/_/g, " ")}
            {alert.threshold_key && <span className="muted"> · {alert.threshold_key.replace(":", " ")}</span>}
          </span>
          <span className="muted alert-time">
            <time dateTime={alert.created_at}>{formatRelative(alert.created_at)}</time>
            {alert.silenced && ` · ${alert.silenced}`}
          </span>
        </li>
      ))}
    </ul>
  );
}

function AttentionList({ accounts }: { accounts: Account[] }) {
  const troubled = accounts.filter((a) => needsAttention(a.status));
  if (!accounts.length) return <EmptyState title="No accounts yet." />;
  if (!troubled.length)
    return (
      <p className="ok-note">
        <span aria-hidden="true">✓ </span>
        {accounts.length === 1 ? "The account is syncing normally." : `All ${pluralize(accounts.length, "account")} are syncing normally.`}
      </p>
    );
  return (
    <ul className="attention-list">
      {troubled.map((account) => (
        <li key={account.id}>
          <div>
            <Link to={`/accounts#account-${account.id}`}>{account.name}</Link> <StatusBadge status={account.status} />
          </div>
          {account.last_error && <p className="account-error">{account.last_error}</p>}
        </li>
      ))}
    </ul>
  );
}

export default function Dashboard() {
  const { canWrite } = useAuth();
  const [search, setSearch] = useSearchParams();
  const today = useMemo(() => todayIso(), []);
  const period = periodFromSearch(search, today);
  const [draft, setDraft] = useState<Period>(period);
  const stackBy: StackBy = (STACKS.map((s) => s.value) as string[]).includes(search.get("by") ?? "")
    ? (search.get("by") as StackBy)
    : "provider";

  useEffect(() => setDraft(period), [period.preset, period.from, period.to]); // eslint-disable-line react-hooks/exhaustive-deps
  // Chart.js downloads beside the data requests, not after them (the chart is what the page waits for last).
  useEffect(() => {
    preloadChart().catch(() => undefined); // the chart's placeholder says so if it cannot load
  }, []);

  // The dashboard's four calls, and no others: one summary grouped by day and the stack dimension feeds
  // the total, the forecast, the chart and the top contributors; then accounts, budgets (each with its
  // status, which the gauges draw) and recent alerts.
  const summary = useAsync(
    (signal) => api.usage.summary({ from: period.from, to: period.to }, stackBy === "category" ? ["day"] : ["day", stackBy], signal),
    [period.from, period.to, stackBy],
  );
  // Stacked by category (not the default: no call on a plain load), the chart shows bank spending instead.
  const bank = useAsync(
    (signal) =>
      stackBy !== "category"
        ? Promise.resolve(null)
        : Promise.all([
            api.analytics.spendingByCategory({ from: period.from, to: period.to, interval: "day" }, signal),
            api.categories.list(signal),
          ]).then(([spend, categories]) => ({ items: topLevelDaily(spend.items), label: categoryLabeler(categories.items) })),
    [period.from, period.to, stackBy],
  );
  const accounts = useAsync((signal) => api.accounts.list(signal), []);
  const budgets = useAsync((signal) => api.budgets.list(signal), []);
  const alerts = useAsync((signal) => api.alerts.recent(5, signal), []);

  const changePeriod = (next: Period) => {
    setDraft(next);
    if (next.preset !== "custom" || rangeProblem(next) === null) setSearch(periodToSearch(next, search), { replace: true });
  };
  const changeStack = (by: StackBy) => {
    const next = new URLSearchParams(search);
    next.set("by", by);
    setSearch(next, { replace: true });
  };

  const labeler = useMemo(() => makeLabeler(accounts.data?.items), [accounts.data]);
  const data = summary.data;
  const currency = data ? mainCurrency(data.totals) : "USD";
  const total = data?.totals[currency] ?? "0";
  const days = useMemo(() => listDays(period.from, period.to), [period.from, period.to]);
  const view = useMemo((): ChartView | null => {
    if (stackBy === "category") {
      if (!bank.data) return null;
      const { items, label } = bank.data;
      const totals = totalsOf(items);
      const main = mainCurrency(totals);
      const key = (item: (typeof items)[number]) => item.key;
      return { totals, currency: main, series: dailySeriesBy(items, days, key, main, label), top: rankBy(items, key, main, label).slice(0, 5) };
    }
    if (!data) return null;
    const series = dailySeries(data.items, days, stackBy, currency, labeler);
    return { totals: data.totals, currency, series, top: contributors(data.items, stackBy, currency, labeler).slice(0, 5) };
  }, [stackBy, bank.data, data, days, currency, labeler]);
  const viewError = stackBy === "category" ? bank.error : summary.error;
  const viewLoading = stackBy === "category" ? bank.loading : summary.loading;
  const viewTotal = view ? (view.totals[view.currency] ?? "0") : "0";
  const viewOther = view ? Object.keys(view.totals).filter((c) => c !== view.currency) : [];
  const stack = STACKS.find((s) => s.value === stackBy)!;
  const requests = data?.items.reduce((n, i) => n + i.requests, 0) ?? 0;
  const tokens = data?.items.reduce((n, i) => n + i.input_tokens + i.output_tokens, 0) ?? 0;

  const end = forecastEnd(period, today);
  const elapsed = daysInRange(period.from, today < period.to ? today : period.to);
  const forecast = end && data ? scaleDecimal(total, daysInRange(period.from, end), Math.max(1, elapsed)) : null;
  const dailyAverage = data ? scaleDecimal(total, 1, Math.max(1, elapsed)) : null;

  const accountList = accounts.data?.items;
  const troubled = accountList?.filter((a) => needsAttention(a.status)).length ?? 0;
  const noAccounts = accountList !== undefined && accountList.length === 0;
  const hasDemo = accountList?.some(isDemoAccount) ?? false;
  // data-loaded="true" once the four calls have settled (data or error) and the chart has been drawn, or
  // an empty or error state stands in its place: benchmarks and browser tests wait for it.
  const [chartDrawn, setChartDrawn] = useState(false);
  const onChartDrawn = useCallback(() => setChartDrawn(true), []);
  const settled = !summary.loading && !accounts.loading && !budgets.loading && !alerts.loading && !bank.loading;
  const chartShown = Boolean(view) && !viewError && !(isZero(viewTotal) && viewOther.length === 0);
  const loaded = settled && (!chartShown || chartDrawn);
  // A chart that comes back later (after an empty period) must be drawn again before the page is loaded.
  useEffect(() => {
    if (!chartShown) setChartDrawn(false);
  }, [chartShown]);

  const reloadAll = () => {
    summary.reload();
    bank.reload();
    accounts.reload();
    budgets.reload();
    alerts.reload();
  };

  return (
    <div className="dashboard" data-loaded={loaded ? "true" : "false"}>
      <PageHeader title="Dashboard" subtitle={`AI spend · ${describePeriod(period)} (${formatDay(period.from, true)} – ${formatDay(period.to, true)})`}>
        <PeriodPicker value={draft} onChange={changePeriod} today={today} />
      </PageHeader>

      {noAccounts && (
        <section className="panel onboarding" aria-labelledby="onboard-h">
          <h2 id="onboard-h">Connect your first provider account</h2>
          <p>
            Spendwatch reads usage and spend from your AI providers. Add an account to start — the <strong>Demo</strong> provider
            works without any network access (any key starting with <code>demo-</code>).
          </p>
          {canWrite && (
            <div className="form-actions">
              <Link className="btn btn-primary" to="/accounts?add=1">
                Add an account
              </Link>
              <LoadDemoButton onLoaded={reloadAll} />
            </div>
          )}
        </section>
      )}
      {hasDemo && canWrite && <DemoBanner onRemoved={reloadAll} />}

      <section className="stats" aria-label="Key figures">
        <div className="stat">
          <h2 className="stat-label">Spend, {describePeriod(period).toLowerCase()}</h2>
          {summary.error && !data ? (
            <p className="stat-value">—</p>
          ) : !data ? (
            <p className="stat-value skeleton" aria-busy="true">
              Loading…
            </p>
          ) : (
            <>
              <p className="stat-value">{formatTotals(data.totals)}</p>
              <p className="stat-sub muted">
                {formatCompact(requests)} requests · {formatCompact(tokens)} tokens
              </p>
            </>
          )}
        </div>
        <div className="stat">
          <h2 className="stat-label">Forecast to period end</h2>
          {!data ? (
            <p className="stat-value skeleton">{summary.error ? "—" : "Loading…"}</p>
          ) : forecast && end ? (
            <>
              <p className="stat-value">{formatMoney(forecast, currency)}</p>
              <p className="stat-sub muted">by {formatDay(end, true)}, at the daily average so far</p>
            </>
          ) : (
            <>
              <p className="stat-value">{formatMoney(total, currency)}</p>
              <p className="stat-sub muted">This period is over: the total is final.</p>
            </>
          )}
        </div>
        <div className="stat">
          <h2 className="stat-label">Daily average</h2>
          {!data ? (
            <p className="stat-value skeleton">{summary.error ? "—" : "Loading…"}</p>
          ) : (
            <>
              <p className="stat-value">{formatMoney(dailyAverage, currency)}</p>
              <p className="stat-sub muted">over {pluralize(elapsed, "day")}</p>
            </>
          )}
        </div>
        <div className="stat">
          <h2 className="stat-label">Accounts</h2>
          {!accountList ? (
            <p className="stat-value skeleton">{accounts.error ? "—" : "Loading…"}</p>
          ) : (
            <>
              <p className="stat-value">{accountList.length}</p>
              <p className={`stat-sub ${troubled ? "text-danger" : "muted"}`}>
                {troubled ? `${troubled} need${troubled === 1 ? "s" : ""} attention` : "all healthy"}
              </p>
            </>
          )}
        </div>
      </section>

      <div className="grid-2">
        <section className="panel chart-panel" aria-labelledby="chart-h">
          <div className="section-head">
            <h2 id="chart-h">{stackBy === "category" ? "Bank spending over time" : "Spend over time"}</h2>
            <StackSwitch value={stackBy} onChange={changeStack} />
          </div>
          {viewError ? (
            <ErrorState error={viewError} what="the spend" onRetry={stackBy === "category" ? bank.reload : summary.reload} />
          ) : !view ? (
            <Loading>Loading spend…</Loading>
          ) : isZero(viewTotal) && viewOther.length === 0 ? (
            <EmptyState title={stackBy === "category" ? "No bank spending in this period." : "No spend in this period."}>
              <p className="muted">
                {stackBy === "category"
                  ? "Connect a bank account or import a statement on the Transactions page."
                  : noAccounts
                    ? "Add a provider account, then sync it."
                    : "Try a longer period, or sync your accounts."}
              </p>
            </EmptyState>
          ) : (
            <>
              <LazyStackedBarChart
                labels={days.map((d) => formatDay(d))}
                series={view.series}
                currency={view.currency}
                ariaLabel={`Daily ${stackBy === "category" ? "bank spending" : "spend"} in ${view.currency} from ${period.from} to ${period.to}, stacked by ${stackBy}. Total ${formatMoney(viewTotal, view.currency)}.`}
                onDrawn={onChartDrawn}
              />
              {viewOther.length > 0 && (
                <p className="muted small">
                  The chart shows {view.currency} only; spend in {viewOther.join(", ")} is {stackBy === "category" ? "left out" : "counted in the total above"}.
                </p>
              )}
            </>
          )}
          {viewLoading && view && (
            <p className="muted small" role="status">
              Updating…
            </p>
          )}
        </section>

        <section className="panel" aria-labelledby="top-h">
          <h2 id="top-h">Top {stack.plural}</h2>
          {viewError ? (
            <p className="muted">Not available.</p>
          ) : !view ? (
            <Loading />
          ) : view.top.length === 0 ? (
            <EmptyState title="Nothing to rank yet." />
          ) : (
            <ol className="ranking">
              {view.top.map((c) => (
                <li key={c.key}>
                  <div className="ranking-row">
                    <span className="ranking-label">{c.label}</span>
                    <span className="ranking-value">{formatMoney(c.amount, view.currency)}</span>
                  </div>
                  <div className="share-bar" aria-hidden="true">
                    <div style={{ width: `${Math.max(1, c.share * 100)}%` }} />
                  </div>
                  <span className="visually-hidden">{Math.round(c.share * 100)}% of the total</span>
                </li>
              ))}
            </ol>
          )}
          {view && view.top.length > 0 && (
            <p className="small">
              {stackBy === "category" ? (
                <Link to="/transactions">See the transactions →</Link>
              ) : (
                <Link to={`/usage?${new URLSearchParams({ ...Object.fromEntries(periodToSearch(period, new URLSearchParams())), group: `day,${stackBy}` })}`}>
                  Explore usage →
                </Link>
              )}
            </p>
          )}
        </section>
      </div>

      <div className="grid-3">
        <section className="panel" aria-labelledby="budgets-h">
          <div className="section-head">
            <h2 id="budgets-h">Budgets</h2>
            <Link to="/budgets" className="small">
              All budgets
            </Link>
          </div>
          {budgets.error ? (
            <ErrorState error={budgets.error} what="the budgets" onRetry={budgets.reload} />
          ) : !budgets.data ? (
            <Loading />
          ) : budgets.data.items.length === 0 ? (
            <EmptyState title="No budgets yet.">
              <p className="muted small">
                Budgets warn you before spend runs over. {canWrite ? "Set one up" : "Members set them up"} on the <Link to="/budgets">Budgets page</Link>.
              </p>
            </EmptyState>
          ) : (
            <BudgetGauges
              budgets={budgets.data.items}
              initial={4}
              accountName={(id) => accountList?.find((a) => a.id === id)?.name ?? `Account #${id}`}
            />
          )}
        </section>

        <section className="panel" aria-labelledby="alerts-h">
          <h2 id="alerts-h">Recent alerts</h2>
          {alerts.error ? (
            <ErrorState error={alerts.error} what="the alerts" onRetry={alerts.reload} />
          ) : !alerts.data ? (
            <Loading />
          ) : (
            <AlertList alerts={alerts.data.items} budgets={budgets.data?.items ?? []} />
          )}
        </section>

        <section className="panel" aria-labelledby="attention-h">
          <div className="section-head">
            <h2 id="attention-h">Accounts needing attention</h2>
            <Link to="/accounts" className="small">
              All accounts
            </Link>
          </div>
          {accounts.error ? (
            <ErrorState error={accounts.error} what="the accounts" onRetry={accounts.reload} />
          ) : !accountList ? (
            <Loading />
          ) : (
            <AttentionList accounts={accountList} />
          )}
        </section>
      </div>
    </div>
  );
}

