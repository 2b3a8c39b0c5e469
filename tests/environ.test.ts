import { test } from "node:test";
import assert from "node:assert/strict";
import { handleRequest, makeEnviron, type WSGIEnvironment } from "../mod.ts";
import { environOf } from "./_capture.ts";

const get = (path: string, headers: HeadersInit = {}) =>
  environOf(new Request("http://example.com:8080" + path, { headers }));

test("PATH_INFO is percent-decoded to bytes shown as latin-1, never UTF-8", async () => {
  const cases: [string, string][] = [
    ["/a%2Fb", "/a/b"],
    ["/caf%E9", "/caf\u00e9"],
    ["/caf%C3%A9", "/caf\u00c3\u00a9"],
    ["/caf\u00e9", "/caf\u00c3\u00a9"], // raw UTF-8, encoded by the URL parser
    ["/a+b", "/a+b"],
    ["/%zz%4", "/%zz%4"],
    ["/%00x", "/\x00x"],
    ["/", "/"],
  ];
  for (const [path, expected] of cases) {
    assert.equal((await get(path)).PATH_INFO, expected, path);
  }
});

test("QUERY_STRING is the raw query, undecoded; empty when absent or empty", async () => {
  assert.equal(
    (await get("/p?a=%2F+b&c=%C3%A9")).QUERY_STRING,
    "a=%2F+b&c=%C3%A9",
  );
  assert.equal((await get("/p?")).QUERY_STRING, "");
  assert.equal((await get("/p")).QUERY_STRING, "");
  assert.equal((await get("/p?x=1?y")).QUERY_STRING, "x=1?y");
});

test("the environ has wsgiref's CGI keys and PEP 3333's wsgi keys", async () => {
  const env = await get("/x");
  assert.equal(env.REQUEST_METHOD, "GET");
  assert.equal(env.SCRIPT_NAME, "");
  assert.equal(env.SERVER_NAME, "example.com");
  assert.equal(env.SERVER_PORT, "8080");
  assert.equal(env.SERVER_PROTOCOL, "HTTP/1.1");
  assert.equal(env.GATEWAY_INTERFACE, "CGI/1.1");
  assert.equal(env.REMOTE_HOST, "");
  assert.equal(env.CONTENT_TYPE, "text/plain");
  assert.equal(env.CONTENT_LENGTH, "");
  assert.match(String(env.SERVER_SOFTWARE), /^wsgi\/\d+\.\d+\.\d+$/);
  assert.deepEqual(env["wsgi.version"], [1, 0]);
  assert.ok(Object.isFrozen(env["wsgi.version"]));
  assert.equal(env["wsgi.url_scheme"], "http");
  assert.equal(env["wsgi.multithread"], false);
  assert.equal(env["wsgi.multiprocess"], false);
  assert.equal(env["wsgi.run_once"], false);
  assert.equal(env["wsgi.input_terminated"], true);
  assert.equal(typeof env["wsgi.file_wrapper"], "function");
  const errors = env["wsgi.errors"] as unknown as Record<string, unknown>;
  for (const m of ["write", "writelines", "flush"]) {
    assert.equal(typeof errors[m], "function", m);
  }
  assert.equal((await environOf(new Request("https://h/"))).SERVER_PORT, "443");
  assert.equal(
    (await environOf(new Request("https://h/")))["wsgi.url_scheme"],
    "https",
  );
});

test("every string value is a native string (code units 0-255)", async () => {
  const env = await get("/caf\u00e9/\u4e2d?q=\u4e2d", {
    "x-raw": "caf\u00e9",
    cookie: "a=1",
  });
  for (const [key, value] of Object.entries(env)) {
    if (typeof value !== "string") continue;
    for (const ch of value) {
      assert.ok(ch.charCodeAt(0) <= 0xff, `${key}=${JSON.stringify(value)}`);
    }
  }
  assert.equal(env.PATH_INFO, "/caf\u00c3\u00a9/\u00e4\u00b8\u00ad");
});

