import { useRef, useState } from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { useMutation } from "@tanstack/react-query";
import { Button } from "react-aria-components";
import { api, unwrap } from "../api/client";
import { useTicket } from "../api/queries";
import { useTicketEdit } from "../lib/edit";
import { applyServerErrors, followUpSchema } from "../lib/forms";
import { dateTime } from "../lib/format";
import { Link, navigate } from "../lib/router";
import { useShortcuts } from "../lib/shortcuts";
import { StatusBadge } from "../components/Badges";
import { ErrorNote } from "../components/ErrorNote";
import { TicketTimeline } from "../components/TicketTimeline";
import { ReplyComposer, type ComposerHandle } from "../components/ReplyComposer";
import { TextArea } from "../components/Field";

/** RequestPage is a customer's view of their request: the public thread only. */
export function RequestPage({ id }: { id: string }) {
  const t = useTicket(id);
  const edit = useTicketEdit(t.data);
  const composer = useRef<ComposerHandle>(null);
  useShortcuts({ r: () => composer.current?.focus("reply") });
  if (t.isPending) return <main id="main"><p role="status">Loading…</p></main>;
  if (t.error) return <main id="main"><ErrorNote error={t.error} /><Link href="/requests">Back to my requests</Link></main>;
  const ticket = t.data;
  const canSolve = ticket.allowed_transitions.includes("resolved");
  const canReopen = ticket.status === "resolved" && ticket.allowed_transitions.includes("open");
  return (
    <main id="main" className="narrow">
      <p><Link href="/requests">← My requests</Link></p>
      <div className="page-head">
        <h1><span className="num">#{ticket.number}</span> {ticket.subject}</h1>
        <StatusBadge status={ticket.status} customer />
      </div>
      <article className="message opening public">
        <div className="message-head"><strong>You</strong> <time className="muted" dateTime={ticket.created_at}>· {dateTime(ticket.created_at)}</time></div>
        <div className="message-body">{ticket.description}</div>
      </article>
      <TicketTimeline ticketId={id} replies={ticket.replies} customer />
      <ErrorNote error={edit.error} />
      {ticket.status === "closed" ? (
        <FollowUp id={id} />
      ) : (
        <>
          <ReplyComposer ref={composer} ticketId={id} staff={false} />
          <div className="actions">
            {canSolve && (
              <Button className="button" onPress={() => edit.mutate({ kind: "status", status: "resolved" })} isDisabled={edit.isPending}>
                Mark as solved
              </Button>
            )}
            {canReopen && (
              <Button className="button" onPress={() => edit.mutate({ kind: "status", status: "open" })} isDisabled={edit.isPending}>
                Reopen
              </Button>
            )}
          </div>
        </>
      )}
    </main>
  );
}

type FollowUpForm = z.infer<typeof followUpSchema>;

function FollowUp({ id }: { id: string }) {
  const [msg, setMsg] = useState<{ text: string | null; err: unknown } | null>(null);
  const { register, handleSubmit, setError, formState } = useForm<FollowUpForm>({ resolver: zodResolver(followUpSchema) });
  const create = useMutation({
    mutationFn: (v: FollowUpForm) =>
      unwrap(api.POST("/api/v1/tickets/{id}/follow-up", { params: { path: { id } }, body: { description: v.description, ...(v.subject ? { subject: v.subject } : {}) } })),
    onSuccess: (t) => navigate(location.pathname.startsWith("/tickets/") ? `/tickets/${t.id}` : `/requests/${t.id}`),
    onError: (e) => setMsg({ text: applyServerErrors(e, setError, ["description", "subject"]), err: e }),
  });
  return (
    <section aria-labelledby="followup-h" className="followup">
      <h2 id="followup-h">This request is closed</h2>
      <p>Closed requests cannot be reopened. If you need more help, open a follow-up: it links back to this one.</p>
      <form onSubmit={handleSubmit((v) => { setMsg(null); create.mutate(v); })} noValidate>
        <TextArea label="What do you still need?" rows={4} {...register("description")} error={formState.errors.description?.message} />
        {msg?.text && <ErrorNote error={msg.err}>{msg.text}</ErrorNote>}
        <Button type="submit" className="button primary" isDisabled={create.isPending}>Open a follow-up</Button>
      </form>
    </section>
  );
}

export { FollowUp };
