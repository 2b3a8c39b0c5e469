// runCgi: in-process through its `io` option, then for real: a CGI server
// (lighttpd, else Python's http.server) on 127.0.0.1 runs
// tests/fixtures/cgi_app.ts with the runtime running this file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import {
  type AsyncInputStream,
  type CgiOptions,
  type ErrorStream,
  type InputStream,
  runCgi,
  type WSGIApplication,
} from "../mod.ts";
import { RUNTIME } from "./_util.ts";

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

/** An error stream that keeps what is written. */
function recorder(): ErrorStream & { text: () => string } {
  let text = "";
  return {
    write: (s: string) => void (text += s),
    writelines: (seq: Iterable<string>) => void (text += [...seq].join("")),
    flush: () => {},
    text: () => text,
  };
}

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield encode(p);
}

/** Runs `app` as a CGI script in-process; returns stdout as latin-1 text. */
async function cgi<Input extends InputStream | AsyncInputStream>(
  app: WSGIApplication<Input>,
  env: Record<string, string>,
  stdin: AsyncIterable<Uint8Array> = chunks(),
  options: CgiOptions = {},
): Promise<{ out: string; errors: string }> {
  const out: Uint8Array[] = [];
  const errors = recorder();
  await runCgi(app, {
    errors,
    ...options,
    io: {
      env,
      stdin,
      stdout: { write: (b: Uint8Array) => out.push(b.slice()) },
    },
  });
  let text = "";
  for (const b of out) text += String.fromCharCode(...b);
  return { out: text, errors: errors.text() };
}

const hello: WSGIApplication = (_environ, startResponse) => {
  startResponse("299 Custom Reason", [["Content-Type", "text/plain"], [
    "X-B",
    "2",
  ], ["X-A", "1"]]);
  return [encode("hello")];
};

test("runCgi writes a Status line, the headers in order, a blank line and the body", async () => {
  const { out } = await cgi(hello, { REQUEST_METHOD: "GET" });
  assert.equal(
    out,
    "Status: 299 Custom Reason\r\nContent-Type: text/plain\r\nX-B: 2\r\nX-A: 1\r\n" +
      "Content-Length: 5\r\n\r\nhello",
  );
});

test("runCgi builds the environ from CGI variables only, as native strings", async () => {
  let seen: Record<string, unknown> = {};
  const app: WSGIApplication = (environ, startResponse) => {
    seen = { ...environ };
    startResponse("200 OK", []);
    return [];
  };
  const { out } = await cgi(
    app,
    {
      REQUEST_METHOD: "GET",
      SCRIPT_NAME: "/cgi-bin/app.cgi",
      PATH_INFO: "/café/a/b",
      QUERY_STRING: "q=%C3%A9",
      HTTP_X_NAME: "José",
      SERVER_NAME: "example.org",
      SERVER_PORT: "8080",
      SERVER_PROTOCOL: "HTTP/1.1",
      DOCUMENT_ROOT: "/srv/www",
      HTTPS: "on",
      PATH: "/usr/bin:/bin",
      HOME: "/root",
      API_TOKEN: "secret",
      APP_MODE: "test",
    },
    chunks(),
    { passEnv: ["APP_MODE"] },
  );
  assert.equal(out, "Status: 200 OK\r\nContent-Length: 0\r\n\r\n");
  // read_environ(): request variables re-encoded, bytes shown as latin-1.
  assert.equal(seen.PATH_INFO, "/caf\u00c3\u00a9/a/b");
  assert.equal(seen.HTTP_X_NAME, "Jos\u00c3\u00a9");
  assert.equal(seen.QUERY_STRING, "q=%C3%A9");
  assert.equal(seen.SCRIPT_NAME, "/cgi-bin/app.cgi");
  assert.equal(seen.SERVER_NAME, "example.org");
  assert.equal(seen.SERVER_PORT, "8080");
  assert.equal(seen.DOCUMENT_ROOT, "/srv/www");
  assert.equal(seen.APP_MODE, "test");
  // The server's own environment stays out (PATH, HOME, secrets).
  assert.equal("PATH" in seen, false);
  assert.equal("HOME" in seen, false);
  assert.equal("API_TOKEN" in seen, false);
  assert.equal(seen["wsgi.url_scheme"], "https");
  assert.equal(seen["wsgi.run_once"], true);
  assert.equal(seen["wsgi.multiprocess"], true);
  assert.equal(seen["wsgi.multithread"], false);
  assert.deepEqual(seen["wsgi.version"], [1, 0]);
  // Absent from the CGI environment: empty, as a typed environ promises.
  assert.equal(seen.CONTENT_TYPE, "");
  assert.equal(seen.CONTENT_LENGTH, "");
});

