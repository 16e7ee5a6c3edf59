import { useEffect, useMemo, useState, type FormEvent } from "react";
import { useSearchParams } from "react-router-dom";
import { api } from "../api/endpoints";
import { messageOf } from "../api/errors";
import type { GroupKey, SummaryItem, UsageFilters } from "../api/types";
import { LazyStackedBarChart } from "../charts/LazyChart";
import { SelectField, TextField } from "../components/Field";
import { EmptyState, ErrorState, Loading, Notice } from "../components/Notice";
import { PageHeader } from "../components/PageHeader";
import { PeriodPicker } from "../components/PeriodPicker";
import { compareDecimals } from "../lib/decimal";
import { filenameFrom, saveBlob } from "../lib/download";
import { formatDay, formatInteger, formatMoney, formatTotals } from "../lib/format";
import { makeLabeler } from "../lib/labels";
import { periodFromSearch, periodToSearch, rangeProblem, listDays, todayIso, type Period } from "../lib/period";
import { useAsync } from "../lib/useAsync";
import {
  contributors,
  dailySeries,
  dailyTotals,
  GROUP_KEYS,
  GROUP_LABELS,
  keyOf,
  mainCurrency,
  parseGroup,
  rankingSeries,
} from "../lib/usage";

const MAX_ROWS = 500;
const DEFAULT_GROUP: GroupKey[] = ["day", "provider"];

interface Filters {
  provider: string;
  account: string;
  model: string;
  project: string;
}

function filtersFromSearch(search: URLSearchParams): Filters {
  return {
    provider: search.get("provider") ?? "",
    account: search.get("account") ?? "",
    model: search.get("model") ?? "",
    project: search.get("project") ?? "",
  };
}

function toApiFilters(period: Period, filters: Filters): UsageFilters {
  const account = Number(filters.account);
  return {
    from: period.from,
    to: period.to,
    provider: filters.provider || undefined,
    account_id: Number.isInteger(account) && account > 0 ? account : undefined,
    model: filters.model.trim() || undefined,
    project: filters.project.trim() || undefined,
  };
}

function sortRows(items: SummaryItem[], group: GroupKey[]): SummaryItem[] {
  const rows = [...items];
  if (group.includes("day")) {
    return rows.sort((a, b) => (b.day ?? "").localeCompare(a.day ?? "") || compareDecimals(b.cost, a.cost));
  }
  return rows.sort((a, b) => compareDecimals(b.cost, a.cost));
}

