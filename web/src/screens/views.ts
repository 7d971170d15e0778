import type { TicketQuery } from "../api/queries";
import type { Status } from "../api/client";

export type ViewId = "mine" | "unassigned" | "open" | "waiting" | "at-risk" | "resolved";

const OPEN: Status[] = ["new", "open", "in_progress", "pending", "on_hold"];

/** VIEWS are the inbox's saved views: each is a filter on GET /tickets. */
export const VIEWS: { id: ViewId; label: string; query: NonNullable<TicketQuery> }[] = [
  { id: "mine", label: "Mine", query: { assignee_id: "me", status: OPEN, sort: "-updated_at" } },
  { id: "unassigned", label: "Unassigned", query: { assignee_id: "none", status: OPEN, sort: "created_at" } },
  { id: "open", label: "All open", query: { status: OPEN, sort: "-updated_at" } },
  { id: "waiting", label: "Waiting on customer", query: { status: ["pending"], sort: "-updated_at" } },
  { id: "at-risk", label: "At risk", query: { status: OPEN, sla_state: ["warning", "breached"], sort: "sla_due_at" } },
  { id: "resolved", label: "Recently resolved", query: { status: ["resolved", "closed"], sort: "-updated_at" } },
];

/** inboxQuery is the view's filter with the URL's own filters on top. */
export function inboxQuery(search: URLSearchParams): { view: ViewId; query: NonNullable<TicketQuery> } {
  const view = (VIEWS.find((v) => v.id === search.get("view"))?.id ?? "open") as ViewId;
  const base = { ...VIEWS.find((v) => v.id === view)!.query };
  const q: Record<string, unknown> = { ...base, limit: 100, count: true };
  for (const k of ["q", "assignee_id", "category_id", "sort"]) {
    const v = search.get(k);
    if (v) q[k] = v;
  }
  for (const k of ["status", "priority", "sla_state"]) {
    const v = search.get(k);
    if (v) q[k] = v.split(",");
  }
  return { view, query: q as NonNullable<TicketQuery> };
}
