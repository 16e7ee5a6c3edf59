// Date ranges for the period picker. Calendar days are "YYYY-MM-DD" strings; the arithmetic is done on
// UTC dates so that it never depends on the browser's time zone or daylight-saving changes.

export type PeriodPreset = "this_month" | "last_month" | "last_30" | "last_90" | "custom";

export const PERIOD_LABELS: Record<PeriodPreset, string> = {
  this_month: "This month",
  last_month: "Last month",
  last_30: "Last 30 days",
  last_90: "Last 90 days",
  custom: "Custom range",
};

export const PRESETS = Object.keys(PERIOD_LABELS) as PeriodPreset[];

export interface DateRange {
  from: string;
  to: string;
}

export interface Period extends DateRange {
  preset: PeriodPreset;
}

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MS_PER_DAY = 86_400_000;

export function isIsoDay(text: string | null | undefined): text is string {
  if (!text) return false;
  const match = DAY_RE.exec(text);
  if (!match) return false;
  const [, y, m, d] = match.map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

function toUtc(day: string): Date {
  const match = DAY_RE.exec(day);
  if (!match) throw new Error(`Not a YYYY-MM-DD day: "${day}"`);
  return new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
}

function fromUtc(date: Date): string {
  const y = String(date.getUTCFullYear()).padStart(4, "0");
  const m = String(date.getUTCMonth() + 1).padStart(2, "0");
  const d = String(date.getUTCDate()).padStart(2, "0");
  return `${y}-${m}-${d}`;
}

/** The browser's calendar day for NOW ("today" as the user sees it). */
export function todayIso(now: Date = new Date()): string {
  return fromUtc(new Date(Date.UTC(now.getFullYear(), now.getMonth(), now.getDate())));
}

export function addDays(day: string, n: number): string {
  return fromUtc(new Date(toUtc(day).getTime() + n * MS_PER_DAY));
}

/** Days from FROM to TO, both included (1 for the same day). */
export function daysInRange(from: string, to: string): number {
  return Math.round((toUtc(to).getTime() - toUtc(from).getTime()) / MS_PER_DAY) + 1;
}

export function startOfMonth(day: string): string {
  const d = toUtc(day);
  return fromUtc(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)));
}

export function endOfMonth(day: string): string {
  const d = toUtc(day);
  return fromUtc(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)));
}

/** Every day from FROM to TO, both included. */
export function listDays(from: string, to: string): string[] {
  const days: string[] = [];
  const n = daysInRange(from, to);
  for (let i = 0; i < n; i++) days.push(addDays(from, i));
  return days;
}

/** The range of a preset on the day TODAY; "custom" takes CUSTOM (or falls back to this month). */
export function rangeFor(preset: PeriodPreset, today: string, custom?: Partial<DateRange>): DateRange {
  switch (preset) {
    case "this_month":
      return { from: startOfMonth(today), to: today };
    case "last_month": {
      const lastDay = addDays(startOfMonth(today), -1);
      return { from: startOfMonth(lastDay), to: lastDay };
    }
    case "last_30":
      return { from: addDays(today, -29), to: today };
    case "last_90":
      return { from: addDays(today, -89), to: today };
    case "custom":
      if (custom?.from && custom?.to && isIsoDay(custom.from) && isIsoDay(custom.to)) {
        return { from: custom.from, to: custom.to };
      }
      return { from: startOfMonth(today), to: today };
  }
}

/**
 * The day the period ends on, for a forecast: this month runs to the end of the month, a custom range
 * to its own end. Null when the period is already over (nothing to forecast) or ends today.
 */
export function forecastEnd(period: Period, today: string): string | null {
  const end = period.preset === "this_month" ? endOfMonth(today) : period.to;
  if (end <= today || period.from > today) return null;
  return end;
}

/** A problem with a custom range, or null. */
export function rangeProblem(range: Partial<DateRange>): string | null {
  if (!isIsoDay(range.from)) return "Enter a start date.";
  if (!isIsoDay(range.to)) return "Enter an end date.";
  if (range.from > range.to) return "The start date must be on or before the end date.";
  if (daysInRange(range.from, range.to) > 3660) return "Choose a range of at most 3660 days.";
  return null;
}

/** Read ?period=…&from=…&to=… (the dashboard's and usage explorer's URL state). */
export function periodFromSearch(search: URLSearchParams, today: string, fallback: PeriodPreset = "this_month"): Period {
  const raw = search.get("period");
  const preset = (PRESETS as string[]).includes(raw ?? "") ? (raw as PeriodPreset) : fallback;
  if (preset === "custom") {
    const custom = { from: search.get("from") ?? "", to: search.get("to") ?? "" };
    if (rangeProblem(custom) === null) return { preset, ...custom };
    return { preset: fallback, ...rangeFor(fallback, today) };
  }
  return { preset, ...rangeFor(preset, today) };
}

/** Write a period into search params (custom ranges keep their dates; presets are recomputed each day). */
export function periodToSearch(period: Period, search: URLSearchParams): URLSearchParams {
  const next = new URLSearchParams(search);
  next.set("period", period.preset);
  if (period.preset === "custom") {
    next.set("from", period.from);
    next.set("to", period.to);
  } else {
    next.delete("from");
    next.delete("to");
  }
  return next;
}

export function describePeriod(period: Period): string {
  return period.preset === "custom" ? `${period.from} – ${period.to}` : PERIOD_LABELS[period.preset];
}
