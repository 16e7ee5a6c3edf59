import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { client } from "../api/client";
import { lastBody, renderAt, signedIn, validation } from "../components/budgets/testPage";
import Budgets from "./Budgets";

afterEach(() => {
  vi.unstubAllGlobals();
  client.clearSession();
});

const stamp = "2026-11-01T00:00:00Z";

function detailFrom(body: Record<string, unknown>, id = 21) {
  const scope = body.scope as Record<string, unknown>;
  return {
    id,
    workspace_id: 1,
    name: body.name,
    scope: { provider: null, account_id: null, model: null, project: null, category_id: null, bank_account_id: null, ...scope },
    period: body.period,
    week_start: body.week_start,
    amount: body.amount,
    currency: body.currency,
    thresholds: body.thresholds,
    basis: body.basis,
    channels: body.channels,
    muted: false,
    snoozed_until: null,
    repeat_minutes: body.repeat_minutes,
    notify_on_resolve: body.notify_on_resolve,
    created_at: stamp,
    updated_at: stamp,
    status: {
      period: { key: "2026-11", start: "2026-11-01", end: "2026-11-30", timezone: "UTC" },
      spent: "0.00",
      remaining: String(body.amount),
      percent: "0.0",
      forecast: "0.00",
      thresholds: [],
    },
  };
}

function setup(post: (body: Record<string, unknown>) => unknown = (body) => detailFrom(body), extra: Record<string, (url: URL) => unknown> = {}) {
  return signedIn({
    "GET /api/budgets": () => ({ items: [] }),
    "GET /api/alert-rules": () => ({ items: [] }),
    "GET /api/alerts": () => ({ items: [], next_cursor: null }),
    "GET /api/channels": () => ({
      items: [{ id: 3, workspace_id: 1, name: "Ops mail", kind: "email", enabled: true, disabled_reason: null, recipients: ["ops@example.com"], url: null, format: null, headers: null, previous_secret_valid_until: null, last_error: null, last_delivery_at: null, created_at: stamp, updated_at: stamp }],
    }),
    "GET /api/accounts": () => ({ items: [{ id: 4, workspace_id: 1, kind: "openai", name: "OpenAI prod", status: "ok" }] }),
    "GET /api/providers": () => ({
      items: [
        { kind: "openai", label: "OpenAI", category: "ai", description: "", capabilities: [], credential_fields: [] },
        { kind: "simplefin", label: "SimpleFIN", category: "money", description: "", capabilities: [], credential_fields: [] },
      ],
    }),
    "GET /api/categories": () => ({
      items: [
        {
          id: 10, key: "food", name: "Food", icon: "", color: "#888888", kind: "expense", necessity: 5, parent_id: null, transaction_count: 0,
          children: [{ id: 11, key: "groceries", name: "Groceries", icon: "", color: "#888888", kind: "expense", necessity: 8, parent_id: 10, transaction_count: 3 }],
        },
      ],
    }),
    "GET /api/bank-accounts": () => ({
      items: [{ id: 7, account_id: null, name: "Checking", institution: "First Bank", currency: "EUR", balance: "10.00", available_balance: null, balance_at: null, transaction_count: 3, last_transaction_on: null, created_at: stamp, updated_at: stamp }],
    }),
    "POST /api/budgets": (_url, init) => post(JSON.parse(String(init.body))),
    ...extra,
  });
}

async function openForm() {
  const user = userEvent.setup();
  renderAt("/budgets", <Budgets />);
  await user.click(await screen.findByRole("button", { name: "New budget" }));
  const form = await screen.findByRole("form", { name: "New budget" });
  return { user, form: within(form) };
}

