import { lazy, Suspense, useEffect, useState } from "react";
import { Button, Dialog, Heading, Modal } from "react-aria-components";
import { isStaff, useAuth } from "./lib/auth";
import { Link, match, navigate, useLocation } from "./lib/router";
import { useShortcuts } from "./lib/shortcuts";
import { useChangeStream } from "./lib/live";
import { SignIn } from "./screens/SignIn";
import { MyRequests } from "./screens/MyRequests";
import { NewRequest } from "./screens/NewRequest";
import { RequestPage } from "./screens/RequestPage";
import { Inbox } from "./screens/Inbox";
import { TicketPage } from "./screens/TicketPage";

// Admin screens are rarely opened: load them on demand, outside the first load.
const Admin = lazy(() => import("./screens/Admin"));

export function App() {
  const { session } = useAuth();
  const { path } = useLocation();
  useChangeStream(!!session);

  if (!session) {
    if (path !== "/login") {
      const next = path === "/" ? "" : `?next=${encodeURIComponent(location.pathname + location.search)}`;
      queueMicrotask(() => navigate(`/login${next}`, { replace: true }));
    }
    return <SignIn />;
  }
  const staff = isStaff(session.user);
  return (
    <Shell staff={staff} admin={session.user.role === "admin"}>
      <Suspense fallback={<p role="status">Loading…</p>}>{route(path, staff)}</Suspense>
    </Shell>
  );
}

function route(path: string, staff: boolean) {
  let m: Record<string, string> | null;
  if (path === "/" || path === "/login") {
    queueMicrotask(() => navigate(staff ? "/inbox" : "/requests", { replace: true }));
    return null;
  }
  if (!staff) {
    if (path === "/requests") return <MyRequests />;
    if (path === "/requests/new") return <NewRequest />;
    if ((m = match("/requests/:id", path))) return <RequestPage key={m.id} id={m.id} />;
  } else {
    if (path === "/inbox") return <Inbox />;
    if (path === "/tickets/new") return <NewRequest staff />;
    if ((m = match("/tickets/:id", path))) return <TicketPage key={m.id} id={m.id} />;
    if (path.startsWith("/admin/")) return <Admin path={path} />;
  }
  return (
    <main id="main">
      <h1>Page not found</h1>
      <p>
        <Link href="/">Go to the start page</Link>
      </p>
    </main>
  );
}

function Shell({ staff, admin, children }: { staff: boolean; admin: boolean; children: React.ReactNode }) {
  const { session, signOut } = useAuth();
  const [help, setHelp] = useState(false);
  const { path } = useLocation();
  useShortcuts({
    "?": () => setHelp(true),
    c: () => navigate(staff ? "/tickets/new" : "/requests/new"),
  });
  useEffect(() => {
    document.title = "ticketd";
  }, [path]);
  const nav = staff
    ? [
        ["/inbox", "Inbox"],
        ["/tickets/new", "New ticket"],
        ...(admin
          ? [
              ["/admin/sla", "SLA policies"],
              ["/admin/lifecycle", "Lifecycle"],
              ["/admin/categories", "Categories"],
              ["/admin/users", "Users"],
            ]
          : []),
      ]
    : [
        ["/requests", "My requests"],
        ["/requests/new", "New request"],
      ];
  return (
    <>
      <a className="skip" href="#main">Skip to content</a>
      <header className="topbar">
        <span className="brand">ticketd</span>
        <nav aria-label="Main">
          <ul>
            {nav.map(([href, label]) => (
              <li key={href}>
                <Link href={href} aria-current={path === href || (href === "/inbox" && path.startsWith("/tickets/") && path !== "/tickets/new") ? "page" : undefined}>
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span>
            {session!.user.name} <span className="role">({session!.user.role})</span>
          </span>
          <Button className="link-button" onPress={() => setHelp(true)} aria-label="Keyboard shortcuts">?</Button>
          <Button className="link-button" onPress={signOut}>Sign out</Button>
        </div>
      </header>
      {children}
      <Modal isDismissable isOpen={help} onOpenChange={setHelp} className="modal">
        <Dialog className="dialog">
          <Heading slot="title">Keyboard shortcuts</Heading>
          <dl className="shortcuts">
            {(staff
              ? [
                  ["j / k", "next / previous ticket in the inbox"],
                  ["o or Enter", "open the selected ticket"],
                  ["/", "search"],
                  ["c", "new ticket"],
                  ["r", "write a public reply"],
                  ["n", "write an internal note"],
                  ["a", "assign the ticket to me"],
                  ["s", "change status"],
                  ["Ctrl/⌘ + Enter", "send what you are writing"],
                  ["?", "this help"],
                ]
              : [
                  ["/", "search your requests"],
                  ["c", "new request"],
                  ["r", "reply"],
                  ["Ctrl/⌘ + Enter", "send"],
                  ["?", "this help"],
                ]
            ).map(([k, v]) => (
              <div key={k}>
                <dt><kbd>{k}</kbd></dt>
                <dd>{v}</dd>
              </div>
            ))}
          </dl>
          <p className="hint">Single-key shortcuts never fire while you type in a field.</p>
          <Button slot="close" className="button">Close</Button>
        </Dialog>
      </Modal>
    </>
  );
}
