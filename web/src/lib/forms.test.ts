import { ApiError, describeError, parseRetryAfter } from "../api/client";
import { applyServerErrors, createTicketSchema, timeEntrySchema } from "./forms";

describe("applyServerErrors", () => {
  it("maps a 422's errors[] onto fields, aliases included, and reports the rest", () => {
    const err = new ApiError(422, { status: 422, errors: [{ field: "subject", message: "too long" }, { field: "first_response_seconds", message: "must be positive" }, { field: "other", message: "bad" }] }, "req-1", null);
    const set: [string, string][] = [];
    const rest = applyServerErrors(err, (name, e) => set.push([String(name), String(e.message)]), ["subject", "first_response_minutes"], { first_response_seconds: "first_response_minutes" });
    expect(set).toEqual([["subject", "too long"], ["first_response_minutes", "must be positive"]]);
    expect(rest).toBe("other: bad");
  });
  it("describes other errors, saying a 503 wrote nothing", () => {
    const msg = applyServerErrors(new ApiError(503, null, "r", null), () => {}, []);
    expect(msg).toMatch(/Nothing was written/);
  });
});

describe("describeError", () => {
  it("honours Retry-After in words", () => {
    expect(describeError(new ApiError(429, null, null, 7))).toBe("Too many requests. Try again in 7 s.");
  });
  it("reads Retry-After as seconds or a date", () => {
    expect(parseRetryAfter("12")).toBe(12);
    expect(parseRetryAfter(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThanOrEqual(4);
    expect(parseRetryAfter(null)).toBeNull();
  });
});

describe("schemas", () => {
  it("reject blank subjects and accept a good ticket", () => {
    expect(createTicketSchema.safeParse({ subject: "  ", description: "x", priority: "normal" }).success).toBe(false);
    expect(createTicketSchema.safeParse({ subject: "Printer", description: "Broken", priority: "high" }).success).toBe(true);
  });
  it("coerce minutes and bound them", () => {
    expect(timeEntrySchema.safeParse({ minutes: "30", note: "" }).data?.minutes).toBe(30);
    expect(timeEntrySchema.safeParse({ minutes: "1441", note: "" }).success).toBe(false);
  });
});