describe("Budgets: the budget form", () => {
  it("sends an AI-scope budget with only the AI scope fields", async () => {
    const { fetchMock } = setup();
    const { user, form } = await openForm();

    await user.type(form.getByLabelText(/^Name/), "Team AI");
    await user.selectOptions(form.getByLabelText("Provider"), "OpenAI");
    await user.selectOptions(form.getByLabelText("Account"), "OpenAI prod");
    await user.type(form.getByLabelText("Model"), "gpt-4o");
    await user.type(form.getByLabelText(/^Amount/), "500");
    await user.click(form.getByLabelText(/Ops mail/));
    await user.type(form.getByLabelText("Repeat every (minutes)"), "60");
    await user.click(form.getByRole("button", { name: "Create budget" }));

    expect(await screen.findByText("Created the budget “Team AI”.")).toBeInTheDocument();
    expect(lastBody(fetchMock, "POST", "/api/budgets")).toEqual({
      name: "Team AI",
      scope: { provider: "openai", account_id: 4, model: "gpt-4o" },
      period: "month",
      week_start: "monday",
      amount: "500",
      currency: "USD",
      thresholds: [
        { type: "percent", value: "50" },
        { type: "percent", value: "80" },
        { type: "percent", value: "100" },
      ],
      basis: "actual",
      channels: [3],
      repeat_minutes: 60,
      notify_on_resolve: false,
    });
    // The new budget's card shows its figures from the answer.
    expect(screen.getByRole("heading", { name: "Team AI" })).toBeInTheDocument();
  });

  it("sends a money-scope budget with category and bank account only, in the account's currency", async () => {
    const { fetchMock } = setup();
    const { user, form } = await openForm();

    await user.type(form.getByLabelText(/^Name/), "Groceries");
    // Fill an AI field first: switching to bank spending must leave it out of the request.
    await user.type(form.getByLabelText("Model"), "gpt-4o");
    await user.click(form.getByLabelText("Bank spending"));
    await user.selectOptions(form.getByLabelText("Category"), "Groceries");
    await user.selectOptions(form.getByLabelText("Bank account"), "7");
    expect(form.getByLabelText(/^Currency/)).toHaveValue("EUR");
    await user.selectOptions(form.getByLabelText("Period"), "week");
    await user.selectOptions(form.getByLabelText("Week starts on"), "sunday");
    await user.type(form.getByLabelText(/^Amount/), "120.50");
    await user.selectOptions(form.getByLabelText("Basis"), "both");
    await user.click(form.getByLabelText(/notify when it resolves/));
    await user.click(form.getByRole("button", { name: "Create budget" }));

    await screen.findByText("Created the budget “Groceries”.");
    expect(lastBody(fetchMock, "POST", "/api/budgets")).toEqual({
      name: "Groceries",
      scope: { category_id: 11, bank_account_id: 7 },
      period: "week",
      week_start: "sunday",
      amount: "120.50",
      currency: "EUR",
      thresholds: [
        { type: "percent", value: "50" },
        { type: "percent", value: "80" },
        { type: "percent", value: "100" },
      ],
      basis: "both",
      channels: [],
      repeat_minutes: null,
      notify_on_resolve: true,
    });
  });

  it("refuses a money budget without category or bank account before asking the server", async () => {
    const { calls } = setup();
    const { user, form } = await openForm();
    await user.type(form.getByLabelText(/^Name/), "Money");
    await user.click(form.getByLabelText("Bank spending"));
    await user.type(form.getByLabelText(/^Amount/), "100");
    await user.click(form.getByRole("button", { name: "Create budget" }));
    expect(await form.findByText("Choose a category, a bank account or both.")).toBeInTheDocument();
    expect(calls.some((c) => c.startsWith("POST /api/budgets"))).toBe(false);
  });
});

describe("Budgets: the thresholds editor", () => {
  it("adds, changes and removes thresholds, and blocks duplicates", async () => {
    const { fetchMock, calls } = setup();
    const { user, form } = await openForm();
    await user.type(form.getByLabelText(/^Name/), "T");
    await user.type(form.getByLabelText(/^Amount/), "1000");

    await user.click(form.getByRole("button", { name: "Add threshold" }));
    // The new row gets the focus and a value 10 points above the last one.
    expect(form.getByLabelText("Threshold 4 value")).toHaveFocus();
    expect(form.getByLabelText("Threshold 4 value")).toHaveValue("110");
    await user.selectOptions(form.getByLabelText("Threshold 4 type"), "absolute");
    await user.clear(form.getByLabelText("Threshold 4 value"));
    await user.type(form.getByLabelText("Threshold 4 value"), "400");

    // A duplicate is caught in the browser, next to its row.
    await user.clear(form.getByLabelText("Threshold 2 value"));
    await user.type(form.getByLabelText("Threshold 2 value"), "50");
    await user.click(form.getByRole("button", { name: "Create budget" }));
    expect(form.getByLabelText("Threshold 2 value")).toHaveAttribute("aria-invalid", "true");
    expect(form.getByLabelText("Threshold 2 value")).toHaveAccessibleDescription("The same as threshold 1.");
    expect(calls.some((c) => c.startsWith("POST /api/budgets"))).toBe(false);

    await user.click(form.getByRole("button", { name: "Remove threshold 1" }));
    await user.click(form.getByRole("button", { name: "Create budget" }));
    await screen.findByText("Created the budget “T”.");
    expect((lastBody(fetchMock, "POST", "/api/budgets") as { thresholds: unknown }).thresholds).toEqual([
      { type: "percent", value: "50" },
      { type: "percent", value: "100" },
      { type: "absolute", value: "400" },
    ]);
  });

  it("puts a server error of one threshold next to that threshold only", async () => {
    setup(() => validation([{ loc: ["thresholds", 1, "value"], msg: "Input should be greater than 0" }, { loc: ["amount"], msg: "Too large" }]));
    const { user, form } = await openForm();
    await user.type(form.getByLabelText(/^Name/), "T");
    await user.type(form.getByLabelText(/^Amount/), "5");
    await user.click(form.getByRole("button", { name: "Create budget" }));

    await waitFor(() => expect(form.getByLabelText("Threshold 2 value")).toHaveAttribute("aria-invalid", "true"));
    expect(form.getByLabelText("Threshold 2 value")).toHaveAccessibleDescription("Input should be greater than 0");
    expect(form.getByLabelText("Threshold 1 value")).not.toHaveAttribute("aria-invalid");
    expect(form.getByLabelText(/^Amount/)).toHaveAccessibleDescription("Too large");
  });
});

