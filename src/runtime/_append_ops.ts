// What a runtime gives an appended log file (_log_files.ts): its shims are
// _log_file_deno.ts and _log_file_node.ts.

/** A runtime's few file calls, for an append-only log file. */
export interface AppendOps {
  /** Opens (creating) `path` for appending; returns its handle. */
  open(path: string): unknown;
  /** Writes all of `text` (`bytes` long in UTF-8), synchronously. */
  write(handle: unknown, text: string, bytes: number): void;
  close(handle: unknown): void;
}