test("runCgi reads CONTENT_LENGTH bytes of stdin and never waits for end-of-file", async () => {
  let stopped = false;
  const stdin: AsyncIterable<Uint8Array> = {
    async *[Symbol.asyncIterator]() {
      try {
        yield encode("hello wor");
        yield encode("ld and more");
        await new Promise(() => {}); // the server never closes stdin
      } finally {
        stopped = true;
      }
    },
  };
  const echo: WSGIApplication = (environ, startResponse) => {
    const body = (environ["wsgi.input"] as InputStream).read();
    startResponse("200 OK", [["Content-Type", `${environ.CONTENT_TYPE}`]]);
    return [body];
  };
  const run = cgi(echo, {
    REQUEST_METHOD: "POST",
    CONTENT_LENGTH: "11",
    CONTENT_TYPE: "text/plain",
  }, stdin);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("runCgi waited for EOF")), 5000);
  });
  try {
    const { out } = await Promise.race([run, late]);
    assert.equal(out.slice(out.indexOf("\r\n\r\n") + 4), "hello world");
    assert.match(out, /Content-Length: 11\r\n/);
    assert.equal(stopped, true);
  } finally {
    clearTimeout(timer);
  }
});

test("runCgi reads no body without CONTENT_LENGTH, and a chunked one to EOF", async () => {
  const length: WSGIApplication = (environ, startResponse) => {
    const body = (environ["wsgi.input"] as InputStream).read();
    startResponse("200 OK", []);
    return [encode(`${environ.CONTENT_LENGTH}:${decode(body)}`)];
  };
  const untouched: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]() {
      throw new Error("stdin was read");
    },
  };
  const none = await cgi(length, { REQUEST_METHOD: "GET" }, untouched);
  assert.match(none.out, /\r\n\r\n:$/);
  const chunked = await cgi(length, {
    REQUEST_METHOD: "POST",
    HTTP_TRANSFER_ENCODING: "chunked",
  }, chunks("ab", "cd", "e"));
  assert.match(chunked.out, /\r\n\r\n5:abcde$/);
});

test("runCgi answers wsgiref's 500 page when the app fails, and logs the error", async () => {
  const failing: WSGIApplication = () => {
    throw new Error("boom in the app");
  };
  const { out, errors } = await cgi(failing, { REQUEST_METHOD: "GET" });
  assert.equal(
    out,
    "Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: 59\r\n\r\n" +
      "A server error occurred.  Please contact the administrator.",
  );
  assert.match(errors, /boom in the app/);
});

test("runCgi streams a generator, closes it, and cuts the body short on a late error", async () => {
  let closed = 0;
  const stream =
    (fail: boolean): WSGIApplication => (_environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      const body = (function* () {
        yield encode("one ");
        yield encode("two ");
        if (fail) throw new Error("late failure");
        yield encode("three");
      })();
      return Object.assign(body, { close: () => void closed++ });
    };
  const ok = await cgi(stream(false), { REQUEST_METHOD: "GET" });
  assert.equal(
    ok.out,
    "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\none two three",
  );
  assert.equal(closed, 1);
  const bad = await cgi(stream(true), { REQUEST_METHOD: "GET" });
  assert.equal(
    bad.out,
    "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\none two ",
  );
  assert.match(bad.errors, /late failure/);
  assert.equal(closed, 2);
});

