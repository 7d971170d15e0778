import type { Priority, Status, Ticket } from "../api/client";

export const STATUSES: Status[] = ["new", "open", "in_progress", "pending", "on_hold", "resolved", "closed"];
export const OPEN_STATUSES: Status[] = ["new", "open", "in_progress", "pending", "on_hold"];
export const PRIORITIES: Priority[] = ["low", "normal", "high", "urgent"];

const agentWords: Record<Status, string> = {
  new: "New",
  open: "Open",
  in_progress: "In progress",
  pending: "Pending",
  on_hold: "On hold",
  resolved: "Resolved",
  closed: "Closed",
};

// What a customer reads: what the status means for them.
const customerWords: Record<Status, string> = {
  new: "Received",
  open: "Open",
  in_progress: "Being worked on",
  pending: "Waiting for your reply",
  on_hold: "On hold",
  resolved: "Solved – reply to reopen",
  closed: "Closed",
};

export function statusLabel(s: Status, forCustomer: boolean) {
  return (forCustomer ? customerWords : agentWords)[s];
}

export function priorityLabel(p: Priority) {
  return p[0].toUpperCase() + p.slice(1);
}

/** duration renders seconds as "40m", "2h", "3d" (the largest whole unit, two for mixed hours). */
export function duration(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 && h < 10 ? `${h}h ${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 && d < 3 ? `${d}d ${h % 24}h` : `${d}d`;
}

export type SLABadge = { kind: "due" | "overdue" | "paused" | "met" | "none"; text: string; icon: "clock" | "warning" | "pause" | "check" | "dash" };

/** slaBadge is the one most urgent clock of a ticket, in words and an icon (never colour alone). */
export function slaBadge(t: Pick<Ticket, "sla" | "status">, now: number): SLABadge {
  const sla = t.sla;
  if (!sla) return { kind: "none", text: "No SLA", icon: "dash" };
  const clocks = [sla.first_response, sla.resolution];
  const breached = clocks.find((c) => c.state === "breached" || (c.state === "running" && c.due_at && Date.parse(c.due_at) < now));
  if (breached) {
    const over = breached.due_at ? (now - Date.parse(breached.due_at)) / 1000 : 0;
    return { kind: "overdue", text: over > 0 ? `Overdue ${duration(over)}` : "Overdue", icon: "warning" };
  }
  const running = clocks
    .filter((c) => c.state === "running" && c.due_at)
    .sort((a, b) => Date.parse(a.due_at!) - Date.parse(b.due_at!))[0];
  if (running) return { kind: "due", text: `Due in ${duration((Date.parse(running.due_at!) - now) / 1000)}`, icon: "clock" };
  if (clocks.some((c) => c.state === "paused")) return { kind: "paused", text: "Paused", icon: "pause" };
  if (clocks.every((c) => c.state === "met")) return { kind: "met", text: "Met", icon: "check" };
  return { kind: "none", text: "No SLA", icon: "dash" };
}

const rtf = typeof Intl !== "undefined" ? new Intl.RelativeTimeFormat("en", { numeric: "auto" }) : null;

export function ago(iso: string, now = Date.now()): string {
  const s = (Date.parse(iso) - now) / 1000;
  const abs = Math.abs(s);
  if (!rtf) return iso;
  if (abs < 60) return rtf.format(Math.round(s), "second");
  if (abs < 3600) return rtf.format(Math.round(s / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(s / 3600), "hour");
  return rtf.format(Math.round(s / 86400), "day");
}

export function dateTime(iso: string) {
  return new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
}
