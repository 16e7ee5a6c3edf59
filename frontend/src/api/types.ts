// Shapes of the JSON API's answers (see /api/openapi.json). Money is always a decimal string.

export type Role = "owner" | "admin" | "member" | "viewer";
export type RegistrationMode = "open" | "invite" | "closed";

export interface User {
  id: number;
  email: string;
  name: string;
  is_admin: boolean;
  created_at: string;
}

export interface Membership {
  workspace_id: number;
  workspace_name: string;
  role: Role;
}

export interface Me {
  user: User;
  workspaces: Membership[];
}

// The refresh token is never in a body: the server sets it as an HttpOnly cookie.
export interface Session extends Me {
  access_token: string;
  token_type?: "Bearer";
  expires_in: number;
}

export interface Tokens {
  access_token: string;
  expires_in: number;
}

/** An open-mode sign-up (202): the same answer whether or not the address is taken; the mail says which. */
export interface SignupPending {
  status: "check_inbox";
  message: string;
}

export interface RegistrationInfo {
  mode: RegistrationMode;
  first_user: boolean;
}

export interface InviteInfo {
  workspace_name: string;
  email: string;
  role: Role;
  expires_at: string;
}

export interface CredentialField {
  name: string;
  label: string;
  secret: boolean;
  required: boolean;
  help: string;
  placeholder: string;
}

export interface ProviderKind {
  kind: string;
  label: string;
  category: "ai" | "money";
  description: string;
  capabilities: string[];
  credential_fields: CredentialField[];
}

export type AccountStatus = "new" | "ok" | "failing" | "needs_attention";

export interface Account {
  id: number;
  workspace_id: number;
  kind: string;
  name: string;
  credentials: Record<string, string>;
  config: Record<string, unknown>;
  enabled: boolean;
  sync_interval_minutes: number;
  status: AccountStatus;
  last_error: string | null;
  last_tested_at: string | null;
  last_sync_at: string | null;
  last_success_at: string | null;
  next_sync_at: string | null;
  synced_until: string | null;
  created_at: string;
  updated_at: string;
}

export interface AccountIn {
  kind: string;
  name: string;
  credentials: Record<string, string>;
  config?: Record<string, unknown>;
  sync_interval_minutes?: number | null;
}

export interface AccountPatch {
  name?: string;
  credentials?: Record<string, string>;
  config?: Record<string, unknown>;
  enabled?: boolean;
  sync_interval_minutes?: number;
}

export interface ConnectionTest {
  ok: boolean;
  message: string;
  status: AccountStatus;
}

export interface SyncRequested {
  account_id: number;
  next_sync_at: string;
  message: string;
}

export interface SyncRun {
  id: number;
  trigger: "schedule" | "manual";
  status: "running" | "ok" | "failed" | "abandoned";
  started_at: string;
  finished_at: string | null;
  window_start: string | null;
  window_end: string | null;
  records: number;
  error: string | null;
  error_kind: string | null;
}

export type GroupKey = "day" | "provider" | "account" | "model" | "project";

export interface SummaryItem {
  day?: string | null;
  provider?: string | null;
  account_id?: number | null;
  model?: string | null;
  project?: string | null;
  currency: string;
  cost: string;
  cost_source: "provider" | "estimate" | "mixed";
  input_tokens: number;
  output_tokens: number;
  requests: number;
}

export interface Summary {
  from: string;
  to: string;
  group_by: GroupKey[];
  totals: Record<string, string>;
  items: SummaryItem[];
}

export interface UsageFilters {
  from: string;
  to: string;
  provider?: string;
  account_id?: number;
  model?: string;
  project?: string;
}

export interface Threshold {
  type: "percent" | "absolute";
  value: string;
}

export interface Budget {
  id: number;
  workspace_id: number;
  name: string;
  scope: {
    provider: string | null;
    account_id: number | null;
    model: string | null;
    project: string | null;
    /** Money budgets: a category (and its subcategories) and/or one bank account. */
    category_id?: number | null;
    bank_account_id?: number | null;
  };
  period: "day" | "week" | "month" | "quarter" | "year";
  week_start: string;
  amount: string;
  currency: string;
  thresholds: Threshold[];
  basis: "actual" | "forecast" | "both";
  channels: number[];
  muted: boolean;
  snoozed_until: string | null;
  repeat_minutes: number | null;
  notify_on_resolve: boolean;
  created_at: string;
  updated_at: string;
}

