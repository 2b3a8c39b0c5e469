// Access-log formats: gunicorn's format strings (every atom of its
// documentation's table) and the JSON lines, first as compiled functions
// against a request built by hand (every atom, and a hostile corpus in
// every atom that carries request data), then through makeServer on the
// runtime running this file, over real sockets.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  compileFormat,
  GUNICORN_FORMAT,
  type LogEntry,
} from "../src/core/_log_format.ts";
import { jsonLine } from "../src/core/_log_json.ts";
import {
  makeServer,
  type StartResponse,
  type WSGIEnvironment,
} from "../mod.ts";
import { exchange } from "./_raw_http.ts";
import { until } from "./_util.ts";

const ALL_ATOMS =
  "%(h)s|%(l)s|%(u)s|%(t)s|%(r)s|%(m)s|%(U)s|%(q)s|%(H)s|%(s)s|%(B)s|%(b)s|" +
  "%(f)s|%(a)s|%(T)s|%(M)s|%(D)s|%(L)s|%(p)s|%({X-Req}i)s|%({x-resp}o)s|" +
  "%({PATH_INFO}e)s|%%";

/** A request as the servers describe it, with `over` replacing fields. */
function entry(over: {
  method?: string;
  target?: string;
  protocol?: string;
  headers?: string[];
  environ?: Record<string, unknown> | null;
  response?: [string, string][];
  bytes?: number | null;
  seconds?: number;
  peer?: string;
  complete?: boolean;
} = {}): LogEntry {
  return {
    facts: {
      method: over.method ?? "GET",
      target: over.target ?? "/p%20x?q=1",
      protocol: over.protocol ?? "HTTP/1.1",
      headers: over.headers ?? [
        "Referer",
        "http://ref.example/",
        "User-Agent",
        "curl/8",
        "Authorization",
        "Basic " + btoa("alice:secret"),
        "X-Req",
        "hello",
        "X-Forwarded-For",
        "10.0.0.9",
      ],
      scheme: "http",
      environ:
        (over.environ === undefined
          ? { PATH_INFO: "/p x", QUERY_STRING: "q=1", REMOTE_ADDR: "10.0.0.9" }
          : over.environ) as WSGIEnvironment | null,
    },
    peer: over.peer ?? "127.0.0.1",
    code: 201,
    headers: over.response ?? [["Content-Type", "text/plain"], [
      "X-Resp",
      "world",
    ]],
    length: 5,
    bytes: over.bytes === undefined ? 5 : over.bytes,
    complete: over.complete ?? true,
    seconds: over.seconds ?? 1.2345678,
    pid: 4242,
  };
}

test("format: every atom of gunicorn's table, against a known request", () => {
  const { format, timed } = compileFormat(ALL_ATOMS);
  assert.equal(timed, true);
  const line = format(entry());
  const fields = line.split("|");
  assert.equal(fields.length, 23, line);
  const [
    h,
    l,
    u,
    t,
    r,
    m,
    U,
    q,
    H,
    s,
    B,
    b,
    f,
    a,
    T,
    M,
    D,
    L,
    p,
    i,
    o,
    e,
    pct,
  ] = fields;
  assert.equal(h, "10.0.0.9", "h: REMOTE_ADDR");
  assert.equal(l, "-");
  assert.equal(u, "alice", "u: the Basic-auth user");
  assert.match(t, /^\[\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\]$/);
  assert.equal(r, "GET /p%20x?q=1 HTTP/1.1", "r: the request line as sent");
  assert.equal(m, "GET");
  assert.equal(U, "/p x", "U: PATH_INFO");
  assert.equal(q, "q=1");
  assert.equal(H, "HTTP/1.1");
  assert.equal(s, "201");
  assert.equal(B, "5");
  assert.equal(b, "5");
  assert.equal(f, "http://ref.example/");
  assert.equal(a, "curl/8");
  assert.equal(T, "1", "T: whole seconds");
  assert.equal(M, "1234", "M: milliseconds");
  assert.equal(D, "1234567", "D: microseconds");
  assert.equal(L, "1.234567", "L: seconds.micro");
  assert.equal(p, "<4242>");
  assert.equal(i, "hello", "{X-Req}i: names match in any case");
  assert.equal(o, "world");
  assert.equal(e, "/p x");
  assert.equal(pct, "%");
});

