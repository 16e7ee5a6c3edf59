import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildUrl, isKnownRoute, ROUTES, UnknownRouteError } from "./routes";

describe("buildUrl", () => {
  it("builds a plain path", () => {
    expect(buildUrl("GET", "/api/accounts")).toBe("/api/accounts");
  });

  it("fills and encodes path parameters", () => {
    expect(buildUrl("GET", "/api/accounts/{account_id}", { account_id: 42 })).toBe("/api/accounts/42");
    expect(buildUrl("GET", "/api/auth/invites/{token}", { token: "a/b c?" })).toBe("/api/auth/invites/a%2Fb%20c%3F");
  });

  it("appends the query, leaving out empty values and joining arrays", () => {
    const url = buildUrl("GET", "/api/usage/summary", {}, {
      from: "2026-11-01",
      to: "2026-11-30",
      provider: undefined,
      model: "",
      account_id: null,
      group_by: ["day", "provider"],
    });
    expect(url).toBe("/api/usage/summary?from=2026-11-01&to=2026-11-30&group_by=day%2Cprovider");
  });

  it("throws for a route that is not in routes.json", () => {
    expect(() => buildUrl("GET", "/api/nope")).toThrow(UnknownRouteError);
    // A known path with another method is unknown too.
    expect(() => buildUrl("DELETE", "/api/providers")).toThrow(/not in src\/api\/routes.json/);
  });

  it("throws for a missing or an unexpected path parameter", () => {
    expect(() => buildUrl("GET", "/api/accounts/{account_id}")).toThrow(/Missing path parameter "account_id"/);
    expect(() => buildUrl("GET", "/api/accounts", { account_id: 1 })).toThrow(/Unknown path parameter/);
  });
});

describe("routes.json", () => {
  it("has unique, well-formed entries", () => {
    const keys = ROUTES.map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const route of ROUTES) {
      expect(["GET", "POST", "PUT", "PATCH", "DELETE"]).toContain(route.method);
      expect(route.path).toMatch(/^\/api\//);
    }
  });

  it("lists every (method, path) the source code calls", () => {
    const root = join(__dirname, "..");
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (/\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name)) files.push(path);
      }
    };
    walk(root);
    const calls = files.flatMap((file) =>
      [...readFileSync(file, "utf8").matchAll(/"(GET|POST|PUT|PATCH|DELETE)",\s*"(\/api\/[^"]*)"/g)].map((m) => ({
        file,
        method: m[1],
        path: m[2],
      })),
    );
    expect(calls.length).toBeGreaterThan(10);
    const unknown = calls.filter((c) => !isKnownRoute(c.method, c.path));
    expect(unknown).toEqual([]);
  });
});