test("headers become HTTP_* keys; Content-Type and Content-Length never do", async () => {
  const env = await environOf(
    new Request("http://h/", {
      method: "POST",
      body: "abc",
      headers: {
        "content-type": "application/json",
        "x-forwarded-proto": "https",
        accept: "text/html",
      },
    }),
  );
  assert.equal(env.CONTENT_TYPE, "application/json");
  assert.equal(env.CONTENT_LENGTH, "3");
  assert.equal(env.HTTP_X_FORWARDED_PROTO, "https");
  assert.equal(env.HTTP_ACCEPT, "text/html");
  assert.ok(!("HTTP_CONTENT_TYPE" in env));
  assert.ok(!("HTTP_CONTENT_LENGTH" in env));
});

test("headers named like CGI keys are skipped, as in wsgiref", async () => {
  const env = await get("/real", {
    "path-info": "/fake",
    "remote-addr": "6.6.6.6",
  });
  assert.equal(env.PATH_INFO, "/real");
  assert.equal(env.REMOTE_ADDR, "");
  assert.ok(!("HTTP_PATH_INFO" in env));
  assert.ok(!("HTTP_REMOTE_ADDR" in env));
});

test("repeated headers are joined (', ', and '; ' for Cookie) on raw header lists", () => {
  const env = makeEnviron({
    method: "GET",
    target: "/",
    headers: [
      "X-Dup",
      "1",
      "Cookie",
      "a=1",
      "x-dup",
      "2",
      "Cookie",
      "b=2",
      "Host",
      "h",
    ],
    serverName: "h",
    serverPort: 80,
  }, null);
  assert.equal(env.HTTP_X_DUP, "1, 2");
  assert.equal(env.HTTP_COOKIE, "a=1; b=2");
  assert.equal(env.HTTP_HOST, "h");
  const web = new Headers();
  web.append("X-Dup", "1");
  web.append("X-Dup", "2");
  assert.equal(
    makeEnviron({
      method: "GET",
      target: "/",
      headers: web,
      serverName: "h",
      serverPort: 80,
    }, null).HTTP_X_DUP,
    "1, 2",
  );
});

test("header names with underscores are dropped by default, kept on request", async () => {
  const headers = {
    "x_forwarded_for": "6.6.6.6",
    "x-forwarded-for": "1.2.3.4",
  };
  const dropped = await get("/", headers);
  assert.equal(dropped.HTTP_X_FORWARDED_FOR, "1.2.3.4");
  const kept = await environOf(new Request("http://h/", { headers }), {
    allowUnderscoreHeaders: true,
  });
  assert.match(
    String(kept.HTTP_X_FORWARDED_FOR),
    /^(1\.2\.3\.4, 6\.6\.6\.6|6\.6\.6\.6, 1\.2\.3\.4)$/,
  );
});

test("the lazy environ behaves exactly as a plain object", async () => {
  const headers = { "x-a": "1", "user-agent": "t" };
  // Each check on a fresh environ, so each is the first touch of HTTP_*.
  assert.equal((await get("/", headers)).HTTP_X_A, "1");
  assert.ok("HTTP_USER_AGENT" in await get("/", headers));
  assert.ok(!("HTTP_NOPE" in await get("/", headers)));
  assert.ok(Object.keys(await get("/", headers)).includes("HTTP_X_A"));
  assert.equal(
    Object.entries(await get("/", headers)).find(([k]) =>
      k === "HTTP_USER_AGENT"
    )?.[1],
    "t",
  );
  assert.equal({ ...(await get("/", headers)) }.HTTP_X_A, "1");
  assert.equal(
    JSON.parse(JSON.stringify(await get("/", headers))).HTTP_X_A,
    "1",
  );
  assert.deepEqual(
    Object.getOwnPropertyDescriptor(await get("/", headers), "HTTP_X_A")?.value,
    "1",
  );
  assert.equal(
    Object.getPrototypeOf(await get("/", headers)),
    Object.prototype,
  );
  const keysPlain = Object.keys(await get("/", headers)).sort();
  const env = await get("/", headers);
  const copy: Record<string, unknown> = {};
  for (const k in env) copy[k] = env[k];
  assert.deepEqual(Object.keys(copy).sort(), keysPlain);

  // Middleware rewrites: set before any read, then read others.
  const w = await get("/", headers);
  w.HTTP_X_A = "rewritten";
  assert.equal(w.HTTP_X_A, "rewritten");
  assert.equal(w.HTTP_USER_AGENT, "t");
  const d = await get("/", headers);
  assert.ok(delete d.HTTP_X_A);
  assert.ok(!("HTTP_X_A" in d));
  assert.ok(!Object.keys(d).includes("HTTP_X_A"));
  assert.equal(d.HTTP_USER_AGENT, "t");
  const n = await get("/", headers);
  n.HTTP_NEW = "v";
  assert.ok(
    Object.keys(n).includes("HTTP_NEW") && Object.keys(n).includes("HTTP_X_A"),
  );
  Object.defineProperty(n, "HTTP_DEF", {
    value: "d",
    enumerable: true,
    configurable: true,
    writable: true,
  });
  assert.equal(n.HTTP_DEF, "d");
});

