// Turning /api/usage/summary answers into chart series and rankings, with exact decimal sums.
import type { GroupKey, SummaryItem } from "../api/types";
import type { ChartSeries } from "../charts/types";
import { addDecimals, compareDecimals, ratio, toChartNumber } from "./decimal";

export const GROUP_LABELS: Record<GroupKey, string> = {
  day: "Day",
  provider: "Provider",
  account: "Account",
  model: "Model",
  project: "Project",
};

export const GROUP_KEYS = Object.keys(GROUP_LABELS) as GroupKey[];

/** The value of ITEM for DIMENSION, as a string key ("" when the API left it empty). */
export function keyOf(item: SummaryItem, dimension: GroupKey): string {
  const value = dimension === "account" ? item.account_id : item[dimension];
  return value === null || value === undefined ? "" : String(value);
}

export type Labeler = (dimension: GroupKey, key: string) => string;

export function defaultLabel(dimension: GroupKey, key: string): string {
  if (key === "") return dimension === "project" ? "(no project)" : `(no ${dimension})`;
  if (dimension === "account") return `Account #${key}`;
  return key;
}

/** The currency with the largest total: charts show one currency at a time. */
export function mainCurrency(totals: Record<string, string>): string {
  const entries = Object.entries(totals);
  if (!entries.length) return "USD";
  return entries.reduce((best, cur) => (compareDecimals(cur[1], best[1]) > 0 ? cur : best))[0];
}

export interface Contributor {
  key: string;
  label: string;
  amount: string;
  /** Share of the total, 0..1 (geometry only). */
  share: number;
}

/** An amount on a day (optional) in a currency: usage summary items, bank spending rows. */
export interface DatedAmount {
  day?: string | null;
  currency: string;
  cost: string;
}

/** Sum ITEMS of CURRENCY by DIMENSION, largest first. */
export function contributors(items: SummaryItem[], dimension: GroupKey, currency: string, label: Labeler = defaultLabel): Contributor[] {
  return rankBy(items, (item) => keyOf(item, dimension), currency, (key) => label(dimension, key));
}

/** Sum ITEMS of CURRENCY by the key KEY gives each, largest first. */
export function rankBy<T extends DatedAmount>(items: T[], key: (item: T) => string, currency: string, label: (key: string) => string): Contributor[] {
  const sums = new Map<string, string>();
  for (const item of items) {
    if (item.currency !== currency) continue;
    const k = key(item);
    sums.set(k, addDecimals(sums.get(k) ?? "0", item.cost));
  }
  const total = addDecimals("0", ...sums.values());
  return [...sums.entries()]
    .map(([k, amount]) => ({ key: k, label: label(k), amount, share: ratio(amount, total) }))
    .sort((a, b) => compareDecimals(b.amount, a.amount) || a.label.localeCompare(b.label));
}

/**
 * Series for a chart of days (x) stacked by DIMENSION, from items grouped by day and DIMENSION. Beyond
 * MAX_SERIES the smallest are merged into "Other". Days without data are zeros.
 */
export function dailySeries(
  items: SummaryItem[],
  days: string[],
  dimension: GroupKey,
  currency: string,
  label: Labeler = defaultLabel,
  maxSeries = 8,
): ChartSeries[] {
  return dailySeriesBy(items, days, (item) => keyOf(item, dimension), currency, (key) => label(dimension, key), maxSeries);
}

/** dailySeries for any dated amounts, stacked by the key KEY gives each. */
export function dailySeriesBy<T extends DatedAmount>(
  items: T[],
  days: string[],
  key: (item: T) => string,
  currency: string,
  label: (key: string) => string,
  maxSeries = 8,
): ChartSeries[] {
  const ranked = rankBy(items, key, currency, label);
  const kept = ranked.slice(0, ranked.length > maxSeries ? maxSeries - 1 : maxSeries);
  const keptKeys = new Set(kept.map((c) => c.key));
  const other = ranked.length > kept.length;
  const index = new Map(days.map((d, i) => [d, i]));
  const amounts = new Map<string, string[]>();
  for (const c of kept) amounts.set(c.key, days.map(() => "0"));
  if (other) amounts.set("\u0000other", days.map(() => "0"));
  for (const item of items) {
    if (item.currency !== currency || !item.day) continue;
    const i = index.get(item.day);
    if (i === undefined) continue;
    const k = key(item);
    const row = amounts.get(keptKeys.has(k) ? k : "\u0000other");
    if (!row) continue;
    row[i] = addDecimals(row[i], item.cost);
  }
  const series = kept.map((c) => ({ key: c.key, label: c.label, amounts: amounts.get(c.key)! }));
  if (other) series.push({ key: "\u0000other", label: "Other", amounts: amounts.get("\u0000other")! });
  return series.map((s) => ({ ...s, values: s.amounts.map(toChartNumber) }));
}

/** One series for a single-dimension ranking chart (no day axis). */
export function rankingSeries(ranked: Contributor[], seriesLabel: string): { labels: string[]; series: ChartSeries[] } {
  return {
    labels: ranked.map((c) => c.label),
    series: [{ key: "total", label: seriesLabel, amounts: ranked.map((c) => c.amount), values: ranked.map((c) => toChartNumber(c.amount)) }],
  };
}

/** One series with each day's total (a summary grouped by day only). */
export function dailyTotals(items: SummaryItem[], days: string[], currency: string, seriesLabel = "Spend"): ChartSeries[] {
  const index = new Map(days.map((d, i) => [d, i]));
  const amounts = days.map(() => "0");
  for (const item of items) {
    if (item.currency !== currency || !item.day) continue;
    const i = index.get(item.day);
    if (i !== undefined) amounts[i] = addDecimals(amounts[i], item.cost);
  }
  return [{ key: "total", label: seriesLabel, amounts, values: amounts.map(toChartNumber) }];
}

/** Parse a group_by value ("day,provider") into one or two distinct known keys, or null. */
export function parseGroup(text: string | null): GroupKey[] | null {
  if (!text) return null;
  const parts = text.split(",").map((p) => p.trim()) as GroupKey[];
  if (parts.length < 1 || parts.length > 2) return null;
  if (!parts.every((p) => GROUP_KEYS.includes(p))) return null;
  if (parts.length === 2 && parts[0] === parts[1]) return null;
  return parts;
}
