// The command line's three ways to run: one unsupervised process
// (serveHere), the supervisor's parent (supervise), and a worker it
// started (work).
import type { WSGIApplication } from "../core/types.ts";
import { demoApp } from "../wsgiref/demo_app.ts";
import { makeServer, type ServerOptions } from "../runtime/server.ts";
import type { Args } from "./_cli_args.ts";
import { loadApp } from "./_cli_app.ts";
import type { CliHost } from "./_cli_host.ts";
import { Supervisor } from "./_supervisor.ts";
import type { Bind, WorkerConfig } from "./_worker_protocol.ts";
import { runWorker } from "./_worker.ts";
import { inheritedFds, Notifier } from "./_systemd.ts";
import { ServerMetrics } from "../core/metrics.ts";
import { renderMetrics } from "../core/_metrics_text.ts";
import { processFamilies } from "./_metrics_board.ts";
import { LoopDelay, REPORT_MS } from "./_worker_report.ts";
import { type MetricsSource, serveMetrics } from "./_metrics_endpoint.ts";
import type { WSGIServer } from "../runtime/server.ts";
import { reopenLogFiles } from "../runtime/logging.ts";

/** Where the server's own messages go: --error-logfile, else stderr. */
function say(options: ServerOptions): (line: string) => void {
  const errors = options.errors;
  return errors
    ? (line) => errors.write(line + "\n")
    : (line) => console.error(line);
}

/** `host:port`, `unix:/path` or `fd://N`, for messages. */
function showBind(bind: Bind): string {
  if (/^(?:unix:|fd:\/\/)/.test(bind.host)) return bind.host;
  return `${
    bind.host.includes(":") ? `[${bind.host}]` : bind.host
  }:${bind.port}`;
}

