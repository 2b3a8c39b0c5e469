// The command line's logging and overload flags, in gunicorn's spelling:
// --access-logformat, --access-log-json, --access-logfile, --error-logfile,
// --max-concurrency. They become makeServer's `accessLog` and
// `maxConcurrency` options (checked there), and the error log's path.

/** What the logging flags set. */
interface LogArgs {
  /** makeServer options: `accessLog`, `maxConcurrency`. */
  options: Record<string, unknown>;
  /** `--error-logfile`: a path, `-` or null (stderr). */
  errorLog: string | null;
}

/** Thrown for a bad value; the caller makes it a usage error. */
export class LogFlagError extends Error {}

/**
 * Takes `arg` when it is one of the logging flags (reading its value with
 * `next`); false when it is not.
 */
export function logFlag(
  arg: string,
  next: () => string,
  into: LogArgs,
): boolean {
  const access = (): Record<string, unknown> =>
    (into.options.accessLog ??= {}) as Record<string, unknown>;
  if (arg === "--access-logformat") access().format = next();
  else if (arg === "--access-log-json") access().json = true;
  else if (arg === "--access-logfile") access().file = next();
  else if (arg === "--error-logfile" || arg === "--log-file") {
    into.errorLog = next();
  } else if (arg === "--max-concurrency") {
    const text = next();
    if (!/^\d+$/.test(text)) {
      throw new LogFlagError(
        `${arg} must be a whole number of requests, got ${
          JSON.stringify(text)
        }`,
      );
    }
    into.options.maxConcurrency = Number(text);
  } else return false;
  return true;
}
