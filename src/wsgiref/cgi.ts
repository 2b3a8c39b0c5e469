/**
 * Running a WSGI application as a CGI script (RFC 3875), as Python's
 * `wsgiref.handlers.CGIHandler().run(app)` does: the request comes from
 * the process environment and standard input, the response goes to
 * standard output.
 *
 * @module
 */
import type {
  AsyncInputStream,
  ErrorStream,
  InputStream,
  WSGIApplication,
  WSGIEnvironment,
} from "../core/types.ts";
import { runApp } from "../core/_serve.ts";
import type { Outcome } from "../core/_response/outcome.ts";
import { consoleErrors, logError } from "../core/_errors.ts";
import { BufferedInput, StreamingInput } from "../core/_input.ts";
import { nativeToBytes, textToNative } from "../core/_latin1.ts";
import { fileWrapper } from "../core/file_wrapper.ts";
import { DEFAULT_MAX_BODY_SIZE } from "../core/options.ts";
import { tooLarge, unreadableBody } from "../core/_response/answers.ts";
import { readBody } from "../core/_body.ts";
import type { CgiIO } from "./cgi_io.ts";

export type { CgiIO };
import { checkOptions, type OptionNames } from "../core/_options.ts";

/**
 * Options for {@linkcode runCgi}.
 *
 * @example Usage
 * ```ts
 * import type { CgiOptions } from "@wsgi/wsgi";
 * const options: CgiOptions = { passEnv: ["APP_CONFIG"] };
 * ```
 */
export interface CgiOptions {
  /** The process to talk through; by default the running one. */
  io?: CgiIO;
  /** `wsgi.errors`; by default a line-buffered stream over `console.error`. */
  errors?: ErrorStream;
  /**
   * The largest request body accepted, in bytes; a larger declared
   * `CONTENT_LENGTH` gets `413 Content Too Large` without calling the app.
   * @default {10485760} (10 MiB)
   */
  maxBodySize?: number;
  /**
   * Read the body before calling the app (synchronous `wsgi.input`); with
   * `false`, `wsgi.input` is an {@linkcode AsyncInputStream}.
   * @default {true}
   */
  bufferInput?: boolean;
  /** Further process variables to copy into the environ, by name. */
  passEnv?: readonly string[];
}

// Every CgiOptions name: unknown ones are a TypeError (see _options.ts).
// Adding an option? List it here too: the compiler insists.
const CGI_OPTION_NAMES: OptionNames<CgiOptions> = {
  io: true,
  errors: true,
  maxBodySize: true,
  bufferInput: true,
  passEnv: true,
};

function words(text: string): Set<string> {
  return new Set(text.trim().split(/\s+/));
}

// RFC 3875 §4.1's meta-variables, and the extensions common servers
// (Apache, lighttpd, nginx's fcgiwrap, IIS) set per request. Python's
// CGIHandler copies the whole process environment instead; here PATH, HOME
// and any secret the server inherited stay out of the environ, where
// debug pages (demoApp among them) would print them (see also bpo-7250).
const META = words(`
AUTH_TYPE CONTENT_LENGTH CONTENT_TYPE GATEWAY_INTERFACE PATH_INFO
PATH_TRANSLATED QUERY_STRING REMOTE_ADDR REMOTE_HOST REMOTE_IDENT
REMOTE_USER REQUEST_METHOD SCRIPT_NAME SERVER_NAME SERVER_PORT
SERVER_PROTOCOL SERVER_SOFTWARE CONTEXT_DOCUMENT_ROOT CONTEXT_PREFIX
DOCUMENT_ROOT HTTPS REMOTE_PORT REQUEST_SCHEME REQUEST_URI
SCRIPT_FILENAME SCRIPT_URI SCRIPT_URL SERVER_ADDR SERVER_ADMIN
SERVER_SIGNATURE UNIQUE_ID
`);

// wsgiref's `_needs_transcode`: the variables that carry request bytes.
const REQUEST_VARS = words(`
SCRIPT_NAME PATH_INFO QUERY_STRING REQUEST_METHOD AUTH_TYPE CONTENT_TYPE
CONTENT_LENGTH HTTPS REMOTE_USER REMOTE_IDENT
`);

function needsTranscode(key: string): boolean {
  return REQUEST_VARS.has(key) || key.startsWith("HTTP_") ||
    key.startsWith("SSL_") ||
    (key.startsWith("REDIRECT_") && needsTranscode(key.slice(9)));
}

