import { useState } from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Button } from "react-aria-components";
import { api, unwrap, type Schemas, type User } from "../api/client";
import { keys, useCategories, useLifecycle, usePolicies, useUsers } from "../api/queries";
import { applyServerErrors, categorySchema, lifecycleSchema, slaPolicySchema, userSchema } from "../lib/forms";
import { duration, priorityLabel } from "../lib/format";
import { Link } from "../lib/router";
import { useUser } from "../lib/auth";
import { ErrorNote } from "../components/ErrorNote";
import { SelectField, TextInput } from "../components/Field";

type Msg = { text: string | null; err: unknown } | null;

export default function Admin({ path }: { path: string }) {
  const me = useUser();
  if (me.role !== "admin") return <main id="main"><h1>Admins only</h1><p>Ask an admin for access.</p></main>;
  switch (path) {
    case "/admin/sla":
      return <SLAPolicies />;
    case "/admin/lifecycle":
      return <LifecycleSettings />;
    case "/admin/categories":
      return <Categories />;
    case "/admin/users":
      return <Users />;
  }
  return <main id="main"><h1>Page not found</h1><Link href="/inbox">Inbox</Link></main>;
}

function SLAPolicies() {
  const policies = usePolicies();
  return (
    <main id="main" className="narrow">
      <h1>SLA policies</h1>
      <p className="hint">One policy per priority. Warnings fire when these fractions of a target are used.</p>
      <ErrorNote error={policies.error} />
      {(policies.data ?? []).map((p) => <PolicyForm key={p.priority} policy={p} />)}
    </main>
  );
}

type PolicyIn = z.input<typeof slaPolicySchema>;
type PolicyOut = z.output<typeof slaPolicySchema>;

function PolicyForm({ policy }: { policy: Schemas["SLAPolicy"] }) {
  const qc = useQueryClient();
  const [msg, setMsg] = useState<Msg>(null);
  const [saved, setSaved] = useState(false);
  const { register, handleSubmit, setError, formState } = useForm<PolicyIn, unknown, PolicyOut>({
    resolver: zodResolver(slaPolicySchema),
    defaultValues: {
      first_response_minutes: String(policy.first_response_seconds / 60),
      resolution_minutes: String(policy.resolution_seconds / 60),
      warn_at: policy.warn_at.join(", "),
      escalate: policy.escalate,
    },
  });
  const put = useMutation({
    mutationFn: (v: PolicyOut) =>
      unwrap(
        api.PUT("/api/v1/sla-policies/{priority}", {
          params: { path: { priority: policy.priority } },
          body: {
            first_response_seconds: v.first_response_minutes * 60,
            resolution_seconds: v.resolution_minutes * 60,
            warn_at: v.warn_at ? v.warn_at.split(",").map((s) => parseFloat(s)) : [],
            escalate: v.escalate,
            calendar: policy.calendar ? { time_zone: policy.calendar.time_zone, hours: policy.calendar.hours, holidays: policy.calendar.holidays ?? [] } : null,
          },
        }),
      ),
    onSuccess: () => {
      setSaved(true);
      void qc.invalidateQueries({ queryKey: keys.policies });
    },
    onError: (e) =>
      setMsg({
        text: applyServerErrors(e, setError, ["first_response_minutes", "resolution_minutes", "warn_at", "escalate"], {
          first_response_seconds: "first_response_minutes",
          resolution_seconds: "resolution_minutes",
        }),
        err: e,
      }),
  });
  const h = `policy-${policy.priority}`;
  return (
    <section aria-labelledby={h} className="panel">
      <h2 id={h}>{priorityLabel(policy.priority)}</h2>
      <p className="muted">
        First response within {duration(policy.first_response_seconds)}, resolution within {duration(policy.resolution_seconds)}
        {policy.calendar ? ` (business hours, ${policy.calendar.time_zone})` : " (around the clock)"}.
      </p>
      <form onSubmit={handleSubmit((v) => { setMsg(null); setSaved(false); put.mutate(v); })} noValidate className="row">
        <TextInput label="First response (minutes)" inputMode="numeric" {...register("first_response_minutes")} error={formState.errors.first_response_minutes?.message} />
        <TextInput label="Resolution (minutes)" inputMode="numeric" {...register("resolution_minutes")} error={formState.errors.resolution_minutes?.message} />
        <TextInput label="Warn at" {...register("warn_at")} error={formState.errors.warn_at?.message} />
        <label className="check"><input type="checkbox" {...register("escalate")} /> Escalate on breach</label>
        <Button type="submit" className="button primary" isDisabled={put.isPending}>Save {priorityLabel(policy.priority)}</Button>
        <span role="status">{saved ? `Saved ${priorityLabel(policy.priority)}.` : ""}</span>
        {msg?.text && <ErrorNote error={msg.err}>{msg.text}</ErrorNote>}
      </form>
    </section>
  );
}

