/**
 * The access and error logs' files, and the overload counters: what a
 * process manager or a metrics endpoint asks of the servers of this
 * process. See docs/logging.md.
 *
 * @module
 */
import { reopenAll } from "./_log_files.ts";
import { inFlightCount, refusedCount } from "../core/_overload.ts";

/**
 * The process's overload figures, summed over every server of the process
 * (see {@linkcode overloadCounters}).
 *
 * @example Usage
 * ```ts
 * import type { OverloadCounters } from "@wsgi/wsgi";
 * const none: OverloadCounters = { refused: 0, inFlight: 0 };
 * ```
 */
export interface OverloadCounters {
  /** Requests answered 503 because a server was at its `maxConcurrency`. */
  refused: number;
  /** Requests running now in servers that have a `maxConcurrency`. */
  inFlight: number;
}

/**
 * Reopens every log file this process writes (`accessLog.file`, the
 * command line's `--access-logfile` and `--error-logfile`), after writing
 * the lines held to the file as it was: call it once logrotate has moved
 * the files (gunicorn does on SIGUSR1; the command line installs that
 * handler, the library never does).
 *
 * @example Usage
 * ```ts
 * import { reopenLogFiles } from "@wsgi/wsgi";
 * reopenLogFiles(); // no file open yet: nothing to do
 * ```
 */
export function reopenLogFiles(): void {
  reopenAll();
}

/**
 * The process's overload figures: requests refused with 503 by a server at
 * its `maxConcurrency` (a counter that never goes backwards), and requests
 * running now in servers that have a limit.
 *
 * @example Usage
 * ```ts
 * import { overloadCounters } from "@wsgi/wsgi";
 * const { refused, inFlight } = overloadCounters();
 * console.log(`refused ${refused}, in flight ${inFlight}`);
 * ```
 */
export function overloadCounters(): OverloadCounters {
  return { refused: refusedCount(), inFlight: inFlightCount() };
}