const PREFIXES = ["HTTP_", "SSL_", "REDIRECT_"];
const WSGI_VERSION: readonly number[] = Object.freeze([1, 0]);

/**
 * wsgiref's `read_environ()`, without the rest of the process environment.
 * The runtime decoded each variable's bytes as UTF-8; re-encoding them and
 * reading the bytes as latin-1 gives back the native string PEP 3333 wants
 * (`/café` becomes `"/cafÃ©"`, as under wsgiref). Bytes that were not UTF-8
 * are already lost as U+FFFD (Python keeps them with `surrogateescape`).
 */
function readEnviron(
  env: Record<string, string | undefined>,
  passEnv: readonly string[],
): WSGIEnvironment {
  const environ: Record<string, unknown> = {};
  const extra = new Set(passEnv);
  for (const key of Object.keys(env)) {
    const value = env[key];
    if (value === undefined) continue;
    if (
      !META.has(key) && !extra.has(key) &&
      !PREFIXES.some((p) => key.startsWith(p))
    ) continue;
    environ[key] = needsTranscode(key) ? textToNative(value) : value;
  }
  // PEP 3333 lets a server omit these when empty; every other server in
  // this library sets them, and apps read them as properties.
  // So are CONTENT_TYPE and CONTENT_LENGTH ("empty or absent"), and
  // REMOTE_ADDR (RFC 3875 §4.1.8 makes the server set it): a typed
  // WSGIEnvironment finds each a string.
  for (
    const key of [
      "SCRIPT_NAME",
      "PATH_INFO",
      "QUERY_STRING",
      "CONTENT_TYPE",
      "CONTENT_LENGTH",
      "REMOTE_ADDR",
    ]
  ) environ[key] ??= "";
  return environ as WSGIEnvironment;
}

/**
 * The body's length: CONTENT_LENGTH, or null to read to the end. RFC 3875
 * §4.1.2: no CONTENT_LENGTH means no body, and a script must not wait for
 * end-of-file (Python's CGI server hands over the socket itself); only a
 * chunked request (Apache passes Transfer-Encoding on) ends at EOF.
 */
function bodyLength(env: WSGIEnvironment): number | null {
  const declared = env.CONTENT_LENGTH;
  if (typeof declared === "string" && /^\d+$/.test(declared)) {
    return Number(declared);
  }
  return /chunked/i.test(String(env.HTTP_TRANSFER_ENCODING ?? "")) ? null : 0;
}

/** Standard input up to `length` bytes (RFC 3875 §4.2), then stops. */
async function* limited(
  stdin: CgiIO["stdin"],
  length: number | null,
): AsyncGenerator<Uint8Array> {
  if (length === 0) return;
  let left = length ?? Infinity;
  // Leaving the loop early cancels a ReadableStream (its async iterator's
  // return()) or ends Node's stream: nothing waits for end-of-file.
  for await (const chunk of stdin as AsyncIterable<Uint8Array>) {
    if (chunk.length === 0) continue;
    const take = chunk.length > left ? chunk.subarray(0, left) : chunk;
    left -= take.length;
    yield take;
    if (left === 0) return;
  }
}

/** The CGI response head (RFC 3875 §6.2): `Status:` instead of HTTP/1.x. */
function head(out: Outcome): Uint8Array {
  let text = `Status: ${out.code} ${out.reason}\r\n`;
  for (const [name, value] of out.headers) text += `${name}: ${value}\r\n`;
  if (out.length !== null) text += `Content-Length: ${out.length}\r\n`;
  return nativeToBytes(text + "\r\n", "Response head");
}

/** Writes the outcome; stops quietly when the reader went away. */
async function send(
  out: Outcome,
  stdout: CgiIO["stdout"],
  isHead: boolean,
): Promise<void> {
  const more = out.more;
  try {
    await stdout.write(head(out));
    // RFC 3875 §4.3.3: a script must not send a body for HEAD.
    if (isHead) return;
    for (const chunk of out.body) await stdout.write(chunk);
    if (more === null) return;
    for (;;) {
      let chunk: Uint8Array | null;
      try {
        chunk = await more.next();
      } catch (error) {
        // Headers are out: the response can only be cut short (wsgiref).
        logError(out.errors, error);
        return;
      }
      if (chunk === null) return;
      await stdout.write(chunk);
    }
  } catch {
    // Standard output closed (the client left): silent, as wsgiref is for
    // BrokenPipeError and ConnectionResetError (bpo-27682).
  } finally {
    await more?.close();
  }
}