describe("Budgets: the alert history", () => {
  it("filters by type and state, pages on with the cursor, and shows an alert's deliveries", async () => {
    const user = userEvent.setup();
    const alert = (id: number) => ({
      id, rule_id: null, type: "budget.threshold_crossed", state: "firing", period_key: "2026-11", threshold_key: "actual:80%",
      silenced: null, created_at: "2026-11-02T10:00:00Z", notifications: { delivered: 1, dead: 1 },
    });
    const { calls } = setup(undefined, {
      "GET /api/alerts": (url: URL) =>
        url.searchParams.get("cursor") === "c2" ? { items: [alert(1)], next_cursor: null } : { items: [alert(3), alert(2)], next_cursor: "c2" },
      "GET /api/alerts/3": () => ({
        ...alert(3),
        payload: { spent: "412.50", budget: "500.00", currency: "USD", links: { dashboard: "x" } },
        deliveries: [
          { id: 60, channel_id: 3, status: "dead", attempts: 10, next_attempt_at: null, last_error: "HTTP 500", created_at: stamp, delivered_at: null },
        ],
      }),
      "POST /api/notifications/60/retry": () => ({ id: 60, event_id: 3, channel_id: 3, message_id: "m", status: "pending", attempts: 0, next_attempt_at: stamp, last_error: null, created_at: stamp, delivered_at: null }),
    });
    renderAt("/budgets", <Budgets />);

    const table = within(await screen.findByRole("table", { name: /Alert history/ }));
    expect(table.getAllByRole("row")).toHaveLength(3);
    await user.click(screen.getByRole("button", { name: "Load more" }));
    await waitFor(() => expect(table.getAllByRole("row")).toHaveLength(4));
    expect(calls).toContain("GET /api/alerts?limit=25&cursor=c2");
    expect(screen.queryByRole("button", { name: "Load more" })).not.toBeInTheDocument();

    await user.click(table.getAllByRole("button", { name: /^Details/ })[0]);
    expect(await screen.findByText("412.50")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Retry" }));
    expect(await screen.findByText(/Retry scheduled/)).toBeInTheDocument();
    expect(calls).toContain("POST /api/notifications/60/retry");

    await user.selectOptions(screen.getByLabelText("Type"), "budget.forecast_exceeded");
    await user.selectOptions(screen.getByLabelText("State"), "resolved");
    await waitFor(() => expect(calls).toContain("GET /api/alerts?type=budget.forecast_exceeded&state=resolved&limit=25"));
  });
});

describe("Budgets: the list", () => {
  it("draws each card's figures from the list, with no call per budget", async () => {
    const body = { name: "Groceries", period: "month", week_start: "monday", amount: "600.00", currency: "USD", thresholds: [], basis: "actual", channels: [3], scope: { category_id: 11 } };
    const base = detailFrom(body, 31);
    const firing = { type: "percent", value: "100", basis: "actual", key: "actual:100%", level: "600.00", state: "firing", since: stamp };
    const listed = { ...base, status: { ...base.status, spent: "660.00", remaining: "0.00", percent: "110.0", forecast: "700.00", thresholds: [firing] } };
    const { calls } = setup(undefined, { "GET /api/budgets": () => ({ items: [listed] }) });
    renderAt("/budgets", <Budgets />);

    const card = within(await screen.findByRole("listitem", { name: "Groceries" }));
    expect(card.getByText("1 threshold firing")).toBeInTheDocument();
    expect(card.getByRole("meter")).toHaveAttribute("aria-valuetext", "110% of the budget");
    expect(card.getByText(/over by \$60\.00/)).toBeInTheDocument();
    expect(card.getByText(/^Bank spending: Food › Groceries/)).toBeInTheDocument();
    expect(calls.filter((c) => /^GET \/api\/budgets\/\d/.test(c))).toEqual([]);
  });

  it("revokes the mute links already sent, and says so", async () => {
    const body = { name: "Groceries", period: "month", week_start: "monday", amount: "600.00", currency: "USD", thresholds: [], basis: "actual", channels: [3], scope: { category_id: 11 } };
    const { calls } = setup(undefined, {
      "GET /api/budgets": () => ({ items: [detailFrom(body, 31)] }),
      "POST /api/budgets/31/mute-link/rotate": () => new Response(null, { status: 204 }),
    });
    const user = userEvent.setup();
    renderAt("/budgets", <Budgets />);

    const card = within(await screen.findByRole("listitem", { name: "Groceries" }));
    await user.click(card.getByRole("button", { name: "Revoke mute links" }));
    expect(await card.findByText("Mute links already sent for Groceries no longer work.")).toBeInTheDocument();
    expect(calls).toContain("POST /api/budgets/31/mute-link/rotate");
  });
});
