// wsgiref.validate's checks on the environ, the status and the headers
// (wsgiref.md §1.5), throwing validation_error.ts's error. Used by
// validate.ts.
import type { WSGIEnvironment } from "../core/types.ts";
import { firstNonLatin1 } from "../core/_latin1.ts";
import { WSGIValidationError } from "./validation_error.ts";

export const PEP: string = "(PEP 3333; wsgiref.validate)";
export const WSGIREF: string = "(wsgiref.validate)";
const q = JSON.stringify;

export function check(
  ok: unknown,
  message: string,
  cite: string = PEP,
): asserts ok {
  if (!ok) throw new WSGIValidationError(`${message} ${cite}`);
}

/** Describes a value for a message: strings quoted, objects by class. */
export function show(v: unknown): string {
  if (typeof v === "string") return q(v.length > 60 ? v.slice(0, 60) + "…" : v);
  if (typeof v === "function") return `function ${v.name || "(anonymous)"}`;
  if (typeof v !== "object" || v === null) return String(v);
  if (v instanceof Uint8Array) return `a Uint8Array of ${v.length} bytes`;
  if (Array.isArray(v)) {
    try {
      const s = JSON.stringify(v);
      if (s !== undefined && s.length <= 80) return s;
    } catch { /* cyclic: fall through */ }
    return `an array of length ${v.length}`;
  }
  const name = Object.getPrototypeOf(v)?.constructor?.name;
  return name ? `an object of class ${name}` : "an object";
}

// PEP 3333 "native strings": str in Python, here strings of code units
// 0x00-0xFF (each stands for one byte).
export function native(v: unknown, title: string): string {
  check(typeof v === "string", `${title} must be a string, got ${show(v)}`);
  const i = firstNonLatin1(v);
  check(
    i === -1,
    `${title} ${q(v)} has the character ${
      q(v[i])
    } at index ${i}, above U+00FF: native strings hold only code units 0x00-0xFF`,
  );
  return v;
}

export function bytes(v: unknown, what: string): Uint8Array {
  check(
    v instanceof Uint8Array,
    `${what} must give a Uint8Array, got ${show(v)}`,
  );
  return v;
}

// Python's int(): ASCII digits with single underscores, optional sign,
// surrounding whitespace as int() strips it (latin-1 range).
const PY_INT =
  /^[\t\n\v\f\r \x85\xa0]*([+-]?\d+(?:_\d+)*)[\t\n\v\f\r \x85\xa0]*$/;
// str.split() whitespace in the latin-1 range.
const PY_SPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0]+/;
const HEADER_NAME = /^[a-zA-Z][a-zA-Z0-9\-_]*$/;
const REQUIRED = [
  "REQUEST_METHOD",
  "SERVER_NAME",
  "SERVER_PORT",
  "wsgi.version",
  "wsgi.input",
  "wsgi.errors",
  "wsgi.multithread",
  "wsgi.multiprocess",
  "wsgi.run_once",
];
const METHODS = new Set(
  "GET HEAD POST OPTIONS PATCH PUT DELETE TRACE".split(" "),
);

function pyInt(s: string, title: string): number {
  const m = PY_INT.exec(s);
  check(m, `${title} is not an integer`);
  return Number(m[1].replace(/_/g, ""));
}

function hasMethods(v: unknown, names: string[], what: string): void {
  for (const name of names) {
    const f = typeof v === "object" && v !== null
      ? (v as Record<string, unknown>)[name]
      : undefined;
    check(
      typeof f === "function",
      `${what} (${show(v)}) has no ${name}() method`,
    );
  }
}

