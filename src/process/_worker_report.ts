// What a worker tells its supervisor about itself beyond heartbeats, in
// files next to its scoreboard (the supervisor reads them; a file outlives
// a worker killed by SIGKILL, an IPC message in flight does not):
// - `<scoreboard>.metrics`: its request metrics and process figures, one
//   JSON line rewritten every REPORT_MS (only under --metrics; once a
//   second when the counters are in `<scoreboard>.counters`);
// - `<scoreboard>.counters`: the counters' raw memory (mapped shared on
//   Deno and Bun, written as counted on Node: FlushedMetrics);
// - `<scoreboard>.dump`: its requests in flight, written when SIGUSR2 asks.
import {
  type InFlightRequest,
  type MeasuredRequest,
  ServerMetrics,
  type ServerMetricsOptions,
} from "../core/metrics.ts";
import { toPairs } from "../core/_metrics.ts";
import { escapeLog } from "../core/_access_log.ts";

/**
 * How often a worker rewrites its metrics file when it has served
 * requests since (without a counters file), in ms; also the loop-delay
 * timer's period.
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

/**
 * A worker's metrics without --metrics: only the requests in flight, for
 * the SIGUSR2 dump (each with its start, one `performance.now()`, which
 * the dump shows to the millisecond and a timed access log reads too).
 * Nothing is counted, since nothing reports the counters: a request's end
 * reads no clock and fills no histogram (0.05 µs a request on Bun, 0.1 on
 * Deno and Node, in-process).
 */
export class InFlightMetrics extends ServerMetrics {
  #live = new Set<MeasuredRequest>();

  override begin(request: MeasuredRequest): void {
    this.#live.add(request);
    request.start = performance.now();
  }

  override end(request: MeasuredRequest): void {
    this.#live.delete(request);
  }

  override refused(): void {}

  override inFlight(): InFlightRequest[] {
    const now = performance.now();
    return [...this.#live].map((r) => ({
      method: r.method,
      target: r.target,
      seconds: (now - r.start) / 1000,
    }));
  }
}

/** One line of a dump: a request in flight. */
export function dumpLine(
  r: { method: string; target: string; seconds: number },
): string {
  // Escaped: a target must not forge a log line.
  return `${escapeLog(`${r.method} ${r.target}`)} (${r.seconds.toFixed(3)} s)`;
}

/**
 * The event loop's delay: how late a REPORT_MS timer fires, the worst of
 * each second. Whoever owns the timer calls `tick()` from it.
 */
export class LoopDelay {
  #due: number = performance.now() + REPORT_MS;
  #worst = 0;
  #ticks = 0;
  /** The longest delay of the last full second, in seconds. */
  seconds = 0;

  /** Called every REPORT_MS; true when a second is complete. */
  tick(): boolean {
    const now = performance.now();
    this.#worst = Math.max(this.#worst, now - this.#due);
    this.#due = now + REPORT_MS;
    if (++this.#ticks * REPORT_MS < USAGE_MS) return false;
    this.#ticks = 0;
    this.seconds = this.#worst / 1000;
    this.#worst = 0;
    return true;
  }
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
  const delay = new LoopDelay();
  let u = usage();
  let last = "";
  const report = (): void => {
    const line = JSON.stringify(
      {
        v: toPairs(metrics.snapshot()),
        rss: u.rss,
        cpu: u.cpu,
        lag: delay.seconds,
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
    if (delay.tick()) {
      u = usage();
    } else if (shared) {
      // The counters are in shared memory (or a file written as they
      // are counted), read there by the supervisor: the report carries
      // only the process figures, once a second.
      if (metrics instanceof FlushedMetrics) metrics.sync();
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

/**
 * A worker's metrics where there is no shared memory (Node): every count
 * is written to `<scoreboard>.counters` as it is made (one pwrite to
 * /dev/shm), and Node's server counts a body sent at once just before it
 * hands it to the socket: by the time a client has its answer, the count
 * is on the file, which outlives a `kill -9`.
 */
export class FlushedMetrics extends ServerMetrics {
  #flush: () => void;
  #begun = false;

  constructor(flush: () => void, options: ServerMetricsOptions) {
    super(options);
    this.#flush = flush;
  }

  #write(): void {
    this.#begun = false;
    try {
      this.#flush();
    } catch {
      // A full /dev/shm: the next count tries again.
    }
  }

  override begin(request: MeasuredRequest): void {
    super.begin(request);
    this.#begun = true;
  }

  /**
   * Writes the requests in flight begun since the last write (a gauge:
   * every REPORT_MS is enough; what is counted at the end is at once).
   */
  sync(): void {
    if (this.#begun) this.#write();
  }

  override end(
    request: MeasuredRequest,
    code: number,
    sent: number | null,
    refused: boolean,
  ): void {
    super.end(request, code, sent, refused);
    this.#write();
  }

  override refused(code: number): void {
    super.refused(code);
    this.#write();
  }
}
