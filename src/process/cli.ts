/**
 * The command line: `wsgi [MODULE[:NAME]] [--host HOST] [--port PORT]
 * [--workers N] ...`, like `python -m wsgiref.simple_server` and
 * `gunicorn -w N module:app`. Serves wsgiref's demo app by default. With
 * `--workers` (or `--reload`, `--max-requests`, `WEB_CONCURRENCY`) it
 * supervises worker processes with gunicorn's lifecycle.
 *
 * @module
 */
import type { AccessLogOptions, ServerOptions } from "../runtime/server.ts";
import { accessLogOptions } from "../runtime/_access_log_options.ts";
import { errorLogFile, openLogFile } from "../runtime/_log_files.ts";
import { type Args, parseArgs, USAGE } from "./_cli_args.ts";
import { loadApp } from "./_cli_app.ts";
import { startPidWatch } from "./_cli_pid.ts";
import type { CliHost } from "./_cli_host.ts";
import { serveHere, supervise, work } from "./_cli_serve.ts";
import { WORKER_ENV } from "./_worker_protocol.ts";
import { takeListenFds } from "./_systemd.ts";

async function loadHost(): Promise<CliHost> {
  const g = globalThis as Record<string, unknown>;
  if (typeof g.Deno === "object") {
    return await (await import("./_cli_host_deno.ts")).cliHost();
  }
  if (typeof g.Bun === "object") {
    return await (await import("./_cli_host_bun.ts")).cliHost();
  }
  return await (await import("./_cli_host_node.ts")).cliHost();
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
    // A bad --access-logformat is a usage error now, not at the bind.
    accessLogOptions(args.options.accessLog as AccessLogOptions | undefined);
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
  if (args.certfile !== null && args.keyfile !== null) {
    // Read by every process (workers too): a reload reads them again.
    for (
      const [flag, path, key] of [
        ["--certfile", args.certfile, "cert"],
        ["--keyfile", args.keyfile, "key"],
      ] as const
    ) {
      try {
        options[key] = host.readFile(path);
      } catch (error) {
        console.error(
          `wsgi: cannot read ${flag} ${path}: ${(error as Error).message}`,
        );
        return 2;
      }
    }
  }
  const accessFile = (args.options.accessLog as AccessLogOptions | undefined)
    ?.file;
  if (accessFile !== undefined && accessFile !== "-") {
    try {
      await openLogFile(accessFile);
    } catch (error) {
      console.error(
        `wsgi: cannot open --access-logfile ${accessFile}: ${
          (error as Error).message
        }`,
      );
      return 2;
    }
  }
  if (args.errorLog !== null && args.errorLog !== "-") {
    try {
      options.errors = await errorLogFile(args.errorLog);
    } catch (error) {
      console.error(
        `wsgi: cannot open --error-logfile ${args.errorLog}: ${
          (error as Error).message
        }`,
      );
      return 2;
    }
  }
  const worker = host.env(WORKER_ENV);
  if (worker) return await work(JSON.parse(worker), args, host, options);
  try {
    // systemd socket activation: its sockets replace every bind, as in
    // gunicorn (a .socket unit owns the addresses).
    const activated = takeListenFds(host);
    if (activated !== null) {
      args.binds = activated.binds;
      console.error(
        `wsgi: systemd socket activation: ${
          activated.binds.map((b, i) => `${b.host} (${activated.names[i]})`)
            .join(", ")
        }`,
      );
    }
  } catch (error) {
    console.error(`wsgi: ${(error as Error).message}`);
    return 2;
  }
  if (args.checkConfig) {
    try {
      if (args.spec !== null) {
        await loadApp(args.spec, host, args.pythonpath);
      }
    } catch (error) {
      console.error(`wsgi: ${(error as Error).message}`);
      return 2;
    }
    console.log(`wsgi: ${args.spec ?? "the demo app"}: configuration OK`);
    return 0;
  }
  const supervised = args.workers !== null || args.reload ||
    args.maxRequests > 0 || args.maxWorkerRss > 0 || args.maxWorkerLifetime > 0;
  let watch;
  try {
    watch = startPidWatch(host, args.pidFile, (line) => console.error(line));
  } catch (error) {
    console.error(`wsgi: ${(error as Error).message}`);
    return 2;
  }
  try {
    return supervised
      ? await supervise(args, host, options)
      : await serveHere(args, host, options);
  } finally {
    watch.end();
  }
}

/** Runs {@linkcode main} with the process's arguments and exits with its code. */
export async function run(): Promise<void> {
  const host = await loadHost();
  host.exit(await main(host.args()));
}
