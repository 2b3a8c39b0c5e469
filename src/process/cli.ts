/**
 * The command line: `wsgi [MODULE[:NAME]] [--host HOST] [--port PORT]
 * [--workers N] ...`, like `python -m wsgiref.simple_server` and
 * `gunicorn -w N module:app`. Serves wsgiref's demo app by default. With
 * `--workers` (or `--reload`, `--max-requests`, `WEB_CONCURRENCY`) it
 * supervises worker processes with gunicorn's lifecycle.
 *
 * @module
 */
import type { WSGIApplication } from "../core/types.ts";
import { demoApp } from "../wsgiref/demo_app.ts";
import { makeServer, type ServerOptions } from "../runtime/server.ts";
import type { CliHost } from "./_cli_host.ts";
import {
  type Bind,
  Supervisor,
  WORKER_ENV,
  type WorkerConfig,
} from "./_supervisor.ts";
import { runWorker } from "./_worker.ts";

const USAGE = `Usage: wsgi [MODULE[:NAME]] [OPTIONS]

Serves a WSGI application: NAME exported by MODULE (its default export when
NAME is omitted), or wsgiref's demo app when no MODULE is given.

  --host HOST          address to bind (default $HOST, else 127.0.0.1;
                       0.0.0.0 when only $PORT is set)
  --port PORT          port to bind, 0 for any free port (default $PORT,
                       else 8000)
  --bind ADDRESS       HOST:PORT, [::1]:PORT or unix:PATH; repeatable
                       (replaces --host and --port)
  --quiet, -q          no access log
  --check-config       import the app, check it, and exit

Workers (supervised, as gunicorn):
  --workers N|auto     worker processes (default $WEB_CONCURRENCY, else one
                       unsupervised process); auto = one per core
  --timeout S          kill and replace a worker silent for S seconds
                       (default 30; 0 = never)
  --graceful-timeout S time for requests in flight at stop and
                       retirement (default 30)
  --max-requests N     retire a worker after N requests (default 0 = never)
  --max-requests-jitter J  add 0..J to each worker's --max-requests
  --reload             restart workers when a source file changes (dev)

Limits and proxies:
  --forwarded-allow-ips LIST   proxies trusted for X-Forwarded-*/Forwarded
                               (default $FORWARDED_ALLOW_IPS)
  --headers-timeout S          time to receive a request's head
  --keep-alive S               idle keep-alive connection timeout
  --body-timeout S             time between body chunks
  --limit-request-fields N     most header fields in a request
  --limit-request-field-size N largest header field, in bytes

  --help, -h           this text

Signals (to the parent): TERM, INT stop gracefully; HUP reloads the code
into new workers; TTIN, TTOU add and remove a worker.
`;

/** Parsed command-line arguments. */
interface Args {
  spec: string | null;
  host: string;
  port: number;
  binds: Bind[];
  quiet: boolean;
  help: boolean;
  checkConfig: boolean;
  /** null: one unsupervised process. */
  workers: number | null;
  timeout: number;
  gracefulTimeout: number;
  maxRequests: number;
  maxRequestsJitter: number;
  reload: boolean;
  /** Passed to makeServer as they are. */
  options: Record<string, unknown>;
}

class UsageError extends Error {}

function parsePort(text: string, what: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    throw new UsageError(
      `${what} must be 0-65535, got ${JSON.stringify(text)}`,
    );
  }
  return port;
}

/** `HOST:PORT`, `[::1]:PORT`, `HOST`, `:PORT` or `unix:PATH`. */
function parseBind(text: string): Bind {
  if (text.startsWith("unix:")) {
    if (text.length === 5) throw new UsageError(`--bind unix: needs a path`);
    return { host: text, port: 0 };
  }
  const m = /^(?:\[([^\]]+)\]|([^:\[\]]*))(?::(.*))?$/.exec(text);
  if (!m) {
    throw new UsageError(
      `--bind must be HOST:PORT, [IPv6]:PORT or unix:PATH, got ${
        JSON.stringify(text)
      }`,
    );
  }
  const host = m[1] ?? (m[2] || "127.0.0.1");
  return {
    host,
    port: m[3] === undefined ? 8000 : parsePort(m[3], "--bind's port"),
  };
}

