// Test helper (not part of the app): the Transactions page signed in, with the API answered by mockFetch handlers.
import { render } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { AuthProvider } from "../../auth/AuthContext";
import { mockFetch, type Route as Handler, withSessionCookie } from "../../test/fetchMock";
import Transactions from "../Transactions";

export const STAMP = "2026-11-01T00:00:00Z";

export const CATEGORIES = {
  items: [
    {
      id: 1,
      key: "food",
      name: "Food",
      icon: "🍽️",
      color: "#e67e22",
      kind: "expense",
      necessity: 8,
      parent_id: null,
      transaction_count: 0,
      children: [
        { id: 2, key: "groceries", name: "Groceries", icon: "🛒", color: "#d35400", kind: "expense", necessity: 9, parent_id: 1, transaction_count: 3 },
        { id: 3, key: "restaurants", name: "Restaurants", icon: "🍝", color: "#f39c12", kind: "expense", necessity: 4, parent_id: 1, transaction_count: 1 },
        { id: 4, key: "coffee", name: "Coffee", icon: "☕", color: "#a0522d", kind: "expense", necessity: 2, parent_id: 1, transaction_count: 5 },
      ],
    },
  ],
};

export const CHECKING = {
  id: 1,
  account_id: null,
  name: "Checking",
  institution: "Bank",
  currency: "USD",
  balance: "1200.50",
  available_balance: null,
  balance_at: STAMP,
  transaction_count: 3,
  last_transaction_on: "2026-11-20",
  created_at: STAMP,
  updated_at: STAMP,
};

export function signedInMoney(handlers: Record<string, Handler>, role = "owner") {
  withSessionCookie();
  return mockFetch({
    "POST /api/auth/refresh": () => ({ access_token: "a", expires_in: 900 }),
    "GET /api/auth/me": () => ({
      user: { id: 1, email: "ada@example.com", name: "Ada", is_admin: true, created_at: STAMP },
      workspaces: [{ workspace_id: 1, workspace_name: "Acme", role }],
    }),
    "GET /api/categories": () => CATEGORIES,
    "GET /api/bank-accounts": () => ({ items: [CHECKING] }),
    ...handlers,
  });
}

export function renderTransactions(path: string) {
  return render(
    <MemoryRouter initialEntries={[path]}>
      <AuthProvider>
        <Routes>
          <Route path="/transactions/*" element={<Transactions />} />
        </Routes>
      </AuthProvider>
    </MemoryRouter>,
  );
}

/** The calls made to METHOD PATH, with their bodies (JSON parsed; FormData as is; undefined when none). */
export function callsTo(fetchMock: { mock: { calls: unknown[][] } }, method: string, path: string): unknown[] {
  return fetchMock.mock.calls
    .filter(([input, init]) => {
      const url = new URL(String(input), "http://localhost");
      return url.pathname === path && ((init as RequestInit | undefined)?.method ?? "GET") === method;
    })
    .map(([, init]) => {
      const body = (init as RequestInit).body;
      if (body === undefined || body === null) return undefined;
      return typeof body === "string" ? JSON.parse(body) : body;
    });
}
