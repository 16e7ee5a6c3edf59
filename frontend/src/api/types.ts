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

export interface Session extends Me {
  access_token: string;
  refresh_token: string;
  token_type?: "Bearer";
  expires_in: number;
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
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
  scope: { provider: string | null; account_id: number | null; model: string | null; project: string | null };
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
  updated_at: string | null;
}

export interface KeyStatus {
  keys: number;
  secrets_current: number;
  secrets_stale: number;
  secrets_unreadable: number;
}
