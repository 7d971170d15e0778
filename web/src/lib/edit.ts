// Edits to a ticket send If-Match with the version the user saw; a 412
// becomes an explanation of what changed in between.
import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, ApiError, etag, unwrap, type Ticket, type User } from "../api/client";
import { keys } from "../api/queries";
import { priorityLabel, statusLabel } from "./format";

export type Edit =
  | { kind: "status"; status: Ticket["status"]; reason?: string }
  | { kind: "assign"; assignee_id: string | null }
  | { kind: "patch"; body: { priority?: Ticket["priority"]; category_id?: string | null; subject?: string; description?: string } };

export type Conflict = { changes: string[]; by: string | null };

/** diffTickets lists, in words, what differs between the ticket a user saw and the current one. */
export function diffTickets(before: Ticket, after: Ticket, names: (id: string | null) => string): string[] {
  const out: string[] = [];
  if (before.status !== after.status) out.push(`status ${statusLabel(before.status, false)} → ${statusLabel(after.status, false)}`);
  if (before.priority !== after.priority) out.push(`priority ${priorityLabel(before.priority)} → ${priorityLabel(after.priority)}`);
  if (before.assignee_id !== after.assignee_id) out.push(`assignee ${names(before.assignee_id)} → ${names(after.assignee_id)}`);
  if (before.category_id !== after.category_id) out.push("category");
  if (before.subject !== after.subject) out.push(`subject “${before.subject}” → “${after.subject}”`);
  if (before.description !== after.description) out.push("description");
  if (out.length === 0 && after.version !== before.version) out.push("a reply, note or time entry was added");
  return out;
}

export function useTicketEdit(ticket: Ticket | undefined, users?: Map<string, User>) {
  const qc = useQueryClient();
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const names = (id: string | null) => (id ? users?.get(id)?.name ?? "someone" : "nobody");
  const m = useMutation({
    mutationFn: async (e: Edit) => {
      if (!ticket) throw new Error("no ticket");
      const path = { id: ticket.id };
      const headers = { "If-Match": etag(ticket.version) };
      switch (e.kind) {
        case "status":
          return unwrap(api.POST("/api/v1/tickets/{id}/status", { params: { path }, headers, body: { status: e.status, ...(e.reason ? { reason: e.reason } : {}) } }));
        case "assign":
          return unwrap(api.POST("/api/v1/tickets/{id}/assign", { params: { path }, headers, body: { assignee_id: e.assignee_id } }));
        case "patch":
          return unwrap(api.PATCH("/api/v1/tickets/{id}", { params: { path }, headers, body: e.body }));
      }
    },
    onMutate: () => setConflict(null),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ["ticket", ticket!.id] });
      void qc.invalidateQueries({ queryKey: keys.tickets });
    },
    onError: async (err) => {
      if (!(err instanceof ApiError) || err.status !== 412 || !ticket) return;
      const seen = ticket;
      const fresh = await unwrap(api.GET("/api/v1/tickets/{id}", { params: { path: { id: seen.id } } })).catch(() => null);
      if (!fresh) return;
      setConflict({ changes: diffTickets(seen, fresh, names), by: fresh.updated_by ? names(fresh.updated_by) : null });
      qc.setQueryData(keys.ticket(seen.id), fresh);
      void qc.invalidateQueries({ queryKey: keys.events(seen.id) });
    },
  });
  return { ...m, conflict, dismissConflict: () => setConflict(null) };
}
