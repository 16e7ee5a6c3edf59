// The bank side's API calls (transactions, bank accounts, imports, rules, recurring), one typed function each.
// Paths are OpenAPI templates from src/api/routes.json; categories and the bank account list are in api/endpoints.
import { client as defaultClient, type ApiClient } from "../../api/client";
import type { BankAccount, List } from "../../api/types";
import type {
  ApplyResult,
  Balances,
  BankAccountIn,
  ImportBatch,
  ImportFormat,
  ImportList,
  ImportPreview,
  ImportUndone,
  Mapping,
  RecurringList,
  Rule,
  RuleIn,
  RuleTest,
  Transaction,
  TransactionFilters,
  TransactionPatch,
  TransactionPatched,
  Upcoming,
} from "./types";
import type { Page } from "../../api/types";

export function makeMoneyEndpoints(c: ApiClient) {
  return {
    bankAccounts: {
      create: (body: BankAccountIn) => c.request<BankAccount>("POST", "/api/bank-accounts", { body }),
      balances: (signal?: AbortSignal) => c.request<Balances>("GET", "/api/bank-accounts/balances", { signal }),
    },
    transactions: {
      list: (filters: TransactionFilters, cursor?: string | null, limit = 50, signal?: AbortSignal) =>
        c.request<Page<Transaction>>("GET", "/api/transactions", {
          query: { ...filters, limit, cursor: cursor ?? undefined },
          signal,
        }),
      update: (id: number, body: TransactionPatch) =>
        c.request<TransactionPatched>("PATCH", "/api/transactions/{transaction_id}", {
          params: { transaction_id: id },
          body,
        }),
      unpair: (id: number) =>
        c.request<Transaction>("POST", "/api/transactions/{transaction_id}/unpair", { params: { transaction_id: id } }),
    },
    rules: {
      list: (signal?: AbortSignal) => c.request<List<Rule>>("GET", "/api/rules", { signal }),
      create: (body: RuleIn) => c.request<Rule>("POST", "/api/rules", { body }),
      update: (id: number, body: Partial<RuleIn>) =>
        c.request<Rule>("PATCH", "/api/rules/{txn_rule_id}", { params: { txn_rule_id: id }, body }),
      remove: (id: number) => c.request<void>("DELETE", "/api/rules/{txn_rule_id}", { params: { txn_rule_id: id } }),
      reorder: (ids: number[]) => c.request<List<Rule>>("POST", "/api/rules/reorder", { body: { ids } }),
      test: (body: Partial<RuleIn>) => c.request<RuleTest>("POST", "/api/rules/test", { body }),
      testSaved: (id: number) =>
        c.request<RuleTest>("POST", "/api/rules/{txn_rule_id}/test", { params: { txn_rule_id: id } }),
      apply: (body: { rule_ids?: number[]; from?: string; to?: string } = {}) =>
        c.request<ApplyResult>("POST", "/api/rules/apply", { body }),
    },
    recurring: {
      list: (signal?: AbortSignal) => c.request<RecurringList>("GET", "/api/recurring", { signal }),
      upcoming: (days = 30, signal?: AbortSignal) =>
        c.request<Upcoming>("GET", "/api/recurring/upcoming", { query: { days }, signal }),
    },
    imports: {
      /** Upload a statement (multipart/form-data): the answer is the preview. */
      upload: (bankAccountId: number, file: File, formatId?: number | null) => {
        const form = new FormData();
        form.append("file", file, file.name);
        form.append("bank_account_id", String(bankAccountId));
        if (formatId) form.append("format_id", String(formatId));
        return c.request<ImportPreview>("POST", "/api/imports", { body: form });
      },
      preview: (id: number, body: { mapping: Mapping } | { format_id: number }) =>
        c.request<ImportPreview>("POST", "/api/imports/{import_id}/preview", { params: { import_id: id }, body }),
      commit: (id: number) => c.request<ImportBatch>("POST", "/api/imports/{import_id}/commit", { params: { import_id: id } }),
      undo: (id: number) => c.request<ImportUndone>("POST", "/api/imports/{import_id}/undo", { params: { import_id: id } }),
      discard: (id: number) => c.request<void>("DELETE", "/api/imports/{import_id}", { params: { import_id: id } }),
      saveFormat: (id: number, name: string) =>
        c.request<ImportFormat>("POST", "/api/imports/{import_id}/save-format", {
          params: { import_id: id },
          body: { name },
        }),
      list: (limit = 50, signal?: AbortSignal) => c.request<ImportList>("GET", "/api/imports", { query: { limit }, signal }),
      formats: (signal?: AbortSignal) => c.request<List<ImportFormat>>("GET", "/api/import-formats", { signal }),
    },
  };
}

export const moneyApi = makeMoneyEndpoints(defaultClient);