test("runCgi sends no body for HEAD and 413 for a body over maxBodySize", async () => {
  const head = await cgi(hello, { REQUEST_METHOD: "HEAD" });
  assert.equal(
    head.out,
    "Status: 299 Custom Reason\r\nContent-Type: text/plain\r\nX-B: 2\r\nX-A: 1\r\nContent-Length: 5\r\n\r\n",
  );
  let called = false;
  const app: WSGIApplication = (environ, startResponse) => {
    called = true;
    return hello(environ, startResponse);
  };
  const big = await cgi(
    app,
    { REQUEST_METHOD: "POST", CONTENT_LENGTH: "100" },
    chunks("x".repeat(100)),
    { maxBodySize: 10 },
  );
  assert.match(big.out, /^Status: 413 Content Too Large\r\n/);
  assert.equal(called, false);
});

test("runCgi with bufferInput false gives an async wsgi.input limited to CONTENT_LENGTH", async () => {
  const app: WSGIApplication<AsyncInputStream> = async (
    environ,
    startResponse,
  ) => {
    const input = environ["wsgi.input"];
    const first = await input.readline();
    const rest = await input.read();
    startResponse("200 OK", []);
    return [encode(`[${decode(first)}][${decode(rest)}]`)];
  };
  const { out } = await cgi(
    app,
    { REQUEST_METHOD: "POST", CONTENT_LENGTH: "8" },
    chunks("ab\ncd", "efgh"),
    { bufferInput: false },
  );
  assert.match(out, /\r\n\r\n\[ab\n\]\[cdefg\]$/);
});

test("runCgi resolves quietly and closes the body when stdout is gone", async () => {
  let closed = false;
  const app: WSGIApplication = (_environ, startResponse) => {
    startResponse("200 OK", []);
    return Object.assign(
      (function* () {
        yield encode("a");
        yield encode("b");
      })(),
      { close: () => void (closed = true) },
    );
  };
  const errors = recorder();
  await runCgi(app, {
    errors,
    io: {
      env: { REQUEST_METHOD: "GET" },
      stdin: chunks(),
      stdout: { write: () => Promise.reject(new Error("EPIPE: broken pipe")) },
    },
  });
  assert.equal(closed, true);
  assert.equal(errors.text(), "");
});

// ---------------------------------------------------------------------------
// Under a real CGI server.

const fixture = join(
  dirname(fileURLToPath(import.meta.url)),
  "fixtures",
  "cgi_app.ts",
);

function which(name: string, extra: string[] = []): string | null {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), ...extra];
  for (const dir of dirs) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

type ServerKind = { kind: "lighttpd" | "python"; bin: string };

/** lighttpd, else Python 3 with CGIHTTPRequestHandler; WSGI_CGI_SERVER picks one. */
function findServer(): ServerKind | string {
  const wanted = process.env.WSGI_CGI_SERVER;
  if (wanted !== "python") {
    const bin = which("lighttpd", ["/usr/sbin", "/usr/local/sbin", "/sbin"]);
    if (bin) return { kind: "lighttpd", bin };
    if (wanted === "lighttpd") {
      return "WSGI_CGI_SERVER=lighttpd but lighttpd is not installed";
    }
  }
  const python = which("python3");
  if (python) {
    const probe = spawnSync(python, [
      "-c",
      "import http.server as h; h.CGIHTTPRequestHandler",
    ], { stdio: "ignore" });
    if (probe.status === 0) return { kind: "python", bin: python };
  }
  return "no CGI server: install lighttpd (apt-get install lighttpd) or Python 3 (<= 3.14) for http.server --cgi";
}

/**
 * `python3 -m http.server --cgi`, except that scripts run as the user who
 * runs the server. Run as root, CGIHTTPRequestHandler switches each script
 * to "nobody" (`os.setuid(nobody_uid())` in the forked child), and nobody
 * cannot enter a clone in a root-only directory (a container's /root, where
 * `npm test` runs as root): the script, the fixture and the toolchain would
 * all be out of its reach. Mapping "nobody" to the current user keeps the
 * fork path (the response streams as the script writes it).
 */
