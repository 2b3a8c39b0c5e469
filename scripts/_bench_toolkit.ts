// The toolkit's benchmark (issue 15): what the static files, the router
// and the request object cost per request, against the bare app and
// against Hono's equivalents, measured in the same run.
//
//   deno run -A scripts/bench.ts --toolkit [--rounds N] [--duration S]
//                                          [--runtime deno,bun,node]
//   <runtime> scripts/_bench_toolkit.ts serve MODE DIR   (one server)
//
// For each runtime it starts one server process per row, pinned to CPU 1
// (wrk on CPU 0), and loads them with wrk, interleaved round by round;
// each figure is the server's CPU time (utime + stime, /proc/<pid>/stat)
// over the requests wrk completed, and req/s. Rows:
//
//   wsgi-bare      makeServer, an app answering 10 KiB from memory (the floor)
//   static 200     makeServer + serveStatic, the same 10 KiB from a file
//   static 304     the same with If-None-Match: its ETag
//   hono-bare      Hono answering the 10 KiB from memory (c.body)
//   hono-static    Hono's serveStatic (hono/deno, hono/bun; on Node, which
//                  has no adapter in hono 4.13, its base serveStatic over
//                  fs.openAsBlob) behind etag(), Hono's way to 304
//   hono-router    Hono with a 50-route table (`/r<i>/:id`), the 40th hit
//   hono-request   Hono reading the path, a query argument and a header
//                  (c.req), then answering the 10 KiB
//   wsgi-router    the toolkit's Router, the same 50 rules (`/r<i>/<int:id>`),
//                  answering a WSGIResponse of the 10 KiB
//   wsgi-request   an app building the toolkit's WSGIRequest and reading
//                  the same three things, answering the bare app's bytes
//
// The wsgi-router and wsgi-request rows run only when src/toolkit exports
// Router, WSGIRequest and WSGIResponse (toolkit-a's part of issue 15);
// until then they print as placeholders.
//
// The machine is shared: prefer the ratios, measured interleaved.
import { portLine } from "./_port_line.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const BIN = `${ROOT}node_modules/.bin/`;
const MODULES = `${ROOT}node_modules/`;
const SELF = `${ROOT}scripts/_bench_toolkit.ts`;
const SIZE = 10 * 1024;
const HOST = "127.0.0.1";
type Runtime = "deno" | "bun" | "node";
// deno-lint-ignore no-explicit-any
const g = globalThis as unknown as Record<string, any>;

/** One row: which server, which request, and whether it revalidates. */
interface Case {
  name: string;
  mode: string;
  path: string;
  revalidate?: boolean;
}

const CASES: Case[] = [
  {
    name: "wsgi-bare (10 KiB from memory)",
    mode: "wsgi-bare",
    path: "/file.bin",
  },
  { name: "wsgi static 200", mode: "wsgi-static", path: "/file.bin" },
  {
    name: "wsgi static 304",
    mode: "wsgi-static",
    path: "/file.bin",
    revalidate: true,
  },
  {
    name: "hono-bare (10 KiB from memory)",
    mode: "hono-bare",
    path: "/file.bin",
  },
  { name: "hono static 200", mode: "hono-static", path: "/file.bin" },
  {
    name: "hono static 304",
    mode: "hono-static",
    path: "/file.bin",
    revalidate: true,
  },
  { name: "hono router (50 routes)", mode: "hono-router", path: "/r40/123" },
  { name: "hono request (c.req)", mode: "hono-request", path: "/file.bin?x=1" },
];

/** Rows that need toolkit-a's Router and WSGIRequest. */
const TOOLKIT_A_CASES: Case[] = [
  { name: "wsgi router (50 routes)", mode: "wsgi-router", path: "/r40/123" },
  {
    name: "wsgi request (WSGIRequest)",
    mode: "wsgi-request",
    path: "/file.bin?x=1",
  },
];

// --- the servers (run by deno, bun or node) --------------------------------

/** What the Hono handlers here use of Hono's context. */
interface HonoContext {
  body(
    data: Uint8Array,
    status: number,
    headers: Record<string, string>,
  ): Response;
  req: {
    path: string;
    query(name: string): string | undefined;
    header(name: string): string | undefined;
  };
}

/** toolkit-a's classes, as far as these rows use them. */
interface ToolkitA {
  Router: new () => {
    get(rule: string, handler: () => unknown): unknown;
    asApp(): unknown;
  };
  WSGIRequest: new (environ: unknown) => {
    path: string;
    args: URLSearchParams;
    headers: Headers;
  };
  WSGIResponse: new (
    body: Uint8Array,
    init: { contentType: string },
  ) => unknown;
}

/** toolkit-a's classes when src/toolkit exports them, else null. */
async function toolkitA(): Promise<ToolkitA | null> {
  const mod = await import("../src/toolkit/mod.ts") as Record<string, unknown>;
  return mod.Router && mod.WSGIRequest && mod.WSGIResponse
    ? mod as unknown as ToolkitA
    : null;
}

