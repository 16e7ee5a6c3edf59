// What the budget and rule forms choose from, loaded together. One failing list (say, categories) must not
// take the page down: each list keeps its own error.
import { api } from "../../api/endpoints";
import type { Account, BankAccount, CategoryNode, Channel, ProviderKind } from "../../api/types";
import { providerName } from "../../lib/labels";

export interface Loaded<T> {
  items: T[];
  error: unknown;
}

export interface AlertingRefs {
  channels: Loaded<Channel>;
  accounts: Loaded<Account>;
  providers: Loaded<ProviderKind>;
  categories: Loaded<CategoryNode>;
  bankAccounts: Loaded<BankAccount>;
}

const settle = <T,>(result: PromiseSettledResult<{ items: T[] }>): Loaded<T> =>
  result.status === "fulfilled" ? { items: result.value.items, error: null } : { items: [], error: result.reason };

export async function loadRefs(signal: AbortSignal): Promise<AlertingRefs> {
  const [channels, accounts, providers, categories, bankAccounts] = await Promise.allSettled([
    api.channels.list(signal),
    api.accounts.list(signal),
    api.providers.list(),
    api.categories.list(signal),
    api.bankAccounts.list(signal),
  ]);
  if (signal.aborted) throw new DOMException("aborted", "AbortError");
  return {
    channels: settle(channels),
    accounts: settle(accounts),
    providers: settle(providers),
    categories: settle(categories),
    bankAccounts: settle(bankAccounts),
  };
}

export const EMPTY_REFS: AlertingRefs = {
  channels: { items: [], error: null },
  accounts: { items: [], error: null },
  providers: { items: [], error: null },
  categories: { items: [], error: null },
  bankAccounts: { items: [], error: null },
};

/** Names for ids, for the cards and the history. */
export function namers(refs: AlertingRefs) {
  const accounts = new Map(refs.accounts.items.map((a) => [a.id, a.name]));
  const channels = new Map(refs.channels.items.map((c) => [c.id, c.name]));
  const bankAccounts = new Map(refs.bankAccounts.items.map((b) => [b.id, b.name]));
  const categories = new Map<number, string>();
  for (const parent of refs.categories.items) {
    categories.set(parent.id, parent.name);
    for (const child of parent.children) categories.set(child.id, `${parent.name} › ${child.name}`);
  }
  const providerLabels = new Map(refs.providers.items.map((p) => [p.kind, p.label]));
  return {
    account: (id: number) => accounts.get(id) ?? `Account #${id}`,
    channel: (id: number) => channels.get(id) ?? `Channel #${id}`,
    bankAccount: (id: number) => bankAccounts.get(id) ?? `Bank account #${id}`,
    category: (id: number) => categories.get(id) ?? `Category #${id}`,
    provider: (kind: string) => providerLabels.get(kind) ?? providerName(kind),
  };
}

export type Namers = ReturnType<typeof namers>;

/** The AI provider kinds (GET /api/providers), for scope selects. */
export const aiProviders = (refs: AlertingRefs) => refs.providers.items.filter((p) => p.category === "ai");

/** Accounts of AI providers (optionally of PROVIDER only). */
export function aiAccounts(refs: AlertingRefs, provider?: string): Account[] {
  const ai = new Set(aiProviders(refs).map((p) => p.kind));
  return refs.accounts.items.filter((a) => (ai.size === 0 || ai.has(a.kind)) && (!provider || a.kind === provider));
}
