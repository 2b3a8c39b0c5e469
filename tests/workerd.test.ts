// The edge, proven: toFetchHandler and the example apps inside workerd,
// Cloudflare's open-source Workers runtime (the npm package `workerd`, a
// devDependency, whose binary works offline). The worker module
// (tests/fixtures/workerd_worker.ts) is served two ways by one workerd:
//
// - "bundle": one ES module made by `bun build --target=browser`, as a
//   user's bundler would make it;
// - "modules": every source file transpiled alone (`bun build
//   --no-bundle`) and listed as its own module, with mod.ts's statements in
//   the main module. That is what esbuild (hence wrangler) does to mod.ts's
//   `if (import.meta.main)` line: it keeps it in the worker's main module,
//   where workerd makes import.meta.main true from compatibility date
//   2026-11-17. `bun build` drops the line, so only this layout can show
//   the command line staying inert inside a worker.
//
// workerd is the runtime under test here, not the test runner, so the
// checks run once, in the Node suite (`node --test`), and are skipped under
// deno test and bun test.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bytes, connect, exchange, get, header, text } from "./_raw_http.ts";
import { run as runChild, startChild } from "./_child.ts";
import { RUNTIME } from "./_util.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

/** The workerd binary and its newest compatibility date, or why not. */
function findWorkerd(): { bin: string; date: string } | string {
  try {
    // The package's `default` is the real binary (in a per-platform
    // optional package). Not node_modules/.bin/workerd: that is a Node
    // wrapper, which neither passes the control fd on nor forwards SIGTERM.
    const pkg = createRequire(import.meta.url)("workerd") as {
      default: string;
      compatibilityDate: string;
    };
    if (!existsSync(pkg.default)) return `${pkg.default} is missing`;
    return { bin: pkg.default, date: pkg.compatibilityDate };
  } catch (error) {
    return `the npm package workerd cannot be loaded (${
      (error as Error).message.split("\n")[0]
    }): run "npm ci"`;
  }
}

const found = RUNTIME === "node" ? findWorkerd() : "not under node --test";
const skip = RUNTIME !== "node"
  ? "workerd is checked once, in the Node suite"
  : typeof found === "string"
  ? found
  : false;
if (RUNTIME === "node" && typeof found === "string") {
  console.log(`# workerd.test.ts: skipping the workerd tests: ${found}`);
}
const NEWEST = typeof found === "string" ? "" : found.date;
// Before it, nodejs_compat is not the default: no `process` global.
const OLDER = "2024-09-23";
// The day before streams_enable_constructors became the default.
const TOO_OLD = "2022-11-29";

const bun = join(root, "node_modules", ".bin", "bun");

async function run(cmd: string, args: string[]): Promise<void> {
  const result = await runChild(cmd, args, { cwd: root });
  if (result.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")}: ${result.stderr}`);
  }
}

/** Source files, relative to the root, that the worker is made of. */
function sources(): string[] {
  const out = ["mod.ts", "tests/fixtures/workerd_worker.ts"];
  for (const dir of ["src", "examples"]) out.push(...readdirTs(dir));
  return out;
}

/** The .ts files under `dir` (relative to the root), its folders too. */
function readdirTs(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...readdirTs(path));
    else if (entry.name.endsWith(".ts")) out.push(path);
  }
  return out.sort();
}

let built: Promise<string> | null = null;

/**
 * Builds both layouts once into a temporary directory: bundle.js, and
 * modules/ with one transpiled file per source plus the main module.
 */
function build(): Promise<string> {
  built ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), "wsgi-workerd-"));
    try {
      return await buildInto(dir);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  })();
  return built;
}

