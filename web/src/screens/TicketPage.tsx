import { useMemo, useRef, useState } from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Button, Menu, MenuItem, MenuTrigger, Popover } from "react-aria-components";
import { api, unwrap, type Priority, type Status } from "../api/client";
import { keys, useCategories, useSLA, useTicket, useTimeEntries, useUsers } from "../api/queries";
import { useUser } from "../lib/auth";
import { useTicketEdit } from "../lib/edit";
import { applyServerErrors, timeEntrySchema } from "../lib/forms";
import { PRIORITIES, dateTime, duration, priorityLabel, statusLabel } from "../lib/format";
import { Link } from "../lib/router";
import { useShortcuts } from "../lib/shortcuts";
import { SLABadge, StatusBadge } from "../components/Badges";
import { ErrorNote } from "../components/ErrorNote";
import { TicketTimeline } from "../components/TicketTimeline";
import { ReplyComposer, type ComposerHandle } from "../components/ReplyComposer";
import { TextInput } from "../components/Field";
import { FollowUp } from "./RequestPage";

/** TicketPage is the agent's workspace for one ticket. */
export function TicketPage({ id }: { id: string }) {
  const me = useUser();
  const t = useTicket(id);
  const users = useUsers(true);
  const cats = useCategories();
  const byId = useMemo(() => new Map((users.data ?? []).map((u) => [u.id, u])), [users.data]);
  const staffUsers = useMemo(() => (users.data ?? []).filter((u) => u.role !== "customer" && u.active), [users.data]);
  const edit = useTicketEdit(t.data, byId);
  const composer = useRef<ComposerHandle>(null);
  const [statusOpen, setStatusOpen] = useState(false);
  const ticket = t.data;
  useShortcuts({
    r: () => composer.current?.focus("reply"),
    n: () => composer.current?.focus("note"),
    a: () => ticket && ticket.assignee_id !== me.id && edit.mutate({ kind: "assign", assignee_id: me.id }),
    s: () => setStatusOpen(true),
  });
  if (t.isPending) return <main id="main"><p role="status">Loading…</p></main>;
  if (t.error || !ticket) return <main id="main"><ErrorNote error={t.error} /><Link href="/inbox">Back to the inbox</Link></main>;
  const customer = byId.get(ticket.customer_id);
  const closed = ticket.status === "closed";
  return (
    <main id="main" className="ticket-page">
      <div className="ticket-main">
        <p><Link href="/inbox">← Inbox</Link></p>
        <div className="page-head">
          <h1><span className="num">#{ticket.number}</span> {ticket.subject}</h1>
          <StatusBadge status={ticket.status} /> <SLABadge ticket={ticket} />
        </div>
        {ticket.follow_up_of && <p>Follow-up of <Link href={`/tickets/${ticket.follow_up_of}`}>an earlier ticket</Link></p>}
        <article className="message opening public from-customer">
          <div className="message-head">
            <strong>{customer?.name ?? "Customer"}</strong> <span className="muted">(customer)</span>{" "}
            <time className="muted" dateTime={ticket.created_at}>· {dateTime(ticket.created_at)}</time>
          </div>
          <div className="message-body">{ticket.description}</div>
        </article>
        <TicketTimeline ticketId={id} replies={ticket.replies} customer={false} users={byId} />
        {closed ? <FollowUp id={id} /> : <ReplyComposer ref={composer} ticketId={id} staff />}
      </div>
      <aside className="ticket-side" aria-label="Ticket details">
        {edit.conflict && (
          <div role="alert" className="conflict">
            <strong>This ticket changed while you were looking at it.</strong>
            <p>
              {edit.conflict.by ? `${edit.conflict.by} changed ` : "Changed: "}
              {edit.conflict.changes.join("; ")}.
            </p>
            <p>Your change was not applied. The page now shows the current ticket: check it and try again.</p>
            <Button className="link-button" onPress={edit.dismissConflict}>Dismiss</Button>
          </div>
        )}
        {edit.error && !edit.conflict && <ErrorNote error={edit.error} />}
        <dl className="props">
          <dt>Status</dt>
          <dd>
            <MenuTrigger isOpen={statusOpen} onOpenChange={setStatusOpen}>
              <Button className="button" aria-label={`Status: ${statusLabel(ticket.status, false)}. Change status`} isDisabled={ticket.allowed_transitions.length === 0 || edit.isPending}>
                {statusLabel(ticket.status, false)} ▾
              </Button>
              <Popover className="popover">
                <Menu className="menu" aria-label="Change status to" onAction={(k) => edit.mutate({ kind: "status", status: k as Status })}>
                  {ticket.allowed_transitions.map((s) => (
                    <MenuItem key={s} id={s} className="menu-item">{statusLabel(s, false)}</MenuItem>
                  ))}
                </Menu>
              </Popover>
            </MenuTrigger>
          </dd>
          <dt><label htmlFor="assignee">Assignee</label></dt>
          <dd>
            <select id="assignee" value={ticket.assignee_id ?? ""} disabled={closed || edit.isPending} onChange={(e) => edit.mutate({ kind: "assign", assignee_id: e.target.value || null })}>
              <option value="">Nobody</option>
              {staffUsers.map((u) => <option key={u.id} value={u.id}>{u.name}</option>)}
              {ticket.assignee_id && !staffUsers.some((u) => u.id === ticket.assignee_id) && <option value={ticket.assignee_id}>{byId.get(ticket.assignee_id)?.name ?? "Someone"}</option>}
            </select>{" "}
            {ticket.assignee_id !== me.id && !closed && (
              <Button className="link-button" onPress={() => edit.mutate({ kind: "assign", assignee_id: me.id })}>Assign to me <kbd>a</kbd></Button>
            )}
          </dd>
          <dt><label htmlFor="priority">Priority</label></dt>
          <dd>
            <select id="priority" value={ticket.priority} disabled={closed || edit.isPending} onChange={(e) => edit.mutate({ kind: "patch", body: { priority: e.target.value as Priority } })}>
              {PRIORITIES.map((p) => <option key={p} value={p}>{priorityLabel(p)}</option>)}
            </select>
          </dd>
          <dt><label htmlFor="category">Category</label></dt>
          <dd>
            <select id="category" value={ticket.category_id ?? ""} disabled={closed || edit.isPending} onChange={(e) => edit.mutate({ kind: "patch", body: { category_id: e.target.value || null } })}>
              <option value="">None</option>
              {(cats.data ?? []).map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
            </select>
          </dd>
          <dt>Customer</dt>
          <dd>{customer ? `${customer.name} <${customer.email}>` : "…"}</dd>
          <dt>Created</dt>
          <dd>{dateTime(ticket.created_at)}</dd>
        </dl>
        <SLALedger id={id} />
        <TimeLog id={id} spent={ticket.time_spent_minutes} closed={closed} />
      </aside>
    </main>
  );
}

function SLALedger({ id }: { id: string }) {
  const sla = useSLA(id);
  if (sla.error) return <ErrorNote error={sla.error} />;
  if (!sla.data) return null;
  const clocks = [["First response", sla.data.first_response], ["Resolution", sla.data.resolution]] as const;
  return (
    <section aria-labelledby="sla-h" className="panel">
      <h2 id="sla-h">SLA</h2>
      {clocks.map(([name, c]) => (
        <details key={name}>
          <summary>
            {name}: <span className={`sla-state sla-${c.state}`}>{c.state}</span>
            {c.state === "running" && c.due_at && <> · due {dateTime(c.due_at)}</>}
          </summary>
          <p className="muted">Target {duration(c.target_seconds)}, used {duration(c.consumed_seconds)}, {c.remaining_seconds >= 0 ? `${duration(c.remaining_seconds)} left` : `${duration(-c.remaining_seconds)} over`}</p>
          <table className="ledger">
            <caption className="visually-hidden">{name} clock segments</caption>
            <thead><tr><th scope="col">State</th><th scope="col">From</th><th scope="col">To</th><th scope="col">Why</th></tr></thead>
            <tbody>
              {c.segments.map((s, i) => (
                <tr key={i}><td>{s.state}</td><td>{dateTime(s.from)}</td><td>{s.to ? dateTime(s.to) : "now"}</td><td>{s.reason}</td></tr>
              ))}
            </tbody>
          </table>
        </details>
      ))}
    </section>
  );
}

type TimeForm = z.input<typeof timeEntrySchema>;
type TimeOut = z.output<typeof timeEntrySchema>;

function TimeLog({ id, spent, closed }: { id: string; spent: number; closed: boolean }) {
  const entries = useTimeEntries(id, true);
  const qc = useQueryClient();
  const [msg, setMsg] = useState<{ text: string | null; err: unknown } | null>(null);
  const { register, handleSubmit, reset, setError, formState } = useForm<TimeForm, unknown, TimeOut>({ resolver: zodResolver(timeEntrySchema), defaultValues: { minutes: "", note: "" } });
  const log = useMutation({
    mutationFn: (v: TimeOut) => unwrap(api.POST("/api/v1/tickets/{id}/time-entries", { params: { path: { id } }, body: v })),
    onSuccess: () => {
      reset();
      void qc.invalidateQueries({ queryKey: ["ticket", id] });
    },
    onError: (e) => setMsg({ text: applyServerErrors(e, setError, ["minutes", "note"]), err: e }),
  });
  return (
    <section aria-labelledby="time-h" className="panel">
      <h2 id="time-h">Time: {spent} min</h2>
      <ul className="time-entries">
        {(entries.data?.items ?? []).map((e) => (
          <li key={e.id}>{e.minutes} min{e.note ? ` – ${e.note}` : ""} <span className="muted">{dateTime(e.created_at)}</span></li>
        ))}
      </ul>
      {!closed && (
        <form onSubmit={handleSubmit((v) => { setMsg(null); log.mutate(v); })} noValidate className="row">
          <TextInput label="Minutes" inputMode="numeric" {...register("minutes")} error={formState.errors.minutes?.message} />
          <TextInput label="Note" {...register("note")} error={formState.errors.note?.message} />
          {msg?.text && <ErrorNote error={msg.err}>{msg.text}</ErrorNote>}
          <Button type="submit" className="button" isDisabled={log.isPending}>Log time</Button>
        </form>
      )}
    </section>
  );
}

export { keys };