const PYTHON_CGI_SERVER = `
import functools, os, sys, warnings
warnings.simplefilter("ignore", DeprecationWarning)
import http.server as h
h.nobody_uid = os.getuid
port, docs = int(sys.argv[1]), sys.argv[2]
handler = functools.partial(h.CGIHTTPRequestHandler, directory=docs)
with h.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
    server.serve_forever()
`;

const server = findServer();
const skip = typeof server === "string" ? server : false;
if (skip) console.log(`# cgi.test.ts: skipping the CGI server tests: ${skip}`);

const q = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/** The shell wrapper the server executes: this runtime on the fixture. */
function wrapper(home: string): string {
  const exec = process.execPath;
  const args = RUNTIME === "deno"
    ? ["run", "-A", "--quiet", "--no-config", fixture]
    : RUNTIME === "node"
    ? ["--no-warnings", fixture]
    : [fixture];
  // lighttpd gives a CGI script no inherited environment: the runtimes
  // need HOME (Deno's cache). The secret must not reach the environ.
  const vars: Record<string, string | undefined> = {
    HOME: home,
    DENO_DIR: join(home, "deno"),
    NO_COLOR: "1",
    DENO_NO_UPDATE_CHECK: "1",
    WSGI_TEST_SECRET: "do-not-leak",
  };
  let text = "#!/bin/sh\n";
  for (const [k, v] of Object.entries(vars)) {
    if (v !== undefined) text += `export ${k}=${q(v)}\n`;
  }
  return text + `exec ${[exec, ...args].map(q).join(" ")}\n`;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const port = (srv.address() as { port: number }).port;
  srv.close();
  await once(srv, "close");
  return port;
}

