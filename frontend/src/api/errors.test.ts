import { describe, expect, it } from "vitest";
import { ApiError, errorFromResponse, locToField } from "./errors";

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

describe("errorFromResponse", () => {
  it("turns validation details into field errors by loc", async () => {
    const error = await errorFromResponse(
      json(422, {
        error: {
          code: "validation_error",
          message: "The request is not valid.",
          details: [
            { loc: ["email"], msg: "String should match pattern", type: "string_pattern_mismatch" },
            { loc: ["body", "credentials", "api_key"], msg: "Field required", type: "missing" },
            { loc: ["smtp", "port"], msg: "Input should be less than or equal to 65535", type: "less_than_equal" },
            { loc: ["smtp", "port"], msg: "second problem", type: "x" },
            { loc: [], msg: "Body must be a JSON object", type: "x" },
          ],
        },
      }),
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(422);
    expect(error.code).toBe("validation_error");
    expect(error.message).toBe("The request is not valid.");
    expect(error.fieldErrors).toEqual({
      email: ["String should match pattern"],
      "credentials.api_key": ["Field required"],
      "smtp.port": ["Input should be less than or equal to 65535", "second problem"],
    });
    expect(error.formErrors).toEqual(["Body must be a JSON object"]);
    expect(error.isValidation).toBe(true);
  });

  it("finds a field by its full path, else by the last part of the loc", async () => {
    const error = await errorFromResponse(
      json(422, { error: { code: "invalid", message: "Bad.", details: [{ loc: ["credentials", "api_key"], msg: "wrong key" }] } }),
    );
    expect(error.errorsFor("credentials.api_key")).toEqual(["wrong key"]);
    expect(error.errorsFor("api_key")).toEqual(["wrong key"]);
    expect(error.errorsFor("email")).toEqual([]);
  });

  it("keeps non-list details as they are, without field errors", async () => {
    const error = await errorFromResponse(
      json(422, { error: { code: "unknown_provider", message: "Unknown provider.", details: { known: ["demo"] } } }),
    );
    expect(error.details).toEqual({ known: ["demo"] });
    expect(error.fieldErrors).toEqual({});
    expect(error.isValidation).toBe(false);
  });

  it("copes with answers that are not the API's JSON", async () => {
    const limited = await errorFromResponse(new Response("slow down", { status: 429 }));
    expect(limited.code).toBe("rate_limited");
    const broken = await errorFromResponse(new Response("<html>", { status: 502, statusText: "Bad Gateway" }));
    expect(broken.code).toBe("http_error");
    expect(broken.message).toContain("502");
  });
});

describe("locToField", () => {
  it("drops a leading body and joins with dots", () => {
    expect(locToField(["body", "smtp", "port"])).toBe("smtp.port");
    expect(locToField(["items", 3, "cost"])).toBe("items.3.cost");
    expect(locToField([])).toBe("");
  });
});