const TEN_K = new Uint8Array(SIZE).map((_, i) => (i * 31) & 0xff);

function ready(port: number): void {
  console.log(`PORT ${port}`);
}

async function serveFetch(fetch: (r: Request) => Response | Promise<Response>) {
  if (g.Deno) {
    g.Deno.serve({
      hostname: HOST,
      port: 0,
      onListen: (a: { port: number }) => ready(a.port),
    }, fetch);
  } else if (g.Bun) {
    ready(g.Bun.serve({ hostname: HOST, port: 0, fetch }).port);
  } else {
    const { serve } = await import(`${MODULES}srvx/dist/adapters/node.mjs`);
    const server = await serve({ fetch, port: 0, hostname: HOST, silent: true })
      .ready();
    ready(Number(new URL(server.url).port));
  }
}

async function honoStatic(dir: string): Promise<unknown> {
  if (g.Deno) {
    return (await import(`${MODULES}hono/dist/adapter/deno/serve-static.js`))
      .serveStatic({ root: dir });
  }
  if (g.Bun) {
    return (await import(`${MODULES}hono/dist/adapter/bun/serve-static.js`))
      .serveStatic({ root: dir });
  }
  const { serveStatic } = await import(
    `${MODULES}hono/dist/middleware/serve-static/index.js`
  );
  const { openAsBlob, statSync } = await import("node:fs");
  return serveStatic({
    root: dir,
    getContent: (path: string) => {
      try {
        return statSync(path).isFile() ? openAsBlob(path) : null;
      } catch {
        return null;
      }
    },
  });
}

