import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api, setToken, setUnauthorizedHandler, unwrap, type User } from "../api/client";

type Session = { token: string; expiresAt: string; user: User };
type Auth = {
  session: Session | null;
  signIn: (email: string, password: string) => Promise<Session>;
  signOut: () => void;
};

const KEY = "ticketd.session";
const AuthContext = createContext<Auth | null>(null);

function load(): Session | null {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) ?? "null") as Session | null;
    if (s && Date.parse(s.expiresAt) > Date.now()) return s;
  } catch {
    /* a damaged entry is a signed-out user */
  }
  return null;
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const qc = useQueryClient();
  const [session, setSession] = useState<Session | null>(() => {
    const s = load();
    setToken(s?.token ?? null);
    return s;
  });

  const signOut = useCallback(() => {
    localStorage.removeItem(KEY);
    setToken(null);
    setSession(null);
    qc.clear();
  }, [qc]);

  useEffect(() => setUnauthorizedHandler(signOut), [signOut]);

  const signIn = useCallback(async (email: string, password: string) => {
    const res = await unwrap(api.POST("/api/v1/auth/login", { body: { email, password } }));
    const s: Session = { token: res.token, expiresAt: res.expires_at, user: res.user };
    localStorage.setItem(KEY, JSON.stringify(s));
    setToken(s.token);
    qc.clear();
    setSession(s);
    return s;
  }, [qc]);

  const value = useMemo(() => ({ session, signIn, signOut }), [session, signIn, signOut]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth() {
  const a = useContext(AuthContext);
  if (!a) throw new Error("useAuth outside AuthProvider");
  return a;
}

/** useUser is the signed-in user (screens behind sign-in only). */
export function useUser(): User {
  const s = useAuth().session;
  if (!s) throw new Error("not signed in");
  return s.user;
}

export const isStaff = (u: Pick<User, "role">) => u.role === "agent" || u.role === "admin";