/** Writes bundle.js and modules/ into `dir`. */
async function buildInto(dir: string): Promise<string> {
  const files = sources();
  await run(bun, [
    "build",
    "--target=browser",
    "tests/fixtures/workerd_worker.ts",
    `--outfile=${join(dir, "bundle.js")}`,
  ]);
  await run(bun, [
    "build",
    "--no-bundle",
    "--target=browser",
    ...files,
    `--outdir=${join(dir, "modules")}`,
  ]);
  // The main module: mod.ts's own statements, as a bundler inlines them
  // (its re-exports become imports: workerd refuses a main module's
  // exports that are not handlers), then the worker's default export and
  // a route that shows import.meta.main.
  const mod = readFileSync(join(dir, "modules", "mod.js"), "utf8")
    .replace(/^export \* from (".*?");$/gm, "import $1;");
  assert.match(mod, /import\.meta\.main/, "mod.ts's main block is kept");
  writeFileSync(
    join(dir, "modules", "main.js"),
    `${mod}
import worker from "./tests/fixtures/workerd_worker.ts";
export default {
fetch(request, env, ctx) {
  if (new URL(request.url).pathname === "/main") {
    return new Response(String(import.meta.main));
  }
  return worker.fetch(request, env, ctx);
},
};
`,
  );
  const modules = files.map((f) =>
    `(name = "${f}", esModule = embed "modules/${f.replace(/\.ts$/, ".js")}")`
  );
  writeFileSync(
    join(dir, "modules.capnp.part"),
    [`(name = "main.ts", esModule = embed "modules/main.js")`, ...modules]
      .join(",\n      "),
  );
  return dir;
}

/** A running workerd: the ports of its two sockets, and its output. */
interface Workerd {
  bundle: number;
  modules: number;
  output(): string;
  stop(): Promise<void>;
}

/** Writes the config for one compatibility date and starts workerd. */
async function startWorkerd(date: string): Promise<Workerd> {
  const dir = await build();
  const modules = readFileSync(join(dir, "modules.capnp.part"), "utf8");
  // A binding named remoteAddr: in Cloudflare's fetch(request, env, ctx),
  // `env` is not the peer, whatever it holds.
  const bindings =
    `bindings = [(name = "remoteAddr", json = "{\\"hostname\\": \\"192.0.2.66\\", \\"port\\": 6}")]`;
  const config = join(dir, `config-${date}.capnp`);
  writeFileSync(
    config,
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "bundle", worker = .bundle),
    (name = "modules", worker = .modules),
  ],
  sockets = [
    (name = "bundle", address = "127.0.0.1:0", http = (), service = "bundle"),
    (name = "modules", address = "127.0.0.1:0", http = (), service = "modules"),
  ],
);
const bundle :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "bundle.js")],
  compatibilityDate = "${date}",
  ${bindings},
);
const modules :Workerd.Worker = (
  modules = [
      ${modules}
  ],
  compatibilityDate = "${date}",
  ${bindings},
);
`,
  );
  const bin = (found as { bin: string }).bin;
  // fd 3 is the control pipe: workerd writes one JSON line per socket,
  // {"event":"listen","socket":NAME,"port":N}, once it listens.
  const child = startChild(bin, ["serve", config, "--control-fd=3"], {
    fd3: true,
    timeout: 120_000,
  });
  const stop = async (): Promise<void> =>
    void await child.stop("SIGTERM", 3000);
  try {
    const port = async (socket: string) =>
      Number(
        (await child.waitFor(
          new RegExp(`"socket":"${socket}","port":(\\d+)`),
          { stream: "fd3", ms: 10_000 },
        ))[1],
      );
    return {
      bundle: await port("bundle"),
      modules: await port("modules"),
      output: () => child.text(),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function withWorkerd(
  date: string,
  check: (w: Workerd) => Promise<void>,
): Promise<void> {
  let w: Workerd | null = null;
  try {
    w = await startWorkerd(date);
    await check(w);
  } catch (error) {
    if (w) (error as Error).message += `\n--- workerd output:\n${w.output()}`;
    throw error;
  } finally {
    await w?.stop();
    // Leave nothing behind: each run builds afresh (about 0.1 s).
    const dir = await built?.catch(() => null);
    if (dir) rmSync(dir, { recursive: true, force: true });
    built = null;
  }
}

const url = (port: number, path: string): string =>
  `http://127.0.0.1:${port}${path}`;

