// Shapes of the bank side of the API (docs/transactions.md, docs/imports.md, docs/money.md). Money is a decimal
// string, signed like transactions: negative = money out.

export interface CurrencyTotal {
  currency: string;
  balance: string;
  available_balance: string;
  accounts: number;
}

export interface Balances {
  accounts: {
    id: number;
    account_id: number | null;
    name: string;
    institution: string;
    currency: string;
    balance: string | null;
    available_balance: string | null;
    balance_at: string | null;
  }[];
  totals: CurrencyTotal[];
}

export interface BankAccountIn {
  name: string;
  currency: string;
  institution?: string;
  balance?: string;
}

export type CategorySource = "rule" | "manual" | "provider" | "learned" | "keyword";

export interface Transaction {
  id: number;
  bank_account_id: number;
  posted_on: string;
  amount: string;
  currency: string;
  description: string;
  merchant: string;
  pending: boolean;
  category_id: number | null;
  category_source: CategorySource | null;
  category_confidence: string | null;
  category_rule_id: number | null;
  notes: string;
  excluded: boolean;
  is_transfer: boolean;
  transfer_peer_id: number | null;
  transfer_locked: boolean;
  import_id: number | null;
  external_id: string;
  created_at: string;
}

export interface TransactionPatched extends Transaction {
  raw: Record<string, unknown>;
  created_rule_id?: number | null;
  applied_to?: number | null;
}

export interface TransactionPatch {
  category_id?: number | null;
  notes?: string;
  merchant?: string;
  excluded?: boolean;
  create_rule?: boolean;
  apply_to_similar?: boolean;
}

export type TransactionSort = "-date" | "date" | "-amount" | "amount";

export interface TransactionFilters {
  bank_account_id?: number;
  category_id?: number;
  uncategorized?: boolean;
  from?: string;
  to?: string;
  min_amount?: string;
  max_amount?: string;
  q?: string;
  pending?: boolean;
  sort?: TransactionSort;
}

// --- rules ------------------------------------------------------------------------------------------------

export type TextOp = "contains" | "equals" | "starts_with" | "regex";

export type RuleCondition =
  | { field: "description" | "merchant"; op: TextOp; value: string }
  | { field: "amount"; min?: string | null; max?: string | null }
  | { field: "direction"; value: "in" | "out" }
  | { field: "account"; value: number[] };

export type RuleAction =
  | { type: "set_category"; category_id: number }
  | { type: "rename_merchant"; name: string }
  | { type: "mark_transfer" }
  | { type: "add_note"; text: string };

export interface Rule {
  id: number;
  name: string;
  position: number;
  enabled: boolean;
  match: "all" | "any";
  conditions: RuleCondition[];
  actions: RuleAction[];
  created_at: string;
  updated_at: string;
}

export interface RuleIn {
  name: string;
  match: "all" | "any";
  conditions: RuleCondition[];
  actions: RuleAction[];
  enabled: boolean;
}

export interface RuleChange {
  transaction_id: number;
  posted_on: string;
  amount: string;
  currency: string;
  description: string;
  merchant: string;
  field: "category_id" | "merchant" | "is_transfer" | "note";
  before: number | string | boolean | null;
  after: number | string | boolean | null;
  manual: boolean;
}

export interface RuleTest {
  scanned: number;
  matched: number;
  changes: RuleChange[];
}

export interface ApplyResult {
  scanned: number;
  changed: number;
}

// --- recurring --------------------------------------------------------------------------------------------

export type Cadence = "weekly" | "biweekly" | "monthly" | "yearly";

export interface RecurringStream {
  merchant: string;
  merchant_key: string;
  currency: string;
  cadence: Cadence;
  kind: "expense" | "income";
  status: "early" | "established" | "ended";
  average_amount: string;
  amount_min: string;
  amount_max: string;
  last_date: string;
  next_expected: string;
  anchor_day: number;
  occurrences: number;
  category_id: number | null;
  bank_account_id: number;
  transaction_ids: number[];
}

export interface RecurringList {
  today: string;
  items: RecurringStream[];
}

export interface UpcomingCharge {
  date: string;
  merchant: string;
  merchant_key: string;
  amount: string;
  currency: string;
  cadence: Cadence;
  kind: "expense" | "income";
  category_id: number | null;
}

export interface Upcoming {
  today: string;
  days: number;
  items: UpcomingCharge[];
  totals: { currency: string; expenses: string; income: string; net: string }[];
}

// --- statement imports ------------------------------------------------------------------------------------

/** A CSV column mapping as the preview gives it (every field can be corrected). */
export interface Mapping {
  date_column: string;
  date_format: string;
  description_columns: string[];
  amount_column: string | null;
  debit_column: string | null;
  credit_column: string | null;
  sign: "signed" | "inverted";
  decimal: "." | ",";
  delimiter?: string;
  encoding?: string;
  header_row?: number;
  id_column?: string | null;
  balance_column?: string | null;
  merchant_column?: string | null;
  currency_column?: string | null;
  status_column?: string | null;
  pending_column?: string | null;
  fee_column?: string | null;
  [key: string]: unknown;
}

export type ImportStatus = "preview" | "committed" | "undone";

export interface ImportBatch {
  id: number;
  bank_account_id: number;
  filename: string;
  format: string;
  status: ImportStatus;
  mapping: Mapping | null;
  statement_fingerprint: string;
  rows_added: number;
  rows_duplicate: number;
  rows_skipped: number;
  created_at: string;
  committed_at: string | null;
  undone_at: string | null;
}

export interface ImportUndone extends ImportBatch {
  rows_removed: number;
}

export interface PreviewRow {
  line: number;
  date: string;
  amount: string;
  currency: string;
  description: string;
  merchant: string;
  external_id: string;
  pending: boolean;
  balance: string | null;
  fingerprint: string;
  raw: Record<string, string>;
  duplicate: string | null;
}

export interface Totals {
  total: string;
  by_month: Record<string, string>;
}

export interface ImportPreview {
  batch: ImportBatch;
  format: string;
  mapping: Mapping | null;
  account_hint: string | null;
  currency: string;
  closing_balance: string | null;
  warnings: string[];
  counts: { rows: number; new: number; duplicates: number; skipped: number };
  totals: Totals;
  statement_totals: Totals;
  rows: PreviewRow[];
  skipped: { line: number; reason: string; raw: Record<string, string> }[];
}

export interface ImportFormat {
  id: number;
  name: string;
  mapping: Mapping;
  created_at: string;
  updated_at: string;
}

export interface ImportList {
  items: ImportBatch[];
  next_before: number | null;
}
