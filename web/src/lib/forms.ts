// One Zod schema per request type the UI sends, and the mapping of a 422's
// errors[] onto the form's fields.
import { z } from "zod";
import type { FieldValues, Path, UseFormSetError } from "react-hook-form";
import { ApiError, describeError } from "../api/client";
import { PRIORITIES } from "./format";

const text = (label: string, max: number) =>
  z.string().trim().min(1, `${label} is required`).max(max, `${label} is at most ${max} characters`);

export const loginSchema = z.object({
  email: z.string().trim().min(1, "Email is required").max(254),
  password: z.string().min(1, "Password is required").max(1000),
});

export const createTicketSchema = z.object({
  subject: text("Subject", 200),
  description: text("Description", 10000),
  priority: z.enum(PRIORITIES as [string, ...string[]]),
  category_id: z.string().optional(),
});

export const replySchema = z.object({ body: text("Message", 20000) });

export const followUpSchema = z.object({
  subject: z.string().trim().max(200).optional(),
  description: text("Description", 10000),
});

export const timeEntrySchema = z.object({
  minutes: z.coerce.number<string>().int("Whole minutes").min(1, "At least 1 minute").max(1440, "At most 1440 minutes (a day)"),
  note: z.string().max(1000),
});

export const slaPolicySchema = z.object({
  first_response_minutes: z.coerce.number<string>().int().min(1, "At least 1 minute"),
  resolution_minutes: z.coerce.number<string>().int().min(1, "At least 1 minute"),
  warn_at: z
    .string()
    .trim()
    .regex(/^(0?\.\d+)(\s*,\s*0?\.\d+)*$|^$/, "Fractions between 0 and 1, comma-separated (0.75, 0.9)"),
  escalate: z.boolean(),
});

export const lifecycleSchema = z.object({
  resolved_auto_close_hours: z.coerce.number<string>().min(0.01, "More than 0"),
  pending_auto_resolve_hours: z.coerce.number<string>().min(0.01, "More than 0"),
});

export const categorySchema = z.object({ name: text("Name", 100) });

export const userSchema = z.object({
  email: z.string().trim().email("A valid email address"),
  name: text("Name", 200),
  role: z.enum(["customer", "agent", "admin"]),
});

/**
 * applyServerErrors puts a 422's errors[] on the matching fields (aliases
 * map API field names to form field names) and returns a message for the
 * rest of the error, or null when every error found its field.
 */
export function applyServerErrors<T extends FieldValues>(
  err: unknown,
  setError: UseFormSetError<T>,
  fields: readonly string[],
  aliases: Record<string, string> = {},
): string | null {
  if (!(err instanceof ApiError) || err.status !== 422 || !err.problem?.errors?.length) return describeError(err);
  const rest: string[] = [];
  for (const e of err.problem.errors) {
    const name = aliases[e.field] ?? e.field;
    if (fields.includes(name)) setError(name as Path<T>, { type: "server", message: e.message });
    else rest.push(`${e.field}: ${e.message}`);
  }
  return rest.length ? rest.join("; ") : null;
}
