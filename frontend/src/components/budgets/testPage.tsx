// Test helper (not part of the app): render a page signed in, with the API answered by mockFetch handlers.
import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { AuthProvider } from "../../auth/AuthContext";
import { jsonResponse, mockFetch, type Route as Handler, withSessionCookie } from "../../test/fetchMock";

export const ADA = { id: 1, email: "ada@example.com", name: "Ada", is_admin: true, created_at: "2026-01-01T00:00:00Z" };

export function signedIn(handlers: Record<string, Handler>, options: { isAdmin?: boolean; role?: string } = {}) {
  withSessionCookie();
  return mockFetch({
    "POST /api/auth/refresh": () => ({ access_token: "a", expires_in: 900 }),
    "GET /api/auth/me": () => ({
      user: { ...ADA, is_admin: options.isAdmin ?? true },
      workspaces: [{ workspace_id: 1, workspace_name: "Acme", role: options.role ?? "owner" }],
    }),
    ...handlers,
  });
}

export function renderAt(path: string, element: ReactNode, routePath = path) {
  return render(
    <MemoryRouter initialEntries={[path]}>
      <AuthProvider>
        <Routes>
          <Route path={routePath} element={element} />
        </Routes>
      </AuthProvider>
    </MemoryRouter>,
  );
}

/** The parsed JSON body of the last call to METHOD PATH. */
export function lastBody(fetchMock: { mock: { calls: unknown[][] } }, method: string, path: string): unknown {
  const call = [...fetchMock.mock.calls].reverse().find(([input, init]) => {
    const url = new URL(String(input), "http://localhost");
    return url.pathname === path && ((init as RequestInit | undefined)?.method ?? "GET") === method;
  });
  if (!call) throw new Error(`no ${method} ${path} call`);
  return JSON.parse(String((call[1] as RequestInit).body));
}

export const validation = (details: { loc: (string | number)[]; msg: string }[]) =>
  jsonResponse(422, { error: { code: "validation_error", message: "The request is not valid.", details } });

export { jsonResponse };