export interface ThresholdState {
  type: "percent" | "absolute";
  value: string;
  basis: "actual" | "forecast";
  key: string;
  level: string;
  state: "ok" | "firing";
  since: string | null;
}

export interface BudgetStatus {
  period: { key: string; start: string; end: string; timezone: string };
  spent: string;
  remaining: string;
  percent: string;
  forecast: string;
  thresholds: ThresholdState[];
}

/** A budget with its current figures: what GET /api/budgets lists and GET /api/budgets/{id} answers. */
export interface BudgetDetail extends Budget {
  status: BudgetStatus;
}

export interface Alert {
  id: number;
  rule_id: number | null;
  type: string;
  state: string;
  period_key: string;
  threshold_key: string;
  silenced: string | null;
  created_at: string;
  notifications: Record<string, number>;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface List<T> {
  items: T[];
}

export interface InstanceSettings {
  registration_mode: RegistrationMode;
  sync_intervals: { ai_minutes: number; money_minutes: number };
  smtp: {
    host: string;
    port: number;
    security: "none" | "starttls" | "tls";
    username: string;
    from_address: string;
    password: string;
  };
  allow_private_webhooks: boolean;
  base_url: string | null;
  /** API address per provider kind set by the instance admin (the server's SPENDWATCH_PROVIDER_URL_<KIND> wins). */
  provider_urls: Record<string, string>;
  updated_at: string | null;
}

/** POST /api/admin/smtp/test: how a test email went (a mail server that cannot be reached is ok: false). */
export interface SmtpTestOutcome {
  ok: boolean;
  /** "outbox": no SMTP host is set, so the message was written to the server's mail-outbox folder. */
  via: "smtp" | "outbox";
  server: string | null;
  status_code: number | null;
  error: string | null;
  note?: string | null;
  duration_ms: number;
}

export interface KeyStatus {
  keys: number;
  secrets_current: number;
  secrets_stale: number;
  secrets_unreadable: number;
}

// --- Budgets, alert rules, alerts (writes) --------------------------------------------------------

export type BudgetPeriod = Budget["period"];
export type Weekday = "monday" | "tuesday" | "wednesday" | "thursday" | "friday" | "saturday" | "sunday";

export interface BudgetScopeIn {
  provider?: string;
  account_id?: number;
  model?: string;
  project?: string;
  category_id?: number;
  bank_account_id?: number;
}

export interface BudgetIn {
  name: string;
  scope: BudgetScopeIn;
  period: BudgetPeriod;
  week_start: Weekday;
  amount: string;
  currency: string;
  thresholds: Threshold[];
  basis: Budget["basis"];
  channels: number[];
  repeat_minutes: number | null;
  notify_on_resolve: boolean;
  muted?: boolean;
  snoozed_until?: string | null;
}

export type BudgetPatch = Partial<BudgetIn>;

export type AlertRuleKind = "anomaly" | "sync_health";

export interface AlertRuleScope {
  provider: string | null;
  account_id: number | null;
  model: string | null;
  project: string | null;
}

export interface AlertRule {
  id: number;
  workspace_id: number;
  name: string;
  kind: AlertRuleKind;
  scope: AlertRuleScope;
  params: Record<string, string | number>;
  channels: number[];
  muted: boolean;
  snoozed_until: string | null;
  repeat_minutes: number | null;
  notify_on_resolve: boolean;
  created_at: string;
  updated_at: string;
}

export interface AlertRuleState {
  period_key: string;
  threshold_key: string;
  state: "ok" | "firing";
  firing: boolean;
  since: string;
  value: string | null;
  last_notified_at: string | null;
}

export interface AlertRuleDetail extends AlertRule {
  firing: boolean;
  states: AlertRuleState[];
}

export interface AlertRuleIn {
  name: string;
  kind: AlertRuleKind;
  scope: Partial<Record<keyof AlertRuleScope, string | number>>;
  params: Record<string, string | number>;
  channels: number[];
  muted?: boolean;
  snoozed_until?: string | null;
  repeat_minutes: number | null;
  notify_on_resolve: boolean;
}

export type AlertRulePatch = Partial<Omit<AlertRuleIn, "kind">>;

export interface AlertNotification {
  id: number;
  channel_id: number;
  status: "pending" | "delivered" | "dead" | string;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

export interface AlertDetail extends Alert {
  payload: Record<string, unknown>;
  deliveries: AlertNotification[];
}

export interface AlertFilters {
  rule_id?: number;
  type?: string;
  state?: "firing" | "resolved";
}

// --- Channels ---------------------------------------------------------------------------------------

export type ChannelKind = "email" | "webhook";
export type WebhookFormat = "standard" | "slack";

export interface Channel {
  id: number;
  workspace_id: number;
  name: string;
  kind: ChannelKind;
  enabled: boolean;
  disabled_reason: string | null;
  recipients: string[] | null;
  /** Webhooks: a hint (origin and first path segment); sending it back keeps the stored URL. */
  url: string | null;
  format: WebhookFormat | null;
  /** Header names with their values as hints. */
  headers: Record<string, string> | null;
  previous_secret_valid_until: string | null;
  last_error: string | null;
  last_delivery_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface ChannelCreated extends Channel {
  /** Webhooks: the signing secret, in this answer only. */
  secret: string | null;
}

export interface ChannelIn {
  name: string;
  kind: ChannelKind;
  recipients?: string[];
  url?: string;
  format?: WebhookFormat;
  headers?: Record<string, string>;
}

export type ChannelPatch = Partial<Omit<ChannelIn, "kind">> & { enabled?: boolean };

export interface SecretRotated {
  secret: string;
  previous_secret_valid_until: string;
}

export interface ChannelTestOutcome {
  ok: boolean;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  note?: string | null;
  notification_id: number | null;
  message_id: string | null;
}

export interface Delivery {
  id: number;
  notification_id: number;
  event_id: number;
  event_type: string;
  message_id: string;
  notification_status: "pending" | "delivered" | "dead";
  attempted_at: string;
  ok: boolean;
  response_code: number | null;
  duration_ms: number;
  error: string | null;
}

export interface DeliveryList {
  items: Delivery[];
  next_before: number | null;
}

export interface NotificationInfo extends AlertNotification {
  event_id: number;
  message_id: string;
}

// --- Workspace members and invitations --------------------------------------------------------------

export interface Member {
  id: number;
  user_id: number;
  email: string;
  name: string;
  role: Role;
}

export interface WorkspaceInvite {
  id: number;
  email: string;
  role: Role;
  expires_at: string;
  accepted_at: string | null;
  revoked_at: string | null;
}

export interface WorkspaceInviteCreated extends WorkspaceInvite {
  token: string;
  url: string;
}

// --- Admin price overrides --------------------------------------------------------------------------

export interface PriceOverride {
  id: number;
  provider: string;
  model: string;
  valid_from: string;
  input_per_million: string;
  output_per_million: string;
  cache_read_per_million: string | null;
  cache_write_per_million: string | null;
  note: string;
  created_at: string;
}

export interface PriceOverrideIn {
  provider: string;
  model: string;
  valid_from: string;
  input_per_million: string;
  output_per_million: string;
  cache_read_per_million?: string | null;
  cache_write_per_million?: string | null;
  note?: string;
}

// --- Categories and bank accounts (as GET /api/categories and GET /api/bank-accounts answer) --------

export interface Category {
  id: number;
  key: string | null;
  name: string;
  icon: string;
  color: string;
  kind: "expense" | "income" | "transfer";
  necessity: number;
  parent_id: number | null;
  transaction_count: number;
}

export interface CategoryNode extends Category {
  children: Category[];
}

/** One row of /api/analytics/spending-by-category: money out of one category in a month (or on a day). */
export interface CategorySpend {
  month: string;
  day: string | null;
  currency: string;
  category_id: number | null;
  parent_id: number | null;
  spend: string;
  count: number;
  /** spend plus its children's: a top-level category's roll-up */
  total: string;
  total_count: number;
}

export interface SpendingByCategory {
  from: string;
  to: string;
  items: CategorySpend[];
}

export interface BankAccount {
  id: number;
  account_id: number | null;
  name: string;
  institution: string;
  currency: string;
  balance: string | null;
  available_balance: string | null;
  balance_at: string | null;
  transaction_count: number;
  last_transaction_on: string | null;
  created_at: string;
  updated_at: string;
}

// --- Demo data (/api/demo) ----------------------------------------------------------------------------

export interface DemoRow {
  id: number;
  name: string;
}

export interface DemoStatus {
  present: boolean;
  accounts: DemoRow[];
  bank_accounts: DemoRow[];
  budgets: DemoRow[];
  channels: DemoRow[];
}

export interface DemoCreated extends DemoStatus {
  usage_records: number;
  usage_cost: string;
  transactions: number;
  transactions_total: string;
  balance: string;
}
