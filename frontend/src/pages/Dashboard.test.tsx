import { render, screen, waitFor, within } from "@testing-library/react";
import { useEffect } from "react";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { client } from "../api/client";
import { AuthProvider } from "../auth/AuthContext";
import { jsonResponse, mockFetch, type Route as Handler, withSessionCookie } from "../test/fetchMock";
import Dashboard from "./Dashboard";

// Chart.js needs a real canvas; the chart itself is not under test here. The stand-in says it has been
// drawn once mounted, as the real one does after Chart.js renders.
vi.mock("../charts/LazyChart", () => ({
  preloadChart: () => Promise.resolve(null), // jsdom draws no canvas: the chart is stood in for
  LazyStackedBarChart: ({ ariaLabel, onDrawn }: { ariaLabel: string; onDrawn?: () => void }) => {
    useEffect(() => onDrawn?.(), [onDrawn]);
    return <div role="img" aria-label={ariaLabel} />;
  },
}));

afterEach(() => {
  vi.unstubAllGlobals();
  client.clearSession();
});

const today = new Date();
const day = `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, "0")}-01`;

describe("Dashboard", () => {
  it("loads its data with at most four API calls and shows exact totals", async () => {
    const { calls } = signIn({
      "GET /api/usage/summary": (url) => ({
        from: url.searchParams.get("from"),
        to: url.searchParams.get("to"),
        group_by: ["day", "provider"],
        totals: { USD: "0.3000000000" },
        items: [
          { day, provider: "openai", currency: "USD", cost: "0.1000000000", cost_source: "provider", input_tokens: 10, output_tokens: 5, requests: 1 },
          { day, provider: "anthropic", currency: "USD", cost: "0.2000000000", cost_source: "provider", input_tokens: 10, output_tokens: 5, requests: 1 },
        ],
      }),
      "GET /api/accounts": () => ({
        items: [
          { id: 4, name: "Broken key", kind: "openai", status: "needs_attention", last_error: "The provider refused the key." },
        ],
      }),
      "GET /api/budgets": () => ({ items: [] }),
      "GET /api/alerts": () => ({ items: [], next_cursor: null }),
    });

    renderDashboard();

    expect(await screen.findByText("$0.30", {}, { timeout: 3000 })).toBeInTheDocument();
    expect(await screen.findByText("The provider refused the key.")).toBeInTheDocument();
    expect(screen.getByText("Anthropic")).toBeInTheDocument();
    expect(screen.getByText("$0.20")).toBeInTheDocument();

    const dataCalls = calls.filter((c) => !c.startsWith("POST /api/auth/refresh") && !c.startsWith("GET /api/auth/me"));
    expect(dataCalls).toHaveLength(4);
    expect(dataCalls.find((c) => c.startsWith("GET /api/usage/summary"))).toContain("group_by=day%2Cprovider");
    expect(dataCalls).toContain("GET /api/alerts?limit=5");
  });

  it("draws four budget gauges from the list alone: exactly four calls, then data-loaded", async () => {
    const budgets = [
      budget(1, "AI this month", "500.00", "400.00", "80.0", ["actual:50%", "actual:80%"]),
      budget(2, "OpenAI", "100.00", "20.00", "20.0", []),
      budget(3, "Groceries", "600.00", "660.00", "110.0", ["actual:50%", "actual:80%", "actual:100%"], { category_id: 12 }),
      budget(4, "Card", "300.00", "0.00", "0.0", [], { bank_account_id: 2 }),
    ];
    const { calls } = signIn({
      "GET /api/usage/summary": summary("0.3000000000"),
      "GET /api/accounts": () => ({ items: [] }),
      "GET /api/budgets": () => ({ items: budgets }),
      "GET /api/alerts": () => ({ items: [], next_cursor: null }),
    });
    const { container } = renderDashboard();
    const page = container.querySelector(".dashboard");
    expect(page).toHaveAttribute("data-loaded", "false");

    await waitFor(() => expect(page).toHaveAttribute("data-loaded", "true"));
    expect(screen.getByRole("img", { name: /Daily spend in USD/ })).toBeInTheDocument();
    const gauges = screen.getAllByRole("meter");
    expect(gauges).toHaveLength(4);
    expect(gauges[0]).toHaveAttribute("aria-valuetext", "80% of the budget");
    expect(gauges[2]).toHaveAttribute("aria-valuenow", "100");
    const list = within(screen.getByRole("region", { name: "Budgets" }));
    expect(list.getByText("Bank spending · 110% used · forecast $660.00 by", { exact: false })).toBeInTheDocument();
    const amounts = [...container.querySelectorAll(".budget-amount")].map((e) => e.textContent);
    expect(amounts).toEqual(["$400.00 of $500.00 / month", "$20.00 of $100.00 / month", "$660.00 of $600.00 / month", "$0.00 of $300.00 / month"]);

    const dataCalls = calls.filter((c) => !c.startsWith("POST /api/auth/refresh") && !c.startsWith("GET /api/auth/me"));
    expect(dataCalls.map((c) => c.split("?")[0])).toEqual(["GET /api/usage/summary", "GET /api/accounts", "GET /api/budgets", "GET /api/alerts"]);
    expect(calls.some((c) => /\/api\/budgets\/\d/.test(c))).toBe(false);
  });

  it("is loaded once every call has settled, errors and empty states included", async () => {
    const failed = () => jsonResponse(500, { error: { code: "internal_error", message: "Something went wrong on our side.", details: null } });
    signIn({
      "GET /api/usage/summary": summary("0"),
      "GET /api/accounts": failed,
      "GET /api/budgets": () => ({ items: [] }),
      "GET /api/alerts": failed,
    });
    const { container } = renderDashboard();
    const page = container.querySelector(".dashboard");
    await waitFor(() => expect(page).toHaveAttribute("data-loaded", "true"));
    expect(screen.getByText("No spend in this period.")).toBeInTheDocument();
    expect(screen.getByText(/Could not load the alerts/)).toBeInTheDocument();
    // The budgets page exists: the empty state links to it.
    const budgets = within(screen.getByRole("region", { name: "Budgets" }));
    expect(budgets.getByRole("link", { name: "Budgets page" })).toHaveAttribute("href", "/budgets");
    expect(screen.queryByText(/next release/)).not.toBeInTheDocument();
  });

  it("stacks by category: bank spending per top-level category, fetched only when chosen", async () => {
    const spend = (category_id: number | null, total: string, on = day) => ({
      month: on.slice(0, 7),
      day: on,
      currency: "USD",
      category_id,
      parent_id: null,
      spend: total,
      count: 1,
      total,
      total_count: 1,
    });
    const { calls } = signIn({
      "GET /api/usage/summary": summary("0.3000000000"),
      "GET /api/accounts": () => ({ items: [] }),
      "GET /api/budgets": () => ({ items: [] }),
      "GET /api/alerts": () => ({ items: [], next_cursor: null }),
      "GET /api/analytics/spending-by-category": (url) => ({
        from: url.searchParams.get("from"),
        to: url.searchParams.get("to"),
        items: [
          spend(3, "40.10"),
          spend(3, "9.90", day.slice(0, 8) + "02"),
          spend(null, "5.00"),
          // A child's row: already in its parent's total (3), not a stack of its own.
          { ...spend(31, "40.10"), parent_id: 3 },
        ],
      }),
      "GET /api/categories": () => ({ items: [{ id: 3, key: "food", name: "Food", icon: "🍽", color: "", kind: "expense", necessity: 2, parent_id: null, transaction_count: 2, children: [] }] }),
    });
    const { container } = renderDashboard("/?by=category");
    await waitFor(() => expect(container.querySelector(".dashboard")).toHaveAttribute("data-loaded", "true"));
    expect(screen.getByRole("heading", { name: "Bank spending over time" })).toBeInTheDocument();
    expect(screen.getByRole("img", { name: /Daily bank spending in USD .* Total \$55\.00\./ })).toBeInTheDocument();
    const top = within(screen.getByRole("region", { name: "Top categories (bank spending)" }));
    expect(top.getByText("🍽 Food")).toBeInTheDocument();
    expect(top.getByText("$50.00")).toBeInTheDocument();
    expect(top.getByText("Uncategorized")).toBeInTheDocument();
    expect(calls.find((c) => c.startsWith("GET /api/analytics/spending-by-category"))).toContain("interval=day");
    // The AI figures above still come from the usage summary, grouped by day only.
    expect(calls.find((c) => c.startsWith("GET /api/usage/summary"))).toMatch(/group_by=day(&|$)/);
  });
});