function chunkedPost(target: string, body: string[]): string {
  return `POST ${target} HTTP/1.1\r\nHost: test\r\n` +
    "Content-Type: application/x-www-form-urlencoded\r\n" +
    "Transfer-Encoding: chunked\r\n\r\n" +
    body.map((c) => `${c.length.toString(16)}\r\n${c}\r\n`).join("") +
    "0\r\n\r\n";
}

/** The example apps, through toFetchHandler, on one socket. */
async function checkApps(port: number, w: Workerd): Promise<void> {
  const demo = await fetch(url(port, "/demo/"));
  assert.equal(demo.status, 200);
  const page = await demo.text();
  assert.match(page, /^Hello world!/);
  assert.match(page, /wsgi\.url_scheme = 'http'/);
  assert.equal(demo.headers.get("content-length"), String(bytes(page).length));

  const hello = await fetch(url(port, "/hello"));
  assert.equal(await hello.text(), "¡Hola, mundo!");
  const timed = await fetch(url(port, "/timed"));
  assert.match(timed.headers.get("x-response-time") ?? "", /^\d+\.\d+ms$/);
  await timed.text();
  const routed = await fetch(url(port, "/router/hello/Ana"));
  assert.equal(await routed.text(), "Hello, Ana!\n");

  // wsgi.input, with a length and chunked.
  const posted = await fetch(url(port, "/form"), {
    method: "POST",
    body: new URLSearchParams({ name: "Zoë <3" }),
  });
  assert.equal(await posted.text(), "<p>Hello, Zoë &#60;3!</p>");
  const [chunked] = await exchange(
    port,
    chunkedPost("/form", ["name=Chu", "nked"]),
  );
  assert.equal(chunked.status, 200);
  assert.equal(text(chunked), "<p>Hello, Chunked!</p>");

  // Over the worker's maxBodySize (64 KiB): 413, declared or chunked.
  const big = "name=" + "x".repeat(70 * 1024);
  const declared = await fetch(url(port, "/form"), {
    method: "POST",
    body: big,
  });
  assert.equal(declared.status, 413);
  assert.match(await declared.text(), /limit of 65536 bytes/);
  const [streamed] = await exchange(
    port,
    chunkedPost("/form", [big.slice(0, 40000), big.slice(40000)]),
  );
  assert.equal(streamed.status, 413);

  // A generator's chunks go out as they are made: the first arrives alone,
  // while the generator still sleeps before the next.
  const started = Date.now();
  const sse = await fetch(url(port, "/sse/?count=3&interval=300"));
  assert.equal(sse.headers.get("content-type"), "text/event-stream");
  const reader = sse.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  assert.equal(first, "id: 1\ndata: tick 1\n\n");
  let rest = "";
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    rest += new TextDecoder().decode(r.value);
  }
  assert.equal(rest, "id: 2\ndata: tick 2\n\nid: 3\ndata: tick 3\n\n");
  assert.ok(Date.now() - started >= 550, "the generator's sleeps happened");

  // An app that throws: wsgiref's 500 page, the stack in wsgi.errors
  // (console.error: workerd's output).
  const broken = await fetch(url(port, "/broken"));
  assert.equal(broken.status, 500);
  assert.equal(
    await broken.text(),
    "A server error occurred.  Please contact the administrator.",
  );
  assert.match(w.output(), /this app is broken on purpose/);

  const blob = await fetch(url(port, "/blob"));
  assert.equal(await blob.text(), "blob body via file_wrapper");
}

