// One typed function per API call the web app makes. Paths are OpenAPI templates from routes.json.
import { client as defaultClient, type ApiClient } from "./client";
import type {
  Account,
  AccountIn,
  AccountPatch,
  Alert,
  BudgetDetail,
  Budget,
  ConnectionTest,
  GroupKey,
  InstanceSettings,
  InviteInfo,
  KeyStatus,
  List,
  Me,
  Page,
  ProviderKind,
  RegistrationInfo,
  Session,
  Summary,
  SyncRequested,
  SyncRun,
  UsageFilters,
} from "./types";

export interface RegisterBody {
  email: string;
  password: string;
  name?: string;
  workspace_name?: string;
  invite_token?: string;
}

export type SettingsPatch = Partial<{
  registration_mode: InstanceSettings["registration_mode"];
  sync_intervals: Partial<InstanceSettings["sync_intervals"]>;
  smtp: Partial<InstanceSettings["smtp"]>;
  allow_private_webhooks: boolean;
  base_url: string | null;
}>;

function usageQuery(filters: UsageFilters) {
  return {
    from: filters.from,
    to: filters.to,
    provider: filters.provider,
    account_id: filters.account_id,
    model: filters.model,
    project: filters.project,
  };
}

export function makeEndpoints(c: ApiClient) {
  return {
    auth: {
      registration: () => c.request<RegistrationInfo>("GET", "/api/auth/registration", { auth: false }),
      register: (body: RegisterBody) => c.request<Session>("POST", "/api/auth/register", { body, auth: false }),
      login: (body: { email: string; password: string }) =>
        c.request<Session>("POST", "/api/auth/login", { body, auth: false }),
      logout: () => c.request<void>("POST", "/api/auth/logout"),
      me: () => c.request<Me>("GET", "/api/auth/me"),
      invite: (token: string) =>
        c.request<InviteInfo>("GET", "/api/auth/invites/{token}", { params: { token }, auth: false }),
      acceptInvite: (token: string) => c.request<Me>("POST", "/api/auth/invites/accept", { body: { token } }),
    },
    providers: {
      list: () => c.request<List<ProviderKind>>("GET", "/api/providers"),
    },
    accounts: {
      list: (signal?: AbortSignal) => c.request<List<Account>>("GET", "/api/accounts", { signal }),
      get: (id: number) => c.request<Account>("GET", "/api/accounts/{account_id}", { params: { account_id: id } }),
      create: (body: AccountIn) => c.request<Account>("POST", "/api/accounts", { body }),
      update: (id: number, body: AccountPatch) =>
        c.request<Account>("PATCH", "/api/accounts/{account_id}", { params: { account_id: id }, body }),
      remove: (id: number) => c.request<void>("DELETE", "/api/accounts/{account_id}", { params: { account_id: id } }),
      test: (id: number) =>
        c.request<ConnectionTest>("POST", "/api/accounts/{account_id}/test", { params: { account_id: id } }),
      sync: (id: number) =>
        c.request<SyncRequested>("POST", "/api/accounts/{account_id}/sync", { params: { account_id: id } }),
      syncs: (id: number, limit = 20, signal?: AbortSignal) =>
        c.request<List<SyncRun>>("GET", "/api/accounts/{account_id}/syncs", {
          params: { account_id: id },
          query: { limit },
          signal,
        }),
    },
    usage: {
      summary: (filters: UsageFilters, groupBy: GroupKey[], signal?: AbortSignal) =>
        c.request<Summary>("GET", "/api/usage/summary", {
          query: { ...usageQuery(filters), group_by: groupBy },
          signal,
        }),
      exportCsv: (filters: UsageFilters) =>
        c.requestRaw("GET", "/api/usage/export", { query: { ...usageQuery(filters), format: "csv" } }),
    },
    budgets: {
      list: (signal?: AbortSignal) => c.request<List<Budget>>("GET", "/api/budgets", { signal }),
      get: (id: number, signal?: AbortSignal) =>
        c.request<BudgetDetail>("GET", "/api/budgets/{rule_id}", { params: { rule_id: id }, signal }),
    },
    alerts: {
      recent: (limit = 5, signal?: AbortSignal) =>
        c.request<Page<Alert>>("GET", "/api/alerts", { query: { limit }, signal }),
    },
    admin: {
      settings: () => c.request<InstanceSettings>("GET", "/api/admin/settings"),
      updateSettings: (body: SettingsPatch) =>
        c.request<InstanceSettings>("PATCH", "/api/admin/settings", { body }),
      keys: () => c.request<KeyStatus>("GET", "/api/admin/keys"),
    },
  };
}

export const api = makeEndpoints(defaultClient);
export type Endpoints = ReturnType<typeof makeEndpoints>;
