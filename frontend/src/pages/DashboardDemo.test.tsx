import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { client } from "../api/client";
import { AuthProvider } from "../auth/AuthContext";
import { jsonResponse, mockFetch, withSessionCookie } from "../test/fetchMock";
import Dashboard from "./Dashboard";

vi.mock("../charts/LazyChart", () => ({
  preloadChart: () => Promise.resolve(null), // jsdom draws no canvas: the chart is stood in for
  LazyStackedBarChart: ({ ariaLabel }: { ariaLabel: string }) => <div role="img" aria-label={ariaLabel} />,
}));

afterEach(() => {
  vi.unstubAllGlobals();
  client.clearSession();
});

const demoAccount = { id: 7, name: "Demo AI — Production", kind: "demo", status: "ok", last_error: null, config: { demo: true } };

describe("Dashboard demo data", () => {
  it("loads the demo data into an empty workspace, then removes it in one action", async () => {
    const user = userEvent.setup();
    let loaded = false;
    withSessionCookie();
    const { calls } = mockFetch({
      "POST /api/auth/refresh": () => ({ access_token: "a", expires_in: 900 }),
      "GET /api/auth/me": () => ({
        user: { id: 1, email: "ada@example.com", name: "Ada", is_admin: true, created_at: "2026-01-01T00:00:00Z" },
        workspaces: [{ workspace_id: 1, workspace_name: "Acme", role: "owner" }],
      }),
      "GET /api/usage/summary": (url) => ({
        from: url.searchParams.get("from"),
        to: url.searchParams.get("to"),
        group_by: ["day", "provider"],
        totals: loaded ? { USD: "12.50" } : {},
        items: [],
      }),
      "GET /api/accounts": () => ({ items: loaded ? [demoAccount] : [] }),
      "GET /api/budgets": () => ({ items: [] }),
      "GET /api/alerts": () => ({ items: [], next_cursor: null }),
      "POST /api/demo": () => {
        loaded = true;
        return jsonResponse(201, { present: true, accounts: [], bank_accounts: [], budgets: [], channels: [] });
      },
      "DELETE /api/demo": () => {
        loaded = false;
        return jsonResponse(204, null);
      },
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

    await user.click(await screen.findByRole("button", { name: "Load demo data" }));
    expect(await screen.findByText(/This workspace has/)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Load demo data" })).not.toBeInTheDocument();
    expect(calls).toContain("POST /api/demo");
    expect(calls.filter((c) => c === "GET /api/accounts")).toHaveLength(2); // reloaded after loading

    await user.click(screen.getByRole("button", { name: "Remove demo data" }));
    await user.click(screen.getByRole("button", { name: "Remove demo data" })); // the confirmation
    await waitFor(() => expect(calls).toContain("DELETE /api/demo"));
    expect(await screen.findByRole("button", { name: "Load demo data" })).toBeInTheDocument();
  });
});