/** REMOTE_ADDR, remoteAddrHeader, makeServer, on one socket. */
async function checkEdgeFacts(port: number): Promise<void> {
  const headers = { "CF-Connecting-IP": "203.0.113.7" };
  // No peer on the edge; `env` (with its remoteAddr binding) is not one;
  // and a header is not trusted unless the app names it.
  const plain = await (await fetch(url(port, "/environ"), { headers }))
    .json();
  assert.equal(plain.REMOTE_ADDR, "");
  assert.equal("REMOTE_PORT" in plain, false);
  const named = await (await fetch(url(port, "/remote/environ"), { headers }))
    .json();
  assert.equal(named.REMOTE_ADDR, "203.0.113.7");
  assert.equal("REMOTE_PORT" in named, false);
  const without = await (await fetch(url(port, "/remote/environ"))).json();
  assert.equal(without.REMOTE_ADDR, "");

  // Thrown at once, as docs/api.md says, not a server whose ready rejects.
  const serve = await fetch(url(port, "/serve"));
  assert.equal(
    await serve.text(),
    "threw: makeServer() runs on Deno, Bun or Node, not workerd (Cloudflare " +
      "Workers): serve toFetchHandler(app) instead (export default " +
      "{ fetch: toFetchHandler(app) })",
  );
}

test(`workerd ${NEWEST}: the example apps through toFetchHandler`, {
  skip,
}, async () => {
  await withWorkerd(NEWEST, async (w) => {
    await checkApps(w.bundle, w);
    await checkApps(w.modules, w);
  });
});

test(`workerd ${OLDER}: the example apps through toFetchHandler`, {
  skip,
}, async () => {
  await withWorkerd(OLDER, async (w) => {
    await checkApps(w.bundle, w);
    await checkApps(w.modules, w);
  });
});

test("workerd: REMOTE_ADDR, remoteAddrHeader and makeServer's error", {
  skip,
}, async () => {
  for (const date of [NEWEST, OLDER]) {
    await withWorkerd(date, async (w) => {
      await checkEdgeFacts(w.bundle);
      await checkEdgeFacts(w.modules);
    });
  }
});

test(`workerd ${NEWEST}: mod.ts's command line stays inert in a worker`, {
  skip,
}, async () => {
  await withWorkerd(NEWEST, async (w) => {
    // The main module's import.meta.main is true: the line did run.
    const main = await fetch(url(w.modules, "/main"));
    assert.equal(await main.text(), "true");
    const hello = await fetch(url(w.modules, "/hello"));
    assert.equal(await hello.text(), "¡Hola, mundo!");
    // What the command line would have printed: its banner, or
    // makeServer's error.
    assert.doesNotMatch(w.output(), /Serving HTTP|makeServer\(\)/);
  });
});

test(
  `workerd ${TOO_OLD}: a streamed body is the library's 500, naming the date`,
  {
    skip,
  },
  async () => {
    await withWorkerd(TOO_OLD, async (w) => {
      // Whole bodies work at any date.
      const hello = await fetch(url(w.bundle, "/hello"));
      assert.equal(await hello.text(), "¡Hola, mundo!");
      const sse = await fetch(url(w.bundle, "/sse/?count=2&interval=10"));
      assert.equal(sse.status, 500);
      assert.equal(
        await sse.text(),
        "A server error occurred.  Please contact the administrator.",
      );
      assert.match(
        w.output(),
        /Cannot stream the response: the ReadableStream constructor failed .*set compatibility_date to "2022-11-30" or later/,
      );
      // HEAD of a stream needs no stream: the app's own status.
      const head = await fetch(url(w.bundle, "/sse/?count=2&interval=10"), {
        method: "HEAD",
      });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("content-type"), "text/event-stream");
    });
  },
);