type LcIn = z.input<typeof lifecycleSchema>;
type LcOut = z.output<typeof lifecycleSchema>;

function LifecycleSettings() {
  const lc = useLifecycle();
  return (
    <main id="main" className="narrow">
      <h1>Lifecycle settings</h1>
      <ErrorNote error={lc.error} />
      {lc.data && <LifecycleForm key={JSON.stringify(lc.data)} value={lc.data} />}
    </main>
  );
}

function LifecycleForm({ value }: { value: Schemas["LifecycleSettings"] }) {
  const qc = useQueryClient();
  const [msg, setMsg] = useState<Msg>(null);
  const [saved, setSaved] = useState(false);
  const { register, handleSubmit, setError, formState } = useForm<LcIn, unknown, LcOut>({
    resolver: zodResolver(lifecycleSchema),
    defaultValues: {
      resolved_auto_close_hours: String(value.resolved_auto_close_seconds / 3600),
      pending_auto_resolve_hours: String(value.pending_auto_resolve_seconds / 3600),
    },
  });
  const put = useMutation({
    mutationFn: (v: LcOut) =>
      unwrap(
        api.PUT("/api/v1/settings/lifecycle", {
          body: {
            resolved_auto_close_seconds: Math.round(v.resolved_auto_close_hours * 3600),
            pending_auto_resolve_seconds: Math.round(v.pending_auto_resolve_hours * 3600),
          },
        }),
      ),
    onSuccess: () => {
      setSaved(true);
      void qc.invalidateQueries({ queryKey: keys.lifecycle });
    },
    onError: (e) =>
      setMsg({
        text: applyServerErrors(e, setError, ["resolved_auto_close_hours", "pending_auto_resolve_hours"], {
          resolved_auto_close_seconds: "resolved_auto_close_hours",
          pending_auto_resolve_seconds: "pending_auto_resolve_hours",
        }),
        err: e,
      }),
  });
  return (
    <form onSubmit={handleSubmit((v) => { setMsg(null); setSaved(false); put.mutate(v); })} noValidate>
      <TextInput label="Close resolved tickets after (hours)" inputMode="decimal" {...register("resolved_auto_close_hours")} error={formState.errors.resolved_auto_close_hours?.message} />
      <TextInput label="Resolve tickets waiting on the customer after (hours)" inputMode="decimal" {...register("pending_auto_resolve_hours")} error={formState.errors.pending_auto_resolve_hours?.message} />
      {msg?.text && <ErrorNote error={msg.err}>{msg.text}</ErrorNote>}
      <Button type="submit" className="button primary" isDisabled={put.isPending}>Save</Button> <span role="status">{saved ? "Saved." : ""}</span>
    </form>
  );
}

type CatForm = z.infer<typeof categorySchema>;