function parseArgs(argv: string[], host: CliHost): Args {
  const envHost = host.env("HOST");
  const envPort = host.env("PORT");
  const args: Args = {
    spec: null,
    // gunicorn: a platform that sets only PORT expects every interface.
    host: envHost || (envPort ? "0.0.0.0" : "127.0.0.1"),
    port: envPort ? parsePort(envPort, "$PORT") : 8000,
    binds: [],
    quiet: false,
    help: false,
    checkConfig: false,
    workers: null,
    timeout: 30,
    gracefulTimeout: 30,
    maxRequests: 0,
    maxRequestsJitter: 0,
    reload: false,
    options: {},
  };
  const workers = (text: string, what: string): number => {
    if (text === "auto") return host.cores();
    if (!/^\d+$/.test(text) || Number(text) < 1) {
      throw new UsageError(
        `${what} must be a number of workers or "auto", got ${
          JSON.stringify(text)
        }`,
      );
    }
    return Number(text);
  };
  const concurrency = host.env("WEB_CONCURRENCY");
  if (concurrency) args.workers = workers(concurrency, "$WEB_CONCURRENCY");
  const allowIps = host.env("FORWARDED_ALLOW_IPS");
  if (allowIps !== undefined) args.options.forwardedAllowIps = ipList(allowIps);
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value: string | undefined;
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq !== -1) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const next = (): string => {
      if (value !== undefined) return value;
      if (i + 1 >= argv.length) throw new UsageError(`${arg} needs a value`);
      return argv[++i];
    };
    /** A number of seconds (fractions allowed). */
    const seconds = (): number => {
      const text = next();
      const n = Number(text);
      if (!/^\d+(?:\.\d+)?$/.test(text) || !Number.isFinite(n)) {
        throw new UsageError(
          `${arg} must be a number of seconds, got ${JSON.stringify(text)}`,
        );
      }
      return n;
    };
    const count = (): number => {
      const text = next();
      if (!/^\d+$/.test(text)) {
        throw new UsageError(
          `${arg} must be a whole number, got ${JSON.stringify(text)}`,
        );
      }
      return Number(text);
    };
    if (arg === "--help" || arg === "-h") args.help = true;
    else if (arg === "--quiet" || arg === "-q") args.quiet = true;
    else if (arg === "--check-config") args.checkConfig = true;
    else if (arg === "--reload") args.reload = true;
    else if (arg === "--host") args.host = next();
    else if (arg === "--port" || arg === "-p") {
      args.port = parsePort(next(), "--port");
    } else if (arg === "--bind" || arg === "-b") {
      args.binds.push(parseBind(next()));
    } else if (arg === "--workers" || arg === "-w") {
      args.workers = workers(next(), arg);
    } else if (arg === "--timeout" || arg === "-t") args.timeout = seconds();
    else if (arg === "--graceful-timeout") args.gracefulTimeout = seconds();
    else if (arg === "--max-requests") args.maxRequests = count();
    else if (arg === "--max-requests-jitter") {
      args.maxRequestsJitter = count();
    } else if (arg === "--forwarded-allow-ips") {
      args.options.forwardedAllowIps = ipList(next());
    } else if (arg === "--headers-timeout") {
      args.options.headersTimeout = seconds() * 1000;
    } else if (arg === "--keep-alive") {
      args.options.keepAliveTimeout = seconds() * 1000;
    } else if (arg === "--body-timeout") {
      args.options.bodyTimeout = seconds() * 1000;
    } else if (arg === "--limit-request-fields") {
      args.options.maxHeaderCount = count();
    } else if (arg === "--limit-request-field-size") {
      args.options.maxHeaderSize = count();
    } else if (arg.startsWith("-")) {
      throw new UsageError(`unknown option ${JSON.stringify(arg)}`);
    } else if (args.spec === null) args.spec = arg;
    else throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
  }
  if (args.binds.length === 0) {
    args.binds.push({ host: args.host, port: args.port });
  }
  return args;
}

/** `"*"`, or a comma-separated list of addresses. */
function ipList(text: string): string | string[] {
  const list = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  return list.length === 1 && list[0] === "*" ? "*" : list;
}

function toUrl(path: string, cwd: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(path) && !/^[a-z]:[\\/]/i.test(path)) {
    return path;
  }
  const abs = path.startsWith("/") ? path : `${cwd.replace(/\/$/, "")}/${path}`;
  return "file://" + abs.split("/").map(encodeURIComponent).join("/");
}

const SCRIPT_EXTENSIONS = [".ts", ".js", ".mts", ".mjs", ".tsx", ".jsx"];

