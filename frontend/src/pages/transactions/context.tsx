// What every section of the Transactions page needs: the workspace's categories and bank accounts, loaded once.
import { createContext, useContext, useMemo, type ReactNode } from "react";
import { api } from "../../api/endpoints";
import type { BankAccount, Category, CategoryNode } from "../../api/types";
import { useAsync } from "../../lib/useAsync";

export interface MoneyData {
  categories: CategoryNode[] | undefined;
  categoriesError: unknown;
  /** Every category, parents first then their children, in display order. */
  flatCategories: Category[];
  categoryById: Map<number, Category>;
  categoryLabel: (id: number | null | undefined) => string;
  bankAccounts: BankAccount[] | undefined;
  bankAccountsError: unknown;
  accountName: (id: number) => string;
  reloadBankAccounts: () => void;
  reloadCategories: () => void;
}

const MoneyContext = createContext<MoneyData | null>(null);

export function flatten(tree: CategoryNode[]): Category[] {
  return tree.flatMap((node) => [node, ...node.children]);
}

export function MoneyProvider({ children }: { children: ReactNode }) {
  const categories = useAsync((signal) => api.categories.list(signal), []);
  const bankAccounts = useAsync((signal) => api.bankAccounts.list(signal), []);
  const value = useMemo<MoneyData>(() => {
    const tree = categories.data?.items;
    const flat = tree ? flatten(tree) : [];
    const byId = new Map(flat.map((c) => [c.id, c]));
    const accounts = bankAccounts.data?.items;
    return {
      categories: tree,
      categoriesError: categories.error,
      flatCategories: flat,
      categoryById: byId,
      categoryLabel: (id) => {
        if (id == null) return "Uncategorized";
        const category = byId.get(id);
        return category ? `${category.icon ? `${category.icon} ` : ""}${category.name}` : `Category #${id}`;
      },
      bankAccounts: accounts,
      bankAccountsError: bankAccounts.error,
      accountName: (id) => accounts?.find((a) => a.id === id)?.name ?? `Account #${id}`,
      reloadBankAccounts: bankAccounts.reload,
      reloadCategories: categories.reload,
    };
  }, [categories.data, categories.error, categories.reload, bankAccounts.data, bankAccounts.error, bankAccounts.reload]);
  return <MoneyContext.Provider value={value}>{children}</MoneyContext.Provider>;
}

export function useMoney(): MoneyData {
  const value = useContext(MoneyContext);
  if (!value) throw new Error("useMoney() needs a <MoneyProvider>");
  return value;
}
