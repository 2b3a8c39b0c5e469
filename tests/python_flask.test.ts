// A real Flask app (Debian's python3-flask) through Pyodide, against the
// same app under CPython's own wsgiref.simple_server: byte-identical
// status, headers (but the servers' own: Date, Server and the framing) and
// bodies. (`wsgi --workers 2 app.py:app`: tests/python_guide.test.ts.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeServer } from "../mod.ts";
import { pythonApp } from "../src/python/python_app.ts";
import { bytes, exchange, type RawResponse } from "./_raw_http.ts";
import { collectingErrors, latin1, RUNTIME, sleep } from "./_util.ts";
import { loadTestPyodide } from "./_python.ts";

const g = globalThis as Record<string, unknown>;
const proc = g.process as {
  execPath: string;
  env: Record<string, string>;
  kill(pid: number, signal: string): void;
};
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const FIXTURES = join(ROOT, "tests", "fixtures", "python");
const DIST = "/usr/lib/python3/dist-packages";

const loaded = await loadTestPyodide();
const skip = loaded.skip ||
  (!existsSync(`${DIST}/flask`) &&
    "python3-flask is not installed (apt-get install python3-flask)") ||
  (!existsSync("/usr/bin/python3") && "/usr/bin/python3 is missing");

/** Starts a child process; resolves once its output matches `re`. */
async function start(
  cmd: string,
  args: string[],
  re: RegExp,
  cwd = ROOT,
): Promise<{ child: ChildProcess; match: RegExpExecArray; log(): string }> {
  const child = spawn(cmd, args, {
    cwd,
    env: { ...proc.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => void (out += d));
  child.stderr!.on("data", (d) => void (out += d));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const match = re.exec(out);
    if (match) return { child, match, log: () => out };
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${cmd} ${args.join(" ")} never printed ${re}: ${out}`);
    }
    await sleep(25);
  }
}

async function stop(child: ChildProcess): Promise<void> {
  const done = new Promise((resolve) => child.once("close", resolve));
  child.kill("SIGTERM");
  await Promise.race([done, sleep(10_000)]);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill("SIGKILL");
  }
}

const boundary = "----wsgiBoundary7MA4YWxkTrZu0gW";
const upload = new Uint8Array(3000).map((_, i) => (i * 37 + 11) & 0xff);
const multipart = "--" + boundary + "\r\n" +
  'Content-Disposition: form-data; name="note"\r\n\r\nbonjour\r\n' +
  "--" + boundary + "\r\n" +
  'Content-Disposition: form-data; name="file"; filename="data.bin"\r\n' +
  "Content-Type: application/octet-stream\r\n\r\n" + latin1(upload) +
  "\r\n--" + boundary + "--\r\n";

function request(method: string, target: string, head = "", body = "") {
  return bytes(
    `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${head}` +
      (body || method === "POST" ? `Content-Length: ${body.length}\r\n` : "") +
      `\r\n${body}`,
  );
}

const REQUESTS: [string, Uint8Array][] = [
  ["hello", request("GET", "/")],
  [
    "JSON POST",
    request(
      "POST",
      "/json",
      "Content-Type: application/json\r\n",
      latin1(new TextEncoder().encode('{"b": [1, "é"], "a": null}')),
    ),
  ],
  [
    "form",
    request(
      "POST",
      "/form?x=1&y=%FF",
      "Content-Type: application/x-www-form-urlencoded\r\n",
      "name=J%C3%BCrgen&tag=a&tag=b",
    ),
  ],
  [
    "multipart upload",
    request(
      "POST",
      "/upload",
      `Content-Type: multipart/form-data; boundary=${boundary}\r\n`,
      multipart,
    ),
  ],
  ["cookie", request("GET", "/cookie", "Cookie: flavour=vanilla\r\n")],
  ["stream", request("GET", "/stream")],
  ["404", request("GET", "/missing")],
  ["non-ASCII path", request("GET", "/caf%C3%A9/cr%C3%A8me")],
];

// The servers' own headers, not the app's: wsgiref speaks HTTP/1.0 and
// closes, ours frames a stream with chunked encoding.
const OWN = new Set(["date", "server", "connection", "transfer-encoding"]);

// Deno's and Bun's HTTP servers send a Web Response's header names in
// lowercase and sorted (a Web Headers object's order; names are
// case-insensitive, RFC 9110 §5.1): compared so there. Node's server keeps
// the app's spelling and order, compared exactly.
const exactNames = typeof g.Deno !== "object" && typeof g.Bun !== "object";

function appPart(r: RawResponse): string {
  const headers = r.headers.filter(([n]) => !OWN.has(n.toLowerCase()))
    // A cookie's Expires is the clock's: the same within a second only.
    .map(([n, v]) =>
      `${exactNames ? n : n.toLowerCase()}: ${
        v.replace(/Expires=[^;]+/, "Expires=*")
      }`
    );
  if (!exactNames) headers.sort();
  // Deno sends the canonical reason phrase ("Not Found" for Flask's "NOT
  // FOUND"; README's runtime table).
  const reason = exactNames ? r.reason : r.reason.toLowerCase();
  return `${r.status} ${reason}\n${headers.join("\n")}\n\n${latin1(r.body)}`;
}

test(
  "python: Flask through Pyodide answers byte for byte as under CPython's wsgiref",
  {
    skip,
    timeout: 120_000,
  },
  async () => {
    const cpython = await start("/usr/bin/python3", [
      join(FIXTURES, "wsgiref_serve.py"),
      "flask_app:app",
    ], /^(\d+)\n/);
    const errors = collectingErrors();
    const app = pythonApp(loaded.pyodide!, "flask_app:app", {
      cwd: FIXTURES,
      path: [DIST],
    });
    const server = makeServer("127.0.0.1", 0, app, { errors, log: false });
    try {
      await server.ready;
      for (const [what, raw] of REQUESTS) {
        const [theirs] = await exchange(Number(cpython.match[1]), raw);
        const [ours] = await exchange(server.serverPort, raw);
        if (what === "stream" && RUNTIME === "bun") {
          // Bun frames a short stream with its own Content-Length.
          ours.headers = ours.headers.filter(([n]) =>
            n.toLowerCase() !== "content-length"
          );
        }
        assert.equal(appPart(ours), appPart(theirs), what);
        if (what === "stream" && RUNTIME !== "bun") {
          assert.ok(ours.chunked, "streamed, not buffered");
        }
      }
      assert.equal(errors.text(), "");
    } finally {
      await server.shutdown();
      await stop(cpython.child);
    }
  },
);
