// The supervisor's view of the runtime: starting, signalling and watching
// workers (src/process/_cli_host_deno.ts, _cli_host_bun.ts and _cli_host_node.ts each provide one).
import type { WorkerMessage } from "./_worker_protocol.ts";

/** A worker process, as the parent holds it. */
export interface ChildHandle {
  readonly pid: number;
  /** Sends a signal to the worker. */
  kill(signal: KillSignal): void;
}

/**
 * What the supervisor sends a worker: TERM, KILL; USR2 asks for its
 * requests in flight; USR1 opens a stuck Node worker's inspector;
 * WINCH reopens its log files (docs/logging.md).
 */
export type KillSignal =
  | "SIGTERM"
  | "SIGKILL"
  | "SIGUSR1"
  | "SIGUSR2"
  | "SIGWINCH";

/** What the parent hears from a worker. */
interface ChildEvents {
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
  | "SIGTTOU"
  | "SIGUSR1"
  | "SIGUSR2"
  | "SIGWINCH";

/** The parent's view of the runtime (src/process/_cli_host_deno.ts, _cli_host_bun.ts, _cli_host_node.ts). */
export interface ProcessHost {
  /**
   * Starts a copy of this command line, as a worker, with `env` added;
   * with its V8 inspector on 127.0.0.1:`inspectPort` when given (Deno).
   */
  spawn(
    env: Record<string, string>,
    events: ChildEvents,
    inspectPort?: number,
  ): ChildHandle;
  /**
   * How a stuck worker's inspector is had (_stuck_stack.ts): "signal", SIGUSR1
   * opens it (Node's workers note their port); "start", only when the worker
   * is started with it (Deno, --timeout-stacks); absent, not at all (Bun).
   */
  readonly inspector?: "signal" | "start";
  /** A free TCP port of 127.0.0.1, at once (for "start"). */
  freePortSync?(): number;
  /** Calls `handler` on the signal (no-op where it does not exist). */
  onSignal(signal: SupervisorSignal, handler: () => void): void;
  /** Reads a small file; null when missing. */
  readText(path: string): string | null;
  /** Reads a small file's bytes; null when missing. */
  readBytes(path: string): Uint8Array | null;
  /** A new private temporary directory. */
  makeTempDir(): string;
  /** Removes a file or directory tree; quiet when missing. */
  remove(path: string): void;
  /** Removes a unix socket file (only a socket); quiet when missing. */
  removeSocket(path: string): void;
  /** Calls `onChange(path)` on changes under `dir`; returns a stopper. */
  watch(dir: string, onChange: (path: string) => void): () => void;
}