test("CONTENT_* and REMOTE_* are lazy too, and behave as plain keys", async () => {
  const init = {
    method: "POST",
    body: "abc",
    headers: { "content-type": "a/b" },
  };
  const conn = { remoteAddr: "192.0.2.1", remotePort: 4321 };
  const post = async () => {
    let seen: WSGIEnvironment | null = null;
    const request = new Request("http://example.com/", init);
    await handleRequest(
      request,
      (environ, startResponse) => {
        seen = environ;
        startResponse("200 OK", []);
        return [];
      },
      {},
      conn,
    );
    return seen! as WSGIEnvironment;
  };
  // Each check on a fresh environ, so each is the first touch of the key.
  assert.equal((await post()).CONTENT_TYPE, "a/b");
  assert.equal((await post()).CONTENT_LENGTH, "3");
  assert.equal((await post()).REMOTE_ADDR, "192.0.2.1");
  assert.equal((await post()).REMOTE_PORT, "4321");
  assert.ok("REMOTE_PORT" in await post());
  assert.equal({ ...(await post()) }.CONTENT_TYPE, "a/b");
  const w = await post();
  w.REMOTE_ADDR = "203.0.113.9"; // a proxy-fix middleware, before any read
  assert.equal(w.REMOTE_ADDR, "203.0.113.9");
  assert.equal(w.CONTENT_TYPE, "a/b");
  const d: Record<string, unknown> = await post();
  assert.ok(delete d.CONTENT_LENGTH);
  assert.ok(!("CONTENT_LENGTH" in d));
  assert.equal(d.REMOTE_PORT, "4321");
});

test("makeEnviron asks getter facts for headers and peer only when read", () => {
  const asked: string[] = [];
  const facts = {
    method: "GET",
    target: "/x",
    serverName: "h",
    serverPort: 80,
    get headers() {
      asked.push("headers");
      return new Headers({ "x-a": "1" });
    },
    get remoteAddr() {
      asked.push("remoteAddr");
      return "127.0.0.1";
    },
    get remotePort() {
      asked.push("remotePort");
      return undefined; // unknown: the key is left out
    },
  };
  const env = makeEnviron(facts, null);
  assert.equal(env.PATH_INFO, "/x");
  assert.equal(env.REQUEST_METHOD, "GET");
  assert.deepEqual(asked, []);
  assert.ok(!("REMOTE_PORT" in env));
  assert.deepEqual(asked.sort(), ["headers", "remoteAddr", "remotePort"]);
  assert.equal(env.HTTP_X_A, "1");
  assert.equal(env.REMOTE_ADDR, "127.0.0.1");
  assert.ok(!Object.keys(env).includes("REMOTE_PORT"));
  assert.equal(asked.length, 3, "each asked once");
});

test("CONTENT_LENGTH of a chunked body read in full is its length", async () => {
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode("hello "));
      c.enqueue(new TextEncoder().encode("world"));
      c.close();
    },
  });
  const env = await environOf(
    new Request(
      "http://h/",
      { method: "POST", body, duplex: "half" } as RequestInit,
    ),
  );
  assert.equal(env.CONTENT_LENGTH, "11");
});
