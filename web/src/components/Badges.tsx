import type { Status, Ticket } from "../api/client";
import { slaBadge, statusLabel } from "../lib/format";
import { useNow } from "../lib/now";
import { Icon } from "./Icon";

export function StatusBadge({ status, customer = false }: { status: Status; customer?: boolean }) {
  return <span className={`badge status-${status}`}>{statusLabel(status, customer)}</span>;
}

/** SLABadge: text and an icon, never colour alone. */
export function SLABadge({ ticket }: { ticket: Pick<Ticket, "sla" | "status"> }) {
  const now = useNow();
  const b = slaBadge(ticket, now);
  return (
    <span className={`badge sla sla-${b.kind}`}>
      <Icon name={b.icon} />{" "}
      {b.text}
    </span>
  );
}
