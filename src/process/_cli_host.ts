// What the command line needs from a runtime: _cli_host_deno.ts,
// _cli_host_bun.ts and _cli_host_node.ts each provide one.
import type { ProcessHost } from "./_process_host.ts";
import type { WorkerSide } from "./_worker.ts";

/** Process facilities for the CLI (only the CLI installs signal handlers). */
export interface CliHost {
  /** The runtime, for hints. */
  readonly runtime: "deno" | "bun" | "node";
  /** The runtime's version (Node's for hints about TypeScript). */
  readonly version: string;
  /** The command-line arguments after the script. */
  args(): string[];
  /** The working directory. */
  cwd(): string;
  /** An environment variable. */
  env(name: string): string | undefined;
  /** Removes an environment variable from this process (and its children). */
  unsetEnv(name: string): void;
  /** Whether a file exists. */
  exists(path: string): boolean;
  /** The number of cores (`--workers auto`). */
  cores(): number;
  /** Exits the process. */
  exit(code: number): never;
  /** Calls `handler` on SIGINT and SIGTERM. */
  onSignal(handler: () => void): void;
  /** The parent's process id (live: it changes if the parent dies). */
  ppid(): number;
  /** Sends SIGTERM to this process (its own handlers then stop it). */
  terminateSelf(): void;
  /** Reads a text file (--certfile, --keyfile); throws when it cannot. */
  readFile(path: string): string;
  /** Writes a small file (the --pid file). */
  writeText(path: string, text: string): void;
  /** Removes a file; quiet when missing. */
  removeFile(path: string): void;
  /**
   * Calls `handler` on the signals that reopen the log files: SIGUSR1
   * (logrotate) and SIGWINCH (the supervisor's forward of it, and USR1's
   * stand-in on Deno); no-op where they do not exist.
   */
  onReopen(
    handler: () => void,
    signals: readonly ("SIGUSR1" | "SIGWINCH")[],
  ): void;
  /** Removes a stale unix socket file (only a socket). */
  removeSocket(path: string): void;
  /** A free TCP port on `host` (for port 0 shared by workers). */
  freePort(host: string): Promise<number>;
  /** Why workers cannot be started here, or null when they can. */
  cannotSupervise(): string | null;
  /** The parent's side of `--workers`; workers inherit `inheritFds`. */
  supervisor(
    options?: { inheritFds?: readonly number[] },
  ): Promise<ProcessHost>;
  /** This process's id. */
  pid(): number;
  /**
   * Sends one sd_notify(3) message to $NOTIFY_SOCKET: by Debian's
   * `systemd-notify` (no runtime has a unix datagram socket in its stable
   * API); rejects when it cannot be run or fails.
   */
  notify(fields: string[]): Promise<void>;
  /** CLOCK_MONOTONIC (or, where it is not to be had, CLOCK_BOOTTIME) in µs. */
  monotonicUsec(): number;
  /** A worker's side of `--workers`. */
  worker(): Promise<WorkerSide>;
}
