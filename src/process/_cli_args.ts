// The command line's words: its usage text, and argv (with the environment
// variables gunicorn also reads) parsed into Args. Running them is cli.ts.
import type { CliHost } from "./_cli_host.ts";
import type { Bind } from "./_worker_protocol.ts";
import { barePortBind, closestOption } from "./_cli_suggest.ts";
import { logFlag, LogFlagError } from "./_cli_log_args.ts";

export const USAGE = `Usage: wsgi [MODULE[:NAME]] [OPTIONS]

Serves a WSGI application: NAME exported by MODULE (its default export when
NAME is omitted), or wsgiref's demo app when no MODULE is given.

  --host HOST          address to bind (default $HOST, else 127.0.0.1;
                       0.0.0.0 when only $PORT is set)
  --port PORT, -p      port to bind, 0 for any free port (default $PORT,
                       else 8000)
  --bind ADDRESS, -b   HOST:PORT, [::1]:PORT, unix:PATH or fd://N;
                       repeatable (replaces --host and --port)
  --certfile FILE      a PEM certificate (chain): serve HTTPS, with
                       --keyfile FILE, its PEM private key
  --quiet, -q          no access log
  --check-config       import the app, check it, and exit
  --pid FILE           write the server's process id to FILE (removed on
                       exit): signal that pid, not npm's (see docs/deploy.md)
  --pythonpath DIR     a folder or zip put on Python's sys.path (a
                       site-packages); repeatable. MODULE may be Python
                       (app.py:app, pkg.wsgi:application), run by Pyodide
  --metrics HOST:PORT  serve /metrics (Prometheus, OpenMetrics by Accept),
                       /ready and /live on their own listener; summed over
                       the workers (docs/observability.md)

Workers (supervised, as gunicorn):
  --workers N|auto, -w worker processes (default $WEB_CONCURRENCY, else one
                       unsupervised process); auto = one per core
  --timeout S, -t      kill and replace a worker silent for S seconds
                       (default 30; 0 = never)
  --graceful-timeout S time for requests in flight at stop and
                       retirement (default 30)
  --max-requests N     retire a worker after N requests (default 0 = never)
  --max-requests-jitter J  add 0..J to each worker's --max-requests
  --max-worker-rss MiB replace a worker whose memory (RSS) stays above MiB
                       for 3 samples 1 s apart (Linux; default 0 = never)
  --max-worker-lifetime S  replace a worker after S seconds (default 0 =
                       never), plus 0..--max-worker-lifetime-jitter S
                       (default a tenth of the lifetime)
  --reload-mode all|rolling  on SIGHUP/--reload, start every new worker at
                       once (all, the default) or one at a time, each new
                       one listening before an old one retires (rolling)
  --reload             restart workers when a source file changes (dev)
  --timeout-stacks     Deno: start workers with their inspector on a loopback
                       port, so that --timeout logs a stuck worker's stack
                       (any local user can attach: trusted hosts only; Node
                       logs the stack without it)

Limits and proxies:
  --forwarded-allow-ips LIST   proxies trusted for X-Forwarded-*/Forwarded
                               (default $FORWARDED_ALLOW_IPS)
  --headers-timeout S          time to receive a request's head
  --keep-alive S               idle keep-alive connection timeout
  --body-timeout S             time between body chunks
  --limit-request-fields N     most header fields in a request
  --limit-request-field-size N most bytes of a request's head (request
                               line and header fields together)
  --proxy-protocol [v1|v2|auto]  read a PROXY protocol header (haproxy
                               send-proxy, nginx proxy_protocol) first; the
                               client it names is REMOTE_ADDR (default off;
                               the flag alone: auto)
  --proxy-allow-from LIST      peers allowed to send one (default
                               127.0.0.1,::1; "*" for any); others are
                               disconnected

Logs and overload (docs/logging.md):
  --access-logfile PATH        append the access log to PATH (- : stderr)
  --access-logformat FORMAT    gunicorn's format, e.g. '%(h)s "%(r)s" %(s)s
                               %(b)s %(D)s' (atoms: h l u t r m U q H s B b
                               f a T M D L p {header}i {header}o {key}e)
  --access-log-json            one JSON object a line (OpenTelemetry names)
  --error-logfile PATH         tracebacks and the server's own messages to
                               PATH (- : stderr)
  --max-concurrency N          requests at once per worker; more get 503
                               with Retry-After at once (default 0 = no cap)

  --help, -h           this text

Signals (to the parent): TERM, INT stop gracefully; HUP reloads the code
into new workers; TTIN, TTOU add and remove a worker; USR2 logs every
worker's requests in flight; USR1 (or WINCH: on Deno, USR1 also starts
the inspector) reopens the log files.

systemd: the sockets of a .socket unit (LISTEN_FDS) replace --bind, and
every worker accepts from them; with $NOTIFY_SOCKET (Type=notify) it sends
READY=1, RELOADING=1 and STOPPING=1 through systemd-notify. --bind fd://3
serves an inherited socket. See docs/deploy.md.
`;

