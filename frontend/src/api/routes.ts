// Every URL the client requests is built here, from routes.json: the single list of (method, path)
// pairs the web app uses. tests/test_frontend_routes.py checks that list against /api/openapi.json.
import routeList from "./routes.json";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
export type QueryValue = string | number | boolean | null | undefined;
export type Query = Record<string, QueryValue | QueryValue[]>;
export type PathParams = Record<string, string | number>;

export interface Route {
  method: Method;
  path: string;
}

export const ROUTES: readonly Route[] = routeList as Route[];

const known = new Set(ROUTES.map((r) => `${r.method} ${r.path}`));

export class UnknownRouteError extends Error {
  constructor(method: string, path: string) {
    super(`${method} ${path} is not in src/api/routes.json`);
    this.name = "UnknownRouteError";
  }
}

export function isKnownRoute(method: string, path: string): boolean {
  return known.has(`${method} ${path}`);
}

/**
 * The URL for METHOD and the OpenAPI path template PATH (e.g. "/api/accounts/{account_id}"), with
 * path parameters filled in (percent-encoded) and QUERY appended. Null, undefined and "" query
 * values are left out; arrays are joined with commas (as group_by expects).
 */
export function buildUrl(method: Method, path: string, params: PathParams = {}, query: Query = {}): string {
  if (!isKnownRoute(method, path)) throw new UnknownRouteError(method, path);
  const used = new Set<string>();
  const filled = path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const value = params[name];
    if (value === undefined || value === null || value === "") {
      throw new Error(`Missing path parameter "${name}" for ${method} ${path}`);
    }
    used.add(name);
    return encodeURIComponent(String(value));
  });
  const extra = Object.keys(params).filter((name) => !used.has(name));
  if (extra.length) throw new Error(`Unknown path parameter(s) ${extra.join(", ")} for ${method} ${path}`);

  const search = new URLSearchParams();
  for (const [key, raw] of Object.entries(query)) {
    const value = Array.isArray(raw) ? raw.filter((v) => v !== null && v !== undefined && v !== "").join(",") : raw;
    if (value === null || value === undefined || value === "") continue;
    search.append(key, String(value));
  }
  const qs = search.toString();
  return qs ? `${filled}?${qs}` : filled;
}
