// The one API client, generated from api/openapi.yaml (see schema.d.ts).
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Ticket = Schemas["Ticket"];
export type TicketWithReplies = Schemas["TicketWithReplies"];
export type Reply = Schemas["Reply"];
export type TimelineEvent = Schemas["Event"];
export type User = Schemas["User"];
export type Status = Schemas["Status"];
export type Priority = Schemas["Priority"];
export type Problem = Schemas["Problem"];

let token: string | null = null;
let onUnauthorized: () => void = () => {};

export function setToken(t: string | null) {
  token = t;
}
export function getToken() {
  return token;
}
export function setUnauthorizedHandler(fn: () => void) {
  onUnauthorized = fn;
}

// Lists in query strings are comma-separated (status=open,pending), as the spec says.
export const api = createClient<paths>({ baseUrl: "", querySerializer: { array: { style: "form", explode: false } } });
api.use({
  onRequest({ request }) {
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
});

/** ApiError is any answer that is not 2xx, with what the user needs to know. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Partial<Problem> | null;
  readonly requestId: string | null;
  readonly retryAfter: number | null;

  constructor(status: number, problem: Partial<Problem> | null, requestId: string | null, retryAfter: number | null) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
    this.requestId = requestId;
    this.retryAfter = retryAfter;
  }

  /** fieldErrors maps a 422's errors[] by field name. */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of this.problem?.errors ?? []) out[e.field] = e.message;
    return out;
  }
}

/** parseRetryAfter reads seconds or an HTTP date. */
export function parseRetryAfter(v: string | null, now = Date.now()): number | null {
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return parseInt(v, 10);
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, Math.ceil((t - now) / 1000));
}

/** unwrap turns an openapi-fetch result into its data or an ApiError. */
export async function unwrap<T>(p: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let res: { data?: T; error?: unknown; response: Response };
  try {
    res = await p;
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    // The request never got an answer: the server is unreachable.
    throw new ApiError(0, { title: "Network error", detail: "The server could not be reached." }, null, null);
  }
  const { response } = res;
  if (response.ok) return res.data as T;
  const problem = (res.error && typeof res.error === "object" ? res.error : null) as Partial<Problem> | null;
  const err = new ApiError(
    response.status,
    problem,
    response.headers.get("X-Request-Id"),
    parseRetryAfter(response.headers.get("Retry-After")),
  );
  if (response.status === 401 && token) onUnauthorized();
  throw err;
}

/** describeError says, in words, what went wrong and what was (not) written. */
export function describeError(err: unknown): string {
  if (!(err instanceof ApiError)) return err instanceof Error ? err.message : "Something went wrong.";
  switch (err.status) {
    case 0:
      return "The server could not be reached. Nothing was sent; check your connection and try again.";
    case 503:
      return "The service is unavailable right now. Nothing was written; please try again in a moment.";
    case 429:
      return `Too many requests. Try again in ${err.retryAfter ?? 1} s.`;
    case 412:
      return "Someone else changed this ticket after you opened it. Your change was not applied.";
    case 409:
      return err.problem?.detail || "That change is not possible in the ticket's current state.";
    case 403:
      return err.problem?.detail || "You are not allowed to do that.";
    case 404:
      return "Not found, or you may not see it.";
    default:
      return err.problem?.detail || err.message;
  }
}

/** retryPolicy honours Retry-After on 429 and retries nothing else but network errors. */
export function shouldRetry(failures: number, err: unknown): boolean {
  if (!(err instanceof ApiError)) return false;
  if (err.status === 429) return failures < 3;
  return err.status === 0 && failures < 2;
}

export function retryDelay(failures: number, err: unknown): number {
  if (err instanceof ApiError && err.status === 429) return Math.max(1, err.retryAfter ?? 1) * 1000;
  return Math.min(1000 * 2 ** failures, 8000);
}

export function etag(version: number) {
  return `"${version}"`;
}
