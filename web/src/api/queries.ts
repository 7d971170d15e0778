// Server state: every read is a TanStack Query keyed here.
import { useInfiniteQuery, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas, type User } from "./client";
import type { paths } from "./schema";

export const keys = {
  tickets: ["tickets"] as const,
  ticketList: (params: object) => ["tickets", "list", params] as const,
  ticket: (id: string) => ["ticket", id] as const,
  events: (id: string) => ["ticket", id, "events"] as const,
  reply: (id: string, replyId: string) => ["ticket", id, "reply", replyId] as const,
  sla: (id: string) => ["ticket", id, "sla"] as const,
  time: (id: string) => ["ticket", id, "time"] as const,
  users: ["users"] as const,
  user: (id: string) => ["user", id] as const,
  categories: ["categories"] as const,
  policies: ["sla-policies"] as const,
  lifecycle: ["lifecycle"] as const,
};

export type TicketQuery = paths["/api/v1/tickets"]["get"]["parameters"]["query"];

export function useTicketList(query: TicketQuery, enabled = true) {
  return useQuery({
    queryKey: keys.ticketList(query ?? {}),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/tickets", { params: { query }, signal })),
    enabled,
    placeholderData: (prev) => prev,
  });
}

export function useTicket(id: string) {
  return useQuery({
    queryKey: keys.ticket(id),
    queryFn: async ({ signal }) => {
      const { data, error, response } = await api.GET("/api/v1/tickets/{id}", { params: { path: { id } }, signal });
      const t = await unwrap(Promise.resolve({ data, error, response }));
      return t;
    },
  });
}

/** useTimeline pages through a ticket's events, oldest first. */
export function useTimeline(id: string) {
  return useInfiniteQuery({
    queryKey: keys.events(id),
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) =>
      unwrap(api.GET("/api/v1/tickets/{id}/events", { params: { path: { id }, query: { limit: 100, cursor: pageParam } }, signal })),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}

export function useReply(ticketId: string, replyId: string, enabled: boolean) {
  return useQuery({
    queryKey: keys.reply(ticketId, replyId),
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/tickets/{id}/replies/{reply_id}", { params: { path: { id: ticketId, reply_id: replyId } }, signal })),
    enabled,
    staleTime: Infinity,
  });
}

export function useSLA(id: string) {
  return useQuery({
    queryKey: keys.sla(id),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/tickets/{id}/sla", { params: { path: { id } }, signal })),
  });
}

export function useTimeEntries(id: string, enabled: boolean) {
  return useQuery({
    queryKey: keys.time(id),
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/tickets/{id}/time-entries", { params: { path: { id }, query: { limit: 200 } }, signal })),
    enabled,
  });
}

/** useUsers lists every user (agents and admins may), a few pages at most. */
export function useUsers(enabled: boolean) {
  return useQuery({
    queryKey: keys.users,
    enabled,
    staleTime: 60_000,
    queryFn: async ({ signal }) => {
      const all: User[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 20; i++) {
        const page = await unwrap(api.GET("/api/v1/users", { params: { query: { limit: 100, cursor } }, signal }));
        all.push(...page.items);
        if (!page.next_cursor) break;
        cursor = page.next_cursor;
      }
      return all;
    },
  });
}

export function useCategories() {
  return useQuery({
    queryKey: keys.categories,
    staleTime: 60_000,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/categories", { signal })).then((r) => r.items),
  });
}

export function usePolicies() {
  return useQuery({
    queryKey: keys.policies,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/sla-policies", { signal })).then((r) => r.items),
  });
}

export function useLifecycle() {
  return useQuery({
    queryKey: keys.lifecycle,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/settings/lifecycle", { signal })),
  });
}

/** useInvalidateTicket refreshes everything shown about one ticket. */
export function useInvalidateTicket() {
  const qc = useQueryClient();
  return (id: string) => {
    qc.invalidateQueries({ queryKey: ["ticket", id] });
    qc.invalidateQueries({ queryKey: keys.tickets });
  };
}

export type Author = Schemas["Author"];
