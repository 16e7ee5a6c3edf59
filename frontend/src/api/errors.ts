// The API's error shape {"error": {"code", "message", "details"}} as a typed exception.

export interface ValidationDetail {
  loc: (string | number)[];
  msg: string;
  type?: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  /** Validation messages by field path ("email", "credentials.api_key", "smtp.port"). */
  readonly fieldErrors: Record<string, string[]>;
  /** Validation messages that concern the request as a whole (an empty loc). */
  readonly formErrors: string[];
  /** True when this error ended the sign-in session (the app already shows the sign-in page). */
  sessionEnded = false;

  constructor(status: number, code: string, message: string, details: unknown = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
    const { fields, form } = splitDetails(details);
    this.fieldErrors = fields;
    this.formErrors = form;
  }

  /** The messages for the field NAME: its full path first, else a detail whose last loc part matches. */
  errorsFor(name: string): string[] {
    if (this.fieldErrors[name]) return this.fieldErrors[name];
    const last = name.split(".").pop();
    const key = Object.keys(this.fieldErrors).find((k) => k.split(".").pop() === last);
    return key ? this.fieldErrors[key] : [];
  }

  get isValidation(): boolean {
    return Object.keys(this.fieldErrors).length > 0 || this.formErrors.length > 0;
  }
}

/** The field path a validation detail points at: the loc without a leading "body", joined with dots. */
export function locToField(loc: readonly (string | number)[]): string {
  const parts = loc.map(String);
  if (parts[0] === "body") parts.shift();
  return parts.join(".");
}

function splitDetails(details: unknown): { fields: Record<string, string[]>; form: string[] } {
  const fields: Record<string, string[]> = {};
  const form: string[] = [];
  if (!Array.isArray(details)) return { fields, form };
  for (const entry of details) {
    if (!entry || typeof entry !== "object") continue;
    const { loc, msg } = entry as Partial<ValidationDetail>;
    if (typeof msg !== "string") continue;
    const field = Array.isArray(loc) ? locToField(loc) : "";
    if (!field) form.push(msg);
    else (fields[field] ??= []).push(msg);
  }
  return { fields, form };
}

/** Build an ApiError from a failed response (whatever its body). */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const error = body && typeof body === "object" ? (body as { error?: unknown }).error : null;
  if (error && typeof error === "object") {
    const e = error as { code?: unknown; message?: unknown; details?: unknown };
    return new ApiError(
      response.status,
      typeof e.code === "string" ? e.code : "http_error",
      typeof e.message === "string" && e.message ? e.message : response.statusText || `HTTP ${response.status}`,
      e.details ?? null,
    );
  }
  if (response.status === 429) {
    return new ApiError(429, "rate_limited", "Too many requests. Wait a minute and try again.");
  }
  return new ApiError(response.status, "http_error", `The server answered ${response.status} ${response.statusText}.`.trim());
}

export function networkError(): ApiError {
  return new ApiError(0, "network_error", "Could not reach the Spendwatch server. Check that it is running and try again.");
}

/** A message for any thrown value, for error states. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
