// makeServer's `accessLog` option, checked and compiled once per server:
// a gunicorn format string or JSON, and where the lines go.
import { checkOptions, type OptionNames } from "../core/_options.ts";
import { compileFormat, type LineFormat } from "../core/_log_format.ts";
import { jsonLine } from "../core/_log_json.ts";
import type { AccessLogOptions } from "./types.ts";

const NAMES: OptionNames<AccessLogOptions> = {
  format: true,
  json: true,
  file: true,
};

/** The `accessLog` option, compiled: null `format` is wsgiref's line. */
interface ResolvedAccessLog {
  format: LineFormat | null;
  timed: boolean;
  /** JSON: the wait before the app ran is measured. */
  waits: boolean;
  file: string | undefined;
}

/**
 * Checks and compiles `accessLog`; a bad value is an error that names it
 * (at makeServer, never per request).
 */
export function accessLogOptions(
  given: AccessLogOptions | undefined,
): ResolvedAccessLog {
  if (given === undefined) {
    return {
      format: null,
      timed: false,
      waits: false,
      file: undefined,
    };
  }
  checkOptions(given, NAMES, "makeServer() accessLog");
  const { format, json, file } = given;
  if (file !== undefined && (typeof file !== "string" || file === "")) {
    throw new TypeError(
      `makeServer(): accessLog.file must be a path or "-", got ${
        JSON.stringify(file)
      }`,
    );
  }
  if (json !== undefined && typeof json !== "boolean") {
    throw new TypeError(
      `makeServer(): accessLog.json must be true or false, got ${
        JSON.stringify(json)
      }`,
    );
  }
  if (json && format !== undefined) {
    throw new TypeError(
      "makeServer(): accessLog takes either format or json: true, not both",
    );
  }
  if (json) return { format: jsonLine, timed: true, waits: true, file };
  if (format === undefined) {
    return { format: null, timed: false, waits: false, file };
  }
  const compiled = compileFormat(format);
  return {
    format: compiled.format,
    timed: compiled.timed,
    waits: false,
    file,
  };
}