// Each runtime's streams are in its own file (cgi_io.ts says why).
/** The running process's CGI streams, on Deno, Node or Bun. */
async function processIO(): Promise<CgiIO> {
  const g = globalThis as { Deno?: unknown; process?: unknown };
  if (g.Deno !== undefined) {
    return (await import("./_cgi_io_deno.ts")).denoIO(g.Deno);
  }
  if (g.process !== undefined) {
    return await (await import("./_cgi_io_node.ts")).nodeIO();
  }
  throw new Error(
    "runCgi() found no process to read: it needs Deno, Node or Bun, or an explicit io option",
  );
}

/**
 * Runs a WSGI application as a CGI script, like Python's
 * `wsgiref.handlers.CGIHandler().run(app)`: the environ is made from the
 * CGI meta-variables of the process environment (re-encoded as native
 * strings, as `read_environ()` does; other variables such as `PATH` are
 * left out), `wsgi.input` reads `CONTENT_LENGTH` bytes of standard input,
 * and the response goes to standard output as `Status: 200 OK`, the
 * headers, a blank line and the body (no `Date` or `Server`: the server
 * adds them). `wsgi.run_once` and `wsgi.multiprocess` are true. An error
 * before any output becomes wsgiref's 500 page; the error goes to standard
 * error. Setting the exit code is left to the caller.
 *
 * @example Usage
 * ```ts
 * import { runCgi } from "@wsgi/wsgi";
 * import assert from "node:assert/strict";
 * const out: Uint8Array[] = [];
 * await runCgi((environ, startResponse) => {
 *   startResponse("200 OK", [["Content-Type", "text/plain"]]);
 *   return [new TextEncoder().encode(`Hi from ${environ.PATH_INFO}`)];
 * }, {
 *   io: {
 *     env: { REQUEST_METHOD: "GET", PATH_INFO: "/cgi", SERVER_NAME: "x" },
 *     stdin: new Blob([]).stream(),
 *     stdout: { write: (bytes) => out.push(bytes) },
 *   },
 * });
 * assert.equal(
 *   out.map((bytes) => new TextDecoder().decode(bytes)).join(""),
 *   "Status: 200 OK\r\nContent-Type: text/plain\r\n" +
 *     "Content-Length: 12\r\n\r\nHi from /cgi",
 * );
 * ```
 *
 * @param app The WSGI application.
 * @param options The process to use, error stream, body limit, buffering.
 * @returns A Promise that resolves once the response is written.
 */
export async function runCgi<
  Input extends InputStream | AsyncInputStream = InputStream,
>(
  app: WSGIApplication<Input>,
  options: CgiOptions = {},
): Promise<void> {
  checkOptions(options, CGI_OPTION_NAMES, "runCgi()");
  const io = options.io ?? await processIO();
  const environ = readEnviron(io.env, options.passEnv ?? []);
  const errors = options.errors ?? consoleErrors;
  const isHead = environ.REQUEST_METHOD === "HEAD";
  const limit = options.maxBodySize ?? DEFAULT_MAX_BODY_SIZE;
  const length = bodyLength(environ);
  if (length !== null && length > limit) {
    return await send(tooLarge(limit), io.stdout, isHead);
  }
  const body = limited(io.stdin, length);
  let input: unknown;
  if (options.bufferInput === false) {
    input = new StreamingInput(body, limit);
  } else {
    let data: Uint8Array | null;
    try {
      data = await readBody(body, limit);
    } catch (error) {
      logError(errors, error);
      const bad = unreadableBody();
      return await send(bad, io.stdout, isHead);
    }
    if (data === null) return await send(tooLarge(limit), io.stdout, isHead);
    // A chunked body read in full: its length is now known.
    if (length === null) environ.CONTENT_LENGTH = String(data.length);
    input = new BufferedInput(data);
  }
  // wsgiref's `guess_scheme`, then CGIHandler's flags.
  const https = ["yes", "on", "1"].includes(environ.HTTPS as string);
  Object.assign(environ, {
    "wsgi.input": input,
    "wsgi.errors": errors,
    "wsgi.version": WSGI_VERSION,
    "wsgi.run_once": true,
    "wsgi.url_scheme": https ? "https" : "http",
    "wsgi.multithread": false,
    "wsgi.multiprocess": true,
    "wsgi.input_terminated": true,
    "wsgi.file_wrapper": fileWrapper,
  });
  const out = await runApp(app as WSGIApplication, environ, errors, isHead);
  await send(out, io.stdout, isHead);
}