export default function Usage() {
  const [search, setSearch] = useSearchParams();
  const today = useMemo(() => todayIso(), []);
  const period = periodFromSearch(search, today, "last_30");
  const applied = filtersFromSearch(search);
  const group = parseGroup(search.get("group")) ?? DEFAULT_GROUP;
  const apiFilters = toApiFilters(period, applied);
  const filterKey = JSON.stringify([apiFilters, group]);

  const [draftPeriod, setDraftPeriod] = useState<Period>(period);
  const [draft, setDraft] = useState<Filters>(applied);
  const [draftGroup, setDraftGroup] = useState<[GroupKey, GroupKey | ""]>([group[0], group[1] ?? ""]);
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<string | null>(null);

  // Back/forward and links change the URL: show what it says.
  useEffect(() => {
    setDraftPeriod(period);
    setDraft(applied);
    setDraftGroup([group[0], group[1] ?? ""]);
  }, [search.toString()]); // eslint-disable-line react-hooks/exhaustive-deps

  const lookups = useAsync(async (signal) => {
    const [providers, accounts] = await Promise.all([api.providers.list(), api.accounts.list(signal)]);
    return { providers: providers.items.filter((p) => p.category === "ai"), accounts: accounts.items };
  }, []);
  const summary = useAsync((signal) => api.usage.summary(apiFilters, group, signal), [filterKey]);

  const problem = draftPeriod.preset === "custom" ? rangeProblem(draftPeriod) : null;

  const apply = (event: FormEvent) => {
    event.preventDefault();
    if (problem) return;
    let next = periodToSearch(draftPeriod, new URLSearchParams());
    const entries: [string, string][] = [
      ["provider", draft.provider],
      ["account", draft.account],
      ["model", draft.model.trim()],
      ["project", draft.project.trim()],
      ["group", draftGroup.filter(Boolean).join(",")],
    ];
    for (const [key, value] of entries) if (value) next.set(key, value);
    next = new URLSearchParams(next);
    setSearch(next);
  };

  const reset = () => setSearch(new URLSearchParams());

  const exportCsv = async () => {
    setExporting(true);
    setExportError(null);
    try {
      const response = await api.usage.exportCsv(apiFilters);
      const blob = await response.blob();
      saveBlob(blob, filenameFrom(response.headers.get("Content-Disposition"), `spendwatch-usage-${period.from}-${period.to}.csv`));
    } catch (error) {
      setExportError(messageOf(error));
    } finally {
      setExporting(false);
    }
  };

  const providerLabels = useMemo(
    () => Object.fromEntries((lookups.data?.providers ?? []).map((p) => [p.kind, p.label])),
    [lookups.data],
  );
  const labeler = useMemo(() => makeLabeler(lookups.data?.accounts, providerLabels), [lookups.data, providerLabels]);
  const data = summary.data;
  const currency = data ? mainCurrency(data.totals) : "USD";
  const days = useMemo(() => listDays(period.from, period.to), [period.from, period.to]);

  const chart = useMemo(() => {
    if (!data || !data.items.length) return null;
    if (group.includes("day")) {
      const other = group.find((g) => g !== "day");
      return {
        labels: days.map((d) => formatDay(d)),
        series: other ? dailySeries(data.items, days, other, currency, labeler) : dailyTotals(data.items, days, currency),
        horizontal: false,
        description: `Daily spend${other ? ` stacked by ${other}` : ""}`,
      };
    }
    const ranked = contributors(data.items, group[0], currency, labeler).slice(0, 15);
    return { ...rankingSeries(ranked, "Spend"), horizontal: true, description: `Spend by ${group[0]} (top 15)` };
  }, [data, group, days, currency, labeler]);

  const rows = useMemo(() => (data ? sortRows(data.items, group) : []), [data, group]);
  const totalTokens = rows.reduce((n, r) => n + r.input_tokens, 0);
  const totalOutput = rows.reduce((n, r) => n + r.output_tokens, 0);
  const totalRequests = rows.reduce((n, r) => n + r.requests, 0);
  const currencies = data ? Object.keys(data.totals) : [];

  const cell = (item: SummaryItem, g: GroupKey) => (g === "day" ? formatDay(item.day ?? "", true) : labeler(g, keyOf(item, g)));

  return (
    <>
      <PageHeader title="Usage" subtitle="Explore AI usage and spend by day, provider, account, model and project.">
        <button type="button" className="btn btn-secondary" onClick={exportCsv} disabled={exporting}>
          {exporting ? "Exporting…" : "Export CSV"}
        </button>
      </PageHeader>
      {exportError && <Notice kind="error">Could not export: {exportError}</Notice>}

      <form className="panel filters" onSubmit={apply} aria-label="Usage filters">
        <PeriodPicker value={draftPeriod} onChange={setDraftPeriod} today={today} label="Dates" />
        <SelectField name="provider" label="Provider" value={draft.provider} onChange={(e) => setDraft({ ...draft, provider: e.target.value })}>
          <option value="">All providers</option>
          {(lookups.data?.providers ?? []).map((p) => (
            <option key={p.kind} value={p.kind}>
              {p.label}
            </option>
          ))}
        </SelectField>
        <SelectField name="account_id" label="Account" value={draft.account} onChange={(e) => setDraft({ ...draft, account: e.target.value })}>
          <option value="">All accounts</option>
          {(lookups.data?.accounts ?? []).map((a) => (
            <option key={a.id} value={a.id}>
              {a.name}
            </option>
          ))}
        </SelectField>
        <TextField name="model" label="Model" value={draft.model} placeholder="any" maxLength={200} onChange={(e) => setDraft({ ...draft, model: e.target.value })} />
        <TextField name="project" label="Project" value={draft.project} placeholder="any" maxLength={200} onChange={(e) => setDraft({ ...draft, project: e.target.value })} />
        <SelectField
          name="group_by"
          label="Group by"
          value={draftGroup[0]}
          onChange={(e) => {
            const first = e.target.value as GroupKey;
            setDraftGroup([first, draftGroup[1] === first ? "" : draftGroup[1]]);
          }}
        >
          {GROUP_KEYS.map((g) => (
            <option key={g} value={g}>
              {GROUP_LABELS[g]}
            </option>
          ))}
        </SelectField>
        <SelectField
          name="group_by_then"
          label="Then by"
          value={draftGroup[1]}
          onChange={(e) => setDraftGroup([draftGroup[0], e.target.value as GroupKey | ""])}
        >
          <option value="">(nothing)</option>
          {GROUP_KEYS.filter((g) => g !== draftGroup[0]).map((g) => (
            <option key={g} value={g}>
              {GROUP_LABELS[g]}
            </option>
          ))}
        </SelectField>
        <div className="form-actions filters-actions">
          <button type="submit" className="btn btn-primary" disabled={Boolean(problem)}>
            Show
          </button>
          <button type="button" className="btn btn-ghost" onClick={reset}>
            Reset
          </button>
        </div>
      </form>

      {summary.error ? (
        <ErrorState error={summary.error} what="the usage" onRetry={summary.reload} />
      ) : !data ? (
        <Loading>Loading usage…</Loading>
      ) : data.items.length === 0 ? (
        <section className="panel">
          <EmptyState title="No usage matches these filters.">
            <p className="muted">Try a longer period or fewer filters.</p>
          </EmptyState>
        </section>
      ) : (
        <>
          <section className="panel" aria-labelledby="usage-chart-h">
            <div className="section-head">
              <h2 id="usage-chart-h">{chart?.description}</h2>
              <p className="usage-total">
                Total: <strong>{formatTotals(data.totals)}</strong>
              </p>
            </div>
            {chart && (
              <LazyStackedBarChart
                labels={chart.labels}
                series={chart.series}
                currency={currency}
                horizontal={chart.horizontal}
                height={chart.horizontal ? Math.max(200, chart.labels.length * 28 + 60) : 300}
                ariaLabel={`${chart.description}, ${currency}, ${period.from} to ${period.to}. The table below has the figures.`}
              />
            )}
            {currencies.length > 1 && <p className="muted small">The chart shows {currency} only; the table lists every currency.</p>}
            {summary.loading && (
              <p className="muted small" role="status">
                Updating…
              </p>
            )}
          </section>

          <section className="panel" aria-labelledby="usage-table-h">
            <h2 id="usage-table-h">
              {formatInteger(rows.length)} row{rows.length === 1 ? "" : "s"}
            </h2>
            <div className="table-wrap">
              <table className="table">
                <caption className="visually-hidden">Usage grouped by {group.join(" and ")}</caption>
                <thead>
                  <tr>
                    {group.map((g) => (
                      <th key={g} scope="col">
                        {GROUP_LABELS[g]}
                      </th>
                    ))}
                    <th scope="col" className="num">
                      Cost
                    </th>
                    <th scope="col">Source</th>
                    <th scope="col" className="num">
                      Input tokens
                    </th>
                    <th scope="col" className="num">
                      Output tokens
                    </th>
                    <th scope="col" className="num">
                      Requests
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {rows.slice(0, MAX_ROWS).map((item, i) => (
                    <tr key={i}>
                      {group.map((g) => (
                        <td key={g}>{cell(item, g)}</td>
                      ))}
                      <td className="num">{formatMoney(item.cost, item.currency)}</td>
                      <td>
                        <span className={`source source-${item.cost_source}`}>{item.cost_source}</span>
                      </td>
                      <td className="num">{formatInteger(item.input_tokens)}</td>
                      <td className="num">{formatInteger(item.output_tokens)}</td>
                      <td className="num">{formatInteger(item.requests)}</td>
                    </tr>
                  ))}
                </tbody>
                <tfoot>
                  {currencies.map((c, i) => (
                    <tr key={c}>
                      <th scope="row" colSpan={group.length}>
                        Total{currencies.length > 1 ? ` (${c})` : ""}
                      </th>
                      <td className="num">
                        <strong>{formatMoney(data.totals[c] ?? "0", c)}</strong>
                      </td>
                      <td />
                      <td className="num">{i === 0 ? formatInteger(totalTokens) : ""}</td>
                      <td className="num">{i === 0 ? formatInteger(totalOutput) : ""}</td>
                      <td className="num">{i === 0 ? formatInteger(totalRequests) : ""}</td>
                    </tr>
                  ))}
                </tfoot>
              </table>
            </div>
            {rows.length > MAX_ROWS && (
              <p className="muted small">
                Showing the first {MAX_ROWS} rows; narrow the filters, or export the CSV for every record.
              </p>
            )}
          </section>
        </>
      )}
    </>
  );
}
