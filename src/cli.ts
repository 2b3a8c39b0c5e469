/**
 * The command line: `wsgi [MODULE[:NAME]] [--host HOST] [--port PORT]
 * [--quiet]`, like `python -m wsgiref.simple_server` and `gunicorn
 * module:app`. Serves wsgiref's demo app by default.
 *
 * @module
 */
import type { WSGIApplication } from "./types.ts";
import { demoApp } from "./demo_app.ts";
import { makeServer } from "./server.ts";
import type { CliHost } from "./_cli_host.ts";

const USAGE = `Usage: wsgi [MODULE[:NAME]] [--host HOST] [--port PORT] [--quiet]

Serves a WSGI application: NAME exported by MODULE (its default export when
NAME is omitted), or wsgiref's demo app when no MODULE is given.

  --host HOST   address to bind (default 127.0.0.1)
  --port PORT   port to bind, 0 for any free port (default 8000)
  --quiet, -q   no access log
  --help, -h    this text
`;

/** Parsed command-line arguments. */
interface Args {
  spec: string | null;
  host: string;
  port: number;
  quiet: boolean;
  help: boolean;
}

class UsageError extends Error {}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    spec: null,
    host: "127.0.0.1",
    port: 8000,
    quiet: false,
    help: false,
  };
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
    if (arg === "--help" || arg === "-h") args.help = true;
    else if (arg === "--quiet" || arg === "-q") args.quiet = true;
    else if (arg === "--host") args.host = next();
    else if (arg === "--port" || arg === "-p") {
      const text = next();
      const port = Number(text);
      if (!/^\d+$/.test(text) || port > 65535) {
        throw new UsageError(
          `--port must be 0-65535, got ${JSON.stringify(text)}`,
        );
      }
      args.port = port;
    } else if (arg.startsWith("-")) {
      throw new UsageError(`unknown option ${JSON.stringify(arg)}`);
    } else if (args.spec === null) args.spec = arg;
    else throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
  }
  return args;
}

function toUrl(path: string, cwd: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(path) && !/^[a-z]:[\\/]/i.test(path)) {
    return path;
  }
  const abs = path.startsWith("/") ? path : `${cwd.replace(/\/$/, "")}/${path}`;
  return "file://" + abs.split("/").map(encodeURIComponent).join("/");
}

async function loadApp(spec: string, cwd: string): Promise<WSGIApplication> {
  // MODULE:NAME, but a Windows drive letter or URL scheme is not a NAME.
  const colon = spec.lastIndexOf(":");
  const hasName = colon > 1 && !spec.slice(colon + 1).includes("/");
  const path = hasName ? spec.slice(0, colon) : spec;
  const name = hasName ? spec.slice(colon + 1) : "default";
  let mod: Record<string, unknown>;
  try {
    mod = await import(toUrl(path, cwd));
  } catch (error) {
    const why = error instanceof Error ? error.message.split("\n")[0] : error;
    throw new UsageError(`cannot import ${JSON.stringify(path)}: ${why}`);
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
  if (typeof g.Deno === "object") return (await import("./_deno.ts")).cliHost;
  if (typeof g.Bun === "object") return (await import("./_bun.ts")).cliHost;
  return (await import("./_node.ts")).cliHost;
}

/**
 * Runs the command line with the given arguments; resolves with the exit
 * code once the server has shut down (SIGINT or SIGTERM: 0), or at once
 * for `--help` (0) and for a usage, import or bind error (2, one line on
 * stderr). Only the command line installs signal handlers.
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
    args = parseArgs(argv);
  } catch (error) {
    console.error(`wsgi: ${(error as Error).message} (see --help)`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  let app: WSGIApplication = demoApp;
  try {
    if (args.spec !== null) app = await loadApp(args.spec, host.cwd());
  } catch (error) {
    console.error(`wsgi: ${(error as Error).message}`);
    return 2;
  }
  const server = makeServer(args.host, args.port, app, {
    log: args.quiet ? false : undefined,
  });
  try {
    await server.ready;
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as Error).name;
    console.error(
      `wsgi: cannot listen on ${args.host}:${args.port}: ${
        /AddrInUse|EADDRINUSE/.test(String(code) + (error as Error).message)
          ? "address already in use"
          : (error as Error).message
      }`,
    );
    return 2;
  }
  host.onSignal(() => void server.shutdown());
  console.log(
    `Serving HTTP on ${server.serverName} port ${server.serverPort} (${server.url}) ...`,
  );
  await server.serveForever();
  return 0;
}

/** Runs {@linkcode main} with the process's arguments and exits with its code. */
export async function run(): Promise<void> {
  const host = await loadHost();
  host.exit(await main(host.args()));
}