// The workerd column of docs/runtimes.md's "What differs between runtimes"
// table, measured on the wire.
test(`workerd ${NEWEST}: docs/runtimes.md's table column`, {
  skip,
}, async () => {
  await withWorkerd(NEWEST, async (w) => {
    const port = w.bundle;
    // Custom reason phrase: sent as given, as Node does.
    const [custom, known] = await exchange(
      port,
      get("/reason/custom") + get("/reason/known"),
      2,
    );
    assert.deepEqual(
      [custom.statusLine, known.statusLine],
      ["HTTP/1.1 299 Fine Thing", "HTTP/1.1 200 Fine Thanks"],
    );
    // Header names on the wire: case kept, sorted by name (the app sent
    // X-MiXed-Case first).
    assert.deepEqual(known.headers.map(([n]) => n), [
      "Content-Length",
      "Content-Type",
      "Set-Cookie",
      "Set-Cookie",
      "X-MiXed-Case",
    ]);
    // Set-Cookie lines stay separate.
    assert.deepEqual(
      known.headers.filter(([n]) => n.toLowerCase() === "set-cookie")
        .map(([, v]) => v),
      ["a=1; Path=/", "b=2; HttpOnly"],
    );
    // No Date header of its own.
    assert.equal(header(known, "date"), null);

    // Raw request target: kept as sent.
    const [target] = await exchange(port, get("/environ/a/%2E%2E/b%2Fc?x=%41"));
    const seen = JSON.parse(text(target));
    assert.deepEqual([seen.PATH_INFO, seen.QUERY_STRING], [
      "/a/../b/c",
      "x=%41",
    ]);
    // Raw bytes >= 0x80, or a control, in the target: refused.
    const [high] = await exchange(port, bytes(get("/environ/caf\xe9")));
    const [control] = await exchange(port, bytes(get("/environ/a\x01b")));
    assert.deepEqual([high.status, control.status], [400, 400]);
    // A Host that is not a host: workerd puts it into Request.url as sent
    // (`evil/admin` made PATH_INFO `/admin/environ/real`); refused.
    const [evil] = await exchange(
      port,
      "GET /environ/real HTTP/1.1\r\nHost: evil/admin\r\n\r\n",
    );
    assert.equal(evil.status, 400, text(evil));

    // SERVER_PROTOCOL of an HTTP/1.0 request.
    const [old] = await exchange(
      port,
      "GET /environ HTTP/1.0\r\nHost: test\r\n\r\n",
    );
    assert.equal(JSON.parse(text(old)).SERVER_PROTOCOL, "HTTP/1.1");

    // Repeated request headers: Cookie joined with ", ", others with ",".
    const [twice] = await exchange(
      port,
      get(
        "/environ",
        "Cookie: a=1\r\nCookie: b=2\r\nX-Twice: 1\r\nX-Twice: 2\r\n",
      ),
    );
    const joined = JSON.parse(text(twice));
    assert.equal(joined.HTTP_COOKIE, "a=1, b=2");
    assert.equal(joined.HTTP_X_TWICE, "1, 2");

    // HEAD: the length of a whole body; none for a stream.
    const [headWhole, headStream] = await exchange(
      port,
      "HEAD /hello HTTP/1.1\r\nHost: test\r\n\r\n" +
        "HEAD /sse/?count=1 HTTP/1.1\r\nHost: test\r\n\r\n",
      2,
      [true, true],
    );
    assert.equal(header(headWhole, "content-length"), "14");
    assert.equal(header(headStream, "content-length"), null);

    // Pipelining, answered in order.
    const piped = await exchange(
      port,
      get("/router/hello/one") + get("/router/hello/two"),
      2,
    );
    assert.deepEqual(piped.map(text), ["Hello, one!\n", "Hello, two!\n"]);

    // Expect: 100-continue.
    const conn = await connect(port);
    try {
      await conn.write(
        "POST /form HTTP/1.1\r\nHost: test\r\nContent-Length: 6\r\n" +
          "Content-Type: application/x-www-form-urlencoded\r\n" +
          "Expect: 100-continue\r\n\r\n",
      );
      const interim = await conn.readResponse({ timeoutMs: 2000 });
      assert.equal(interim.statusLine, "HTTP/1.1 100 Continue");
      await conn.write("name=E");
      const response = await conn.readResponse();
      assert.equal(text(response), "<p>Hello, E!</p>");
    } finally {
      conn.destroy();
    }
  });
});

