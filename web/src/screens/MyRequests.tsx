import { useRef } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { Button } from "react-aria-components";
import { useTicketList, keys } from "../api/queries";
import type { Status } from "../api/client";
import { STATUSES, ago, statusLabel } from "../lib/format";
import { Link, navigate, useLocation } from "../lib/router";
import { useShortcuts } from "../lib/shortcuts";
import { usePendingUpdates } from "../lib/live";
import { StatusBadge } from "../components/Badges";
import { ErrorNote } from "../components/ErrorNote";
import { UpdatesBanner } from "../components/UpdatesBanner";

export function MyRequests() {
  const { search } = useLocation();
  const status = search.get("status") ?? "";
  const q = search.get("q") ?? "";
  const searchRef = useRef<HTMLInputElement>(null);
  const qc = useQueryClient();
  const list = useTicketList({ status: status ? [status as Status] : undefined, q: q || undefined, sort: "-updated_at", limit: 100 });
  const items = list.data?.items ?? [];
  const updates = usePendingUpdates(() => true);
  useShortcuts({ "/": () => searchRef.current?.focus() });

  const setParam = (k: string, v: string) => {
    const p = new URLSearchParams(search);
    if (v) p.set(k, v);
    else p.delete(k);
    navigate(`/requests${p.size ? `?${p}` : ""}`, { replace: true });
  };

  return (
    <main id="main">
      <div className="page-head">
        <h1>My requests</h1>
        <Link className="button primary" href="/requests/new">New request</Link>
      </div>
      <form className="filters" role="search" onSubmit={(e) => { e.preventDefault(); setParam("q", searchRef.current?.value.trim() ?? ""); }}>
        <label>
          Status{" "}
          <select value={status} onChange={(e) => setParam("status", e.target.value)}>
            <option value="">All</option>
            {STATUSES.map((s: Status) => (
              <option key={s} value={s}>{statusLabel(s, true)}</option>
            ))}
          </select>
        </label>
        <label>
          Search <input ref={searchRef} type="search" defaultValue={q} key={q} name="q" />
        </label>
        <Button type="submit" className="button">Search</Button>
      </form>
      <UpdatesBanner count={updates.count} onShow={() => { updates.clear(); void qc.invalidateQueries({ queryKey: keys.tickets }); }} />
      <ErrorNote error={list.error} />
      {list.isPending ? (
        <p role="status">Loading…</p>
      ) : items.length === 0 ? (
        <p>No requests{status || q ? " match" : " yet"}.</p>
      ) : (
        <ul className="request-list">
          {items.map((t) => (
            <li key={t.id}>
              <Link href={`/requests/${t.id}`}>
                <span className="num">#{t.number}</span> {t.subject}
              </Link>
              <StatusBadge status={t.status} customer />
              <span className="muted">Updated {ago(t.updated_at)}</span>
            </li>
          ))}
        </ul>
      )}
    </main>
  );
}
