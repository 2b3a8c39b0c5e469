// systemd, runtime-free: socket activation (sd_listen_fds(3): the sockets
// of a `.socket` unit, passed from fd 3 on) and readiness notification
// (sd_notify(3): `READY=1`, `RELOADING=1`, `STOPPING=1` to
// $NOTIFY_SOCKET). The runtime sends the datagram (the CLI host's
// `notify`): no JS runtime has a unix datagram socket in its stable API.
import type { Bind } from "./_worker_protocol.ts";

/** What this file needs of the process. */
interface SystemdHost {
  env(name: string): string | undefined;
  pid(): number;
  /** Sends one sd_notify message (newline-joined fields); resolves when sent. */
  notify(fields: string[]): Promise<void>;
  /** CLOCK_MONOTONIC in µs (systemd 253's `MONOTONIC_USEC`). */
  monotonicUsec(): number;
}

/** sd_listen_fds(3): the first passed descriptor. */
const SD_LISTEN_FDS_START = 3;

/**
 * The listening sockets systemd passed, as `fd://N` binds, with their
 * names (LISTEN_FDNAMES, `FileDescriptorName=`) for the log; null when
 * none were passed to this process. As sd_listen_fds(3): LISTEN_PID must
 * be this process (a child that inherited the variables is not meant); a
 * malformed LISTEN_FDS is an error that names it.
 */
export function listenFds(
  host: Pick<SystemdHost, "env" | "pid">,
): { binds: Bind[]; names: string[] } | null {
  const pid = host.env("LISTEN_PID");
  const count = host.env("LISTEN_FDS");
  if (pid === undefined || count === undefined) return null;
  if (!/^\d+$/.test(pid) || Number(pid) !== host.pid()) return null;
  if (!/^\d+$/.test(count) || Number(count) > 1024) {
    throw new Error(
      `LISTEN_FDS must be a number of file descriptors, got ${
        JSON.stringify(count)
      }`,
    );
  }
  const n = Number(count);
  if (n === 0) return null;
  const given = (host.env("LISTEN_FDNAMES") ?? "").split(":");
  const binds: Bind[] = [];
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    binds.push({ host: `fd://${SD_LISTEN_FDS_START + i}`, port: 0 });
    names.push(given[i] || "unknown");
  }
  return { binds, names };
}

/** sd_listen_fds(3)'s variables. */
const LISTEN_VARS = ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] as const;

/**
 * listenFds, then the variables removed from this process's environment,
 * as sd_listen_fds(3) does with `unset_environment` (whether or not they
 * were meant for this process): they describe this process's descriptors,
 * and a worker or a child of the app that inherited them would be told of
 * sockets that are not its own (a child that checks LISTEN_PID against a
 * reused pid would even take them). Workers get the sockets as `fd://N`.
 */
export function takeListenFds(
  host: Pick<SystemdHost, "env" | "pid"> & { unsetEnv(name: string): void },
): { binds: Bind[]; names: string[] } | null {
  try {
    return listenFds(host);
  } finally {
    for (const name of LISTEN_VARS) {
      if (host.env(name) !== undefined) host.unsetEnv(name);
    }
  }
}

/** The `fd://N` binds' descriptors (what workers must inherit). */
export function inheritedFds(binds: readonly Bind[]): number[] {
  const fds: number[] = [];
  for (const b of binds) {
    const m = /^fd:\/\/(\d+)$/.exec(b.host);
    if (m) fds.push(Number(m[1]));
  }
  return fds;
}

/**
 * sd_notify(3) for `Type=notify` services: messages go out in order, one
 * at a time, and only when $NOTIFY_SOCKET is set. `READY=1` carries
 * `MAINPID` (this process, whatever started it, such as npx), so that
 * systemd signals the process that handles them.
 */
export class Notifier {
  #host: SystemdHost;
  #log: (line: string) => void;
  #chain: Promise<void> = Promise.resolve();
  #failed = false;
  /** Whether $NOTIFY_SOCKET is set. */
  readonly enabled: boolean;

  constructor(host: SystemdHost, log: (line: string) => void) {
    this.#host = host;
    this.#log = log;
    this.enabled = (host.env("NOTIFY_SOCKET") ?? "") !== "";
  }

  #send(fields: string[]): void {
    if (!this.enabled || this.#failed) return;
    this.#chain = this.#chain.then(() => this.#host.notify(fields)).catch(
      (error) => {
        // Said once: a unit of Type=notify then times out at start-up.
        this.#failed = true;
        this.#log(
          `wsgi: NOTIFY_SOCKET is set, but systemd-notify (Debian's systemd ` +
            `package) failed: ${(error as Error).message}; systemd is not told`,
        );
      },
    );
  }

  /** Start-up or reload done: every worker listens. */
  ready(status: string): void {
    this.#send([
      "READY=1",
      `MAINPID=${this.#host.pid()}`,
      `STATUS=${status}`,
    ]);
  }

  /** A reload begins (systemd 253 wants the time it began with it). */
  reloading(): void {
    this.#send([
      "RELOADING=1",
      `MONOTONIC_USEC=${this.#host.monotonicUsec()}`,
      "STATUS=reloading",
    ]);
  }

  /** The graceful stop begins. */
  stopping(): void {
    this.#send(["STOPPING=1", "STATUS=stopping"]);
  }

  /** Resolves once every message has been sent. */
  flush(): Promise<void> {
    return this.#chain;
  }
}
