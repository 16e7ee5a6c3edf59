// One typed function per API call the web app makes. Paths are OpenAPI templates from routes.json.
import { client as defaultClient, type ApiClient } from "./client";
import type {
  Account,
  AlertDetail,
  AlertFilters,
  AlertRule,
  AlertRuleDetail,
  AlertRuleIn,
  AlertRuleKind,
  AlertRulePatch,
  BankAccount,
  BudgetIn,
  BudgetPatch,
  CategoryNode,
  SpendingByCategory,
  DemoCreated,
  DemoStatus,
  Channel,
  ChannelCreated,
  ChannelIn,
  ChannelPatch,
  ChannelTestOutcome,
  DeliveryList,
  Member,
  NotificationInfo,
  PriceOverride,
  PriceOverrideIn,
  Role,
  SecretRotated,
  SmtpTestOutcome,
  WorkspaceInvite,
  WorkspaceInviteCreated,
  AccountIn,
  AccountPatch,
  Alert,
  BudgetDetail,
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
  SignupPending,
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
  provider_urls: Record<string, string | null>;
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
      /** The first user and invitees get a session at once; open-mode sign-ups a "check your inbox" (202). */
      register: (body: RegisterBody) => c.request<Session | SignupPending>("POST", "/api/auth/register", { body, auth: false }),
      /** Complete an open-mode sign-up with the token from its email link, and sign in. */
      // The password chosen at sign-up, again: a link alone must not finish a sign-up someone else started.
      verifySignup: (token: string, password: string) =>
        c.request<Session>("POST", "/api/auth/register/verify", { body: { token, password }, auth: false }),
      login: (body: { email: string; password: string }) =>
        c.request<Session>("POST", "/api/auth/login", { body, auth: false }),
      /** End the session on the server; BEARER: its access token, when the client has already forgotten it. */
      /** Sign out the session named by BEARER (an access token), else by the session cookie with its CSRF value. */
      logout: (bearer?: string, csrf?: string) =>
        c.request<void>("POST", "/api/auth/logout", bearer ? { bearer } : csrf ? { csrf } : {}),
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
      // Each listed budget carries its status: no per-budget call is needed to draw the gauges.
      list: (signal?: AbortSignal) => c.request<List<BudgetDetail>>("GET", "/api/budgets", { signal }),
      get: (id: number, signal?: AbortSignal) =>
        c.request<BudgetDetail>("GET", "/api/budgets/{rule_id}", { params: { rule_id: id }, signal }),
      create: (body: BudgetIn) => c.request<BudgetDetail>("POST", "/api/budgets", { body }),
      update: (id: number, body: BudgetPatch) =>
        c.request<BudgetDetail>("PATCH", "/api/budgets/{rule_id}", { params: { rule_id: id }, body }),
      remove: (id: number) => c.request<void>("DELETE", "/api/budgets/{rule_id}", { params: { rule_id: id } }),
      // A new link nonce: every mute link already sent in an alert message stops working.
      revokeMuteLinks: (id: number) =>
        c.request<void>("POST", "/api/budgets/{rule_id}/mute-link/rotate", { params: { rule_id: id } }),
    },
    alertRules: {
      list: (kind?: AlertRuleKind, signal?: AbortSignal) =>
        c.request<List<AlertRule>>("GET", "/api/alert-rules", { query: { kind }, signal }),
      get: (id: number, signal?: AbortSignal) =>
        c.request<AlertRuleDetail>("GET", "/api/alert-rules/{rule_id}", { params: { rule_id: id }, signal }),
      create: (body: AlertRuleIn) => c.request<AlertRuleDetail>("POST", "/api/alert-rules", { body }),
      update: (id: number, body: AlertRulePatch) =>
        c.request<AlertRuleDetail>("PATCH", "/api/alert-rules/{rule_id}", { params: { rule_id: id }, body }),
      remove: (id: number) => c.request<void>("DELETE", "/api/alert-rules/{rule_id}", { params: { rule_id: id } }),
      revokeMuteLinks: (id: number) =>
        c.request<void>("POST", "/api/alert-rules/{rule_id}/mute-link/rotate", { params: { rule_id: id } }),
    },
    alerts: {
      recent: (limit = 5, signal?: AbortSignal) =>
        c.request<Page<Alert>>("GET", "/api/alerts", { query: { limit }, signal }),
      list: (filters: AlertFilters, cursor: string | null, limit = 50, signal?: AbortSignal) =>
        c.request<Page<Alert>>("GET", "/api/alerts", {
          query: { rule_id: filters.rule_id, type: filters.type, state: filters.state, limit, cursor },
          signal,
        }),
      get: (id: number, signal?: AbortSignal) =>
        c.request<AlertDetail>("GET", "/api/alerts/{alert_id}", { params: { alert_id: id }, signal }),
    },
    channels: {
      list: (signal?: AbortSignal) => c.request<List<Channel>>("GET", "/api/channels", { signal }),
      get: (id: number) => c.request<Channel>("GET", "/api/channels/{channel_id}", { params: { channel_id: id } }),
      create: (body: ChannelIn) => c.request<ChannelCreated>("POST", "/api/channels", { body }),
      update: (id: number, body: ChannelPatch) =>
        c.request<Channel>("PATCH", "/api/channels/{channel_id}", { params: { channel_id: id }, body }),
      remove: (id: number) => c.request<void>("DELETE", "/api/channels/{channel_id}", { params: { channel_id: id } }),
      rotateSecret: (id: number) =>
        c.request<SecretRotated>("POST", "/api/channels/{channel_id}/rotate-secret", { params: { channel_id: id } }),
      test: (id: number) =>
        c.request<ChannelTestOutcome>("POST", "/api/channels/{channel_id}/test", { params: { channel_id: id } }),
      deliveries: (id: number, before: number | null = null, limit = 25, signal?: AbortSignal) =>
        c.request<DeliveryList>("GET", "/api/channels/{channel_id}/deliveries", {
          params: { channel_id: id },
          query: { limit, before },
          signal,
        }),
    },
    notifications: {
      retry: (id: number) =>
        c.request<NotificationInfo>("POST", "/api/notifications/{notification_id}/retry", {
          params: { notification_id: id },
        }),
    },
    categories: {
      list: (signal?: AbortSignal) => c.request<List<CategoryNode>>("GET", "/api/categories", { signal }),
    },
    analytics: {
      /** Bank spending per category and month, or per day with interval "day". */
      spendingByCategory: (range: { from: string; to: string; interval?: "month" | "day" }, signal?: AbortSignal) =>
        c.request<SpendingByCategory>("GET", "/api/analytics/spending-by-category", { query: range, signal }),
    },
    bankAccounts: {
      list: (signal?: AbortSignal) => c.request<List<BankAccount>>("GET", "/api/bank-accounts", { signal }),
    },
    demo: {
      status: (signal?: AbortSignal) => c.request<DemoStatus>("GET", "/api/demo", { signal }),
      load: () => c.request<DemoCreated>("POST", "/api/demo"),
      remove: () => c.request<void>("DELETE", "/api/demo"),
    },
    workspaces: {
      members: (workspaceId: number, signal?: AbortSignal) =>
        c.request<List<Member>>("GET", "/api/workspaces/{workspace_id}/members", {
          params: { workspace_id: workspaceId },
          signal,
        }),
      changeRole: (workspaceId: number, memberId: number, role: Role) =>
        c.request<Member>("PATCH", "/api/workspaces/{workspace_id}/members/{member_id}", {
          params: { workspace_id: workspaceId, member_id: memberId },
          body: { role },
        }),
      removeMember: (workspaceId: number, memberId: number) =>
        c.request<void>("DELETE", "/api/workspaces/{workspace_id}/members/{member_id}", {
          params: { workspace_id: workspaceId, member_id: memberId },
        }),
      invites: (workspaceId: number, signal?: AbortSignal) =>
        c.request<List<WorkspaceInvite>>("GET", "/api/workspaces/{workspace_id}/invites", {
          params: { workspace_id: workspaceId },
          signal,
        }),
      invite: (workspaceId: number, body: { email: string; role: Role }) =>
        c.request<WorkspaceInviteCreated>("POST", "/api/workspaces/{workspace_id}/invites", {
          params: { workspace_id: workspaceId },
          body,
        }),
      revokeInvite: (workspaceId: number, inviteId: number) =>
        c.request<void>("DELETE", "/api/workspaces/{workspace_id}/invites/{invite_id}", {
          params: { workspace_id: workspaceId, invite_id: inviteId },
        }),
    },
    admin: {
      settings: () => c.request<InstanceSettings>("GET", "/api/admin/settings"),
      updateSettings: (body: SettingsPatch) =>
        c.request<InstanceSettings>("PATCH", "/api/admin/settings", { body }),
      keys: () => c.request<KeyStatus>("GET", "/api/admin/keys"),
      testSmtp: (to: string) => c.request<SmtpTestOutcome>("POST", "/api/admin/smtp/test", { body: { to } }),
      prices: (signal?: AbortSignal) => c.request<List<PriceOverride>>("GET", "/api/admin/prices", { signal }),
      addPrice: (body: PriceOverrideIn) => c.request<PriceOverride>("POST", "/api/admin/prices", { body }),
      removePrice: (id: number) =>
        c.request<void>("DELETE", "/api/admin/prices/{price_id}", { params: { price_id: id } }),
    },
  };
}

export const api = makeEndpoints(defaultClient);
export type Endpoints = ReturnType<typeof makeEndpoints>;
