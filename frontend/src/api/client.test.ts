import { describe, expect, it, vi } from "vitest";
import { ApiClient, REFRESH_KEY } from "./client";
import { ApiError } from "./errors";

type Handler = (url: string, init: RequestInit) => Response | Promise<Response>;

const json = (status: number, body: unknown) =>
  new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

const expired = () => json(401, { error: { code: "token_expired", message: "The token has expired.", details: null } });

function setup(handler: Handler) {
  const fetchMock = vi.fn((input: RequestInfo | URL, init?: RequestInit) => Promise.resolve(handler(String(input), init ?? {})));
  const client = new ApiClient({ fetch: fetchMock as unknown as typeof fetch, storage: localStorage, locks: null });
  const auth = (i: number) => (fetchMock.mock.calls[i][1]?.headers as Record<string, string>).Authorization;
  return { client, fetchMock, auth };
}

describe("ApiClient token refresh", () => {
  it("refreshes once on 401 and retries the request with the new access token", async () => {
    const { client, fetchMock, auth } = setup((url, init) => {
      const token = (init.headers as Record<string, string>).Authorization;
      if (url === "/api/auth/refresh") {
        expect(token).toBe("Bearer refresh-1");
        return json(200, { access_token: "access-2", refresh_token: "refresh-2", expires_in: 900 });
      }
      return token === "Bearer access-2" ? json(200, { items: [{ id: 1 }] }) : expired();
    });
    client.startSession({ access_token: "access-1", refresh_token: "refresh-1" });

    const answer = await client.request<{ items: { id: number }[] }>("GET", "/api/accounts");

    expect(answer.items[0].id).toBe(1);
    expect(fetchMock.mock.calls.map((c) => String(c[0]))).toEqual(["/api/accounts", "/api/auth/refresh", "/api/accounts"]);
    expect(auth(0)).toBe("Bearer access-1");
    expect(auth(2)).toBe("Bearer access-2");
    expect(fetchMock.mock.calls[1][1]?.method).toBe("POST");
    expect(localStorage.getItem(REFRESH_KEY)).toBe("refresh-2");
    expect(client.accessToken).toBe("access-2");
  });

  it("shares one refresh between concurrent requests (each refresh token works once)", async () => {
    let refreshes = 0;
    const { client } = setup((url, init) => {
      if (url === "/api/auth/refresh") {
        refreshes += 1;
        return json(200, { access_token: "access-2", refresh_token: "refresh-2", expires_in: 900 });
      }
      const token = (init.headers as Record<string, string>).Authorization;
      return token === "Bearer access-2" ? json(200, { ok: url }) : expired();
    });
    client.startSession({ access_token: "access-1", refresh_token: "refresh-1" });
    const answers = await Promise.all([
      client.request("GET", "/api/accounts"),
      client.request("GET", "/api/budgets"),
      client.request("GET", "/api/auth/me"),
    ]);
    expect(answers).toHaveLength(3);
    expect(refreshes).toBe(1);
  });

  it("gets an access token from the stored refresh token first after a reload", async () => {
    localStorage.setItem(REFRESH_KEY, "refresh-1");
    const { client, fetchMock, auth } = setup((url) =>
      url === "/api/auth/refresh"
        ? json(200, { access_token: "access-9", refresh_token: "refresh-9", expires_in: 900 })
        : json(200, { user: {}, workspaces: [] }),
    );
    await client.request("GET", "/api/auth/me");
    expect(fetchMock.mock.calls.map((c) => String(c[0]))).toEqual(["/api/auth/refresh", "/api/auth/me"]);
    expect(auth(1)).toBe("Bearer access-9");
  });

  it("ends the session when the refresh token is refused, and says so", async () => {
    const { client } = setup((url) =>
      url === "/api/auth/refresh"
        ? json(401, { error: { code: "refresh_token_reused", message: "Reused.", details: null } })
        : expired(),
    );
    const ended = vi.fn();
    client.onSessionEnd(ended);
    client.startSession({ access_token: "access-1", refresh_token: "refresh-1" });

    const error = await client.request("GET", "/api/accounts").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).sessionEnded).toBe(true);
    expect(ended).toHaveBeenCalledTimes(1);
    expect(client.hasSession).toBe(false);
    expect(localStorage.getItem(REFRESH_KEY)).toBeNull();
  });

  it("keeps the session when the refresh fails for a passing reason (rate limit)", async () => {
    const { client } = setup((url) =>
      url === "/api/auth/refresh" ? json(429, { error: { code: "rate_limited", message: "Slow down.", details: null } }) : expired(),
    );
    const ended = vi.fn();
    client.onSessionEnd(ended);
    client.startSession({ access_token: "access-1", refresh_token: "refresh-1" });
    const error = (await client.request("GET", "/api/accounts").catch((e: unknown) => e)) as ApiError;
    expect(error.code).toBe("rate_limited");
    expect(ended).not.toHaveBeenCalled();
    expect(localStorage.getItem(REFRESH_KEY)).toBe("refresh-1");
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
    const { client, fetchMock, auth } = setup(() => expired());
    client.startSession({ access_token: "access-1", refresh_token: "refresh-1" });
    const ended = vi.fn();
    client.onSessionEnd(ended);
    const access = client.accessToken!;
    client.clearSession();

    const error = (await client.request("POST", "/api/auth/logout", { bearer: access }).catch((e: unknown) => e)) as ApiError;

    expect(error.status).toBe(401);
    expect(fetchMock.mock.calls.map((c) => String(c[0]))).toEqual(["/api/auth/logout"]);
    expect(auth(0)).toBe("Bearer access-1");
    expect(ended).not.toHaveBeenCalled();
    expect(localStorage.getItem(REFRESH_KEY)).toBeNull();
  });
});

describe("ApiClient requests", () => {
  it("sends the workspace header, JSON bodies, and handles 204", async () => {
    const { client, fetchMock } = setup(() => json(204, null));
    client.startSession({ access_token: "a", refresh_token: "r" });
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