/** Why `path` did not import, with what to do where we can tell. */
function importHint(path: string, error: unknown, host: CliHost): string {
  const why = error instanceof Error ? error.message.split("\n")[0] : error;
  const abs = path.startsWith("/") ? path : `${host.cwd()}/${path}`;
  const base = path.slice(path.lastIndexOf("/") + 1);
  // gunicorn's habit: `wsgi api:app` for api.py; here the file is api.ts.
  if (!base.includes(".") && !host.exists(abs)) {
    const found = SCRIPT_EXTENSIONS.filter((ext) => host.exists(abs + ext));
    if (found.length > 0) {
      return `no module ${JSON.stringify(path)}; did you mean ${
        found.map((ext) => JSON.stringify(path + ext)).join(" or ")
      }? (the file name with its extension)`;
    }
  }
  const code = (error as { code?: string }).code;
  if (
    host.runtime === "node" && /\.[cm]?tsx?$/.test(path) &&
    (code === "ERR_UNKNOWN_FILE_EXTENSION" || !nodeRunsTypeScript(host.version))
  ) {
    return `Node ${host.version} does not run TypeScript: use Node 22.6+ ` +
      `(with --experimental-strip-types before 23.6), or compile it to ` +
      `JavaScript (npx -p typescript tsc) and serve the .js file`;
  }
  return String(why);
}

/** Node 22.6 is the first that can strip types (behind a flag until 23.6). */
function nodeRunsTypeScript(version: string): boolean {
  const [major, minor] = version.split(".").map(Number);
  return major > 22 || (major === 22 && minor >= 6);
}

async function loadApp(spec: string, host: CliHost): Promise<WSGIApplication> {
  // MODULE:NAME, but a Windows drive letter or URL scheme is not a NAME.
  const colon = spec.lastIndexOf(":");
  const hasName = colon > 1 && !spec.slice(colon + 1).includes("/");
  const path = hasName ? spec.slice(0, colon) : spec;
  const name = hasName ? spec.slice(colon + 1) : "default";
  let mod: Record<string, unknown>;
  try {
    mod = await import(toUrl(path, host.cwd()));
  } catch (error) {
    throw new UsageError(
      `cannot import ${JSON.stringify(path)}: ${importHint(path, error, host)}`,
    );
  }
  const app = mod[name];
  if (typeof app !== "function") {
    throw new UsageError(
      `${JSON.stringify(path)} has no ${
        name === "default" ? "default export" : `export ${JSON.stringify(name)}`
      } that is a function (found ${typeof app})`,
    );
  }
  return app as WSGIApplication;
}

async function loadHost(): Promise<CliHost> {
  const g = globalThis as Record<string, unknown>;
  if (typeof g.Deno === "object") {
    return await (await import("./_deno.ts")).cliHost();
  }
  if (typeof g.Bun === "object") {
    return await (await import("./_bun.ts")).cliHost();
  }
  return await (await import("./_node.ts")).cliHost();
}

/** `host:port` or `unix:/path`, for messages. */
function showBind(bind: Bind): string {
  if (bind.host.startsWith("unix:")) return bind.host;
  return `${
    bind.host.includes(":") ? `[${bind.host}]` : bind.host
  }:${bind.port}`;
}

/** The line that says where the server listens. */
function servingLine(bind: Bind, scheme = "http"): string {
  if (bind.host.startsWith("unix:")) return `Serving HTTP on ${bind.host} ...`;
  return `Serving HTTP on ${bind.host} port ${bind.port} (${scheme}://${
    showBind(bind)
  }/) ...`;
}

/** The one-line reason a bind failed. */
function listenError(bind: Bind, error: unknown): string {
  const code = (error as { code?: string }).code ?? (error as Error).name;
  return `wsgi: cannot listen on ${showBind(bind)}: ${
    /AddrInUse|EADDRINUSE/.test(String(code) + (error as Error).message)
      ? "address already in use"
      : (error as Error).message
  }`;
}

/** One process, unsupervised: today's `wsgi app.ts:app`. */
async function serveHere(
  args: Args,
  host: CliHost,
  options: ServerOptions,
): Promise<number> {
  let app: WSGIApplication = demoApp;
  try {
    if (args.spec !== null) app = await loadApp(args.spec, host);
  } catch (error) {
    console.error(`wsgi: ${(error as Error).message}`);
    return 2;
  }
  // A socket file left by an earlier run would refuse the bind.
  for (const bind of args.binds) {
    if (bind.host.startsWith("unix:")) host.removeSocket(bind.host.slice(5));
  }
  const servers = args.binds.map((bind) =>
    makeServer(bind.host, bind.port, app, options)
  );
  const bound = await Promise.allSettled(servers.map((s) => s.ready));
  const failed = bound.findIndex((r) => r.status === "rejected");
  if (failed !== -1) {
    console.error(
      listenError(
        args.binds[failed],
        (bound[failed] as PromiseRejectedResult).reason,
      ),
    );
    await Promise.all(servers.map((s) => s.shutdown()));
    return 2;
  }
  host.onSignal(() => servers.forEach((s) => void s.shutdown()));
  servers.forEach((server, i) => {
    const bind = args.binds[i];
    console.log(
      bind.host.startsWith("unix:")
        ? servingLine(bind)
        : `Serving HTTP on ${server.serverName} port ${server.serverPort} (${server.url}) ...`,
    );
  });
  await Promise.all(servers.map((s) => s.serveForever()));
  return 0;
}

