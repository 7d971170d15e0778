// Live updates: one /api/v1/stream per signed-in tab, fanned out to the
// screens that care.
import { useEffect, useRef, useState } from "react";
import { getToken } from "../api/client";
import { stream } from "./sse";

export type TicketChanged = { id: string; version: number; status: string };
type Listener = (c: TicketChanged) => void;
const listeners = new Set<Listener>();

export function onTicketChanged(fn: Listener) {
  listeners.add(fn);
  return () => void listeners.delete(fn);
}

/** useChangeStream keeps the tab's ticket.changed stream open while signed in. */
export function useChangeStream(enabled: boolean) {
  useEffect(() => {
    if (!enabled) return;
    const ctl = new AbortController();
    void stream({
      path: "/api/v1/stream",
      token: getToken,
      signal: ctl.signal,
      onMessage: (m) => {
        if (m.event !== "ticket.changed") return;
        try {
          const c = JSON.parse(m.data) as TicketChanged;
          listeners.forEach((l) => l(c));
        } catch {
          /* ignore a malformed message */
        }
      },
    });
    return () => ctl.abort();
  }, [enabled]);
}

/**
 * usePendingUpdates counts tickets that changed since the list was last
 * shown, so the list never reshuffles under the user: they choose when
 * to apply ("3 updates – show").
 */
export function usePendingUpdates(relevant: (c: TicketChanged) => boolean) {
  const [ids, setIds] = useState<Set<string>>(() => new Set());
  const rel = useRef(relevant);
  rel.current = relevant;
  useEffect(
    () =>
      onTicketChanged((c) => {
        if (rel.current(c)) setIds((s) => (s.has(c.id) ? s : new Set(s).add(c.id)));
      }),
    [],
  );
  return { count: ids.size, clear: () => setIds(new Set()) };
}