/** Checks 6-20 (`check_environ`); returns the warnings to emit. */
export function checkEnviron(environ: unknown): string[] {
  const proto = typeof environ === "object" && environ !== null
    ? Object.getPrototypeOf(environ)
    : undefined;
  check(
    proto === Object.prototype || proto === null,
    `The environ must be a plain object (prototype Object.prototype or null), got ${
      show(environ)
    }`,
  );
  const env = environ as WSGIEnvironment;
  for (const key of REQUIRED) {
    check(key in env, `The environ is missing the required key ${q(key)}`);
  }
  for (const key of ["HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"]) {
    check(
      !(key in env),
      `The environ must not have the key ${key} (use ${key.slice(5)} instead)`,
    );
  }
  const warnings: string[] = [];
  if (!("QUERY_STRING" in env)) {
    warnings.push(
      "QUERY_STRING is not in the WSGI environment; applications that read it will fail or misparse (it should be present, if empty)",
    );
  }
  for (const key of Object.keys(env)) {
    // Keys with a "." are extensions: their type is their own business.
    if (!key.includes(".")) native(env[key], `The environ variable ${key}`);
  }
  const version = env["wsgi.version"];
  check(
    Array.isArray(version) && version.length === 2 &&
      version.every(Number.isInteger),
    `wsgi.version must be an array of two integers like [1, 0], got ${
      show(version)
    }`,
  );
  const scheme = env["wsgi.url_scheme"];
  check(
    scheme === "http" || scheme === "https",
    "wsgi.url_scheme" in env
      ? `wsgi.url_scheme must be "http" or "https", got ${show(scheme)}`
      : 'The environ is missing the key "wsgi.url_scheme" ("http" or "https")',
  );
  const input = env["wsgi.input"];
  hasMethods(input, ["read", "readline", "readlines"], "wsgi.input");
  const stream = input as Partial<Iterable<unknown> & AsyncIterable<unknown>>;
  check(
    typeof stream[Symbol.iterator] === "function" ||
      typeof stream[Symbol.asyncIterator] === "function",
    `wsgi.input (${show(input)}) is neither iterable nor async iterable`,
  );
  hasMethods(
    env["wsgi.errors"],
    ["flush", "write", "writelines"],
    "wsgi.errors",
  );
  const method = env.REQUEST_METHOD as string;
  if (!METHODS.has(method)) {
    warnings.push(`Unknown REQUEST_METHOD: ${q(method)}`);
  }
  const script = env.SCRIPT_NAME as string | undefined;
  const path = env.PATH_INFO as string | undefined;
  check(
    !script || script.startsWith("/"),
    `SCRIPT_NAME ${q(script)} doesn't start with "/"`,
  );
  check(
    !path || path.startsWith("/"),
    `PATH_INFO ${q(path)} doesn't start with "/"`,
  );
  const length = env.CONTENT_LENGTH as string | undefined;
  if (length) {
    check(
      pyInt(length, `CONTENT_LENGTH ${q(length)}`) >= 0,
      `Invalid CONTENT_LENGTH: ${q(length)}`,
    );
  }
  if (!script) {
    check(
      "PATH_INFO" in env,
      `One of SCRIPT_NAME or PATH_INFO is required (PATH_INFO should at least be "/" if SCRIPT_NAME is empty)`,
    );
  }
  check(
    script !== "/",
    `SCRIPT_NAME cannot be "/"; it should instead be "", and PATH_INFO should be "/"`,
  );
  return warnings;
}

export function checkStatus(
  status: unknown,
  warn: (text: string) => void,
): number {
  const s = native(status, "The status");
  const token =
    s.replace(/^[\t\n\v\f\r\x1c-\x1f \x85\xa0]+/, "").split(PY_SPACE)[0];
  check(
    token.length === 3,
    `Status code ${q(token)} in ${q(s)} must be three characters`,
  );
  const code = pyInt(token, `Status code ${q(token)} in ${q(s)}`);
  check(
    code >= 100,
    `Status code ${code} in ${q(s)} is invalid: it must be at least 100`,
  );
  if (s.length < 4 || s[3] !== " ") {
    warn(
      `The status string (${
        q(s)
      }) should be a three-digit integer followed by a single space and a status explanation`,
    );
  }
  return code;
}

/** Checks 36-43. */
export function checkHeaders(headers: unknown): [string, string][] {
  check(
    Array.isArray(headers),
    `Headers must be an array, got ${show(headers)}`,
  );
  for (const item of headers) {
    check(
      Array.isArray(item) && item.length === 2,
      `Each header must be a [name, value] array of length 2, got ${
        show(item)
      }`,
    );
    const name = native(item[0], "A header name");
    const value = native(item[1], `The value of header ${q(name)}`);
    check(
      name.toLowerCase() !== "status",
      `The Status header cannot be used (value: ${
        q(value)
      }): it conflicts with CGI scripts, and the HTTP status is not given through headers`,
    );
    check(
      !/[\n:]/.test(name),
      `Header names may not contain ":" or "\\n": ${q(name)}`,
    );
    check(
      HEADER_NAME.test(name),
      `Header name ${q(name)} must match ${HEADER_NAME.source}`,
    );
    check(
      !/[-_]$/.test(name),
      `Header name ${q(name)} may not end in "-" or "_"`,
    );
    const bad = /[\x00-\x1f]/.exec(value);
    check(
      !bad,
      `Bad header value ${q(value)} of header ${q(name)}: it contains ${
        q(bad?.[0])
      } (no character 0x00-0x1F is allowed, not even TAB)`,
    );
  }
  return headers as [string, string][];
}

/** Check 44. */
export function checkContentType(
  code: number,
  headers: [string, string][],
): void {
  const noBody = code === 204 || code === 304;
  for (const [name] of headers) {
    if (name.toLowerCase() === "content-type") {
      check(
        !noBody,
        `A Content-Type header was found in a ${code} response, which must not return content`,
      );
      return;
    }
  }
  check(noBody, `No Content-Type header found in headers ${show(headers)}`);
}
