import { isZero, parseDecimal } from "../../lib/decimal";
import { formatMoney } from "../../lib/format";

/** A signed money amount (a decimal string): money in is marked as such, money out is shown with its minus sign. */
export function Amount({ value, currency, className = "" }: { value: string; currency: string; className?: string }) {
  let direction = "zero";
  try {
    direction = isZero(value) ? "zero" : parseDecimal(value).units < 0n ? "out" : "in";
  } catch {
    direction = "zero";
  }
  const text = formatMoney(value, currency);
  return (
    <span className={`amount amount-${direction} ${className}`.trim()}>
      {direction === "in" ? `+${text}` : text}
    </span>
  );
}
