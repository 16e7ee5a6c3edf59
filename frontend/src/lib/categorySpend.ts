// Bank spending by category (/api/analytics/spending-by-category) in the shape the dashboard's chart code reads.
import type { CategoryNode, CategorySpend } from "../api/types";
import { addDecimals } from "./decimal";
import type { DatedAmount } from "./usage";

export interface KeyedAmount extends DatedAmount {
  /** the top-level category's id as a string; "" for uncategorized */
  key: string;
}

/** Each day's spending of each top-level category (its roll-up, children included). */
export function topLevelDaily(items: CategorySpend[]): KeyedAmount[] {
  return items
    .filter((item) => item.parent_id === null && item.day)
    .map((item) => ({ day: item.day, currency: item.currency, cost: item.total, key: item.category_id === null ? "" : String(item.category_id) }));
}

/** Total per currency. */
export function totalsOf(items: DatedAmount[]): Record<string, string> {
  const totals: Record<string, string> = {};
  for (const item of items) totals[item.currency] = addDecimals(totals[item.currency] ?? "0", item.cost);
  return totals;
}

/** A label per top-level category key ("" is uncategorized). */
export function categoryLabeler(nodes: CategoryNode[]): (key: string) => string {
  const names = new Map(nodes.map((node) => [String(node.id), node.icon ? `${node.icon} ${node.name}` : node.name]));
  return (key) => names.get(key) ?? "Uncategorized";
}