test("format: what is missing is '-', as in gunicorn; b of nothing sent is '0'", () => {
  const { format } = compileFormat(
    "%(u)s %(f)s %(a)s %({x-none}i)s %({x-none}o)s %({NOPE}e)s %(b)s %(B)s",
  );
  const none = entry({ headers: [], environ: null, bytes: 0 });
  assert.equal(format(none), "- - - - - - 0 0");
  assert.equal(format(entry({ bytes: null })).slice(-3), "- -");
  // Without the environ (a request refused before the app ran), U and q
  // come from the target, h from the peer.
  const { format: f2 } = compileFormat("%(h)s %(U)s %(q)s");
  assert.equal(f2(entry({ environ: null })), "127.0.0.1 /p%20x q=1");
  // The Content-Length the server added is a response header too.
  const { format: f3 } = compileFormat("%({content-length}o)s");
  assert.equal(f3(entry()), "5");
  // gunicorn's default format.
  assert.match(
    compileFormat(GUNICORN_FORMAT).format(entry()),
    /^10\.0\.0\.9 - alice \[.+\] "GET \/p%20x\?q=1 HTTP\/1\.1" 201 5 "http:\/\/ref\.example\/" "curl\/8"$/,
  );
  assert.equal(compileFormat("%(s)s").timed, false);
});

test("format: a bad format is a TypeError that names it", () => {
  assert.throws(() => compileFormat("%(x)s"), /unknown atom "x"/);
  assert.throws(() => compileFormat("100% %(s)s"), /bad "%" at 3/);
  assert.throws(() => compileFormat("%(s"), /bad "%"/);
  assert.throws(
    () => compileFormat("%({a b}i)s"),
    /"a b" .* not a header name/,
  );
  assert.throws(
    () =>
      makeServer("127.0.0.1", 0, () => [], { accessLog: { format: "%(zz)s" } }),
    /unknown atom "zz"/,
  );
  assert.throws(
    () =>
      makeServer("127.0.0.1", 0, () => [], {
        accessLog: { format: "%(s)s", json: true },
      }),
    /either format or json/,
  );
  assert.throws(
    // @ts-expect-error: a misspelt option
    () => makeServer("127.0.0.1", 0, () => [], { accessLog: { fromat: "" } }),
    /unknown option "fromat"; did you mean "format"/,
  );
});

// --------------------------------------------------------- hostile values

const HOSTILE = [
  "a\rb",
  "a\nb",
  "a\r\nX: forged",
  'a"b',
  'a\\" x="y',
  "end\\",
  "a\x1b[31mred",
  "a\u2028b",
  "a\u2029b",
  "a\x00b",
  "a\x7fb\x85c",
  '"}, {"forged": 1',
];
const RAW = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/;

