// One worker of `wsgi --workers N`, runtime-free: beats for the parent,
// imports the application, serves every bind, notes each request for the
// timeout's log, asks to retire after --max-requests, and on SIGTERM
// finishes its requests and exits 0. Ctrl-C reaches the whole process
// group: a worker ignores SIGINT and waits for its parent's SIGTERM.
import type { WSGIApplication, WSGIEnvironment } from "../core/types.ts";
import {
  makeServer,
  type ServerOptions,
  type WSGIServer,
} from "../runtime/server.ts";
import {
  SCOREBOARD_ENDS,
  type WorkerConfig,
  type WorkerMessage,
} from "./_worker_protocol.ts";
import { ServerMetrics } from "../core/metrics.ts";
import {
  FlushedMetrics,
  InFlightMetrics,
  startReports,
  type Usage,
} from "./_worker_report.ts";

/** The worker's view of the runtime (src/process/_cli_host_deno.ts, _cli_host_bun.ts, _cli_host_node.ts). */
export interface WorkerSide {
  /** Whether workers share a port by `SO_REUSEPORT` (not node:cluster). */
  readonly reusePort: boolean;
  /** Tells the parent; false when the parent is gone. */
  send(message: WorkerMessage): boolean;
  /** Calls `handler` on SIGTERM; SIGINT is ignored from now on. */
  onTerm(handler: () => void): void;
  /** A writer of the scoreboard file: one cheap synchronous write. */
  scoreboard(path: string): (line: string) => void;
  /** The parent's pid has changed (it died): stop. */
  orphaned(): boolean;
  /** Removes a unix socket file (only a socket) the newest worker takes over. */
  removeSocket(path: string): void;
  /**
   * Removes a file, or a folder once it is empty; nothing when it is gone
   * (or, a folder, not empty yet).
   */
  removeQuietly(path: string): void;
  /**
   * Calls `handler` as the process exits (Node's cluster ends a worker
   * whose parent is gone with process.exit(): no `finally` runs then).
   */
  atExit?(handler: () => void): void;
  /** This process's memory and CPU time. */
  usage(): Usage;
  /** Calls `handler` on SIGUSR2 (the supervisor asks for a dump). */
  onDump(handler: () => void): void;
  /**
   * Where SIGUSR1 can open an inspector on a blocked event loop (Node):
   * picks its port and notes it with `note` (see _stuck_stack.ts).
   */
  inspectable?(note: (line: string) => void): Promise<void>;
  /**
   * A new file of `bytes` zero bytes mapped shared into memory (Deno, Bun):
   * what is written to it survives a SIGKILL; null when it cannot be had.
   */
  sharedMemory?(path: string, bytes: number): Float64Array | null;
  /**
   * Where there is no shared memory (Node): a new file of `bytes` bytes,
   * the memory to count into, and `flush`, which writes that memory to
   * the file (one synchronous write).
   */
  countersFile?(
    path: string,
    bytes: number,
  ): { memory: Float64Array; flush: () => void };
}

/**
 * Runs one worker: resolves with its exit code (0 after SIGTERM, 2 when the
 * application cannot be loaded or a bind fails: a boot failure).
 */
