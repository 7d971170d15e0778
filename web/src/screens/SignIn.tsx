import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { useState } from "react";
import { Button } from "react-aria-components";
import { ApiError } from "../api/client";
import { useAuth, isStaff } from "../lib/auth";
import { loginSchema } from "../lib/forms";
import { navigate } from "../lib/router";
import { TextInput } from "../components/Field";
import { ErrorNote } from "../components/ErrorNote";

type Form = z.infer<typeof loginSchema>;

export function SignIn() {
  const { signIn } = useAuth();
  const [error, setError] = useState<unknown>(null);
  const { register, handleSubmit, formState } = useForm<Form>({ resolver: zodResolver(loginSchema) });
  const submit = handleSubmit(async (v) => {
    setError(null);
    try {
      const s = await signIn(v.email, v.password);
      const next = new URLSearchParams(location.search).get("next");
      navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : isStaff(s.user) ? "/inbox" : "/requests", { replace: true });
    } catch (e) {
      setError(e);
    }
  });
  return (
    <main id="main" className="signin">
      <h1>Sign in to ticketd</h1>
      <form onSubmit={submit} noValidate>
        <TextInput label="Email" type="email" autoComplete="username" autoFocus {...register("email")} error={formState.errors.email?.message} />
        <TextInput label="Password" type="password" autoComplete="current-password" {...register("password")} error={formState.errors.password?.message} />
        {error != null && (
          <ErrorNote error={error}>
            {error instanceof ApiError && error.status === 401
              ? "The email or password is not right, or the account is not active."
              : undefined}
          </ErrorNote>
        )}
        <Button type="submit" className="button primary" isDisabled={formState.isSubmitting}>
          {formState.isSubmitting ? "Signing in…" : "Sign in"}
        </Button>
      </form>
    </main>
  );
}
