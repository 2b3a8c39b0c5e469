// The supervisor behind `wsgi --workers N`: gunicorn's arbiter, runtime-free.
// It starts worker processes through a ProcessHost (src/_process_*.ts),
// which each import the application and serve; it replaces the dead, kills
// the stuck (heartbeat `--timeout`), recycles after `--max-requests`,
// reloads on SIGHUP, adds and removes on SIGTTIN/SIGTTOU and stops
// gracefully on SIGTERM/SIGINT. The parent never imports the application.

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
  /** `wsgi.multiprocess`: more than one worker serves. */
  multiprocess: boolean;
}

/** The environment variable that makes a started copy of the CLI a worker. */
export const WORKER_ENV = "WSGI_WORKER";

/** A worker process, as the parent holds it. */
export interface ChildHandle {
  readonly pid: number;
  /** Sends a signal to the worker. */
  kill(signal: "SIGTERM" | "SIGKILL"): void;
}

/** What the parent hears from a worker. */
export interface ChildEvents {
  message(message: WorkerMessage): void;
  /** The worker has exited (`code` null when killed by `signal`). */
  exit(code: number | null, signal: string | null): void;
}

/** The signals the supervisor handles. */
export type SupervisorSignal =
  | "SIGTERM"
  | "SIGINT"
  | "SIGHUP"
  | "SIGTTIN"
  | "SIGTTOU";

/** The parent's view of the runtime (src/_process_{deno,bun,node}.ts). */
export interface ProcessHost {
  /** Starts a copy of this command line, as a worker, with `env` added. */
  spawn(env: Record<string, string>, events: ChildEvents): ChildHandle;
  /** Calls `handler` on the signal (no-op where it does not exist). */
  onSignal(signal: SupervisorSignal, handler: () => void): void;
  /** Reads a small file; null when missing. */
  readText(path: string): string | null;
  /** A new private temporary directory. */
  makeTempDir(): string;
  /** Removes a file or directory tree; quiet when missing. */
  remove(path: string): void;
  /** Removes a unix socket file (only a socket); quiet when missing. */
  removeSocket(path: string): void;
  /** Calls `onChange(path)` on changes under `dir`; returns a stopper. */
  watch(dir: string, onChange: (path: string) => void): () => void;
}

/** The supervisor's settings (seconds as the command line has them). */
export interface SupervisorSettings {
  workers: number;
  binds: Bind[];
  timeout: number;
  gracefulTimeout: number;
  maxRequests: number;
  maxRequestsJitter: number;
  /** The folder to watch for `--reload`, or null. */
  reloadDir: string | null;
}

interface Worker {
  handle: ChildHandle;
  pid: number;
  gen: number;
  state: "booting" | "listening" | "retiring";
  spawnedAt: number;
  lastBeat: number;
  /** Asked to retire (max-requests) once its replacement listens. */
  retireWanted: boolean;
  /** The worker this one replaces (max-requests). */
  replaces: Worker | null;
  /** Why the supervisor ended it, for the exit line. */
  ending: string | null;
  scoreboard: string;
  killTimer: ReturnType<typeof setTimeout> | null;
}

/** A worker that does not start within this grace beats at all is stuck. */
const BOOT_GRACE_MS = 10_000;
/** This many boot failures in a row stop the server. */
const MAX_BOOT_FAILURES = 3;
/** Crashes further apart than this do not add to the back-off. */
const CRASH_WINDOW_MS = 10_000;

const SOURCE = /\.(?:[cm]?[jt]sx?|json)$/;

/**
 * Runs the workers until stopped; resolves with the exit code: 0 after
 * SIGTERM/SIGINT, 3 when workers keep failing to boot.
 */
export class Supervisor {
  #host: ProcessHost;
  #s: SupervisorSettings;
  #log: (line: string) => void;
  #workers = new Set<Worker>();
  #target: number;
  #gen = 1;
  /** The generation being started by a reload, or 0. */
  #reloading = 0;
  #pending = 0;
  #everListened = false;
  #bootFailures = 0;
  #crashes: number[] = [];
  #stopping = false;
  #exitCode = 0;
  #done!: (code: number) => void;
  #tick: ReturnType<typeof setInterval> | null = null;
  #stopWatch: (() => void) | null = null;
  #tmp: string;
  #serial = 0;
  #onServing: () => void;