// remoteAddrHeader on every runtime, without workerd.

test("toFetchHandler: remoteAddrHeader is off by default, and replaces the peer when named", async () => {
  const { toFetchHandler } = await import("../mod.ts");
  const app = (
    environ: Record<string, unknown>,
    startResponse: (s: string, h: [string, string][]) => unknown,
  ) => {
    startResponse("200 OK", [["Content-Type", "application/json"]]);
    const { REMOTE_ADDR, REMOTE_PORT } = environ;
    return [new TextEncoder().encode(
      JSON.stringify({ REMOTE_ADDR, REMOTE_PORT: REMOTE_PORT ?? null }),
    )];
  };
  const request = () =>
    new Request("http://localhost/", {
      headers: { "CF-Connecting-IP": " 198.51.100.9 " },
    });
  // Deno's ServeHandlerInfo shape: the peer.
  const info = { remoteAddr: { hostname: "127.0.0.1", port: 5000 } };
  const plain = toFetchHandler(app);
  assert.deepEqual(await (await plain(request(), info)).json(), {
    REMOTE_ADDR: "127.0.0.1",
    REMOTE_PORT: "5000",
  });
  const named = toFetchHandler(app, { remoteAddrHeader: "cf-connecting-ip" });
  assert.deepEqual(await (await named(request(), info)).json(), {
    REMOTE_ADDR: "198.51.100.9",
    REMOTE_PORT: null,
  });
  // Without the header, the peer as before.
  const bare = new Request("http://localhost/");
  assert.deepEqual(await (await named(bare, info)).json(), {
    REMOTE_ADDR: "127.0.0.1",
    REMOTE_PORT: "5000",
  });
  // Cloudflare's (request, env, ctx): env is no peer.
  assert.deepEqual(await (await plain(bare, info as never, {})).json(), {
    REMOTE_ADDR: "",
    REMOTE_PORT: null,
  });
});

test("toFetchHandler: a remoteAddrHeader that is not a header name is a TypeError", async () => {
  const { toFetchHandler, demoApp } = await import("../mod.ts");
  assert.throws(
    () => toFetchHandler(demoApp, { remoteAddrHeader: "CF-Connecting-IP:" }),
    {
      name: "TypeError",
      message:
        'remoteAddrHeader must be a header name, got "CF-Connecting-IP:"',
    },
  );
});

// The rows the workerd column added to docs/runtimes.md's table, on this
// runtime's own server (Deno, Bun or Node), to compare against.
test("the table's Cookie, Date, REMOTE_ADDR and HEAD rows on this runtime's server", async () => {
  const { makeServer } = await import("../mod.ts");
  const server = makeServer("127.0.0.1", 0, (environ, startResponse) => {
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    if (environ.PATH_INFO === "/stream") {
      return (async function* () {
        yield new TextEncoder().encode("a");
        yield new TextEncoder().encode("b");
      })();
    }
    const { HTTP_COOKIE, REMOTE_ADDR, REMOTE_PORT } = environ;
    return [new TextEncoder().encode(
      JSON.stringify({ HTTP_COOKIE, REMOTE_ADDR, REMOTE_PORT }),
    )];
  }, { log: false });
  try {
    await server.ready;
    const [joined, head] = await exchange(
      server.serverPort,
      get("/", "Cookie: a=1\r\nCookie: b=2\r\n") +
        "HEAD /stream HTTP/1.1\r\nHost: test\r\n\r\n",
      2,
      [false, true],
    );
    const seen = JSON.parse(text(joined));
    assert.equal(seen.HTTP_COOKIE, "a=1; b=2");
    assert.equal(seen.REMOTE_ADDR, "127.0.0.1");
    assert.match(seen.REMOTE_PORT, /^\d+$/);
    assert.notEqual(header(joined, "date"), null);
    assert.equal(header(head, "content-length"), null);
  } finally {
    await server.shutdown();
  }
});
