// What the supervisor and its workers say to each other: the worker's
// settings (JSON in WSGI_WORKER) and the messages it sends back.

/** What a worker tells its parent. */
export type WorkerMessage =
  | { t: "listening" }
  | { t: "beat" }
  | { t: "retire"; requests: number };

/** Where a worker serves: a TCP host and port, or `unix:/path` (port 0). */
export interface Bind {
  host: string;
  port: number;
}

/** What the parent passes to each worker (as JSON in `WSGI_WORKER`). */
export interface WorkerConfig {
  /** The binds, with port 0 already resolved to the shared port. */
  binds: Bind[];
  /** How often to beat, in ms (0: never). */
  beatMs: number;
  /** Retire after this many requests (0: never). */
  maxRequests: number;
  /** Where to write the request being served (for the timeout's log). */
  scoreboard: string;
  /**
   * How long a stopping worker drains keep-alive connections (each
   * response then says `Connection: close`) before it closes idle ones.
   */
  drainMs: number;
  /** `wsgi.multiprocess`: more than one worker serves. */
  multiprocess: boolean;
  /** Write `<scoreboard>.metrics` reports (--metrics). */
  metrics?: boolean;
}

/** The environment variable that makes a started copy of the CLI a worker. */
export const WORKER_ENV = "WSGI_WORKER";

/**
 * The files of a worker in the supervisor's temporary folder: its
 * scoreboard (`WorkerConfig.scoreboard`) and that name with these endings.
 */
export const SCOREBOARD_ENDS: readonly string[] = [
  "",
  ".metrics",
  ".counters",
  ".dump",
  ".inspect",
];