export async function runWorker(
  config: WorkerConfig,
  side: WorkerSide,
  load: () => Promise<WSGIApplication>,
  options: ServerOptions,
  fail: (line: string) => void,
): Promise<number> {
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  side.onTerm(() => stop());
  const orphanedExit = (): void => {
    if (side.orphaned()) leaveNoFiles(side, config.scoreboard);
  };
  side.atExit?.(orphanedExit);
  // Beats from the start, so that a slow import is not a stuck worker; a
  // synchronous loop anywhere (import or request) stops them.
  const beat = setInterval(() => {
    if (!side.send({ t: "beat" }) || side.orphaned()) stop();
  }, config.beatMs);
  if (side.inspectable) {
    await side.inspectable(side.scoreboard(`${config.scoreboard}.inspect`));
  }
  let servers: WSGIServer[] = [];
  let stopReports: (() => void) | null = null;
  try {
    let app: WSGIApplication;
    try {
      app = await load();
    } catch (error) {
      fail(`wsgi: ${(error as Error).message}`);
      return 2;
    }
    const note = side.scoreboard(config.scoreboard);
    // The requests in flight are always kept (a few tens of ns a request):
    // the dump needs them. Counted only under --metrics, which reports
    // the counters (see InFlightMetrics).
    // Under --metrics on Deno and Bun, counted straight into a shared file
    // mapping, which the supervisor reads even after a SIGKILL: no count
    // is lost (docs/observability.md).
    let memory: Float64Array | null = null;
    if (config.metrics && side.sharedMemory) {
      try {
        memory = side.sharedMemory(
          `${config.scoreboard}.counters`,
          ServerMetrics.SIZE * 8,
        );
      } catch {
        // The reports alone, then.
      }
    }
    let flush: (() => void) | null = null;
    if (config.metrics && memory === null && side.countersFile) {
      try {
        const file = side.countersFile(
          `${config.scoreboard}.counters`,
          ServerMetrics.SIZE * 8,
        );
        memory = file.memory;
        flush = file.flush;
      } catch {
        // The reports alone, then.
      }
    }
    const counted = { track: true, ...(memory ? { memory } : {}) };
    const metrics = !config.metrics
      ? new InFlightMetrics()
      : flush === null
      ? new ServerMetrics(counted)
      : new FlushedMetrics(flush, counted);
    let dumper: ((line: string) => void) | null = null;
    side.onDump(() => {
      dumper ??= side.scoreboard(`${config.scoreboard}.dump`);
      dumper(
        JSON.stringify({ at: Date.now(), requests: metrics.inFlight() }) +
          "\n",
      );
    });
    stopReports = config.metrics
      ? startReports(
        metrics,
        () => side.usage(),
        side.scoreboard(`${config.scoreboard}.metrics`),
        memory !== null,
      )
      : null;
    let last = "";
    let count = 0;
    const max = config.maxRequests;
    const multiprocess = config.multiprocess;
    const served: WSGIApplication = (environ: WSGIEnvironment, start) => {
      // PEP 3333: wsgi.multiprocess is true when another process may
      // serve the same application.
      if (multiprocess) environ["wsgi.multiprocess"] = true;
      const query = environ.QUERY_STRING;
      const line =
        `${environ.REQUEST_METHOD} ${environ.SCRIPT_NAME}${environ.PATH_INFO}${
          query ? `?${query}` : ""
        }\n`;
      // One write (a syscall, 2-3 µs) per request, skipped when the line
      // is the one already there: the parent reads it only when this
      // worker stops beating, since a stuck loop can tell it nothing.
      if (line !== last) note(last = line);
      if (++count === max) side.send({ t: "retire", requests: count });
      return app(environ, start);
    };
    for (const bind of config.binds) {
      // Without a shared socket (reusePort), the newest worker takes a unix
      // path over; the one it replaces finishes on its own connections.
      if (side.reusePort && bind.host.startsWith("unix:")) {
        side.removeSocket(bind.host.slice(5));
      }
    }
    servers = config.binds.map((bind) =>
      makeServer(bind.host, bind.port, served, {
        ...options,
        metrics,
        // An inherited socket (fd://N) is shared already.
        reusePort: side.reusePort && !/^(?:unix:|fd:\/\/)/.test(bind.host),
      })
    );
    const bound = await Promise.allSettled(servers.map((s) => s.ready));
    const failed = bound.findIndex((r) => r.status === "rejected");
    if (failed !== -1) {
      const bind = config.binds[failed];
      const error = (bound[failed] as PromiseRejectedResult).reason as Error;
      fail(
        `wsgi: worker cannot listen on ${bind.host}${
          bind.host.startsWith("unix:") ? "" : `:${bind.port}`
        }: ${error.message}`,
      );
      await Promise.all(servers.map((s) => s.shutdown()));
      return 2;
    }
    side.send({ t: "listening" });
    await stopped;
    // Drains first (src/runtime/_drain.ts), on every runtime. Under
    // SO_REUSEPORT (Deno, Bun) the worker cannot stop accepting without
    // closing its listener, so it drains while still accepting: a
    // connection the kernel still gives it gets one response, with
    // `Connection: close`, and its client reconnects, until none comes.
    // The supervisor says a reload is done only once this worker has
    // exited, so no old code is served after that.
    await Promise.all(
      servers.map((s) => s.shutdown({ drainMs: config.drainMs })),
    );
    return 0;
  } finally {
    clearInterval(beat);
    // The last report, after the last request: nothing served is lost.
    stopReports?.();
    orphanedExit();
  }
}

/**
 * The supervisor is gone (kill -9): nobody else will remove this worker's
 * files from its temporary folder (in /dev/shm), nor the folder. Each
 * orphaned worker removes its own files, then the folder, which goes once
 * the last one has (the supervisor removed those of the workers that
 * exited before it).
 */
function leaveNoFiles(side: WorkerSide, scoreboard: string): void {
  for (const end of SCOREBOARD_ENDS) side.removeQuietly(scoreboard + end);
  side.removeQuietly(scoreboard.slice(0, scoreboard.lastIndexOf("/")));
}
