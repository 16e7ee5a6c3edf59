// Display formatting. Money strings are rounded as decimals, then formatted with Intl from the string.
import { isDecimal, isZero, roundDecimal } from "./decimal";

const LOCALE = undefined; // the browser's locale

const fractionDigitsCache = new Map<string, number>();

function currencyDigits(currency: string): number {
  let digits = fractionDigitsCache.get(currency);
  if (digits === undefined) {
    try {
      digits = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      digits = 2;
    }
    fractionDigitsCache.set(currency, digits);
  }
  return digits;
}

/** Group the digits of a plain decimal string ("1234567.50" → "1,234,567.50"). */
export function groupDigits(text: string, separator = ","): string {
  const negative = text.startsWith("-");
  const body = negative ? text.slice(1) : text;
  const [whole, frac] = body.split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, separator);
  return `${negative ? "-" : ""}${grouped}${frac !== undefined ? `.${frac}` : ""}`;
}

export interface MoneyOptions {
  /** Decimal places (default: the currency's, e.g. 2 for USD, 0 for JPY). */
  places?: number;
  locale?: string;
  /** Show "< $0.01" for amounts that are not zero but round to zero (default true). */
  tiny?: boolean;
}

/** "12.3400000000", "USD" → "$12.34", exactly: the amount is never parsed as a float. */
export function formatMoney(amount: string | null | undefined, currency: string, options: MoneyOptions = {}): string {
  if (amount === null || amount === undefined || amount === "") return "—";
  if (!isDecimal(amount)) return amount;
  const places = options.places ?? currencyDigits(currency);
  const rounded = roundDecimal(amount, places);
  if ((options.tiny ?? true) && isZero(rounded) && !isZero(amount)) {
    const smallest = places === 0 ? "1" : `0.${"0".repeat(places - 1)}1`;
    const sign = amount.trim().startsWith("-") ? "-" : "";
    return `< ${sign}${formatMoney(smallest, currency, { ...options, tiny: false })}`;
  }
  const clean = isZero(rounded) ? rounded.replace(/^-/, "") : rounded;
  try {
    const nf = new Intl.NumberFormat(options.locale ?? LOCALE, {
      style: "currency",
      currency,
      minimumFractionDigits: places,
      maximumFractionDigits: places,
    });
    // Intl formats a numeric string exactly (no conversion to a double).
    return nf.format(clean as unknown as number);
  } catch {
    return `${groupDigits(clean)} ${currency}`;
  }
}

/** Several currencies' totals, e.g. {"USD": "12.30", "EUR": "1.00"} → "$12.30 + €1.00". */
export function formatTotals(totals: Record<string, string>, options: MoneyOptions = {}): string {
  const entries = Object.entries(totals);
  if (!entries.length) return formatMoney("0", "USD", options);
  return entries.map(([currency, amount]) => formatMoney(amount, currency, options)).join(" + ");
}

/** A percentage string from the API ("45.2000") → "45.2%". */
export function formatPercent(value: string | number, places = 1): string {
  const text = typeof value === "number" ? String(value) : value;
  try {
    const fixed = roundDecimal(text, places);
    const rounded = fixed.includes(".") ? fixed.replace(/\.?0+$/, "") : fixed;
    return `${groupDigits(rounded)}%`;
  } catch {
    return `${text}%`;
  }
}

export function formatInteger(n: number): string {
  return new Intl.NumberFormat(LOCALE).format(n);
}

export function formatCompact(n: number): string {
  return new Intl.NumberFormat(LOCALE, { notation: "compact", maximumFractionDigits: 1 }).format(n);
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(LOCALE, { dateStyle: "medium", timeStyle: "short" });
}

/** "2026-11-05" → "Nov 5" (a calendar day: no time zone shift). */
export function formatDay(day: string, withYear = false): string {
  const [y, m, d] = day.split("-").map(Number);
  if (!y || !m || !d) return day;
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.toLocaleDateString(LOCALE, {
    month: "short",
    day: "numeric",
    ...(withYear ? { year: "numeric" } : {}),
    timeZone: "UTC",
  });
}

/** "5 minutes ago", "in 3 hours" relative to NOW. */
export function formatRelative(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return "never";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(seconds);
  const rtf = new Intl.RelativeTimeFormat(LOCALE, { numeric: "auto" });
  if (abs < 45) return rtf.format(0, "second") === "now" ? "just now" : rtf.format(seconds, "second");
  if (abs < 45 * 60) return rtf.format(Math.round(seconds / 60), "minute");
  if (abs < 22 * 3600) return rtf.format(Math.round(seconds / 3600), "hour");
  if (abs < 26 * 86400) return rtf.format(Math.round(seconds / 86400), "day");
  return formatDateTime(iso);
}

export function pluralize(n: number, one: string, many = `${one}s`): string {
  return `${formatInteger(n)} ${n === 1 ? one : many}`;
}