/** The parent of `--workers N`: imports nothing of the app. */
async function supervise(args: Args, host: CliHost): Promise<number> {
  const cannot = host.cannotSupervise();
  if (cannot !== null) {
    console.error(`wsgi: ${cannot}`);
    return 2;
  }
  const workers = args.workers ?? 1;
  if (
    host.runtime !== "node" && workers > 1 &&
    args.binds.some((b) => b.host.startsWith("unix:"))
  ) {
    console.error(
      `wsgi: on ${host.runtime}, workers share a port by SO_REUSEPORT, which ` +
        `unix sockets lack: use --workers 1 for unix:, or Node (one shared socket)`,
    );
    return 2;
  }
  const processes = await host.supervisor();
  const binds: Bind[] = [];
  for (const bind of args.binds) {
    if (bind.host.startsWith("unix:")) {
      // A socket file left by an earlier run would refuse the bind.
      host.removeSocket(bind.host.slice(5));
      binds.push(bind);
      continue;
    }
    // Port 0: one free port, chosen here, shared by every worker.
    try {
      binds.push(
        bind.port === 0
          ? { host: bind.host, port: await host.freePort(bind.host) }
          : bind,
      );
    } catch (error) {
      console.error(listenError(bind, error));
      return 2;
    }
  }
  const spec = args.spec;
  const modulePath = spec === null ? null : spec.slice(
    0,
    spec.lastIndexOf(":") > 1 ? spec.lastIndexOf(":") : undefined,
  );
  const reloadDir = !args.reload
    ? null
    : modulePath === null || /^[a-z][a-z0-9+.-]*:/i.test(modulePath)
    ? host.cwd()
    : (modulePath.startsWith("/") ? modulePath : `${host.cwd()}/${modulePath}`)
      .replace(/\/[^/]*$/, "") || "/";
  const supervisor = new Supervisor(
    processes,
    {
      workers,
      binds,
      timeout: args.timeout,
      gracefulTimeout: args.gracefulTimeout,
      maxRequests: args.maxRequests,
      maxRequestsJitter: args.maxRequestsJitter,
      reloadDir,
    },
    (line) => console.error(line),
    () => {
      for (const bind of binds) console.log(servingLine(bind));
      console.error(
        `wsgi: ${workers} worker(s) serving${
          reloadDir === null ? "" : `; --reload watches ${reloadDir}`
        }`,
      );
    },
  );
  return await supervisor.run();
}

/** A worker started by the supervisor. */
async function work(
  config: WorkerConfig,
  args: Args,
  host: CliHost,
  options: ServerOptions,
): Promise<number> {
  const side = await host.worker();
  return await runWorker(
    config,
    side,
    () =>
      args.spec === null ? Promise.resolve(demoApp) : loadApp(args.spec, host),
    options,
    (line) => console.error(line),
  );
}

/**
 * Runs the command line with the given arguments; resolves with the exit
 * code once the server has shut down (SIGINT or SIGTERM: 0), or at once
 * for `--help` and `--check-config` (0) and for a usage, import or bind
 * error (2, one line on stderr), or 3 when supervised workers keep failing
 * to boot. Only the command line installs signal handlers.
 *
 * @example Usage
 * ```ts
 * import { main } from "@wsgi/wsgi/cli";
 * import assert from "node:assert/strict";
 * assert.equal(await main(["--port", "not-a-port"]), 2);
 * ```
 *
 * @param argv The arguments, without the program and script names.
 * @returns The exit code.
 */
export async function main(argv: string[]): Promise<number> {
  const host = await loadHost();
  let args: Args;
  try {
    args = parseArgs(argv, host);
  } catch (error) {
    console.error(`wsgi: ${(error as Error).message} (see --help)`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  // The options other branches define are passed through by name.
  const options = {
    ...args.options,
    log: args.quiet ? false : undefined,
  } as ServerOptions;
  const worker = host.env(WORKER_ENV);
  if (worker) return await work(JSON.parse(worker), args, host, options);
  if (args.checkConfig) {
    try {
      if (args.spec !== null) await loadApp(args.spec, host);
    } catch (error) {
      console.error(`wsgi: ${(error as Error).message}`);
      return 2;
    }
    console.log(`wsgi: ${args.spec ?? "the demo app"}: configuration OK`);
    return 0;
  }
  const supervised = args.workers !== null || args.reload ||
    args.maxRequests > 0;
  return supervised
    ? await supervise(args, host)
    : await serveHere(args, host, options);
}

/** Runs {@linkcode main} with the process's arguments and exits with its code. */
export async function run(): Promise<void> {
  const host = await loadHost();
  host.exit(await main(host.args()));
}