function Categories() {
  const cats = useCategories();
  const qc = useQueryClient();
  const [msg, setMsg] = useState<Msg>(null);
  const { register, handleSubmit, reset, setError, formState } = useForm<CatForm>({ resolver: zodResolver(categorySchema) });
  const add = useMutation({
    mutationFn: (v: CatForm) => unwrap(api.POST("/api/v1/categories", { body: v })),
    onSuccess: () => {
      reset({ name: "" });
      void qc.invalidateQueries({ queryKey: keys.categories });
    },
    onError: (e) => setMsg({ text: applyServerErrors(e, setError, ["name"]), err: e }),
  });
  return (
    <main id="main" className="narrow">
      <h1>Categories</h1>
      <ErrorNote error={cats.error} />
      <ul>{(cats.data ?? []).map((c) => <li key={c.id}>{c.name}</li>)}</ul>
      <form onSubmit={handleSubmit((v) => { setMsg(null); add.mutate(v); })} noValidate className="row">
        <TextInput label="New category" {...register("name")} error={formState.errors.name?.message} />
        {msg?.text && <ErrorNote error={msg.err}>{msg.text}</ErrorNote>}
        <Button type="submit" className="button primary" isDisabled={add.isPending}>Add category</Button>
      </form>
    </main>
  );
}

type UserForm = z.infer<typeof userSchema>;

function Users() {
  const users = useUsers(true);
  const qc = useQueryClient();
  const [msg, setMsg] = useState<Msg>(null);
  const { register, handleSubmit, reset, setError, formState } = useForm<UserForm>({ resolver: zodResolver(userSchema), defaultValues: { role: "customer" } });
  const add = useMutation({
    mutationFn: (v: UserForm) => unwrap(api.POST("/api/v1/users", { body: { ...v, active: true } })),
    onSuccess: () => {
      reset({ email: "", name: "", role: "customer" });
      void qc.invalidateQueries({ queryKey: keys.users });
    },
    onError: (e) => setMsg({ text: applyServerErrors(e, setError, ["email", "name", "role"]), err: e }),
  });
  const update = useMutation({
    mutationFn: (v: { id: string; body: Partial<Pick<User, "role" | "active">> }) =>
      unwrap(api.PATCH("/api/v1/users/{id}", { params: { path: { id: v.id } }, body: v.body })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.users }),
  });
  return (
    <main id="main">
      <h1>Users</h1>
      <ErrorNote error={users.error ?? update.error} />
      <table className="inbox-table">
        <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Active</th></tr></thead>
        <tbody>
          {(users.data ?? []).map((u) => (
            <tr key={u.id}>
              <td>{u.name}</td>
              <td>{u.email}</td>
              <td>
                <select aria-label={`Role of ${u.name}`} value={u.role} onChange={(e) => update.mutate({ id: u.id, body: { role: e.target.value as User["role"] } })}>
                  <option value="customer">Customer</option><option value="agent">Agent</option><option value="admin">Admin</option>
                </select>
              </td>
              <td>
                <input type="checkbox" aria-label={`${u.name} is active`} checked={u.active} onChange={(e) => update.mutate({ id: u.id, body: { active: e.target.checked } })} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Add a user</h2>
      <form onSubmit={handleSubmit((v) => { setMsg(null); add.mutate(v); })} noValidate className="row">
        <TextInput label="Email" type="email" {...register("email")} error={formState.errors.email?.message} />
        <TextInput label="Name" {...register("name")} error={formState.errors.name?.message} />
        <SelectField label="Role" {...register("role")}>
          <option value="customer">Customer</option><option value="agent">Agent</option><option value="admin">Admin</option>
        </SelectField>
        {msg?.text && <ErrorNote error={msg.err}>{msg.text}</ErrorNote>}
        <Button type="submit" className="button primary" isDisabled={add.isPending}>Add user</Button>
      </form>
      <p className="hint">New users sign in with a password set by <code>ticketd user passwd</code>, or with a token from <code>ticketd token</code>.</p>
    </main>
  );
}
