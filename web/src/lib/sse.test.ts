import { SSEParser } from "./sse";

describe("SSEParser", () => {
  it("parses events split across chunks, skipping heartbeats", () => {
    const p = new SSEParser();
    expect(p.push(": connected\n\nid: 4\nevent: time")).toEqual([]);
    const out = p.push('line\ndata: {"seq":4}\n\n: heartbeat\n\n');
    expect(out).toEqual([{ id: "4", event: "timeline", data: '{"seq":4}' }]);
    expect(p.lastEventId).toBe("4");
  });
  it("joins multi-line data and handles CRLF, including a CRLF split between chunks", () => {
    const p = new SSEParser();
    expect(p.push("data: a\r")).toEqual([]);
    expect(p.push("\ndata: b\r\n\r\n")).toEqual([{ id: null, event: "message", data: "a\nb" }]);
  });
  it("ignores events without data", () => {
    expect(new SSEParser().push("event: x\n\n")).toEqual([]);
  });
});
