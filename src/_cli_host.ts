// What the command line needs from a runtime; each shim provides one.

/** Process facilities for the CLI (only the CLI installs signal handlers). */
export interface CliHost {
  /** The command-line arguments after the script. */
  args(): string[];
  /** The working directory. */
  cwd(): string;
  /** Exits the process. */
  exit(code: number): never;
  /** Calls `handler` on SIGINT and SIGTERM. */
  onSignal(handler: () => void): void;
}
