// The supervisor behind `wsgi --workers N`: gunicorn's arbiter, runtime-free.
// It starts worker processes through a ProcessHost (src/process/_deno.ts,
// _bun.ts, _node.ts), which each import the application and serve; it
// replaces the dead, kills the stuck (heartbeat `--timeout`), recycles after
// `--max-requests`, reloads on SIGHUP, adds and removes on SIGTTIN/SIGTTOU
// and stops gracefully on SIGTERM/SIGINT. The parent never imports the
// application. Each worker's record, heartbeat deadline and crash back-off
// are in _supervisor_workers.ts; `--reload`'s watcher in _reload_watch.ts.
import type { ProcessHost } from "./_process_host.ts";
import {
  lifetimeEnd,
  recycleReason,
  type RecycleSettings,
} from "./_recycle.ts";
import { ROLLING, Rolling } from "./_rolling_reload.ts";
import { watchSources } from "./_reload_watch.ts";
import {
  checkEveryMs,
  CrashBackoff,
  MAX_BOOT_FAILURES,
  newWorker,
  timedOut,
  type Worker,
  workerConfig,
} from "./_supervisor_workers.ts";
import {
  type Bind,
  WORKER_ENV,
  type WorkerMessage,
} from "./_worker_protocol.ts";

/** The supervisor's settings (seconds as the command line has them). */
export interface SupervisorSettings extends RecycleSettings {
  workers: number;
  binds: Bind[];
  timeout: number;
  gracefulTimeout: number;
  maxRequests: number;
  maxRequestsJitter: number;
  /** The folder to watch for `--reload`, or null. */
  reloadDir: string | null;
  /** `--reload-mode`: all new workers at once, or one at a time. */
  reloadMode: "all" | "rolling";
}

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
  #backoff = new CrashBackoff();
  #stopping = false;
  #rolling = new Rolling();
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
    this.#tick = setInterval(
      () => this.#check(),
      checkEveryMs(this.#s.timeout),
    );
    if (this.#s.reloadDir !== null) {
      this.#stopWatch = watchSources(
        h,
        this.#s.reloadDir,
        (why) => this.reload(why),
      );
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
    if (this.#s.reloadMode === "rolling") {
      const old = this.#rolling.start(this.#workers);
      this.#log(
        `wsgi: ${why}: rolling reload; replacing ${old} worker(s) one at a time`,
      );
      for (const w of this.#workers) {
        if (this.#rolling.wants(w)) this.#recycle(w, ROLLING);
      }
      return;
    }
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
    missing = this.#rolling.limit(missing, this.#workers);
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
    const config = workerConfig(this.#s, scoreboard, this.#target > 1);
    const w = newWorker(gen, replaces, scoreboard, Date.now());
    w.lifetimeEnd = lifetimeEnd(this.#s, w.spawnedAt);
    w.handle = this.#host.spawn({ [WORKER_ENV]: JSON.stringify(config) }, {
      message: (m) => this.#message(w, m),
      exit: (code, signal) => this.#exited(w, code, signal),
    });
    w.pid = w.handle.pid;
    this.#workers.add(w);
    this.#log(
      `wsgi: worker ${w.pid} booting (${
        replaces ? `to replace ${replaces.pid}, ${replaces.retireWhy}` : why
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
        this.#retire(
          w.replaces,
          `${w.replaces.retireWhy}; its replacement listens`,
        );
      }
      this.#settle();
      if (this.#rolling.done(this.#workers)) {
        this.#log(
          `wsgi: rolling reload done; ${this.#target} worker(s) replaced`,
        );
      }
      this.#maintain("rolling reload");
    } else if (m.t === "retire") {
      if (w.retireWanted || w.state === "retiring") return;
      this.#log(
        `wsgi: worker ${w.pid} served ${m.requests} requests (--max-requests): replacing it`,
      );
      this.#recycle(w, "max-requests");
    }
  }

  /** Starts a replacement; `w` retires once it listens. */
  #recycle(w: Worker, why: string): void {
    if (w.retireWanted || w.state === "retiring") return;
    w.retireWanted = true;
    w.retireWhy = why;
    this.#maintain(why);
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
    const now = Date.now();
    for (const w of this.#workers) {
      const why = recycleReason(w, now, this.#s, (p) => this.#host.readText(p));
      if (why === null) continue;
      this.#log(`wsgi: worker ${w.pid} reached ${why}: replacing it`);
      this.#recycle(w, why.slice(0, why.indexOf(":")));
    }
    if (this.#s.timeout <= 0) return;
    for (const w of this.#workers) {
      if (!timedOut(w, now, this.#s.timeout)) continue;
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
      if (w.replaces?.retireWhy === ROLLING) {
        // A rolling reload onto code that does not boot: the workers not
        // yet replaced keep serving the old code.
        const kept = this.#rolling.abandon(this.#workers);
        this.#log(
          `wsgi: worker ${w.pid} failed to boot (${how}): rolling reload abandoned, ${kept} old worker(s) keep serving`,
        );
        return this.#maintain("reload abandoned");
      }
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
    const delay = this.#backoff.next(Date.now());
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
