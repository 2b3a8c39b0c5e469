// Unknown option names are a TypeError, not silently ignored: a misspelt
// `maxBodysize` would otherwise leave the 10 MiB default in place, and
// `quiet: true` (the CLI's --quiet) would leave the access log on. Each
// options interface keeps the list of its names beside it (a mapped type
// makes the compiler insist that every declared option is listed); the
// check runs once, where a server, handler or client is made, never per
// request.

/**
 * Every name of an options interface, as an object's keys (so that the
 * compiler checks it is complete): `{ [K in keyof T]-?: true }`. Names an
 * option still being added on another branch may be listed too.
 */
export type OptionNames<T> = { readonly [K in keyof T]-?: true } & {
  readonly [name: string]: true;
};

/**
 * Well-known mistakes, with what to write instead: options of other
 * servers (Bun.serve, Deno.serve, node:http, gunicorn) and CLI flags.
 * A hint applies only where its option exists (`log` for `quiet`).
 */
const ALIASES: Record<string, { hint: string; needs?: string }> = {
  quiet: { hint: "log: false", needs: "log" },
  silent: { hint: "log: false", needs: "log" },
  verbose: { hint: "log (on by default)", needs: "log" },
  logger: { hint: "log: (line) => ...", needs: "log" },
  port: { hint: "makeServer(host, port, app): the port is an argument" },
  hostname: { hint: "makeServer(host, port, app): the host is an argument" },
  host: { hint: "makeServer(host, port, app): the host is an argument" },
  tls: { hint: "cert and key (PEM strings)", needs: "cert" },
  https: { hint: "cert and key (PEM strings)", needs: "cert" },
  certFile: { hint: "cert (the PEM text, not a path)", needs: "cert" },
  keyFile: { hint: "key (the PEM text, not a path)", needs: "key" },
  abortSignal: { hint: "signal", needs: "signal" },
  maxRequestBodySize: { hint: "maxBodySize (bytes)", needs: "maxBodySize" },
  bodyLimit: { hint: "maxBodySize (bytes)", needs: "maxBodySize" },
  maxBody: { hint: "maxBodySize (bytes)", needs: "maxBodySize" },
  timeout: {
    hint: "headersTimeout, keepAliveTimeout or bodyTimeout (milliseconds)",
    needs: "headersTimeout",
  },
  workers: { hint: "the command line's --workers" },
  raiseServerExceptions: { hint: "throwErrors", needs: "throwErrors" },
  catchErrors: { hint: "throwErrors: false", needs: "throwErrors" },
  baseURL: { hint: "baseUrl", needs: "baseUrl" },
  stderr: { hint: "errors (an ErrorStream)", needs: "errors" },
  errorStream: { hint: "errors (an ErrorStream)", needs: "errors" },
};

/** Optimal string alignment distance, case-insensitive. */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(
        d[i - 1][j] + 1,
        d[i][j - 1] + 1,
        d[i - 1][j - 1] + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/** The hint for an unknown name: an alias, else the closest known name. */
function suggest(
  name: string,
  known: readonly string[],
): string | null {
  const alias = Object.hasOwn(ALIASES, name) ? ALIASES[name] : undefined;
  if (alias && (alias.needs === undefined || known.includes(alias.needs))) {
    return alias.hint;
  }
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = distance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  // Close enough to be a slip: a third of the name, at least one edit.
  return best !== null &&
      bestDistance <= Math.max(1, Math.floor(name.length / 3))
    ? JSON.stringify(best)
    : null;
}

/**
 * Throws a TypeError for an options argument that is not an object, or
 * that has a name `names` does not list: the message names the option,
 * the likely right one, and the known names.
 */
export function checkOptions(
  options: unknown,
  names: OptionNames<unknown>,
  where: string,
): void {
  if (options === undefined) return;
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `${where}: options must be an object, got ${
        options === null ? "null" : typeof options
      }`,
    );
  }
  for (const name in options) {
    if (!Object.hasOwn(options, name) || Object.hasOwn(names, name)) continue;
    const known = Object.keys(names);
    const hint = suggest(name, known);
    throw new TypeError(
      `${where}: unknown option ${JSON.stringify(name)}` +
        (hint === null ? "" : `; did you mean ${hint}?`) +
        ` (known options: ${known.sort().join(", ")})`,
    );
  }
}
