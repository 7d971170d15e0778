import { ApiError, describeError } from "../api/client";
import { Icon } from "./Icon";

/** ErrorNote says what failed, whether anything was written, and the request id to quote. */
export function ErrorNote({ error, children }: { error: unknown; children?: React.ReactNode }) {
  if (!error) return null;
  const id = error instanceof ApiError ? error.requestId : null;
  return (
    <div role="alert" className="error-note">
      <Icon name="warning" />{" "}
      {children ?? describeError(error)}
      {id && <span className="request-id"> Request id: <code>{id}</code></span>}
    </div>
  );
}
