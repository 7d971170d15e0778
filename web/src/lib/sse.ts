// Server-Sent Events over fetch, so the bearer token goes in a header
// (EventSource cannot send one).

export type SSEMessage = { id: string | null; event: string; data: string };

/** SSEParser turns chunks of an event stream into messages (WHATWG rules). */
export class SSEParser {
  private buf = "";
  private data: string[] = [];
  private event = "";
  private id: string | null = null;
  lastEventId: string | null = null;

  push(chunk: string): SSEMessage[] {
    this.buf += chunk;
    const out: SSEMessage[] = [];
    let nl: number;
    while ((nl = this.buf.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buf.slice(0, nl);
      const len = this.buf.startsWith("\r\n", nl) ? 2 : 1;
      if (this.buf[nl] === "\r" && nl + 1 === this.buf.length) break; // maybe a split \r\n
      this.buf = this.buf.slice(nl + len);
      if (line === "") {
        if (this.data.length > 0) {
          if (this.id !== null) this.lastEventId = this.id;
          out.push({ id: this.id, event: this.event || "message", data: this.data.join("\n") });
        }
        this.data = [];
        this.event = "";
        this.id = null;
        continue;
      }
      if (line.startsWith(":")) continue; // comment: heartbeat
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "data") this.data.push(value);
      else if (field === "event") this.event = value;
      else if (field === "id" && !value.includes("\0")) this.id = value;
    }
    return out;
  }
}

export type StreamOptions = {
  path: string;
  token: () => string | null;
  onMessage: (m: SSEMessage) => void;
  onOpen?: () => void;
  signal: AbortSignal;
  lastEventId?: string | null;
};

/** stream keeps an event stream open, resuming with Last-Event-ID after a drop. */
export async function stream(opts: StreamOptions): Promise<void> {
  let last = opts.lastEventId ?? null;
  let delay = 1000;
  while (!opts.signal.aborted) {
    try {
      const headers: Record<string, string> = { Accept: "text/event-stream" };
      const t = opts.token();
      if (t) headers.Authorization = `Bearer ${t}`;
      if (last) headers["Last-Event-ID"] = last;
      const res = await fetch(opts.path, { headers, signal: opts.signal, cache: "no-store" });
      if (res.status === 401 || res.status === 403 || res.status === 404) return; // will not get better
      if (res.ok && res.body) {
        opts.onOpen?.();
        delay = 1000;
        const parser = new SSEParser();
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const m of parser.push(value)) {
            if (m.id) last = m.id;
            opts.onMessage(m);
          }
        }
      } else if (res.status === 429) {
        const ra = parseInt(res.headers.get("Retry-After") ?? "", 10);
        if (ra > 0) delay = ra * 1000;
      }
    } catch {
      if (opts.signal.aborted) return;
    }
    await sleep(delay, opts.signal);
    delay = Math.min(delay * 2, 30000);
  }
}

function sleep(ms: number, signal: AbortSignal) {
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });
}
