import { describe, expect, it, vi } from "vitest";
import { ApiClient, CSRF_COOKIE, SESSION_KEY, type CookieJar } from "./client";
import { ApiError } from "./errors";

type Handler = (url: string, init: RequestInit, cookies: Map<string, string>) => Response | Promise<Response>;

const json = (status: number, body: unknown) =>
  new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

const expired = () => json(401, { error: { code: "token_expired", message: "The token has expired.", details: null } });

/** A client over a fake fetch and a fake cookie jar (the readable cookies; the HttpOnly refresh cookie is the
 * browser's business and never visible here). The handler may rotate COOKIES, as the server's Set-Cookie would. */
function setup(handler: Handler, initial: Record<string, string> = {}) {
  const cookies = new Map(Object.entries(initial));
  const jar: CookieJar = { get: (name) => cookies.get(name) ?? null, remove: (name) => void cookies.delete(name) };
  const fetchMock = vi.fn((input: RequestInfo | URL, init?: RequestInit) =>
    Promise.resolve(handler(String(input), init ?? {}, cookies)),
  );
  const client = new ApiClient({ fetch: fetchMock as unknown as typeof fetch, storage: localStorage, cookies: jar, locks: null });
  const header = (i: number, name: string) => (fetchMock.mock.calls[i][1]?.headers as Record<string, string>)[name];
  const auth = (i: number) => header(i, "Authorization");
  return { client, fetchMock, auth, header, cookies };
}

/** Sign in as the server would answer: an access token in the body, the session cookies set. */
function signIn(client: ApiClient, cookies: Map<string, string>, access = "access-1") {
  cookies.set(CSRF_COOKIE, "csrf-1");
  client.startSession({ access_token: access });
}