/** The line that says where the server listens. */
function servingLine(bind: Bind, scheme = "http"): string {
  if (bind.host.startsWith("unix:")) return `Serving HTTP on ${bind.host} ...`;
  if (bind.host.startsWith("fd://")) {
    return `Serving HTTP on ${bind.host} (an inherited socket) ...`;
  }
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
export async function serveHere(
  args: Args,
  host: CliHost,
  options: ServerOptions,
): Promise<number> {
  let app: WSGIApplication = demoApp;
  try {
    if (args.spec !== null) {
      app = await loadApp(args.spec, host, args.pythonpath);
    }
  } catch (error) {
    console.error(`wsgi: ${(error as Error).message}`);
    return 2;
  }
  // A socket file left by an earlier run would refuse the bind.
  for (const bind of args.binds) {
    if (bind.host.startsWith("unix:")) host.removeSocket(bind.host.slice(5));
  }
  let stopping = false;
  let metricsServer: WSGIServer | null = null;
  let delayTimer: ReturnType<typeof setInterval> | undefined;
  if (args.metrics !== null) {
    // The event loop's delay, as each worker measures its own.
    const delay = new LoopDelay();
    delayTimer = setInterval(() => delay.tick(), REPORT_MS);
    const metrics = new ServerMetrics();
    options = { ...options, metrics };
    const side = await host.worker();
    metricsServer = await startMetrics(args.metrics, {
      text: (open) =>
        renderMetrics(
          metrics.snapshot(),
          processFamilies([{ pid: null, ...side.usage(), lag: delay.seconds }]),
          open,
        ),
      ready: () => !stopping,
    });
    if (metricsServer === null) {
      clearInterval(delayTimer);
      return 2;
    }
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
    await metricsServer?.shutdown();
    clearInterval(delayTimer);
    return 2;
  }
  const notifier = new Notifier(host, (line) => console.error(line));
  host.onSignal(() => {
    stopping = true;
    notifier.stopping();
    servers.forEach((s) => void s.shutdown());
  });
  host.onReopen(reopenLogFiles, ["SIGUSR1", "SIGWINCH"]);
  servers.forEach((server, i) => {
    const bind = args.binds[i];
    console.log(
      bind.host.startsWith("unix:")
        ? servingLine(bind)
        : `Serving HTTP on ${server.serverName} port ${server.serverPort} (${server.url}) ...`,
    );
  });
  notifier.ready("serving");
  await Promise.all(servers.map((s) => s.serveForever()));
  await metricsServer?.shutdown();
  clearInterval(delayTimer);
  await notifier.flush();
  return 0;
}

/** Binds the --metrics listener; null (the error logged) when it cannot. */
async function startMetrics(
  bind: Bind,
  source: MetricsSource,
): Promise<WSGIServer | null> {
  const server = serveMetrics(bind, source);
  try {
    await server.ready;
  } catch (error) {
    console.error(
      listenError(bind, error).replace("listen", "serve --metrics"),
    );
    return null;
  }
  console.error(
    `wsgi: metrics on http://${
      showBind({ ...bind, port: server.serverPort })
    }/metrics (/ready, /live)`,
  );
  return server;
}

/** The parent of `--workers N`: imports nothing of the app. */
export async function supervise(
  args: Args,
  host: CliHost,
  options: ServerOptions = {},
): Promise<number> {
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
  const processes = await host.supervisor({
    inheritFds: inheritedFds(args.binds),
  });
  const binds: Bind[] = [];
  for (const bind of args.binds) {
    if (bind.host.startsWith("fd://")) {
      // An inherited socket: every worker accepts from it.
      binds.push(bind);
      continue;
    }
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
  const notifier = new Notifier(host, (line) => console.error(line));
  const status = `${workers} worker(s) serving`;
  // The metrics listener first: when it cannot bind, nothing was started
  // (the supervisor makes its temporary folder as it is made).
  let supervisor: Supervisor | null = null;
  let metricsServer: WSGIServer | null = null;
  if (args.metrics !== null) {
    metricsServer = await startMetrics(args.metrics, {
      text: (open) => supervisor?.metricsText(open) ?? "",
      ready: () => supervisor?.ready ?? false,
    });
    if (metricsServer === null) return 2;
  }
  supervisor = new Supervisor(
    processes,
    {
      workers,
      binds,
      timeout: args.timeout,
      gracefulTimeout: args.gracefulTimeout,
      maxRequests: args.maxRequests,
      maxRequestsJitter: args.maxRequestsJitter,
      maxWorkerRss: args.maxWorkerRss,
      maxWorkerLifetime: args.maxWorkerLifetime,
      maxWorkerLifetimeJitter: args.maxWorkerLifetimeJitter ??
        args.maxWorkerLifetime / 10,
      reloadMode: args.reloadMode,
      reloadDir,
      metrics: args.metrics !== null,
      timeoutStacks: args.timeoutStacks,
    },
    say(options),
    () => {
      for (const bind of binds) {
        console.log(servingLine(bind, options.cert ? "https" : "http"));
      }
      say(options)(
        `wsgi: ${workers} worker(s) serving${
          reloadDir === null ? "" : `; --reload watches ${reloadDir}`
        }`,
      );
      notifier.ready(status);
    },
    {
      reloading: () => notifier.reloading(),
      reloaded: () => notifier.ready(status),
      stopping: () => notifier.stopping(),
    },
  );
  const code = await supervisor.run();
  await metricsServer?.shutdown();
  await notifier.flush();
  return code;
}

/** A worker started by the supervisor. */
export async function work(
  config: WorkerConfig,
  args: Args,
  host: CliHost,
  options: ServerOptions,
): Promise<number> {
  const side = await host.worker();
  // Before the first request: the supervisor forwards log rotation only
  // to a worker that listens.
  // SIGWINCH only: on Node, a SIGUSR1 listener would keep the supervisor's
  // SIGUSR1 from opening a stuck worker's inspector.
  host.onReopen(reopenLogFiles, ["SIGWINCH"]);
  return await runWorker(
    config,
    side,
    () =>
      args.spec === null
        ? Promise.resolve(demoApp)
        : loadApp(args.spec, host, args.pythonpath),
    options,
    say(options),
  );
}