function signIn(handlers: Record<string, Handler>) {
  withSessionCookie();
  return mockFetch({
    "POST /api/auth/refresh": () => ({ access_token: "a", expires_in: 900 }),
    "GET /api/auth/me": () => ({
      user: { id: 1, email: "ada@example.com", name: "Ada", is_admin: true, created_at: "2026-01-01T00:00:00Z" },
      workspaces: [{ workspace_id: 1, workspace_name: "Acme", role: "owner" }],
    }),
    ...handlers,
  });
}

function renderDashboard(entry = "/") {
  return render(
    <MemoryRouter initialEntries={[entry]}>
      <AuthProvider>
        <Routes>
          <Route path="/" element={<Dashboard />} />
        </Routes>
      </AuthProvider>
    </MemoryRouter>,
  );
}

function summary(total: string): Handler {
  return (url) => ({
    from: url.searchParams.get("from"),
    to: url.searchParams.get("to"),
    group_by: ["day", "provider"],
    totals: { USD: total },
    items:
      total === "0"
        ? []
        : [{ day, provider: "openai", currency: "USD", cost: total, cost_source: "provider", input_tokens: 10, output_tokens: 5, requests: 1 }],
  });
}

function budget(id: number, name: string, amount: string, spent: string, percent: string, firing: string[], scope: Record<string, number> = {}) {
  const keys = ["actual:50%", "actual:80%", "actual:100%"];
  return {
    id,
    workspace_id: 1,
    name,
    scope: { provider: null, account_id: null, model: null, project: null, category_id: null, bank_account_id: null, ...scope },
    period: "month",
    week_start: "monday",
    amount,
    currency: "USD",
    thresholds: keys.map((k) => ({ type: "percent", value: k.slice(7, -1) })),
    basis: "actual",
    channels: [],
    muted: false,
    snoozed_until: null,
    repeat_minutes: null,
    notify_on_resolve: false,
    created_at: "2026-11-01T00:00:00Z",
    updated_at: "2026-11-01T00:00:00Z",
    status: {
      period: { key: "2026-11", start: "2026-11-01", end: "2026-11-30", timezone: "UTC" },
      spent,
      remaining: "0.00",
      percent,
      forecast: spent,
      thresholds: keys.map((key) => ({
        type: "percent",
        value: key.slice(7, -1),
        basis: "actual",
        key,
        level: "0.00",
        state: firing.includes(key) ? "firing" : "ok",
        since: firing.includes(key) ? "2026-11-10T00:00:00Z" : null,
      })),
    },
  };
}
