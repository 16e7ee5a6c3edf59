import { render, screen } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { client } from "../api/client";
import { AuthProvider } from "../auth/AuthContext";
import { mockFetch } from "../test/fetchMock";
import Dashboard from "./Dashboard";

// Chart.js needs a real canvas; the chart itself is not under test here.
vi.mock("../charts/LazyChart", () => ({
  LazyStackedBarChart: ({ ariaLabel }: { ariaLabel: string }) => <div role="img" aria-label={ariaLabel} />,
}));

afterEach(() => {
  vi.unstubAllGlobals();
  client.clearSession();
});

const today = new Date();
const day = `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, "0")}-01`;

describe("Dashboard", () => {
  it("loads its data with at most four API calls and shows exact totals", async () => {
    localStorage.setItem("spendwatch.refresh_token", "r");
    const { calls } = mockFetch({
      "POST /api/auth/refresh": () => ({ access_token: "a", refresh_token: "r2", expires_in: 900 }),
      "GET /api/auth/me": () => ({
        user: { id: 1, email: "ada@example.com", name: "Ada", is_admin: true, created_at: "2026-01-01T00:00:00Z" },
        workspaces: [{ workspace_id: 1, workspace_name: "Acme", role: "owner" }],
      }),
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

    render(
      <MemoryRouter initialEntries={["/"]}>
        <AuthProvider>
          <Routes>
            <Route path="/" element={<Dashboard />} />
          </Routes>
        </AuthProvider>
      </MemoryRouter>,
    );

    expect(await screen.findByText("$0.30", {}, { timeout: 3000 })).toBeInTheDocument();
    expect(await screen.findByText("The provider refused the key.")).toBeInTheDocument();
    expect(screen.getByText("Anthropic")).toBeInTheDocument();
    expect(screen.getByText("$0.20")).toBeInTheDocument();

    const dataCalls = calls.filter((c) => !c.startsWith("POST /api/auth/refresh") && !c.startsWith("GET /api/auth/me"));
    expect(dataCalls).toHaveLength(4);
    expect(dataCalls.find((c) => c.startsWith("GET /api/usage/summary"))).toContain("group_by=day%2Cprovider");
    expect(dataCalls).toContain("GET /api/alerts?limit=5");
  });
});
