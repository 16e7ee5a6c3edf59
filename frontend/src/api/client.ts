// A small typed fetch wrapper for the Spendwatch API.
//
// - The access token lives in memory only. The refresh token never reaches this code: the server keeps it in an
//   HttpOnly cookie on /api/auth. Next to it sits a readable CSRF cookie; its presence says "there is a session
//   to resume" after a reload (or a deep link), and its value goes into the X-CSRF-Token header of the refresh.
// - Requests carry "Authorization: Bearer <access token>" and the selected workspace as X-Workspace-Id.
// - A 401 is answered by one refresh (POST /api/auth/refresh: the cookie plus the CSRF header, as docs/api.md
//   describes) and one retry. Refreshes are shared by concurrent requests and, where the Web Locks API exists,
//   serialised across tabs: each refresh token works only once.
// - localStorage holds no token, only a marker that tells other tabs about sign-in and sign-out.
// - Failures become ApiError, with validation details by field.
import { ApiError, errorFromResponse, networkError } from "./errors";
import { buildUrl, type Method, type PathParams, type Query } from "./routes";
import type { Tokens } from "./types";

/** A non-secret marker in localStorage: changed on sign-in, removed on sign-out (other tabs follow). */
export const SESSION_KEY = "spendwatch.session";
/** The readable cookie holding the refresh token's CSRF value (docs/security/web.md). */
export const CSRF_COOKIE = "spendwatch_csrf";
export const CSRF_HEADER = "X-CSRF-Token";
export const WORKSPACE_KEY = "spendwatch.workspace_id";
const LOCK_NAME = "spendwatch-token-refresh";

export interface RequestOptions {
  params?: PathParams;
  query?: Query;
  body?: unknown;
  /** Send the access token (default true). Sign-in and sign-up calls pass false. */
  auth?: boolean;
  /** Send this access token as it is: no refresh, and a 401 does not end the session (sign-out sends the token of
   * a session already forgotten locally). */
  bearer?: string;
  /** Send this CSRF value (sign-out by the session cookie, when no access token is left). */
  csrf?: string;
  signal?: AbortSignal;
}

interface LockLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/** Read and delete the cookies scripts may see. */
export interface CookieJar {
  get(name: string): string | null;
  remove(name: string): void;
}

export const documentCookies: CookieJar = {
  get(name) {
    if (typeof document === "undefined") return null;
    for (const part of document.cookie.split(";")) {
      const [key, ...value] = part.trim().split("=");
      if (key === name) return decodeURIComponent(value.join("=")) || null;
    }
    return null;
  },
  remove(name) {
    if (typeof document === "undefined") return;
    // Same attributes as the server set, or the browser keeps the Secure one.
    const secure = globalThis.isSecureContext && globalThis.location?.protocol !== "http:" ? "; Secure" : "";
    document.cookie = `${name}=; Max-Age=0; Path=/; SameSite=Strict${secure}`;
  },
};

export interface ClientOptions {
  fetch?: typeof fetch;
  storage?: Storage;
  cookies?: CookieJar;
  /** The Web Locks API, or null to skip cross-tab locking. Defaults to navigator.locks when present. */
  locks?: LockLike | null;
}

type SessionEndListener = (message: string) => void;

export class ApiClient {
  private access: string | null = null;
  private refreshing: Promise<void> | null = null;
  private readonly fetchImpl: typeof fetch;
  private readonly storage: Storage;
  private readonly cookies: CookieJar;
  private readonly locks: LockLike | null;
  private listeners = new Set<SessionEndListener>();
  workspaceId: number | null = null;

  constructor(options: ClientOptions = {}) {
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.storage = options.storage ?? globalThis.localStorage;
    this.cookies = options.cookies ?? documentCookies;
    const nav = typeof navigator !== "undefined" ? (navigator as Navigator & { locks?: LockLike }) : undefined;
    this.locks = options.locks === undefined ? (nav?.locks ?? null) : options.locks;
  }

  // --- session ------------------------------------------------------------------------------

  /** The CSRF value of the session cookie, when the browser holds one (the refresh token itself is HttpOnly). */
  get csrfToken(): string | null {
    return this.cookies.get(CSRF_COOKIE);
  }

  /** True when there is an access token, or a session cookie to get one with. */
  get hasSession(): boolean {
    return Boolean(this.access || this.csrfToken);
  }

  get accessToken(): string | null {
    return this.access;
  }

  /** Keep the access token of a new sign-in (the response also set the session cookies) and tell other tabs. */
  startSession(tokens: Pick<Tokens, "access_token">): void {
    this.access = tokens.access_token;
    try {
      this.storage.setItem(SESSION_KEY, String(Date.now()));
    } catch {
      /* storage unavailable: other tabs learn of it on their next request */
    }
  }