  constructor(
    host: ProcessHost,
    settings: SupervisorSettings,
    log: (line: string) => void,
    onServing: () => void,
  ) {
    this.#host = host;
    this.#s = settings;
    this.#log = log;
    this.#target = settings.workers;
    this.#tmp = host.makeTempDir();
    this.#onServing = onServing;
  }

  /** Starts the workers and the signal handlers; settles with the exit code. */
  run(): Promise<number> {
    const finished = new Promise<number>((resolve) => (this.#done = resolve));
    const h = this.#host;
    h.onSignal("SIGTERM", () => this.stop("SIGTERM"));
    h.onSignal("SIGINT", () => this.stop("SIGINT"));
    h.onSignal("SIGHUP", () => this.reload("SIGHUP"));
    h.onSignal("SIGTTIN", () => this.#resize(+1));
    h.onSignal("SIGTTOU", () => this.#resize(-1));
    const every = this.#s.timeout > 0
      ? Math.min(1000, Math.max(100, this.#s.timeout * 250))
      : 1000;
    this.#tick = setInterval(() => this.#check(), every);
    if (this.#s.reloadDir !== null) {
      let timer: ReturnType<typeof setTimeout> | null = null;
      const dir = this.#s.reloadDir;
      this.#stopWatch = h.watch(dir, (changed) => {
        // Deno names the file absolutely, Node and Bun relative to `dir`.
        const path = changed.startsWith(dir)
          ? changed.slice(dir.length)
          : changed;
        if (!SOURCE.test(path) || /(^|[\\/])(node_modules|\.)/.test(path)) {
          return;
        }
        // Editors write a file in several steps: one reload for them all.
        if (timer !== null) clearTimeout(timer);
        timer = setTimeout(() => {
          timer = null;
          this.reload(`${path} changed`);
        }, 200);
      });
    }
    this.#maintain("start");
    return finished;
  }

  /** Graceful stop: every worker finishes its requests, then exit 0. */
  stop(why: string): void {
    if (this.#stopping) {
      // A second Ctrl-C: gunicorn's quick stop. (A repeated SIGTERM, as
      // from a process manager signalling the group, changes nothing.)
      if (why !== "SIGINT") return;
      this.#log(`wsgi: ${why} again: killing the workers now`);
      for (const w of this.#workers) this.#kill(w, "SIGKILL");
      return;
    }
    this.#stopping = true;
    this.#log(
      `wsgi: ${why}: stopping; ${this.#workers.size} worker(s) finish their requests (up to ${this.#s.gracefulTimeout} s)`,
    );
    for (const w of this.#workers) this.#retire(w, null);
    this.#finishIfIdle();
  }

  /** New workers with freshly imported code; the old retire once they listen. */
  reload(why: string): void {
    if (this.#stopping) return;
    if (this.#reloading !== 0) {
      // A reload onto a reload: the newest generation wins.
      for (const w of this.#workers) {
        if (w.gen === this.#reloading) this.#retire(w, "superseded");
      }
    }
    this.#gen += 1;
    this.#reloading = this.#gen;
    this.#log(
      `wsgi: ${why}: reloading; starting ${this.#target} new worker(s)`,
    );
    this.#maintain("reload");
  }

  #resize(delta: number): void {
    if (this.#stopping) return;
    if (delta < 0 && this.#target <= 1) {
      this.#log("wsgi: SIGTTOU: already down to 1 worker");
      return;
    }
    this.#target += delta;
    this.#log(
      `wsgi: ${delta > 0 ? "SIGTTIN" : "SIGTTOU"}: ${this.#target} worker(s)`,
    );
    if (delta > 0) return this.#maintain("SIGTTIN");
    // Retire the newest worker of the current generation.
    const current = [...this.#active()].reverse();
    const w = current.find((w) => w.state === "listening") ?? current[0];
    if (w) this.#retire(w, "SIGTTOU");
  }

  /** Workers that count towards the target: current, not leaving. */
  #active(): Worker[] {
    return [...this.#workers].filter((w) =>
      w.gen === this.#gen && w.state !== "retiring" && !w.retireWanted
    );
  }

  /** Starts workers until the current generation has its count. */
  #maintain(why: string): void {
    if (this.#stopping) return;
    let missing = this.#target - this.#active().length - this.#pending;
    for (; missing > 0; missing--) this.#spawn(why);
  }

  #spawn(why: string, delay = 0): void {
    if (delay > 0) {
      this.#pending += 1;
      setTimeout(() => {
        this.#pending -= 1;
        if (!this.#stopping) this.#maintain(why);
      }, delay);
      return;
    }
    const gen = this.#gen;
    // A worker retiring after max-requests without a replacement gets one.
    const replaces =
      [...this.#workers].find((w) =>
        w.retireWanted && w.state !== "retiring" &&
        ![...this.#workers].some((r) => r.replaces === w)
      ) ?? null;
    const scoreboard = `${this.#tmp}/worker-${++this.#serial}`;
    const jitter = this.#s.maxRequestsJitter > 0
      ? Math.floor(Math.random() * (this.#s.maxRequestsJitter + 1))
      : 0;
    const config: WorkerConfig = {
      binds: this.#s.binds,
      beatMs: this.#s.timeout > 0
        ? Math.min(1000, Math.max(50, this.#s.timeout * 250))
        : 1000,
      maxRequests: this.#s.maxRequests > 0 ? this.#s.maxRequests + jitter : 0,
      scoreboard,
      multiprocess: this.#target > 1,
    };
    const now = Date.now();
    const w: Worker = {
      handle: null as unknown as ChildHandle,
      pid: 0,
      gen,
      state: "booting",
      spawnedAt: now,
      lastBeat: now,
      retireWanted: false,
      replaces,
      ending: null,
      scoreboard,
      killTimer: null,
    };
    w.handle = this.#host.spawn({ [WORKER_ENV]: JSON.stringify(config) }, {
      message: (m) => this.#message(w, m),
      exit: (code, signal) => this.#exited(w, code, signal),
    });
    w.pid = w.handle.pid;
    this.#workers.add(w);
    this.#log(
      `wsgi: worker ${w.pid} booting (${
        replaces ? `to replace ${replaces.pid}, --max-requests` : why
      })`,
    );
  }

  #message(w: Worker, m: WorkerMessage): void {
    w.lastBeat = Date.now();
    if (m.t === "listening") {
      if (w.state !== "booting") return;
      w.state = "listening";
      this.#bootFailures = 0;
      this.#log(`wsgi: worker ${w.pid} listening`);
      if (w.replaces !== null) {
        this.#retire(w.replaces, "max-requests; its replacement listens");
      }
      this.#settle();
    } else if (m.t === "retire") {
      if (w.retireWanted || w.state === "retiring") return;
      w.retireWanted = true;
      this.#log(
        `wsgi: worker ${w.pid} served ${m.requests} requests (--max-requests): replacing it`,
      );
      this.#maintain("--max-requests");
    }
  }

  /** After a worker listens: the first "Serving" line, a finished reload. */
  #settle(): void {
    const current = this.#active();
    const all = current.length >= this.#target &&
      current.every((w) => w.state === "listening");
    if (!all) return;
    if (!this.#everListened) {
      this.#everListened = true;
      this.#onServing();
    }
    if (this.#reloading === this.#gen) {
      this.#reloading = 0;
      for (const old of this.#workers) {
        if (old.gen < this.#gen) this.#retire(old, "reloaded");
      }
      this.#log(`wsgi: reload done; ${current.length} new worker(s) serving`);
    }
  }

  /** SIGTERM now; SIGKILL after the graceful timeout. */
  #retire(w: Worker, why: string | null): void {
    if (w.state === "retiring") return;
    w.state = "retiring";
    w.ending = why ?? "stopping";
    if (why !== null) this.#log(`wsgi: worker ${w.pid} retiring (${why})`);
    this.#kill(w, "SIGTERM");
    w.killTimer = setTimeout(() => {
      if (!this.#workers.has(w)) return;
      this.#log(
        `wsgi: worker ${w.pid} still busy after --graceful-timeout ${this.#s.gracefulTimeout} s: killing it`,
      );
      this.#kill(w, "SIGKILL");
    }, this.#s.gracefulTimeout * 1000);
  }

  #kill(w: Worker, signal: "SIGTERM" | "SIGKILL"): void {
    try {
      w.handle.kill(signal);
    } catch {
      // Already gone: its exit event follows.
    }
  }

  /** The heartbeat check (gunicorn's murder_workers). */
  #check(): void {
    if (this.#s.timeout <= 0) return;
    const now = Date.now();
    for (const w of this.#workers) {
      if (w.ending === "timeout") continue;
      const limit = this.#s.timeout * 1000 +
        (w.state === "booting" ? BOOT_GRACE_MS : 0);
      // A retiring worker has --graceful-timeout instead.
      if (w.state === "retiring" || now - w.lastBeat <= limit) continue;
      const serving = (this.#host.readText(w.scoreboard) ?? "").split("\n")[0];
      this.#log(
        `wsgi: worker ${w.pid} timed out (no heartbeat for ${
          ((now - w.lastBeat) / 1000).toFixed(1)
        } s, --timeout ${this.#s.timeout})${
          serving ? `; last request: ${serving}` : ""
        }: killing it`,
      );
      w.ending = "timeout";
      this.#kill(w, "SIGKILL");
    }
  }

  #exited(w: Worker, code: number | null, signal: string | null): void {
    this.#workers.delete(w);
    if (w.killTimer !== null) clearTimeout(w.killTimer);
    this.#host.remove(w.scoreboard);
    const how = signal !== null ? `killed by ${signal}` : `exit code ${code}`;
    if (w.state === "retiring" || this.#stopping) {
      this.#log(`wsgi: worker ${w.pid} exited (${how})`);
      return this.#finishIfIdle();
    }
    if (w.state === "booting") {
      if (w.gen === this.#reloading) {
        // A reload onto code that does not boot: keep the old workers.
        this.#log(
          `wsgi: worker ${w.pid} failed to boot (${how}): reload abandoned, the old workers keep serving`,
        );
        this.#reloading = 0;
        this.#gen = w.gen - 1;
        for (const n of this.#workers) {
          if (n.gen === w.gen) this.#retire(n, "reload abandoned");
        }
        return this.#maintain("reload abandoned");
      }
      this.#bootFailures += 1;
      if (!this.#everListened || this.#bootFailures >= MAX_BOOT_FAILURES) {
        this.#log(
          `wsgi: worker ${w.pid} failed to boot (${how})${
            this.#everListened ? `, ${this.#bootFailures} times in a row` : ""
          }: stopping`,
        );
        this.#exitCode = 3;
        return this.stop("boot failure");
      }
    }
    const now = Date.now();
    this.#crashes = this.#crashes.filter((t) => now - t < CRASH_WINDOW_MS);
    this.#crashes.push(now);
    // The first crash is replaced at once; a loop backs off up to 5 s.
    const n = this.#crashes.length;
    const delay = n <= 1 ? 0 : Math.min(5000, 100 * 2 ** (n - 2));
    const why = w.ending === "timeout" ? "killed after --timeout" : how;
    this.#log(
      `wsgi: worker ${w.pid} ${
        w.state === "booting" ? "failed to boot" : "died"
      } (${why}); replacing it${delay ? ` in ${delay} ms` : ""}`,
    );
    const instead = `to replace ${w.pid}`;
    if (delay > 0) this.#spawn(instead, delay);
    else this.#maintain(instead);
  }

  #finishIfIdle(): void {
    if (!this.#stopping || this.#workers.size > 0) return;
    if (this.#tick !== null) clearInterval(this.#tick);
    this.#stopWatch?.();
    this.#host.remove(this.#tmp);
    this.#log(`wsgi: stopped`);
    this.#done(this.#exitCode);
  }
}