async function serve(mode: string, dir: string): Promise<void> {
  const { makeServer } = await import("../mod.ts");
  const { serveStatic } = await import("../src/toolkit/mod.ts");
  if (mode.startsWith("wsgi-")) {
    type Start = (s: string, h: [string, string][]) => unknown;
    const bare = (_e: unknown, start: Start) => {
      start("200 OK", [
        ["Content-Type", "application/octet-stream"],
        ["Content-Length", String(SIZE)],
      ]);
      return [TEN_K];
    };
    const a = mode === "wsgi-router" || mode === "wsgi-request"
      ? await toolkitA()
      : null;
    let app: unknown = bare;
    if (mode === "wsgi-static") app = serveStatic(dir);
    else if (mode === "wsgi-router") {
      const router = new a!.Router();
      for (let i = 0; i < 50; i++) {
        router.get(
          `/r${i}/<int:id>`,
          () =>
            new a!.WSGIResponse(TEN_K, {
              contentType: "application/octet-stream",
            }),
        );
      }
      app = router.asApp();
    } else if (mode === "wsgi-request") {
      app = (environ: unknown, start: Start) => {
        const request = new a!.WSGIRequest(environ);
        void request.path;
        void request.args.get("x");
        void request.headers.get("accept");
        return bare(environ, start);
      };
    }
    const server = makeServer(HOST, 0, app as never, { log: false });
    await server.ready;
    ready(server.serverPort);
    return;
  }
  const { Hono } = await import(`${MODULES}hono/dist/index.js`);
  const app = new Hono();
  if (mode === "hono-bare") {
    app.get(
      "/file.bin",
      (c: HonoContext) =>
        c.body(TEN_K, 200, { "content-type": "application/octet-stream" }),
    );
  } else if (mode === "hono-static") {
    const { etag } = await import(
      `${MODULES}hono/dist/middleware/etag/index.js`
    );
    app.use("*", etag());
    app.use("*", await honoStatic(dir));
  } else if (mode === "hono-request") {
    app.get("/file.bin", (c: HonoContext) => {
      void c.req.path;
      void c.req.query("x");
      void c.req.header("accept");
      return c.body(TEN_K, 200, { "content-type": "application/octet-stream" });
    });
  } else if (mode === "hono-router") {
    for (let i = 0; i < 50; i++) {
      app.get(
        `/r${i}/:id`,
        (c: HonoContext) =>
          c.body(TEN_K, 200, { "content-type": "application/octet-stream" }),
      );
    }
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  await serveFetch(app.fetch);
}

// --- the driver (run by deno) ----------------------------------------------

interface Server {
  pid: number;
  port: number;
  child: Deno.ChildProcess;
}

async function start(
  runtime: Runtime,
  mode: string,
  dir: string,
): Promise<Server> {
  const cmd = runtime === "deno"
    ? [BIN + "deno", "run", "-A", SELF, "serve", mode, dir]
    : [BIN + runtime, SELF, "serve", mode, dir];
  const child = new Deno.Command("taskset", {
    args: ["-c", "1", ...cmd],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const port = await portLine(child, /^PORT (\d+)$/m, `${runtime} ${mode}`);
  return { pid: child.pid, port, child };
}

async function stop(server: Server): Promise<void> {
  try {
    Deno.kill(server.pid, "SIGTERM");
  } catch {
    // gone
  }
  const timer = setTimeout(() => {
    try {
      Deno.kill(server.pid, "SIGKILL");
    } catch {
      // gone
    }
  }, 3000);
  await server.child.status;
  clearTimeout(timer);
}

function cpu(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function wrk(url: string, seconds: number, header: string | null) {
  const args = ["-c", "0", "wrk", "-t1", "-c10", `-d${seconds}s`, url];
  if (header) args.push("-H", header);
  const out = await new Deno.Command("taskset", {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const m = /(\d+) requests in/.exec(text);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  if (!m || !rps) throw new Error(`wrk said:\n${text}`);
  const bad = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  return {
    requests: Number(m[1]),
    rps: Number(rps[1]),
    bad: bad ? Number(bad[1]) : 0,
  };
}

const median = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs the toolkit rows; `args` are bench.ts's after `--toolkit`. */
export async function main(args: string[]): Promise<void> {
  let rounds = 3;
  let duration = 2;
  let runtimes: Runtime[] = ["deno", "bun", "node"];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--rounds") rounds = Number(args[++i]);
    else if (args[i] === "--duration") duration = Number(args[++i]);
    else if (args[i] === "--runtime") {
      runtimes = args[++i].split(",") as Runtime[];
    } else throw new Error(`_bench_toolkit: unknown argument ${args[i]}`);
  }
  const cases = [...CASES];
  const withA = await toolkitA() !== null;
  if (withA) cases.push(...TOOLKIT_A_CASES);
  const dir = await Deno.makeTempDir({ prefix: "wsgi-bench-toolkit-" });
  await Deno.writeFile(`${dir}/file.bin`, TEN_K);
  const versions: string[] = [];
  for (const runtime of runtimes) {
    const v = await new Deno.Command(BIN + runtime, {
      args: ["--version"],
      stdout: "piped",
    }).output();
    versions.push(
      `${runtime} ${new TextDecoder().decode(v.stdout).split("\n")[0].trim()}`,
    );
  }
  console.log(
    `toolkit bench: ${
      versions.join(", ")
    }; ${rounds} rounds of ${duration} s, wrk -t1 -c10`,
  );
  try {
    for (const runtime of runtimes) {
      const servers = new Map<string, Server>();
      try {
        for (const c of cases) {
          if (!servers.has(c.mode)) {
            servers.set(c.mode, await start(runtime, c.mode, dir));
          }
        }
        const cpus = new Map<string, number[]>();
        const rps = new Map<string, number[]>();
        const ratios = new Map<string, number[]>();
        for (let round = 0; round < rounds; round++) {
          let floor = 0;
          for (const c of cases) {
            const server = servers.get(c.mode)!;
            const url = `http://${HOST}:${server.port}${c.path}`;
            const probe = await fetch(url);
            await probe.arrayBuffer();
            if (probe.status !== 200) {
              throw new Error(`${runtime} ${c.name}: ${probe.status}`);
            }
            let header: string | null = null;
            if (c.revalidate) {
              const etag = probe.headers.get("etag");
              header = `If-None-Match: ${etag}`;
              const check = await fetch(url, {
                headers: { "If-None-Match": etag! },
              });
              await check.arrayBuffer();
              if (check.status !== 304) {
                throw new Error(
                  `${runtime} ${c.name}: ${check.status}, not 304`,
                );
              }
            }
            await wrk(url, 1, header);
            const before = cpu(server.pid);
            const result = await wrk(url, duration, header);
            const perReq = (cpu(server.pid) - before) / result.requests * 1e6;
            if (c.mode === "wsgi-bare") floor = perReq;
            cpus.set(c.name, [...(cpus.get(c.name) ?? []), perReq]);
            rps.set(c.name, [...(rps.get(c.name) ?? []), result.rps]);
            ratios.set(c.name, [...(ratios.get(c.name) ?? []), perReq / floor]);
          }
        }
        console.log(`\n${versions[runtimes.indexOf(runtime)]}\n`);
        console.log("| row | req/s | CPU µs/req | CPU vs wsgi-bare |");
        console.log("|---|---:|---:|---:|");
        for (const c of cases) {
          console.log(
            `| ${c.name} | ${median(rps.get(c.name)!).toFixed(0)} | ${
              median(cpus.get(c.name)!).toFixed(1)
            } | ${median(ratios.get(c.name)!).toFixed(2)} |`,
          );
        }
        // Until toolkit-a's Router and WSGIRequest are merged.
        for (const c of withA ? [] : TOOLKIT_A_CASES) {
          console.log(`| ${c.name} | PLACEHOLDER: not merged yet | | |`);
        }
      } finally {
        for (const server of servers.values()) await stop(server);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main || (!g.Deno && process.argv[2] === "serve")) {
  const argv: string[] = g.Deno ? g.Deno.args : process.argv.slice(2);
  if (argv[0] === "serve") await serve(argv[1], argv[2]);
  else if (g.Deno) await main(argv);
}