describe("ApiClient token refresh", () => {
  it("refreshes once on 401 by the cookie and the CSRF header, and retries with the new access token", async () => {
    const { client, fetchMock, auth, header, cookies } = setup((url, init, jar) => {
      const token = (init.headers as Record<string, string>).Authorization;
      if (url === "/api/auth/refresh") {
        expect(token).toBeUndefined(); // no refresh token in any header: the browser sends the cookie
        expect(init.credentials).toBe("same-origin");
        jar.set(CSRF_COOKIE, "csrf-2");
        return json(200, { access_token: "access-2", expires_in: 900 });
      }
      return token === "Bearer access-2" ? json(200, { items: [{ id: 1 }] }) : expired();
    });
    signIn(client, cookies);

    const answer = await client.request<{ items: { id: number }[] }>("GET", "/api/accounts");

    expect(answer.items[0].id).toBe(1);
    expect(fetchMock.mock.calls.map((c) => String(c[0]))).toEqual(["/api/accounts", "/api/auth/refresh", "/api/accounts"]);
    expect(auth(0)).toBe("Bearer access-1");
    expect(header(1, "X-CSRF-Token")).toBe("csrf-1");
    expect(auth(2)).toBe("Bearer access-2");
    expect(fetchMock.mock.calls[1][1]?.method).toBe("POST");
    expect(client.accessToken).toBe("access-2");
    expect(client.csrfToken).toBe("csrf-2");
  });

  it("keeps no token in localStorage, only a sign-in marker for other tabs", async () => {
    const { client, cookies } = setup(() => json(200, {}));
    signIn(client, cookies);
    const stored = Object.keys(localStorage).map((key) => localStorage.getItem(key) ?? "");
    expect(Object.keys(localStorage)).toEqual([SESSION_KEY]);
    expect(stored.join()).not.toContain("access-1");
    client.clearSession();
    expect(localStorage.getItem(SESSION_KEY)).toBeNull();
    expect(client.csrfToken).toBeNull();
  });

  it("shares one refresh between concurrent requests (each refresh token works once)", async () => {
    let refreshes = 0;
    const { client, cookies } = setup((url, init) => {
      if (url === "/api/auth/refresh") {
        refreshes += 1;
        return json(200, { access_token: "access-2", expires_in: 900 });
      }
      const token = (init.headers as Record<string, string>).Authorization;
      return token === "Bearer access-2" ? json(200, { ok: url }) : expired();
    });
    signIn(client, cookies);
    const answers = await Promise.all([
      client.request("GET", "/api/accounts"),
      client.request("GET", "/api/budgets"),
      client.request("GET", "/api/auth/me"),
    ]);
    expect(answers).toHaveLength(3);
    expect(refreshes).toBe(1);
  });

  it("gets an access token by the session cookie first after a reload", async () => {
    const { client, fetchMock, auth, header } = setup(
      (url) => (url === "/api/auth/refresh" ? json(200, { access_token: "access-9", expires_in: 900 }) : json(200, { user: {}, workspaces: [] })),
      { [CSRF_COOKIE]: "csrf-1" },
    );
    expect(client.hasSession).toBe(true);
    await client.request("GET", "/api/auth/me");
    expect(fetchMock.mock.calls.map((c) => String(c[0]))).toEqual(["/api/auth/refresh", "/api/auth/me"]);
    expect(header(0, "X-CSRF-Token")).toBe("csrf-1");
    expect(auth(1)).toBe("Bearer access-9");
  });

  it("has no session to resume without the session cookie", () => {
    const { client } = setup(() => json(200, {}));
    expect(client.hasSession).toBe(false);
  });

  it("ends the session when the refresh is refused, and says so", async () => {
    const { client, cookies } = setup((url) =>
      url === "/api/auth/refresh"
        ? json(401, { error: { code: "refresh_token_reused", message: "Reused.", details: null } })
        : expired(),
    );
    const ended = vi.fn();
    client.onSessionEnd(ended);
    signIn(client, cookies);

    const error = await client.request("GET", "/api/accounts").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).sessionEnded).toBe(true);
    expect(ended).toHaveBeenCalledTimes(1);
    expect(client.hasSession).toBe(false);
    expect(cookies.has(CSRF_COOKIE)).toBe(false);
  });

  it("keeps the session when the refresh fails for a passing reason (rate limit)", async () => {
    const { client, cookies } = setup((url) =>
      url === "/api/auth/refresh" ? json(429, { error: { code: "rate_limited", message: "Slow down.", details: null } }) : expired(),
    );
    const ended = vi.fn();
    client.onSessionEnd(ended);
    signIn(client, cookies);
    const error = (await client.request("GET", "/api/accounts").catch((e: unknown) => e)) as ApiError;
    expect(error.code).toBe("rate_limited");
    expect(ended).not.toHaveBeenCalled();
    expect(client.csrfToken).toBe("csrf-1");
  });

  it("does not refresh for sign-in calls, and passes their errors on", async () => {
    const { client, fetchMock } = setup(() =>
      json(401, { error: { code: "invalid_credentials", message: "Wrong email or password.", details: null } }),
    );
    const error = (await client
      .request("POST", "/api/auth/login", { body: { email: "a@b.c", password: "x" }, auth: false })
      .catch((e: unknown) => e)) as ApiError;
    expect(error.code).toBe("invalid_credentials");
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect((fetchMock.mock.calls[0][1]?.headers as Record<string, string>).Authorization).toBeUndefined();
  });

  it("signs out with a given token after the session was forgotten: no refresh, nothing stored again", async () => {
    const { client, fetchMock, auth, cookies } = setup(() => expired());
    signIn(client, cookies);
    const ended = vi.fn();
    client.onSessionEnd(ended);
    const access = client.accessToken!;
    client.clearSession();

    const error = (await client.request("POST", "/api/auth/logout", { bearer: access }).catch((e: unknown) => e)) as ApiError;

    expect(error.status).toBe(401);
    expect(fetchMock.mock.calls.map((c) => String(c[0]))).toEqual(["/api/auth/logout"]);
    expect(auth(0)).toBe("Bearer access-1");
    expect(ended).not.toHaveBeenCalled();
    expect(localStorage.getItem(SESSION_KEY)).toBeNull();
  });

  it("signs out by the session cookie when no access token is left (CSRF header, no refresh)", async () => {
    const { client, fetchMock, auth, header } = setup(() => json(204, null), { [CSRF_COOKIE]: "csrf-1" });
    const csrf = client.csrfToken!;
    client.clearSession();
    await client.request("POST", "/api/auth/logout", { csrf });
    expect(fetchMock.mock.calls.map((c) => String(c[0]))).toEqual(["/api/auth/logout"]);
    expect(header(0, "X-CSRF-Token")).toBe("csrf-1");
    expect(auth(0)).toBeUndefined();
  });
});

describe("ApiClient requests", () => {
  it("sends the workspace header, JSON bodies, and handles 204", async () => {
    const { client, fetchMock } = setup(() => json(204, null));
    client.startSession({ access_token: "a" });
    client.workspaceId = 7;
    const answer = await client.request("PATCH", "/api/accounts/{account_id}", { params: { account_id: 3 }, body: { name: "x" } });
    expect(answer).toBeUndefined();
    const [url, init] = fetchMock.mock.calls[0];
    expect(url).toBe("/api/accounts/3");
    const headers = init?.headers as Record<string, string>;
    expect(headers["X-Workspace-Id"]).toBe("7");
    expect(headers["Content-Type"]).toBe("application/json");
    expect(init?.body).toBe('{"name":"x"}');
  });

  it("turns a network failure into a network_error ApiError", async () => {
    const { client } = setup(() => {
      throw new TypeError("Failed to fetch");
    });
    const error = (await client.request("GET", "/api/auth/registration", { auth: false }).catch((e: unknown) => e)) as ApiError;
    expect(error.code).toBe("network_error");
  });

  it("refuses routes that are not in routes.json before fetching", async () => {
    const { client, fetchMock } = setup(() => json(200, {}));
    await expect(client.request("GET", "/api/secret")).rejects.toThrow(/routes.json/);
    expect(fetchMock).not.toHaveBeenCalled();
  });
});
