import { forwardRef, useImperativeHandle, useRef, useState } from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { useMutation } from "@tanstack/react-query";
import { Button, Tab, TabList, TabPanel, Tabs } from "react-aria-components";
import { api, unwrap } from "../api/client";
import { useInvalidateTicket } from "../api/queries";
import { applyServerErrors, replySchema } from "../lib/forms";
import { ErrorNote } from "./ErrorNote";
import { Icon } from "./Icon";

export type ComposerMode = "reply" | "note";
export type ComposerHandle = { focus: (mode: ComposerMode) => void };
type Form = z.infer<typeof replySchema>;

/**
 * ReplyComposer writes a public reply or, for agents, an internal note.
 * The two modes look different and their buttons say which one is sent,
 * so a note is never sent as a reply by mistake.
 */
export const ReplyComposer = forwardRef<ComposerHandle, { ticketId: string; staff: boolean }>(function ReplyComposer({ ticketId, staff }, ref) {
  const [mode, setMode] = useState<ComposerMode>("reply");
  const area = useRef<HTMLTextAreaElement | null>(null);
  const invalidate = useInvalidateTicket();
  const [msg, setMsg] = useState<{ text: string | null; err: unknown } | null>(null);
  const { register, handleSubmit, reset, setError, formState } = useForm<Form>({ resolver: zodResolver(replySchema), defaultValues: { body: "" } });
  useImperativeHandle(ref, () => ({
    focus: (m) => {
      setMode(staff ? m : "reply");
      requestAnimationFrame(() => area.current?.focus());
    },
  }));
  const send = useMutation({
    mutationFn: (v: Form & { internal: boolean }) =>
      unwrap(api.POST("/api/v1/tickets/{id}/replies", { params: { path: { id: ticketId } }, body: { body: v.body, internal: v.internal } })),
    onSuccess: () => {
      reset({ body: "" });
      invalidate(ticketId);
    },
    onError: (e) => setMsg({ text: applyServerErrors(e, setError, ["body"]), err: e }),
  });
  const internal = staff && mode === "note";
  const submit = handleSubmit((v) => {
    setMsg(null);
    send.mutate({ ...v, internal });
  });
  const { ref: regRef, ...reg } = register("body");
  const form = (
    <form onSubmit={submit} className={`composer ${internal ? "composer-note" : "composer-reply"}`} noValidate>
      <label htmlFor={`composer-${ticketId}`} className={internal ? "note-label" : undefined}>
        {internal ? <><Icon name="lock" /> Internal note – only agents and admins will see this</> : staff ? "Public reply – the customer will see this" : "Your reply"}
      </label>
      <textarea
        id={`composer-${ticketId}`}
        rows={5}
        {...reg}
        ref={(el) => {
          regRef(el);
          area.current = el;
        }}
        aria-invalid={formState.errors.body ? true : undefined}
        aria-describedby={formState.errors.body ? `composer-${ticketId}-err` : undefined}
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            void submit();
          }
        }}
      />
      {formState.errors.body && <div id={`composer-${ticketId}-err`} className="field-error">{formState.errors.body.message}</div>}
      {msg?.text && <ErrorNote error={msg.err}>{msg.text}</ErrorNote>}
      <div className="composer-actions">
        <Button type="submit" className={`button ${internal ? "note" : "primary"}`} isDisabled={send.isPending}>
          {send.isPending ? "Sending…" : internal ? "Add internal note" : "Send reply"}
        </Button>
        <span className="hint">Ctrl/⌘ + Enter</span>
      </div>
    </form>
  );
  if (!staff) return <section aria-label="Reply">{form}</section>;
  return (
    <Tabs selectedKey={mode} onSelectionChange={(k) => setMode(k as ComposerMode)} className="composer-tabs">
      <TabList aria-label="What to write">
        <Tab id="reply">Reply</Tab>
        <Tab id="note">Internal note</Tab>
      </TabList>
      <TabPanel id="reply">{mode === "reply" && form}</TabPanel>
      <TabPanel id="note">{mode === "note" && form}</TabPanel>
    </Tabs>
  );
});