  /** Forget the session locally (sign-out, or a session the server ended). The HttpOnly refresh cookie stays for
   * the server's sign-out to delete; without the CSRF cookie nothing here will use it. */
  clearSession(): void {
    this.access = null;
    this.cookies.remove(CSRF_COOKIE);
    try {
      this.storage.removeItem(SESSION_KEY);
    } catch {
      /* storage unavailable */
    }
  }

  /** Called with a message when the server ends the session (expired, revoked, signed out elsewhere). */
  onSessionEnd(listener: SessionEndListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private endSession(message: string): void {
    const had = this.hasSession;
    this.clearSession();
    if (had) for (const listener of this.listeners) listener(message);
  }

  // --- requests -----------------------------------------------------------------------------

  /** Call the JSON API and return the parsed answer (undefined for 204). Throws ApiError. */
  async request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options, "application/json");
    if (response.status === 204) return undefined as T;
    try {
      return (await response.json()) as T;
    } catch {
      throw new ApiError(response.status, "bad_response", "The server sent an answer that is not JSON.");
    }
  }

  /** Like request(), but returns the raw successful Response (downloads: CSV export). */
  async requestRaw(method: Method, path: string, options: RequestOptions = {}): Promise<Response> {
    return this.send(method, path, options, "*/*");
  }

  private async send(method: Method, path: string, options: RequestOptions, accept: string): Promise<Response> {
    const url = buildUrl(method, path, options.params, options.query);
    if (options.bearer !== undefined || options.csrf !== undefined) {
      const response = await this.fetchOnce(method, url, options, accept, options.bearer ?? null);
      if (response.ok) return response;
      throw await errorFromResponse(response);
    }
    const auth = options.auth ?? true;
    if (auth && !this.access && this.csrfToken) await this.refresh(null); // e.g. after a reload

    let used = auth ? this.access : null;
    let response = await this.fetchOnce(method, url, options, accept, used);
    if (response.status === 401 && auth && this.csrfToken) {
      await this.refresh(used);
      used = this.access;
      response = await this.fetchOnce(method, url, options, accept, used);
    }
    if (response.ok) return response;

    const error = await errorFromResponse(response);
    if (auth && response.status === 401) {
      this.endSession("Your session has ended. Please sign in again.");
      error.sessionEnded = true;
    }
    throw error;
  }

  private async fetchOnce(
    method: Method,
    url: string,
    options: RequestOptions,
    accept: string,
    access: string | null,
  ): Promise<Response> {
    const headers: Record<string, string> = { Accept: accept };
    const auth = options.auth ?? true;
    if (auth && access) headers.Authorization = `Bearer ${access}`;
    if (options.csrf) headers[CSRF_HEADER] = options.csrf;
    if (auth && this.workspaceId != null) headers["X-Workspace-Id"] = String(this.workspaceId);
    // A FormData body (file uploads) is sent as multipart/form-data: the browser sets its Content-Type.
    const form = typeof FormData !== "undefined" && options.body instanceof FormData;
    if (options.body !== undefined && !form) headers["Content-Type"] = "application/json";
    try {
      return await this.fetchImpl(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : form ? (options.body as FormData) : JSON.stringify(options.body),
        signal: options.signal,
        credentials: "same-origin",
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") throw error;
      if (error instanceof Error && error.name === "AbortError") throw error;
      throw networkError();
    }
  }

  /** Get a new token pair once, however many requests found the access token USED expired. */
  private refresh(used: string | null): Promise<void> {
    // Another request refreshed while ours was in flight: retrying with the new token is enough.
    if (this.access && this.access !== used) return Promise.resolve();
    if (!this.refreshing) {
      const run = () => this.exchange(used);
      const task = this.locks ? this.locks.request(LOCK_NAME, run) : run();
      this.refreshing = task.finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async exchange(used: string | null): Promise<void> {
    if (this.access && this.access !== used) return;
    // Read inside the lock: another tab may have rotated the session cookie (and its CSRF value) while we waited.
    const csrf = this.csrfToken;
    if (!csrf) {
      this.endSession("Your session has ended. Please sign in again.");
      const error = new ApiError(401, "unauthorized", "Sign in first.");
      error.sessionEnded = true;
      throw error;
    }
    let response: Response;
    try {
      response = await this.fetchImpl(buildUrl("POST", "/api/auth/refresh"), {
        method: "POST",
        headers: { Accept: "application/json", [CSRF_HEADER]: csrf },
        credentials: "same-origin",
      });
    } catch {
      throw networkError();
    }
    if (!response.ok) {
      const error = await errorFromResponse(response);
      // A rate limit or a server hiccup did not use up the refresh token: keep the session for a retry.
      if (error.status !== 429 && error.status < 500) {
        this.endSession(
          error.code === "token_expired"
            ? "Your session has expired. Please sign in again."
            : "Your session has ended. Please sign in again.",
        );
        error.sessionEnded = true;
      }
      throw error;
    }
    const data = (await response.json()) as Tokens;
    this.access = data.access_token; // the response also rotated the session cookies
  }
}

/** The app's one client. */
export const client = new ApiClient();
