// A bounded keep-alive load for the reload suites: `clients` connections,
// each sending one request at a time and reusing its connection until the
// server says `Connection: close` (then it opens another, as a correct
// client does), until `total` requests or `ms` milliseconds. A request
// that gets no response (the connection closed or reset under it) is a
// failure; none is retried.
import { connect, type RawConnection, type RawResponse } from "./_raw_http.ts";
import { sleep } from "./_util.ts";

/** What one load run saw. */
export interface KeepAliveResult {
  requests: number;
  failures: string[];
  /** Connections opened (1 per client, plus one per close). */
  connections: number;
}

/** A running load; `done` settles when it has finished. */
export interface KeepAliveLoad {
  /** Requests answered or failed so far. */
  count(): number;
  done: Promise<KeepAliveResult>;
}

/** Starts the load against 127.0.0.1:`port`. */
export function keepAliveLoad(
  port: number,
  options: {
    clients?: number;
    total?: number;
    ms?: number;
    /** A pause between a client's requests, so that the load spans a reload. */
    pauseMs?: number;
    connect?: (port: number) => Promise<RawConnection>;
    /** Called with each response as it arrives. */
    onResponse?: (response: RawResponse) => void;
  } = {},
): KeepAliveLoad {
  const clients = options.clients ?? 4;
  const total = options.total ?? 1500;
  const deadline = Date.now() + (options.ms ?? 30000);
  const open = options.connect ?? ((p: number) => connect(p));
  let requests = 0;
  let connections = 0;
  const failures: string[] = [];
  const loop = async (): Promise<void> => {
    let conn: RawConnection | null = null;
    while (requests < total && Date.now() < deadline) {
      requests++;
      try {
        if (conn === null) {
          conn = await open(port);
          connections++;
        }
        await conn.write("GET / HTTP/1.1\r\nHost: load\r\n\r\n");
        const r = await conn.readResponse({ timeoutMs: 5000 });
        options.onResponse?.(r);
        if (r.status !== 200) failures.push(`status ${r.status}`);
        const close = r.headers.some(([n, v]) =>
          n.toLowerCase() === "connection" && /close/i.test(v)
        );
        if (close) {
          conn.destroy();
          conn = null;
        }
      } catch (error) {
        failures.push(String((error as Error).message ?? error));
        conn?.destroy();
        conn = null;
      }
      if (options.pauseMs) await sleep(options.pauseMs);
    }
    conn?.destroy();
  };
  const done = Promise.all(Array.from({ length: clients }, loop)).then(() => ({
    requests,
    failures,
    connections,
  }));
  return { count: () => requests, done };
}
