// The supervisor's metrics: each live worker's last report (read from its
// `<scoreboard>.metrics` file at scrape time), plus everything reported by
// the workers that have exited, so that no counter goes backwards when a
// worker is replaced; plus the supervisor's own (restarts, live workers).
// On Deno and Bun a worker counts straight into `<scoreboard>.counters`, a
// file mapped shared into its memory; on Node it writes that file as it
// counts, before the answer reaches the socket (FlushedMetrics): nothing
// answered is lost, even to SIGKILL.
import { addInto, fromPairs, IN_FLIGHT, SIZE } from "../core/_metrics.ts";
import { type Family, renderMetrics } from "../core/_metrics_text.ts";

/** Why a worker was replaced (the restarts counter's label). */
export type RestartReason =
  | "crash"
  | "timeout"
  | "max-requests"
  | "memory"
  | "reload";

const REASONS: RestartReason[] = [
  "crash",
  "timeout",
  "max-requests",
  "memory",
  "reload",
];

/** A live worker's last report, as the board keeps it. */
interface Seen {
  pid: number;
  v: Float64Array;
  rss: number;
  cpu: number;
  lag: number;
}

/** Parses a report file's first line; null when it is torn or missing. */
function parseReport(text: string | null): Omit<Seen, "pid"> | null {
  if (text === null) return null;
  const nl = text.indexOf("\n");
  if (nl === -1) return null;
  try {
    const r = JSON.parse(text.slice(0, nl));
    const v = fromPairs(r.v);
    if (v === null) return null;
    return { v, rss: +r.rss || 0, cpu: +r.cpu || 0, lag: +r.lag || 0 };
  } catch {
    return null;
  }
}

/** The supervisor's side of --metrics. */
export class MetricsBoard {
  #read: (path: string) => string | null;
  #readBytes: (path: string) => Uint8Array | null;
  #gone = new Float64Array(SIZE);
  #live = new Map<string, Seen>();
  #restarts = new Map<RestartReason, number>(REASONS.map((r) => [r, 0]));

  constructor(
    read: (path: string) => string | null,
    readBytes: (path: string) => Uint8Array | null,
  ) {
    this.#read = read;
    this.#readBytes = readBytes;
  }

  /**
   * Reads a worker's files (`base` is its scoreboard's path): the report,
   * and the counters its shared memory holds where it has one (Deno, Bun),
   * which are newer than the report's; keeps its last good report.
   */
  #refresh(base: string, pid: number): Seen | null {
    const report = parseReport(this.#read(`${base}.metrics`));
    const seen = this.#live.get(base) ?? null;
    if (report === null) return seen;
    const now = { pid, ...report };
    const bytes = this.#readBytes(`${base}.counters`);
    if (bytes !== null && bytes.byteLength === SIZE * 8) {
      // Copied byte for byte: Node's readFileSync may hand a view into a
      // larger buffer (and its Buffer's slice() is a view too).
      now.v = new Float64Array(SIZE);
      new Uint8Array(now.v.buffer).set(bytes);
    }
    this.#live.set(base, now);
    return now;
  }

  /**
   * A worker has exited: its last report (read once more now, the file
   * outlives it) joins the departed's sums, but for its requests in
   * flight, which are no more.
   */
  exited(base: string, pid: number): void {
    const seen = this.#refresh(base, pid);
    this.#live.delete(base);
    if (seen === null) return;
    seen.v[IN_FLIGHT] = 0;
    addInto(this.#gone, seen.v);
  }

  /** Counts a worker replaced. */
  restarted(reason: RestartReason): void {
    this.#restarts.set(reason, (this.#restarts.get(reason) ?? 0) + 1);
  }

  /** The exposition: `workers` are the live ones (scoreboard and pid). */
  render(workers: { base: string; pid: number }[], open: boolean): string {
    const sum = this.#gone.slice();
    const seen: Seen[] = [];
    for (const w of workers) {
      const s = this.#refresh(w.base, w.pid);
      if (s === null) continue;
      addInto(sum, s.v);
      seen.push(s);
    }
    const extra: Family[] = [
      {
        name: "wsgi_workers",
        type: "gauge",
        help: "Worker processes alive.",
        samples: [{ labels: "", value: workers.length }],
      },
      {
        name: "wsgi_worker_restarts_total",
        type: "counter",
        help: "Workers replaced, by reason.",
        samples: REASONS.map((r) => ({
          labels: `reason="${r}"`,
          value: this.#restarts.get(r) ?? 0,
        })),
      },
      ...processFamilies(seen),
    ];
    return renderMetrics(sum, extra, open);
  }
}

/** Each process's memory, CPU time and event-loop delay, by pid. */
export function processFamilies(
  seen: { pid: number | null; rss: number; cpu: number; lag: number }[],
): Family[] {
  // One process alone (no --workers) has no pid label.
  const per = (value: (s: (typeof seen)[number]) => number) =>
    seen.map((s) => ({
      labels: s.pid === null ? "" : `pid="${s.pid}"`,
      value: value(s),
    }));
  return [
    {
      name: "wsgi_worker_resident_memory_bytes",
      type: "gauge",
      help: "Each worker's resident set size.",
      unit: "bytes",
      samples: per((s) => s.rss),
    },
    {
      name: "wsgi_worker_cpu_seconds_total",
      type: "counter",
      help: "Each worker's user and system CPU time.",
      unit: "seconds",
      samples: per((s) => s.cpu),
    },
    {
      name: "wsgi_worker_event_loop_delay_seconds",
      type: "gauge",
      help: "Each worker's longest event-loop delay in the last second.",
      unit: "seconds",
      samples: per((s) => s.lag),
    },
  ];
}
