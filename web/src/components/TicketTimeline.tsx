import { useEffect, useMemo, useState } from "react";
import { useQueryClient, type InfiniteData } from "@tanstack/react-query";
import { Button } from "react-aria-components";
import { getToken, type Reply, type Status, type TimelineEvent, type User } from "../api/client";
import { keys, useReply, useTimeline } from "../api/queries";
import { dateTime, priorityLabel, statusLabel } from "../lib/format";
import { stream } from "../lib/sse";
import { ErrorNote } from "./ErrorNote";
import { Icon } from "./Icon";

type Page = { items: TimelineEvent[]; next_cursor: string | null };
type Data = Record<string, unknown>;

/**
 * TicketTimeline is one timeline of a ticket: replies, internal notes
 * (agents only, styled apart) and changes, oldest first, a page at a time,
 * with events appended live as they are recorded.
 */
export function TicketTimeline({ ticketId, replies, customer, users }: {
  ticketId: string;
  replies: Reply[];
  customer: boolean;
  users?: Map<string, User>;
}) {
  const tl = useTimeline(ticketId);
  const [showChanges, setShowChanges] = useState(true);
  const qc = useQueryClient();
  const events = useMemo(() => tl.data?.pages.flatMap((p) => p.items) ?? [], [tl.data]);
  const atEnd = tl.data != null && !tl.hasNextPage;
  const lastSeq = events.length ? events[events.length - 1].seq : null;
  const byId = useMemo(() => new Map(replies.map((r) => [r.id, r])), [replies]);

  // Live: once the last page is loaded, follow the ticket's stream from the
  // last event shown (Last-Event-ID), appending at the end: nothing moves.
  useEffect(() => {
    if (!atEnd) return;
    const ctl = new AbortController();
    void stream({
      path: `/api/v1/tickets/${ticketId}/stream`,
      token: getToken,
      signal: ctl.signal,
      lastEventId: lastSeq != null ? String(lastSeq) : null,
      onMessage: (m) => {
        if (m.event !== "timeline") return;
        let ev: TimelineEvent;
        try {
          ev = JSON.parse(m.data) as TimelineEvent;
        } catch {
          return;
        }
        qc.setQueryData<InfiniteData<Page>>(keys.events(ticketId), (old) => {
          if (!old) return old;
          if (old.pages.some((p) => p.items.some((e) => e.seq === ev.seq))) return old;
          const pages = old.pages.slice();
          const last = pages[pages.length - 1];
          pages[pages.length - 1] = { ...last, items: [...last.items, ev] };
          return { ...old, pages };
        });
        void qc.invalidateQueries({ queryKey: keys.ticket(ticketId), exact: true });
        void qc.invalidateQueries({ queryKey: keys.sla(ticketId) });
        if (ev.type === "time_logged") void qc.invalidateQueries({ queryKey: keys.time(ticketId) });
      },
    });
    return () => ctl.abort();
    // Re-subscribing on every appended event would be wasteful: lastSeq is read once per atEnd change.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [atEnd, ticketId, qc]);

  // Consecutive changes form one collapsible group between messages.
  const groups = useMemo(() => {
    const out: { kind: "reply" | "changes"; items: TimelineEvent[] }[] = [];
    for (const e of events) {
      if (e.type === "created") continue; // the description above is the opening message
      const kind = e.type === "replied" ? "reply" : "changes";
      const prev = out[out.length - 1];
      if (kind === "changes" && prev?.kind === "changes") prev.items.push(e);
      else out.push({ kind, items: [e] });
    }
    return out;
  }, [events]);

  const changeCount = groups.reduce((n, g) => (g.kind === "changes" ? n + g.items.length : n), 0);
  return (
    <section aria-label="Timeline" className="timeline">
      {changeCount > 0 && (
        <label className="check">
          <input type="checkbox" checked={showChanges} onChange={(e) => setShowChanges(e.target.checked)} /> Show status and assignment changes ({changeCount})
        </label>
      )}
      <ErrorNote error={tl.error} />
      {tl.isPending && <p role="status">Loading the conversation…</p>}
      <ol>
        {groups.map((g) =>
          g.kind === "changes" && !showChanges ? null : g.kind === "reply" ? (
            <ReplyItem key={g.items[0].id} ticketId={ticketId} ev={g.items[0]} known={byId.get(String((g.items[0].data as Data).reply_id))} customer={customer} />
          ) : (
            <li key={g.items[0].id} className="changes">
              {g.items.length === 1 ? (
                <ChangeLine e={g.items[0]} customer={customer} users={users} />
              ) : (
                <details open={g.items.length <= 3}>
                  <summary>{g.items.length} changes</summary>
                  <ul>
                    {g.items.map((e) => (
                      <li key={e.id}><ChangeLine e={e} customer={customer} users={users} /></li>
                    ))}
                  </ul>
                </details>
              )}
            </li>
          ),
        )}
      </ol>
      {tl.hasNextPage && (
        <Button className="button" onPress={() => void tl.fetchNextPage()} isDisabled={tl.isFetchingNextPage}>
          {tl.isFetchingNextPage ? "Loading…" : "Load later activity"}
        </Button>
      )}
    </section>
  );
}

function ChangeLine({ e, customer, users }: { e: TimelineEvent; customer: boolean; users?: Map<string, User> }) {
  return (
    <>
      {describe(e, customer, users)} <time dateTime={e.created_at} className="muted">{dateTime(e.created_at)}</time>
    </>
  );
}

function ReplyItem({ ticketId, ev, known, customer }: { ticketId: string; ev: TimelineEvent; known?: Reply; customer: boolean }) {
  const data = ev.data as Data;
  const replyId = String(data.reply_id ?? "");
  const fetched = useReply(ticketId, replyId, !known && replyId !== "");
  const reply = known ?? fetched.data;
  const internal = Boolean(reply?.internal ?? data.internal);
  const author = ev.author;
  const mine = author && author.role === "customer";
  return (
    <li className={`message ${internal ? "internal" : "public"} ${mine ? "from-customer" : "from-staff"}`} aria-label={internal ? "Internal note" : "Reply"}>
      <div className="message-head">
        {internal && <span className="internal-tag"><Icon name="lock" /> Internal note – customers never see this</span>}
        <strong>{author ? author.name : "ticketd"}</strong>
        {author && (!customer || author.role !== "customer") && <span className="muted"> ({author.role})</span>}
        <time dateTime={ev.created_at} className="muted"> · {dateTime(ev.created_at)}</time>
      </div>
      <div className="message-body">{reply ? reply.body : fetched.error ? <ErrorNote error={fetched.error} /> : "…"}</div>
    </li>
  );
}

function who(e: TimelineEvent) {
  return e.author ? e.author.name : "ticketd";
}

/** describe puts one change into words. */
export function describe(e: TimelineEvent, customer: boolean, users?: Map<string, User>): string {
  const d = e.data as Data;
  const st = (s: unknown) => (typeof s === "string" ? statusLabel(s as Status, customer) : "?");
  switch (e.type) {
    case "created":
      return `${who(e)} opened the ticket`;
    case "status_changed":
      return `${who(e)} changed the status from ${st(d.from)} to ${st(d.to)}${d.reason ? ` (“${d.reason}”)` : ""}`;
    case "assigned": {
      if (!d.to) return `${who(e)} unassigned the ticket`;
      const name = users?.get(String(d.to))?.name;
      return `${who(e)} assigned the ticket${name ? ` to ${name}` : customer ? " to an agent" : ""}`;
    }
    case "updated": {
      const f = Array.isArray(d.fields) ? (d.fields as string[]).join(", ") : "details";
      return `${who(e)} changed ${f}`;
    }
    case "time_logged":
      return `${who(e)} logged ${d.minutes ?? "?"} min`;
    case "sla_warning":
      return `SLA warning: ${String(d.clock ?? "").replace("_", " ")} ${Math.round(Number(d.fraction ?? 0) * 100)}% used`;
    case "sla_breached":
      return `SLA breached: ${String(d.clock ?? "").replace("_", " ")}`;
    case "escalated":
      return `Escalated: priority ${priorityLabel(String(d.from) as never)} → ${priorityLabel(String(d.to) as never)}`;
    case "auto_resolved":
      return "Resolved automatically after no reply";
    case "auto_closed":
      return "Closed automatically";
    case "deleted":
      return `${who(e)} deleted the ticket`;
    default:
      return `${who(e)}: ${e.type}`;
  }
}
