// The supervisor's bookkeeping of one worker: its record, the settings it
// is started with, the heartbeat deadline (gunicorn's murder_workers) and
// the back-off between crashes. Pure: no timers, no processes.
import type { ChildHandle } from "./_process_host.ts";
import type { Bind, WorkerConfig } from "./_worker_protocol.ts";

/** A worker, as the supervisor tracks it. */
export interface Worker {
  handle: ChildHandle;
  pid: number;
  gen: number;
  state: "booting" | "listening" | "retiring";
  spawnedAt: number;
  lastBeat: number;
  /** Asked to retire once its replacement listens (recycled). */
  retireWanted: boolean;
  /** Why it is recycled (--max-requests, --max-worker-rss...). */
  retireWhy: string | null;
  /** The worker this one replaces (recycling). */
  replaces: Worker | null;
  /** When --max-worker-lifetime ends it (0: never). */
  lifetimeEnd: number;
  /** Memory samples over --max-worker-rss in a row, and the last one's time. */
  rssOver: number;
  rssSampledAt: number;
  /** Why the supervisor ended it, for the exit line. */
  ending: string | null;
  scoreboard: string;
  killTimer: ReturnType<typeof setTimeout> | null;
}

/** A worker that does not start within this grace beats at all is stuck. */
const BOOT_GRACE_MS = 10_000;
/** This many boot failures in a row stop the server. */
export const MAX_BOOT_FAILURES = 3;
/** Crashes further apart than this do not add to the back-off. */
const CRASH_WINDOW_MS = 10_000;

/** A new worker's record, booting, its handle set once spawned. */
export function newWorker(
  gen: number,
  replaces: Worker | null,
  scoreboard: string,
  now: number,
): Worker {
  return {
    handle: null as unknown as ChildHandle,
    pid: 0,
    gen,
    state: "booting",
    spawnedAt: now,
    lastBeat: now,
    retireWanted: false,
    retireWhy: null,
    replaces,
    lifetimeEnd: 0,
    rssOver: 0,
    rssSampledAt: 0,
    ending: null,
    scoreboard,
    killTimer: null,
  };
}

/** How often the supervisor checks heartbeats, in ms (`timeout` in s). */
export function checkEveryMs(timeout: number): number {
  return timeout > 0 ? Math.min(1000, Math.max(100, timeout * 250)) : 1000;
}

/** What a new worker is told: its binds, beat and max-requests (jittered). */
export function workerConfig(
  s: {
    binds: Bind[];
    timeout: number;
    gracefulTimeout: number;
    maxRequests: number;
    maxRequestsJitter: number;
  },
  scoreboard: string,
  multiprocess: boolean,
): WorkerConfig {
  const jitter = s.maxRequestsJitter > 0
    ? Math.floor(Math.random() * (s.maxRequestsJitter + 1))
    : 0;
  return {
    binds: s.binds,
    beatMs: s.timeout > 0
      ? Math.min(1000, Math.max(50, s.timeout * 250))
      : 1000,
    maxRequests: s.maxRequests > 0 ? s.maxRequests + jitter : 0,
    scoreboard,
    // Up to 1 s (it ends sooner once quiet), within half the graceful
    // timeout, so that requests in flight still have time after it.
    drainMs: Math.min(1000, s.gracefulTimeout * 500),
    multiprocess,
  };
}

/**
 * Whether a worker has gone silent past `--timeout` (seconds): a booting
 * one gets a grace on top, a retiring one has --graceful-timeout instead,
 * one already killed for it is not killed again.
 */
export function timedOut(w: Worker, now: number, timeout: number): boolean {
  if (w.ending === "timeout" || w.state === "retiring") return false;
  const limit = timeout * 1000 + (w.state === "booting" ? BOOT_GRACE_MS : 0);
  return now - w.lastBeat > limit;
}

/** The delay before replacing crashed workers, growing with a crash loop. */
export class CrashBackoff {
  #crashes: number[] = [];

  /** Notes a crash at `now`; returns how long to wait before replacing. */
  next(now: number): number {
    this.#crashes = this.#crashes.filter((t) => now - t < CRASH_WINDOW_MS);
    this.#crashes.push(now);
    // The first crash is replaced at once; a loop backs off up to 5 s.
    const n = this.#crashes.length;
    return n <= 1 ? 0 : Math.min(5000, 100 * 2 ** (n - 2));
  }
}
