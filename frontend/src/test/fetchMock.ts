import { vi } from "vitest";

export type Route = (url: URL, init: RequestInit) => unknown;

export const jsonResponse = (status: number, body: unknown) =>
  new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

/**
 * Stub the global fetch with HANDLERS keyed "METHOD /path" (no query). A handler returns a Response,
 * or a body to send as 200 JSON. Unhandled requests fail the test loudly.
 */
export function mockFetch(handlers: Record<string, Route>) {
  const calls: string[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), "http://localhost");
    const key = `${init.method ?? "GET"} ${url.pathname}`;
    calls.push(`${key}${url.search}`);
    const handler = handlers[key];
    if (!handler) throw new Error(`unexpected request ${key}`);
    const result = await handler(url, init);
    return result instanceof Response ? result : jsonResponse(200, result);
  });
  vi.stubGlobal("fetch", fetchMock);
  return { fetchMock, calls };
}

/** Make the page look signed in after a reload: the readable CSRF cookie the server sets next to the HttpOnly
 * refresh cookie (the client then refreshes before its first call). setup.ts deletes it after each test. */
export function withSessionCookie(csrf = "c") {
  document.cookie = `spendwatch_csrf=${csrf}; Path=/`;
}
