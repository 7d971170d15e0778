import { memo, useEffect, useMemo, useRef, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { Button } from "react-aria-components";
import type { Ticket, User } from "../api/client";
import { keys, useTicketList, useUsers } from "../api/queries";
import { PRIORITIES, ago, priorityLabel } from "../lib/format";
import { Link, navigate, useLocation } from "../lib/router";
import { useShortcuts } from "../lib/shortcuts";
import { usePendingUpdates } from "../lib/live";
import { SLABadge, StatusBadge } from "../components/Badges";
import { ErrorNote } from "../components/ErrorNote";
import { UpdatesBanner } from "../components/UpdatesBanner";
import { VIEWS, inboxQuery } from "./views";

/** Inbox is the agent's list of saved views; the URL holds every filter, so any view can be shared. */
export function Inbox() {
  const { search } = useLocation();
  const { view, query } = inboxQuery(search);
  const list = useTicketList(query);
  const users = useUsers(true);
  const qc = useQueryClient();
  const byId = useMemo(() => new Map((users.data ?? []).map((u) => [u.id, u])), [users.data]);
  const items = list.data?.items ?? [];
  const [sel, setSel] = useState(0);
  const searchRef = useRef<HTMLInputElement>(null);
  const updates = usePendingUpdates(() => true);
  useEffect(() => setSel(0), [search.toString()]);

  const href = (patch: Record<string, string | null>) => {
    const p = new URLSearchParams(search);
    for (const [k, v] of Object.entries(patch)) {
      if (v) p.set(k, v);
      else p.delete(k);
    }
    return `/inbox?${p}`;
  };
  const open = (t?: Ticket) => t && navigate(`/tickets/${t.id}`);
  useShortcuts({
    j: () => setSel((i) => Math.min(i + 1, items.length - 1)),
    k: () => setSel((i) => Math.max(i - 1, 0)),
    o: () => open(items[sel]),
    Enter: () => open(items[sel]),
    "/": () => searchRef.current?.focus(),
  });
  useEffect(() => {
    document.getElementById(`row-${sel}`)?.scrollIntoView?.({ block: "nearest" });
  }, [sel]);

  const title = VIEWS.find((v) => v.id === view)!.label;
  return (
    <main id="main" className="inbox">
      <nav aria-label="Views" className="views">
        <ul>
          {VIEWS.map((v) => (
            <li key={v.id}>
              <Link href={`/inbox?view=${v.id}`} aria-current={v.id === view ? "page" : undefined}>{v.label}</Link>
            </li>
          ))}
        </ul>
      </nav>
      <div className="inbox-body">
        <div className="page-head">
          <h1>{title}</h1>
          <span className="total" aria-live="polite">
            {list.data?.total != null ? `${list.data.total} ${list.data.total === 1 ? "ticket" : "tickets"}` : ""}
          </span>
        </div>
        <form className="filters" role="search" onSubmit={(e) => { e.preventDefault(); navigate(href({ q: searchRef.current?.value.trim() ?? "" })); }}>
          <label>Search <input ref={searchRef} type="search" name="q" defaultValue={search.get("q") ?? ""} key={search.get("q") ?? ""} /></label>
          <label>
            Priority{" "}
            <select value={search.get("priority") ?? ""} onChange={(e) => navigate(href({ priority: e.target.value }))}>
              <option value="">Any</option>
              {PRIORITIES.map((p) => <option key={p} value={p}>{priorityLabel(p)}</option>)}
            </select>
          </label>
          <Button type="submit" className="button">Search</Button>
        </form>
        <UpdatesBanner count={updates.count} onShow={() => { updates.clear(); void qc.invalidateQueries({ queryKey: keys.tickets }); }} />
        <ErrorNote error={list.error} />
        {list.isPending ? (
          <p role="status">Loading…</p>
        ) : items.length === 0 ? (
          <p>No tickets in this view.</p>
        ) : (
          <table className="inbox-table">
            <caption className="visually-hidden">{title}: j and k move, o or Enter opens</caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Subject</th>
                <th scope="col">Customer</th>
                <th scope="col">Status</th>
                <th scope="col">Priority</th>
                <th scope="col">SLA</th>
                <th scope="col">Assignee</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {items.map((t, i) => (
                <Row key={t.id} t={t} i={i} selected={i === sel} users={byId} />
              ))}
            </tbody>
          </table>
        )}
      </div>
    </main>
  );
}

const Row = memo(function Row({ t, i, selected, users }: { t: Ticket; i: number; selected: boolean; users: Map<string, User> }) {
  return (
    <tr id={`row-${i}`} className={selected ? "selected" : undefined} aria-current={selected ? "true" : undefined}>
      <td className="num">{t.number}</td>
      <td><Link href={`/tickets/${t.id}`}>{t.subject}</Link></td>
      <td>{users.get(t.customer_id)?.name ?? "…"}</td>
      <td><StatusBadge status={t.status} /></td>
      <td className={`prio prio-${t.priority}`}>{priorityLabel(t.priority)}</td>
      <td><SLABadge ticket={t} /></td>
      <td>{t.assignee_id ? users.get(t.assignee_id)?.name ?? "…" : <span className="muted">Unassigned</span>}</td>
      <td><time dateTime={t.updated_at}>{ago(t.updated_at)}</time></td>
    </tr>
  );
});
