// The supervisor behind `wsgi --workers N`: gunicorn's arbiter, runtime-free.
// It starts worker processes through a ProcessHost (_cli_host_deno.ts,
// _cli_host_bun.ts, _cli_host_node.ts), which each import the application and
// serve; it replaces the dead, kills the stuck (heartbeat `--timeout`),
// recycles after `--max-requests`, reloads on SIGHUP, adds and removes on
// SIGTTIN/SIGTTOU and stops gracefully on SIGTERM/SIGINT. The parent never
// imports the application. Each worker's record, heartbeat deadline and crash
// back-off are in _supervisor_workers.ts; `--reload`'s watcher in
// _reload_watch.ts.
import type { KillSignal, ProcessHost } from "./_process_host.ts";
import {
  lifetimeEnd,
  recycleReason,
  type RecycleSettings,
} from "./_recycle.ts";
import { ROLLING, Rolling } from "./_rolling_reload.ts";
import { watchSources } from "./_reload_watch.ts";
import { reopenLogFiles } from "../runtime/logging.ts";
import {
  checkEveryMs,
  CrashBackoff,
  MAX_BOOT_FAILURES,
  newWorker,
  timedOut,
  type Worker,
  workerConfig,
} from "./_supervisor_workers.ts";
import { MetricsBoard, type RestartReason } from "./_metrics_board.ts";
import { DUMP_WAIT_MS, dumpLines } from "./_supervisor_dump.ts";
import { inspectorStack } from "./_stuck_stack.ts";
import { escapeLog } from "../core/_access_log.ts";
import {
  type Bind,
  SCOREBOARD_ENDS,
  WORKER_ENV,
  type WorkerMessage,
} from "./_worker_protocol.ts";

/** The supervisor's settings (seconds as the command line has them). */
interface SupervisorSettings extends RecycleSettings {
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
  /** Workers report metrics (--metrics). */
  metrics?: boolean;
  /** Deno: start workers with an inspector, for --timeout's stack. */
  timeoutStacks?: boolean;
}

/** What the supervisor reports as it goes (systemd's sd_notify states). */
interface SupervisorEvents {
  /** A reload has begun. */
  reloading(): void;
  /** A reload is over (done, or abandoned: the old workers serve). */
  reloaded(): void;
  /** The graceful stop has begun. */
  stopping(): void;
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
  /** A reload whose new workers serve, while older ones drain; or 0. */
  #finishing = 0;
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
  #events: SupervisorEvents | null;
  #board: MetricsBoard;
  /** The inspector ports of workers started with one (--timeout-stacks). */
  #inspectPorts = new Map<Worker, number>();

