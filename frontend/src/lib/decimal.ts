// Exact decimal arithmetic on the API's money strings ("12.3400000000"), using BigInt.
// Money is never turned into a float for display: sums, rounding and formatting work on the digits.

export interface Dec {
  units: bigint; // the value times 10^scale
  scale: number;
}

const DECIMAL_RE = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

export function parseDecimal(text: string): Dec {
  const trimmed = String(text).trim();
  const match = DECIMAL_RE.exec(trimmed);
  if (!match || (match[2] === "" && (match[3] ?? "") === "")) throw new Error(`Not a decimal number: "${text}"`);
  const [, sign, whole, frac = "", exp = "0"] = match;
  let scale = frac.length - Number(exp);
  let digits = (whole || "0") + frac;
  if (scale < 0) {
    digits += "0".repeat(-scale);
    scale = 0;
  }
  const units = BigInt(digits) * (sign === "-" ? -1n : 1n);
  return { units, scale };
}

export function isDecimal(text: unknown): text is string {
  if (typeof text !== "string") return false;
  try {
    parseDecimal(text);
    return true;
  } catch {
    return false;
  }
}

function rescale(d: Dec, scale: number): bigint {
  return d.units * 10n ** BigInt(scale - d.scale);
}

export function decimalToString(d: Dec): string {
  const negative = d.units < 0n;
  let digits = (negative ? -d.units : d.units).toString();
  if (d.scale === 0) return (negative && digits !== "0" ? "-" : "") + digits;
  digits = digits.padStart(d.scale + 1, "0");
  const whole = digits.slice(0, -d.scale);
  const frac = digits.slice(-d.scale);
  return `${negative ? "-" : ""}${whole}.${frac}`;
}

export function addDecimals(...values: string[]): string {
  if (values.length === 0) return "0";
  const parsed = values.map(parseDecimal);
  const scale = Math.max(...parsed.map((d) => d.scale));
  const units = parsed.reduce((sum, d) => sum + rescale(d, scale), 0n);
  return decimalToString({ units, scale });
}

export function subtractDecimals(a: string, b: string): string {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  const scale = Math.max(x.scale, y.scale);
  return decimalToString({ units: rescale(x, scale) - rescale(y, scale), scale });
}

export function compareDecimals(a: string, b: string): number {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  const scale = Math.max(x.scale, y.scale);
  const diff = rescale(x, scale) - rescale(y, scale);
  return diff < 0n ? -1 : diff > 0n ? 1 : 0;
}

export function isZero(a: string): boolean {
  return parseDecimal(a).units === 0n;
}

/** Round to PLACES decimal places, half away from zero (12.345 → 12.35, -0.005 → -0.01). */
export function roundDecimal(text: string, places: number): string {
  const d = parseDecimal(text);
  if (d.scale <= places) return decimalToString({ units: rescale(d, places), scale: places });
  const factor = 10n ** BigInt(d.scale - places);
  const negative = d.units < 0n;
  const abs = negative ? -d.units : d.units;
  let q = abs / factor;
  if ((abs % factor) * 2n >= factor) q += 1n;
  return decimalToString({ units: negative ? -q : q, scale: places });
}

/** TEXT × NUMERATOR ÷ DENOMINATOR, rounded to PLACES (for forecasts: spent × days in period ÷ days gone). */
export function scaleDecimal(text: string, numerator: number, denominator: number, places = 10): string {
  if (!Number.isInteger(numerator) || !Number.isInteger(denominator) || denominator === 0) {
    throw new Error("scaleDecimal needs integer factors and a non-zero denominator");
  }
  const d = parseDecimal(text);
  const extra = places + 1; // one guard digit for rounding
  const units = (rescale(d, d.scale + extra) * BigInt(numerator)) / BigInt(denominator);
  return roundDecimal(decimalToString({ units, scale: d.scale + extra }), places);
}

/** A / B as a JavaScript number, for geometry only (bar widths, gauge fills), never for display of money. */
export function ratio(a: string, b: string): number {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  if (y.units === 0n) return 0;
  const scale = Math.max(x.scale, y.scale);
  const num = rescale(x, scale) * 1_000_000n;
  return Number(num / rescale(y, scale)) / 1_000_000;
}

/** The value as a float: for chart heights only. */
export function toChartNumber(text: string): number {
  return Number(roundDecimal(text, 6));
}
