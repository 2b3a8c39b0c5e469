// Where a stuck worker is stuck: its JavaScript stack, taken from outside
// its blocked event loop through the V8 inspector (Chrome DevTools
// Protocol). The inspector's own thread handles the WebSocket and
// interrupts the running JavaScript to pause it: `Debugger.pause` then
// reports the call frames of the loop itself.
//
// Node opens its inspector on SIGUSR1 even while JavaScript runs (its
// signal watchdog thread), on `process.debugPort`, which each Node worker
// sets to a free port of 127.0.0.1 and notes in `<scoreboard>.inspect`: the
// port is open only from the timeout's SIGUSR1 to the SIGKILL that follows.
// Deno cannot open it later: with --timeout-stacks its workers are started
// with `--inspect=127.0.0.1:PORT` (open for their whole life, so opt-in).
// Bun's inspector waits for the blocked thread: not asked (see
// docs/observability.md).

/** How long the supervisor waits for a stack before it kills anyway. */
const STACK_WAIT_MS = 2000;

interface CallFrame {
  functionName: string;
  location: { scriptId: string; lineNumber: number; columnNumber: number };
  url?: string;
}

type Socket = {
  onopen: (() => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: (() => void) | null;
  send(data: string): void;
  close(): void;
};

/** The stack as "fn (file:line:col)" lines, innermost first; null if none. */
export async function inspectorStack(
  port: number,
  ms: number = STACK_WAIT_MS,
): Promise<string[] | null> {
  const g = globalThis as unknown as {
    WebSocket?: new (url: string) => Socket;
  };
  // Node 20's supervisor has no WebSocket (Node 22 has): no stack there.
  if (typeof g.WebSocket !== "function") return null;
  const deadline = Date.now() + ms;
  let url: string | null = null;
  // The inspector takes a moment to listen after the signal.
  while (url === null && Date.now() < deadline) {
    try {
      const list = await (await fetch(`http://127.0.0.1:${port}/json/list`))
        .json() as { webSocketDebuggerUrl?: string }[];
      url = list[0]?.webSocketDebuggerUrl ?? null;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  if (url === null) return null;
  const ws = new g.WebSocket(url);
  const scripts = new Map<string, string>();
  return await new Promise<string[] | null>((resolve) => {
    const done = (frames: string[] | null) => {
      clearTimeout(timer);
      try {
        ws.close();
      } catch {
        // Closing anyway.
      }
      resolve(frames);
    };
    const timer = setTimeout(
      () => done(null),
      Math.max(0, deadline - Date.now()),
    );
    ws.onerror = () => done(null);
    ws.onopen = () => {
      ws.send(JSON.stringify({ id: 1, method: "Debugger.enable" }));
      ws.send(JSON.stringify({ id: 2, method: "Debugger.pause" }));
    };
    ws.onmessage = (event) => {
      let m: { method?: string; params?: Record<string, unknown> };
      try {
        m = JSON.parse(String(event.data));
      } catch {
        return;
      }
      if (m.method === "Debugger.scriptParsed") {
        const p = m.params as { scriptId: string; url: string };
        scripts.set(p.scriptId, p.url);
      } else if (m.method === "Debugger.paused") {
        const frames = (m.params as { callFrames: CallFrame[] }).callFrames;
        done(frames.map((f) => {
          const where = f.url || scripts.get(f.location.scriptId) || "?";
          return `${f.functionName || "(anonymous)"} (${where}:${
            f.location.lineNumber + 1
          }:${f.location.columnNumber + 1})`;
        }));
      }
    };
  });
}
