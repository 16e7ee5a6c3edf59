import type { Account, GroupKey } from "../api/types";
import { defaultLabel, type Labeler } from "./usage";

/** Provider kinds' display names (GET /api/providers has them too; this saves the dashboard a call). */
export const PROVIDER_NAMES: Record<string, string> = {
  demo: "Demo",
  openai: "OpenAI",
  anthropic: "Anthropic",
  openrouter: "OpenRouter",
  manual: "Manual entries",
  simplefin: "SimpleFIN",
  plaid: "Plaid",
};

export function providerName(kind: string): string {
  return PROVIDER_NAMES[kind] ?? kind;
}

/** Labels for usage group values: provider names, account names from ACCOUNTS. */
export function makeLabeler(accounts: Account[] | undefined, providerLabels?: Record<string, string>): Labeler {
  const names = new Map((accounts ?? []).map((a) => [String(a.id), a.name]));
  return (dimension: GroupKey, key: string) => {
    if (key === "") return defaultLabel(dimension, key);
    if (dimension === "provider") return providerLabels?.[key] ?? providerName(key);
    if (dimension === "account") return names.get(key) ?? `Account #${key} (deleted)`;
    return key;
  };
}
