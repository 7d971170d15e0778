import { duration, slaBadge, statusLabel } from "./format";

const now = Date.parse("2026-03-01T10:00:00Z");
const clock = (state: "running" | "paused" | "met" | "breached", due: string | null) => ({ state, due_at: due });

describe("statusLabel", () => {
  it("speaks to customers in their words", () => {
    expect(statusLabel("pending", true)).toBe("Waiting for your reply");
    expect(statusLabel("resolved", true)).toBe("Solved – reply to reopen");
    expect(statusLabel("pending", false)).toBe("Pending");
  });
});

describe("slaBadge", () => {
  const cases: [string, Parameters<typeof slaBadge>[0], string, string][] = [
    ["due soon", { status: "open", sla: { first_response: clock("running", "2026-03-01T10:40:00Z"), resolution: clock("running", "2026-03-02T10:00:00Z") } }, "Due in 40m", "due"],
    ["overdue by the clock", { status: "open", sla: { first_response: clock("running", "2026-03-01T08:00:00Z"), resolution: clock("running", "2026-03-02T10:00:00Z") } }, "Overdue 2h", "overdue"],
    ["breached", { status: "open", sla: { first_response: clock("met", null), resolution: clock("breached", "2026-03-01T09:00:00Z") } }, "Overdue 1h", "overdue"],
    ["paused", { status: "pending", sla: { first_response: clock("met", null), resolution: clock("paused", null) } }, "Paused", "paused"],
    ["met", { status: "resolved", sla: { first_response: clock("met", null), resolution: clock("met", null) } }, "Met", "met"],
    ["no sla", { status: "open", sla: null }, "No SLA", "none"],
  ];
  it.each(cases)("%s", (_, t, text, kind) => {
    const b = slaBadge(t, now);
    expect(b.text).toBe(text);
    expect(b.kind).toBe(kind);
    expect(b.icon).not.toBe("");
  });
});

describe("duration", () => {
  it.each([[59, "59s"], [2400, "40m"], [7200, "2h"], [5400, "1h 30m"], [90000, "1d 1h"], [864000, "10d"]])("%i s is %s", (s, want) => {
    expect(duration(s)).toBe(want);
  });
});