async function waitForPort(port: number, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: "127.0.0.1", port });
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => {
        s.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (exited()) throw new Error("the CGI server exited before listening");
    if (Date.now() > deadline) {
      throw new Error(`nothing listens on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Running {
  url: string;
  kind: "lighttpd" | "python";
  log: () => string;
}

/** Starts the CGI server, runs `fn` against the script's URL, stops it. */
async function withCgiServer(fn: (s: Running) => Promise<void>): Promise<void> {
  const { kind, bin } = server as ServerKind;
  const dir = mkdtempSync(join(tmpdir(), "wsgi-cgi-"));
  // The script runs as whoever runs this test (see PYTHON_CGI_SERVER);
  // lighttpd, started as root, may still switch users: keep the script and
  // a writable HOME (Deno's cache) open.
  chmodSync(dir, 0o755);
  const home = join(dir, "home");
  mkdirSync(home);
  chmodSync(home, 0o777);
  const docs = join(dir, "htdocs");
  mkdirSync(join(docs, "cgi-bin"), { recursive: true });
  const script = join(docs, "cgi-bin", "app.cgi");
  writeFileSync(script, wrapper(home));
  chmodSync(script, 0o755);
  const port = await freePort();
  const logFile = join(dir, "error.log");
  let args: string[];
  if (kind === "lighttpd") {
    const conf = join(dir, "lighttpd.conf");
    writeFileSync(
      conf,
      [
        `server.document-root = ${JSON.stringify(docs)}`,
        `server.bind = "127.0.0.1"`,
        `server.port = ${port}`,
        `server.modules = ("mod_cgi")`,
        `server.errorlog = ${JSON.stringify(logFile)}`,
        `cgi.assign = (".cgi" => "")`,
        "",
      ].join("\n"),
    );
    args = ["-D", "-f", conf];
  } else {
    args = ["-c", PYTHON_CGI_SERVER, String(port), docs];
  }
  let output = "";
  const child = spawn(bin, args, {
    cwd: docs,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (d) => void (output += d));
  child.stderr.on("data", (d) => void (output += d));
  let exited = false;
  const exit = once(child, "exit").then(() => void (exited = true));
  const log = (): string =>
    output + (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
  try {
    await waitForPort(port, () => exited);
    await fn({ url: `http://127.0.0.1:${port}/cgi-bin/app.cgi`, kind, log });
  } catch (error) {
    if (error instanceof Error) {
      error.message += `\n--- ${kind} output ---\n${log()}`;
    }
    throw error;
  } finally {
    if (!exited) child.kill("SIGTERM");
    await exit;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** "NNN Reason" as the script sent it: Python's server passes Status on as a header. */
function statusOf(res: Response, kind: Running["kind"]): string {
  return kind === "python"
    ? res.headers.get("status") ?? ""
    : String(res.status);
}

test(
  `runCgi under a real CGI server (${RUNTIME}): GET with a path, a query and headers`,
  { skip },
  async () => {
    await withCgiServer(async ({ url, kind }) => {
      const res = await fetch(`${url}/caf%C3%A9/a%2Fb?x=1&y=%C3%A9`, {
        headers: { "User-Agent": "wsgi-cgi-test/1.0", "X-Test": "hello" },
      });
      const report = await res.json();
      // lighttpd sends its own reason phrase; Python's server shows ours.
      assert.equal(
        statusOf(res, kind),
        kind === "python" ? "201 Made By CGI" : "201",
      );
      assert.equal(res.headers.get("x-runtime"), RUNTIME);
      assert.equal(res.headers.get("content-type"), "application/json");
      assert.equal(report.REQUEST_METHOD, "GET");
      assert.equal(report.SCRIPT_NAME, "/cgi-bin/app.cgi");
      assert.equal(report.PATH_INFO, "/caf\u00c3\u00a9/a/b");
      assert.equal(report.QUERY_STRING, "x=1&y=%C3%A9");
      assert.equal(report.HTTP_USER_AGENT, "wsgi-cgi-test/1.0");
      // Python's CGI server passes on only a few headers.
      if (kind === "lighttpd") assert.equal(report.HTTP_X_TEST, "hello");
      assert.equal(report["wsgi.run_once"], true);
      assert.equal(report["wsgi.multiprocess"], true);
      assert.equal(report["wsgi.multithread"], false);
      assert.equal(report["wsgi.url_scheme"], "http");
      assert.equal(report.body, "");
      for (const key of ["WSGI_TEST_SECRET", "HOME", "PATH"]) {
        assert.equal(
          report.keys.includes(key),
          false,
          `${key} leaked into the environ`,
        );
      }
    });
  },
);

test(
  `runCgi under a real CGI server (${RUNTIME}): POST with a body`,
  { skip },
  async () => {
    await withCgiServer(async ({ url, kind }) => {
      const body = "name=Ad%C3%A1&text=caf\u00e9";
      const res = await fetch(url, {
        method: "POST",
        body,
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
      });
      const report = await res.json();
      assert.equal(
        statusOf(res, kind),
        kind === "python" ? "201 Made By CGI" : "201",
      );
      assert.equal(report.REQUEST_METHOD, "POST");
      assert.equal(report.CONTENT_TYPE, "application/x-www-form-urlencoded");
      assert.equal(report.CONTENT_LENGTH, String(encode(body).length));
      // The body's bytes, one character each: é is two bytes in UTF-8.
      assert.equal(report.body, "name=Ad%C3%A1&text=caf\u00c3\u00a9");
    });
  },
);

test(
  `runCgi under a real CGI server (${RUNTIME}): app error and streamed body`,
  { skip },
  async () => {
    await withCgiServer(async ({ url, kind, log }) => {
      const failed = await fetch(`${url}/fail`);
      assert.equal(
        statusOf(failed, kind),
        kind === "python" ? "500 Internal Server Error" : "500",
      );
      assert.equal(
        await failed.text(),
        "A server error occurred.  Please contact the administrator.",
      );
      const streamed = await fetch(`${url}/stream`);
      assert.equal(
        statusOf(streamed, kind),
        kind === "python" ? "200 OK" : "200",
      );
      assert.equal(streamed.headers.get("x-runtime"), RUNTIME);
      assert.equal(await streamed.text(), "one\ntwo\nthree\n");
      // The stack went to the script's stderr, which the server logs (maybe
      // a little after the response).
      for (let i = 0; i < 100 && !log().includes("cgi fixture failure"); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.match(log(), /Error: cgi fixture failure/);
    });
  },
);