  constructor(
    host: ProcessHost,
    settings: SupervisorSettings,
    log: (line: string) => void,
    onServing: () => void,
    events: SupervisorEvents | null = null,
  ) {
    this.#events = events;
    this.#host = host;
    this.#s = settings;
    this.#log = log;
    this.#target = settings.workers;
    this.#tmp = host.makeTempDir();
    this.#onServing = onServing;
    this.#board = new MetricsBoard(
      (path) => host.readText(path),
      (path) => host.readBytes(path),
    );
  }

  /** The metrics exposition (--metrics), OpenMetrics when `open`. */
  metricsText(open: boolean): string {
    const live = [...this.#workers].map((w) => ({
      base: w.scoreboard,
      pid: w.pid,
    }));
    return this.#board.render(live, open);
  }

  /** False from the moment a graceful stop begins (the `/ready` path). */
  get ready(): boolean {
    return !this.#stopping && this.#everListened;
  }

  /** SIGUSR2: logs every live worker's requests in flight; kills none. */
  dump(): void {
    const asked = [...this.#workers].filter((w) => w.state === "listening");
    const at = Date.now();
    // Only a listening worker has its SIGUSR2 handler (a booting one
    // would die of the signal).
    for (const w of asked) this.#kill(w, "SIGUSR2");
    this.#log(
      `wsgi: SIGUSR2: asking ${asked.length} worker(s) for their requests`,
    );
    setTimeout(() => {
      const now = Date.now();
      for (const w of asked) {
        this.#log(dumpLines(w, (p) => this.#host.readText(p), at, now));
      }
    }, DUMP_WAIT_MS);
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
    h.onSignal("SIGUSR2", () => this.dump());
    h.onSignal("SIGUSR1", () => this.#reopen("SIGUSR1"));
    // The same without Deno's inspector (docs/logging.md).
    h.onSignal("SIGWINCH", () => this.#reopen("SIGWINCH"));
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
    this.#finishing = 0;
    this.#events?.stopping();
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
    // A reload still draining the older workers is folded into this one.
    this.#finishing = 0;
    this.#events?.reloading();
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
    const config = {
      ...workerConfig(this.#s, scoreboard, this.#target > 1),
      metrics: this.#s.metrics === true,
    };
    const w = newWorker(gen, replaces, scoreboard, Date.now());
    const h = this.#host;
    let inspectPort: number | undefined;
    if (this.#s.timeoutStacks && h.inspector === "start" && h.freePortSync) {
      try {
        inspectPort = h.freePortSync();
        this.#inspectPorts.set(w, inspectPort);
      } catch {
        inspectPort = undefined;
      }
    }
    w.lifetimeEnd = lifetimeEnd(this.#s, w.spawnedAt);
    w.handle = h.spawn({ [WORKER_ENV]: JSON.stringify(config) }, {
      message: (m) => this.#message(w, m),
      exit: (code, signal) => this.#exited(w, code, signal),
    }, inspectPort);
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
      this.#finishing = this.#gen;
      this.#reloaded();
    }
  }

  /**
   * A reload is done once no older worker is left: the old ones drain
   * (src/runtime/_drain.ts) and, under SO_REUSEPORT (Deno, Bun), still
   * take connections meanwhile. Said then, "reload done" (and systemd's
   * READY=1) means that every request from now on meets the new code.
   */
  #reloaded(): void {
    if (this.#stopping) return;
    const gen = this.#finishing;
    if (gen !== 0 && ![...this.#workers].some((w) => w.gen < gen)) {
      this.#finishing = 0;
      this.#log(
        `wsgi: reload done; ${this.#active().length} new worker(s) serving`,
      );
      this.#events?.reloaded();
    }
    if (this.#rolling.done(this.#workers)) {
      this.#log(
        `wsgi: rolling reload done; ${this.#target} worker(s) replaced`,
      );
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

  /**
   * SIGUSR1 or SIGWINCH (logrotate's postrotate): the parent's log files,
   * then each listening worker's, by SIGWINCH: its default is to be
   * ignored, so a worker that has no handler yet is not killed (Bun dies
   * of SIGUSR1) and no inspector starts (Node starts one on SIGUSR1
   * without a listener, Deno even with one).
   */
  #reopen(why: string): void {
    reopenLogFiles();
    this.#log(`wsgi: ${why}: log files reopened; telling the workers`);
    for (const w of this.#workers) {
      if (w.state === "listening") this.#kill(w, "SIGWINCH");
    }
  }

  #kill(w: Worker, signal: KillSignal): void {
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
      w.ending = "timeout";
      void this.#killStuck(w, now);
    }
  }

  /**
   * Logs what a stuck worker was doing (its last request, and its stack
   * where the runtime can give it: _stuck_stack.ts), then kills it.
   */
  async #killStuck(w: Worker, now: number): Promise<void> {
    const h = this.#host;
    const serving = (h.readText(w.scoreboard) ?? "").split("\n")[0];
    const silent = ((now - w.lastBeat) / 1000).toFixed(1);
    this.#log(
      `wsgi: worker ${w.pid} timed out (no heartbeat for ${silent} s, --timeout ${this.#s.timeout})${
        serving
          ? `; last request: ${
            escapeLog(serving)
          } (running at least ${silent} s)`
          : ""
      }: killing it`,
    );
    // Node's workers note their port; Deno's were started with one.
    const port = this.#inspectPorts.get(w) ??
      Number((h.readText(`${w.scoreboard}.inspect`) ?? "").trim());
    if (port > 0 && this.#workers.has(w)) {
      // Node opens its inspector on SIGUSR1; Deno's is open already.
      if (h.inspector === "signal") this.#kill(w, "SIGUSR1");
      const stack = await inspectorStack(port);
      if (stack === null) {
        this.#log(`wsgi: worker ${w.pid}: no JavaScript stack (inspector)`);
      } else {
        for (const frame of stack.slice(0, 12)) {
          this.#log(`wsgi: worker ${w.pid}   at ${frame}`);
        }
      }
    }
    this.#kill(w, "SIGKILL");
  }

  #exited(w: Worker, code: number | null, signal: string | null): void {
    this.#workers.delete(w);
    this.#inspectPorts.delete(w);
    if (w.killTimer !== null) clearTimeout(w.killTimer);
    this.#board.exited(w.scoreboard, w.pid);
    const reason = restartReason(w, this.#stopping);
    if (reason !== null) this.#board.restarted(reason);
    for (const end of SCOREBOARD_ENDS) {
      this.#host.remove(w.scoreboard + end);
    }
    const how = signal !== null ? `killed by ${signal}` : `exit code ${code}`;
    if (w.state === "retiring" || this.#stopping) {
      this.#log(`wsgi: worker ${w.pid} exited (${how})`);
      this.#reloaded();
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
        this.#events?.reloaded();
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

/** Why an exited worker is being replaced; null when it is not. */
function restartReason(w: Worker, stopping: boolean): RestartReason | null {
  const ending = w.ending ?? "";
  if (w.state === "retiring") {
    if (ending.startsWith("max-requests")) return "max-requests";
    if (ending === "reloaded" || ending === "superseded") return "reload";
    if (ending.includes("memory")) return "memory";
    return null;
  }
  if (stopping) return null;
  return ending === "timeout" ? "timeout" : "crash";
}
