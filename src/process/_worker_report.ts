// What a worker tells its supervisor about itself beyond heartbeats, in
// files next to its scoreboard (the supervisor reads them; a file outlives
// a worker killed by SIGKILL, an IPC message in flight does not):
// - `<scoreboard>.metrics`: its request metrics and process figures, one
//   JSON line rewritten every REPORT_MS (only under --metrics);
// - `<scoreboard>.dump`: its requests in flight, written when SIGUSR2 asks.
import type { ServerMetrics } from "../core/metrics.ts";
import { toPairs } from "../core/_metrics.ts";
import { escapeLog } from "../core/_access_log.ts";

/**
 * How often a worker rewrites its metrics file when it has served
 * requests since, in ms: what a SIGKILL can lose (docs/observability.md).
 */
export const REPORT_MS = 25;
/** How often the process figures (memory, CPU, loop delay) are taken. */
const USAGE_MS = 1000;

/** A worker's process figures (its runtime's, see WorkerSide.usage). */
export interface Usage {
  /** Resident set size, bytes. */
  rss: number;
  /** User and system CPU time, seconds. */
  cpu: number;
}

/** One metrics report, as the file holds it (one JSON line). */
export interface Report {
  /** The request metrics as (index, value) pairs (see _metrics.ts). */
  v: number[];
  rss: number;
  cpu: number;
  /** The longest event-loop delay of the last second, seconds. */
  lag: number;
}

/** One line of a dump: a request in flight. */
export function dumpLine(
  r: { method: string; target: string; seconds: number },
): string {
  // Escaped: a target must not forge a log line.
  return `${escapeLog(`${r.method} ${r.target}`)} (${r.seconds.toFixed(3)} s)`;
}

/**
 * Starts rewriting `write`'s file every REPORT_MS with `metrics` and the
 * process figures; returns what writes the last report and stops.
 */
export function startReports(
  metrics: ServerMetrics,
  usage: () => Usage,
  write: (line: string) => void,
  shared: boolean,
): () => void {
  // The event loop's delay: how late this 25 ms timer fires; the worst of
  // a second's ticks is reported.
  let worst = 0;
  let lag = 0;
  let u = usage();
  let ticks = 0;
  let due = performance.now() + REPORT_MS;
  let last = "";
  const report = (): void => {
    const line = JSON.stringify(
      {
        v: toPairs(metrics.snapshot()),
        rss: u.rss,
        cpu: u.cpu,
        lag: lag / 1000,
      } satisfies Report,
    ) + "\n";
    // The file is rewritten in place, never truncated: the reader takes
    // the first line. An idle worker's report does not change between
    // usage samples, and is not rewritten.
    if (line !== last) {
      try {
        write(last = line);
      } catch {
        // A full /dev/shm: the next report tries again.
      }
    }
  };
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - due);
    due = now + REPORT_MS;
    if (++ticks * REPORT_MS >= USAGE_MS) {
      ticks = 0;
      u = usage();
      lag = worst;
      worst = 0;
    } else if (shared) {
      // The counters are in shared memory, read there by the supervisor:
      // the report carries only the process figures, once a second.
      return;
    }
    report();
  }, REPORT_MS);
  report();
  return () => {
    clearInterval(timer);
    report();
  };
}