/** Parsed command-line arguments. */
export interface Args {
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
  /** `--max-worker-rss` MiB, `--max-worker-lifetime` s (0 = off). */
  maxWorkerRss: number;
  maxWorkerLifetime: number;
  /** Null: a tenth of the lifetime. */
  maxWorkerLifetimeJitter: number | null;
  reloadMode: "all" | "rolling";
  reload: boolean;
  /** `--pid FILE`, or null. */
  pidFile: string | null;
  /** `--pythonpath` folders, for a Python MODULE. */
  pythonpath: string[];
  /** `--metrics HOST:PORT`, or null. */
  metrics: Bind | null;
  /** `--timeout-stacks` (Deno). */
  timeoutStacks: boolean;
  /** Passed to makeServer as they are. */
  options: Record<string, unknown>;
  /** `--error-logfile`: a path, `-` or null (stderr). */
  errorLog: string | null;
  /** `--certfile` and `--keyfile` (gunicorn's): PEM files, or null. */
  certfile: string | null;
  keyfile: string | null;
}

/** A bad command line, or an app that does not import: exit code 2. */
export class UsageError extends Error {}

function parsePort(text: string, what: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    throw new UsageError(
      `${what} must be 0-65535, got ${JSON.stringify(text)}`,
    );
  }
  return port;
}

/** `HOST:PORT`, `[::1]:PORT`, `HOST`, `:PORT`, `unix:PATH` or `fd://N`. */
function parseBind(text: string): Bind {
  const bare = barePortBind(text);
  if (bare !== null) throw new UsageError(bare);
  if (text.startsWith("fd://")) {
    if (!/^fd:\/\/\d+$/.test(text)) {
      throw new UsageError(
        `--bind fd:// needs a file descriptor number, got ${
          JSON.stringify(text)
        }`,
      );
    }
    return { host: text, port: 0 };
  }
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

/** The arguments, with $HOST, $PORT, $WEB_CONCURRENCY and $FORWARDED_ALLOW_IPS. */
export function parseArgs(argv: string[], host: CliHost): Args {
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
    maxWorkerRss: 0,
    maxWorkerLifetime: 0,
    maxWorkerLifetimeJitter: null,
    reloadMode: "all",
    reload: false,
    pidFile: null,
    pythonpath: [],
    metrics: null,
    timeoutStacks: false,
    options: {},
    errorLog: null,
    certfile: null,
    keyfile: null,
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
    else if (arg === "--timeout-stacks") args.timeoutStacks = true;
    else if (arg === "--host") args.host = next();
    else if (arg === "--pid") args.pidFile = next();
    else if (arg === "--pythonpath") args.pythonpath.push(next());
    else if (arg === "--port" || arg === "-p") {
      args.port = parsePort(next(), "--port");
    } else if (arg === "--bind" || arg === "-b") {
      args.binds.push(parseBind(next()));
    } else if (arg === "--metrics") {
      args.metrics = parseBind(next());
      if (args.metrics.host.startsWith("unix:")) {
        throw new UsageError(`--metrics must be HOST:PORT, not a unix socket`);
      }
    } else if (arg === "--workers" || arg === "-w") {
      args.workers = workers(next(), arg);
    } else if (arg === "--timeout" || arg === "-t") args.timeout = seconds();
    else if (arg === "--graceful-timeout") args.gracefulTimeout = seconds();
    else if (arg === "--max-requests") args.maxRequests = count();
    else if (arg === "--max-worker-rss") args.maxWorkerRss = count();
    else if (arg === "--max-worker-lifetime") {
      args.maxWorkerLifetime = seconds();
    } else if (arg === "--max-worker-lifetime-jitter") {
      args.maxWorkerLifetimeJitter = seconds();
    } else if (arg === "--reload-mode") {
      const mode = next();
      if (mode !== "all" && mode !== "rolling") {
        throw new UsageError(
          `--reload-mode must be all or rolling, got ${JSON.stringify(mode)}`,
        );
      }
      args.reloadMode = mode;
    } else if (arg === "--max-requests-jitter") {
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
    } else if (arg === "--proxy-protocol") {
      // gunicorn 24: the flag alone means auto; a version may follow.
      const given = value ??
        (/^(?:v1|v2|auto)$/.test(argv[i + 1] ?? "") ? argv[++i] : "auto");
      if (!/^(?:v1|v2|auto)$/.test(given)) {
        throw new UsageError(
          `--proxy-protocol must be v1, v2 or auto, got ${
            JSON.stringify(given)
          }`,
        );
      }
      args.options.proxyProtocol = given;
    } else if (arg === "--certfile") {
      args.certfile = next();
    } else if (arg === "--keyfile") {
      args.keyfile = next();
    } else if (arg === "--proxy-allow-from") {
      args.options.proxyAllowFrom = ipList(next());
    } else if (logFlagOrUsage(arg, next, args)) {
      // --access-log* , --error-logfile, --max-concurrency
    } else if (arg.startsWith("-")) {
      const near = closestOption(arg, USAGE);
      throw new UsageError(
        `unknown option ${JSON.stringify(arg)}${
          near === null ? "" : `; did you mean ${near}?`
        }`,
      );
    } else if (args.spec === null) args.spec = arg;
    else throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
  }
  if ((args.certfile === null) !== (args.keyfile === null)) {
    throw new UsageError(
      `--certfile and --keyfile go together, got only ${
        args.certfile === null ? "--keyfile" : "--certfile"
      }`,
    );
  }
  if (args.binds.length === 0) {
    args.binds.push({ host: args.host, port: args.port });
  }
  return args;
}

function logFlagOrUsage(
  arg: string,
  next: () => string,
  args: Args,
): boolean {
  try {
    return logFlag(arg, next, args);
  } catch (error) {
    if (error instanceof LogFlagError) throw new UsageError(error.message);
    throw error;
  }
}

/** `"*"`, or a comma-separated list of addresses. */
function ipList(text: string): string | string[] {
  const list = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  return list.length === 1 && list[0] === "*" ? "*" : list;
}