/** Reverses escapeField: what a log reader would recover. */
function unescapeField(s: string): string {
  return s.replace(
    /\\(x[0-9a-f]{2}|u[0-9a-f]{4}|["\\])/g,
    (_, c: string) =>
      c.length === 1 ? c : String.fromCharCode(parseInt(c.slice(1), 16)),
  );
}

/** The same value in every atom that carries request (or app) data. */
function hostileEntry(v: string): LogEntry {
  return entry({
    method: v,
    target: "/" + v + "?" + v,
    protocol: v,
    headers: [
      "Referer",
      v,
      "User-Agent",
      v,
      "Authorization",
      "Basic " + btoa(unescape(encodeURIComponent(v)) + ":pw"),
      "X-Req",
      v,
      "X-Forwarded-For",
      v,
    ],
    environ: { PATH_INFO: v, QUERY_STRING: v, REMOTE_ADDR: v, X_KEY: v },
    response: [["X-Resp", v]],
  });
}

test("format: no hostile value forges a line or a field, in any atom", () => {
  const atoms = ["h", "u", "r", "m", "U", "q", "H", "f", "a"].map((a) =>
    `%(${a})s`
  ).concat(["%({x-req}i)s", "%({x-resp}o)s", "%({X_KEY}e)s"]);
  const { format } = compileFormat(atoms.map((a) => `"${a}"`).join(" "));
  for (const v of HOSTILE) {
    const line = format(hostileEntry(v));
    assert.doesNotMatch(line, RAW, JSON.stringify(line));
    // Quoted fields stay separable: every `"` inside one is escaped.
    const fields = [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) =>
      unescapeField(m[1])
    );
    assert.equal(fields.length, atoms.length, JSON.stringify(line));
    for (let i = 0; i < fields.length; i++) {
      // The user is what comes before the credentials' first colon.
      const want = atoms[i] === "%(r)s"
        ? `${v} /${v}?${v} ${v}`
        : atoms[i] === "%(u)s"
        ? v.split(":")[0]
        : v;
      assert.equal(fields[i], want, `${atoms[i]} for ${JSON.stringify(v)}`);
    }
  }
});

test("json: every hostile value parses back, typed, in its own field", () => {
  for (const v of HOSTILE) {
    const line = jsonLine(hostileEntry(v));
    assert.doesNotMatch(line, RAW, JSON.stringify(line));
    const o = JSON.parse(line);
    assert.equal(o["http.request.method"], v);
    assert.equal(o["url.path"], "/" + v);
    assert.equal(o["url.query"], v);
    assert.equal(o["user_agent.original"], v);
    assert.equal(o["http.request.header.referer"], v);
    assert.equal(o["client.address"], v);
    assert.equal(o["http.response.status_code"], 201);
    assert.equal(o["http.response.body.size"], 5);
    assert.equal(typeof o["http.server.request.duration"], "number");
    assert.equal(o["process.pid"], 4242);
    assert.equal(o.forged, undefined);
  }
  const plain = JSON.parse(jsonLine(entry({ complete: false })));
  assert.equal(plain["user.name"], "alice");
  assert.equal(plain["error.type"], "incomplete");
  assert.equal(plain["network.protocol.version"], "1.1");
  assert.equal(plain["url.scheme"], "http");
  assert.match(plain.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

// ------------------------------------------------------ through a server

function app(environ: WSGIEnvironment, start: StartResponse): Uint8Array[] {
  start("201 Created", [["Content-Type", "text/plain"], ["X-Resp", "world"]]);
  return [new TextEncoder().encode(String(environ.HTTP_USER_AGENT ?? "none"))];
}

test("server: a format string with every atom, over a real socket", async () => {
  const lines: string[] = [];
  const server = makeServer("127.0.0.1", 0, app, {
    log: (line) => void lines.push(line),
    accessLog: { format: ALL_ATOMS },
  });
  await server.ready;
  try {
    await exchange(
      server.serverPort,
      "GET /p%20x?q=1 HTTP/1.1\r\nHost: test\r\nReferer: http://r/\r\n" +
        "User-Agent: ua/1\r\nAuthorization: Basic " + btoa("bob:pw") +
        "\r\nX-Req: hello\r\nConnection: close\r\n\r\n",
    );
    assert.ok(await until(() => lines.length === 1, 3000), "one line");
  } finally {
    await server.shutdown();
  }
  const f = lines[0].split("|");
  assert.deepEqual(
    [f[0], f[1], f[2], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11]],
    [
      "127.0.0.1",
      "-",
      "bob",
      "GET /p%20x?q=1 HTTP/1.1",
      "GET",
      "/p x",
      "q=1",
      "HTTP/1.1",
      "201",
      "4",
      "4",
    ],
    lines[0],
  );
  assert.deepEqual([f[12], f[13], f[19], f[20], f[21]], [
    "http://r/",
    "ua/1",
    "hello",
    "world",
    "/p x",
  ]);
  assert.match(f[3], /^\[.+ [+-]\d{4}\]$/);
  assert.match(f[14], /^\d+$/);
  assert.match(f[15], /^\d+$/);
  assert.match(f[16], /^\d+$/);
  assert.match(f[17], /^\d+\.\d{6}$/);
  assert.match(f[18], /^<\d+>$/);
});

test("server: JSON lines parse for hostile header values sent on the wire", async () => {
  const lines: string[] = [];
  const server = makeServer("127.0.0.1", 0, app, {
    log: (line) => void lines.push(line),
    accessLog: { json: true },
  });
  await server.ready;
  // What HTTP parsers let through in a field value: quotes, backslashes,
  // obs-text (U+2028's UTF-8 bytes, read as latin-1), a tab.
  const values = [
    'x" "forged": "1',
    "end\\",
    'a\\"b',
    "sep\xe2\x80\xa8sep",
    "tab\there",
  ];
  const sent: string[] = [];
  try {
    for (const v of values) {
      const raw = `GET /j?v=1 HTTP/1.1\r\nHost: test\r\nUser-Agent: ${v}\r\n` +
        `Referer: ${v}\r\nConnection: close\r\n\r\n`;
      const bytes = Uint8Array.from(raw, (c) => c.charCodeAt(0));
      const [res] = await exchange(server.serverPort, bytes);
      if (res.status === 200 || res.status === 201) sent.push(v);
    }
    assert.ok(
      await until(() => lines.length >= values.length, 3000),
      `${lines.length} lines`,
    );
  } finally {
    await server.shutdown();
  }
  assert.ok(sent.length >= 3, `the runtime took ${sent.length} values`);
  for (const line of lines) {
    assert.doesNotMatch(line, RAW, line);
    const o = JSON.parse(line);
    assert.equal(o.forged, undefined);
    assert.equal(o["url.path"], "/j");
    assert.equal(o["url.query"], "v=1");
    assert.equal(typeof o["http.response.status_code"], "number");
  }
  const agents = lines.map((l) => JSON.parse(l)["user_agent.original"]);
  for (const v of sent) {
    const seen = agents.some((a) =>
      a === v ||
      a === new TextDecoder().decode(Uint8Array.from(v, (c) => c.charCodeAt(0)))
    );
    assert.ok(seen, `${JSON.stringify(v)} in ${JSON.stringify(agents)}`);
  }
});

test("docs/logging.md: its ts blocks run, and its format atoms are every atom", async () => {
  const root = new URL("../", import.meta.url);
  const doc = await (await import("node:fs")).promises.readFile(
    new URL("docs/logging.md", root),
    "utf8",
  );
  const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.ok(blocks.length >= 2, "ts blocks");
  const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { pathToFileURL } = await import("node:url");
  const dir = mkdtempSync(join(tmpdir(), "wsgi-doc-"));
  const mod = new URL("mod.ts", root).href;
  const said: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => void said.push(args.join(" "));
  try {
    for (const [i, block] of blocks.entries()) {
      const file = join(dir, `block${i}.ts`);
      writeFileSync(
        file,
        block.replaceAll('"@wsgi/wsgi"', JSON.stringify(mod)),
      );
      await import(pathToFileURL(file).href);
    }
  } finally {
    console.log = log;
    rmSync(dir, { recursive: true, force: true });
  }
  // The first block's line is what its comment says, but the duration.
  assert.match(
    said[0],
    /^127\.0\.0\.1 "GET \/hello\?x=1 HTTP\/1\.1" 200 5 \d+$/,
  );
  assert.match(said[1], /^wsgi_overload_refused_total \d+$/);
  // Every atom of the compiler is in the table.
  for (const atom of "h l u t r m U q H s B b f a T M D L p".split(" ")) {
    assert.match(
      doc,
      new RegExp(`^\\| (\`[A-Za-z]\`, )?\`${atom}\``, "m"),
      atom,
    );
  }
});

test("server: h is the forwarded client from a trusted proxy only", async () => {
  for (
    const [allow, want] of [[undefined, "203.0.113.7"], [
      [],
      "127.0.0.1",
    ]] as const
  ) {
    const lines: string[] = [];
    const server = makeServer("127.0.0.1", 0, app, {
      log: (line) => void lines.push(line),
      accessLog: { format: "%(h)s %({x-forwarded-for}i)s" },
      ...(allow === undefined ? {} : { forwardedAllowIps: allow }),
    });
    await server.ready;
    try {
      await exchange(
        server.serverPort,
        "GET / HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 203.0.113.7\r\n" +
          "Connection: close\r\n\r\n",
      );
      await exchange(
        server.serverPort,
        "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
      );
      assert.ok(await until(() => lines.length === 2, 3000));
    } finally {
      await server.shutdown();
    }
    assert.deepEqual(lines, [`${want} 203.0.113.7`, "127.0.0.1 -"]);
  }
});

test("command line: a bad log flag is a usage error (exit 2) that names it", async () => {
  const { main } = await import("../src/process/cli.ts");
  const said: string[] = [];
  const error = console.error;
  console.error = (...args: unknown[]) => void said.push(args.join(" "));
  try {
    assert.equal(await main(["--access-logformat", "%(zz)s"]), 2);
    assert.equal(await main(["--max-concurrency", "lots"]), 2);
    assert.equal(
      await main(["--access-logfile", "/nonexistent-dir/x/access.log"]),
      2,
    );
  } finally {
    console.error = error;
  }
  assert.match(said[0], /unknown atom "zz"/);
  assert.match(said[1], /--max-concurrency must be a whole number .*"lots"/);
  assert.match(said[2], /cannot open --access-logfile \/nonexistent-dir/);
});
