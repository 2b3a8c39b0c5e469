// Log files (`accessLog.file`, the command line's --access-logfile and
// --error-logfile): appended, shared by every server of the process (one
// batcher per path), and reopened by reopenLogFiles() after logrotate has
// moved them (gunicorn reopens on SIGUSR1; the command line installs that
// handler, never this library). Opened with O_APPEND: every write lands at
// the end, whole, even when workers share the file (POSIX write(2)); the
// batcher keeps each write to whole lines of at most PIPE_BUF bytes.
// The runtime's file calls are in _log_file_deno.ts and _log_file_node.ts.
import { flushAccessLogs, LineBatcher } from "../core/_access_log.ts";
import { LineErrorStream } from "../core/_errors.ts";
import { runtimeName } from "./_detect.ts";
import type { AppendOps } from "./_append_ops.ts";

/** One log file of the process. */
class AppendFile {
  readonly path: string;
  readonly lines: LineBatcher;
  #ops: AppendOps;
  #handle: unknown;

  constructor(path: string, ops: AppendOps) {
    this.path = path;
    this.#ops = ops;
    this.#handle = ops.open(path);
    this.lines = new LineBatcher((text, bytes) =>
      this.#ops.write(this.#handle, text, bytes)
    );
  }

  /** Writes `text` now, after the lines held (error text, not batched). */
  write(text: string): void {
    flushAccessLogs();
    const bytes = new TextEncoder().encode(text).length;
    try {
      this.#ops.write(this.#handle, text, bytes);
    } catch {
      // The file is gone (a full disk): the server keeps serving.
    }
  }

  /**
   * Writes what is held to the file as it was, then opens the path anew
   * (logrotate has moved the old file away) and closes the old one: no
   * line goes to both, none is lost.
   */
  reopen(): void {
    this.lines.flush();
    const old = this.#handle;
    this.#handle = this.#ops.open(this.path);
    try {
      this.#ops.close(old);
    } catch {
      // Already closed.
    }
  }
}

const files = new Map<string, AppendFile>();

/** The process's log file at `path`, opened on first use. */
export function appendFile(path: string, ops: AppendOps): AppendFile {
  let file = files.get(path);
  if (file === undefined) files.set(path, file = new AppendFile(path, ops));
  return file;
}

/** Reopens every log file of the process (after a rotation). */
export function reopenAll(): void {
  for (const file of files.values()) file.reopen();
}

/** This runtime's file calls (Deno's own, or node:fs on Node and Bun). */
export async function appendOps(): Promise<AppendOps> {
  return runtimeName() === "deno"
    ? (await import("./_log_file_deno.ts")).denoAppend
    : await (await import("./_log_file_node.ts")).nodeAppend();
}

/**
 * `wsgi.errors` (and the command line's own messages) into a log file: text
 * is held until a line ends, then written at once, after any access-log
 * lines held, so that the file keeps the order of events.
 */
class FileErrorStream extends LineErrorStream {
  constructor(file: AppendFile) {
    super((lines) => file.write(lines + "\n"));
  }
}

/**
 * Opens the process's log file at `path` now (the command line does, so
 * that a path it cannot write is a clear error before anything starts).
 */
export async function openLogFile(path: string): Promise<void> {
  appendFile(path, await appendOps());
}

/** The error stream of a log file (`"-"`: null, stay on stderr). */
export async function errorLogFile(path: string): Promise<FileErrorStream> {
  return new FileErrorStream(appendFile(path, await appendOps()));
}
