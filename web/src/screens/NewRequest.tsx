import { useMemo, useState } from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Button } from "react-aria-components";
import { api, unwrap, type Priority } from "../api/client";
import { keys, useCategories, useUsers } from "../api/queries";
import { applyServerErrors, createTicketSchema } from "../lib/forms";
import { PRIORITIES, priorityLabel } from "../lib/format";
import { navigate } from "../lib/router";
import { SelectField, TextArea, TextInput } from "../components/Field";
import { ErrorNote } from "../components/ErrorNote";

const staffSchema = createTicketSchema.extend({ customer_id: z.string().min(1, "Choose the customer") });
type Form = z.infer<typeof staffSchema>;

/** NewRequest is the customer's "New request" form, and an agent's "New ticket" for a customer. */
export function NewRequest({ staff = false }: { staff?: boolean }) {
  const qc = useQueryClient();
  const cats = useCategories();
  const users = useUsers(staff);
  const customers = useMemo(() => (users.data ?? []).filter((u) => u.role === "customer" && u.active), [users.data]);
  const [message, setMessage] = useState<{ text: string | null; err: unknown } | null>(null);
  // One idempotency key per form: a retried submit never files two tickets.
  const [key] = useState(() => crypto.randomUUID());
  const fields = ["subject", "description", "priority", "category_id", "customer_id"] as const;
  const { register, handleSubmit, setError, formState } = useForm<Form>({
    resolver: zodResolver(staff ? staffSchema : (createTicketSchema.extend({ customer_id: z.string().optional() }) as unknown as typeof staffSchema)),
    defaultValues: { priority: "normal", category_id: "", customer_id: "" },
  });
  const create = useMutation({
    mutationFn: (v: Form) =>
      unwrap(
        api.POST("/api/v1/tickets", {
          body: {
            subject: v.subject,
            description: v.description,
            priority: v.priority as Priority,
            category_id: v.category_id || null,
            ...(staff ? { customer_id: v.customer_id } : {}),
          },
          headers: { "Idempotency-Key": key },
        }),
      ),
    onSuccess: (t) => {
      void qc.invalidateQueries({ queryKey: keys.tickets });
      navigate(staff ? `/tickets/${t.id}` : `/requests/${t.id}`);
    },
    onError: (e) => setMessage({ text: applyServerErrors(e, setError, fields), err: e }),
  });
  return (
    <main id="main" className="narrow">
      <h1>{staff ? "New ticket" : "New request"}</h1>
      <form onSubmit={handleSubmit((v) => { setMessage(null); create.mutate(v); })} noValidate>
        {staff && (
          <SelectField label="Customer" {...register("customer_id")} error={formState.errors.customer_id?.message}>
            <option value="">Choose…</option>
            {customers.map((u) => (
              <option key={u.id} value={u.id}>{u.name} ({u.email})</option>
            ))}
          </SelectField>
        )}
        <TextInput label="Subject" {...register("subject")} error={formState.errors.subject?.message} maxLength={200} />
        <TextArea label="Description" rows={8} {...register("description")} error={formState.errors.description?.message} hint={staff ? undefined : "What happened, what you expected, and anything you already tried."} />
        <div className="row">
          <SelectField label="Priority" {...register("priority")} error={formState.errors.priority?.message}>
            {PRIORITIES.map((p) => <option key={p} value={p}>{priorityLabel(p)}</option>)}
          </SelectField>
          <SelectField label="Category" {...register("category_id")} error={formState.errors.category_id?.message}>
            <option value="">None</option>
            {(cats.data ?? []).map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
          </SelectField>
        </div>
        {message?.text && <ErrorNote error={message.err}>{message.text}</ErrorNote>}
        <Button type="submit" className="button primary" isDisabled={create.isPending}>
          {create.isPending ? "Sending…" : staff ? "Create ticket" : "Send request"}
        </Button>
      </form>
    </main>
  );
}
