// The core's fetch handler, served the way users serve it: what the
// application sees of the request-target whatever the Host header holds,
// and raw bytes in the target (issue 9, defects 1-3, on the
// `toFetchHandler(app)` path rather than makeServer's shims). Deno, Bun
// and workerd build `Request.url` from the Host header ("http://" + Host +
// target), so a Host such as `evil/admin` used to shift PATH_INFO. Raw TCP
// (./_raw_http.ts), since fetch would refuse or clean up these requests.
//
// Deno: `Deno.serve(toFetchHandler(app))` in this process, and the root
// server.ts under a spawned `deno serve`. Bun: `Bun.serve({ fetch })` in
// this process, and the root server.ts under a spawned `bun server.ts`
// (Bun serves a default export that has `fetch`). Node has no fetch-handler
// server of its own (Node users serve through makeServer, pinned down by
// tests/request_target.test.ts), so only the socket-free checks of
// `handleRequest` run there. workerd: tests/workerd.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { fileURLToPath } from "node:url";
import {
  handleRequest,
  type InputStream,
  toFetchHandler,
  type WSGIApplication,
} from "../mod.ts";
import { exchange, type RawResponse, text } from "./_raw_http.ts";
import { enc, RUNTIME, within } from "./_util.ts";
import { startChild } from "./_child.ts";

const g = globalThis as Record<string, unknown>;

const root = fileURLToPath(new URL("..", import.meta.url));
const NO_SERVER = RUNTIME === "node"
  ? "Node has no fetch-handler server: Node users serve through makeServer " +
    "(tests/request_target.test.ts)"
  : false;
if (NO_SERVER) console.log(`# fetch_target.test.ts: skipping: ${NO_SERVER}`);

/** An app that answers with what it saw, as JSON (native strings kept). */
const echo: WSGIApplication = (environ, startResponse) => {
  const seen: Record<string, unknown> = {};
  for (
    const key of [
      "PATH_INFO",
      "QUERY_STRING",
      "HTTP_HOST",
      "SERVER_NAME",
      "SERVER_PORT",
    ]
  ) if (key in environ) seen[key] = environ[key];
  (environ["wsgi.input"] as InputStream).read();
  startResponse("200 OK", [["Content-Type", "application/json"]]);
  return [enc(JSON.stringify(seen))];
};

interface DenoLike {
  serve(
    options: { hostname: string; port: number; onListen?: () => void },
    handler: ReturnType<typeof toFetchHandler>,
  ): { addr: { port: number }; shutdown(): Promise<void> };
}
interface BunLike {
  serve(options: {
    hostname: string;
    port: number;
    fetch: ReturnType<typeof toFetchHandler>;
  }): { port: number; stop(closeActive?: boolean): Promise<void> };
}

/** Serves `toFetchHandler(echo)` in this process as users do; runs `fn`. */
async function withFetchServer(
  fn: (port: number) => Promise<void>,
): Promise<void> {
  const fetch = toFetchHandler(echo);
  if (RUNTIME === "deno") {
    const server = (g.Deno as DenoLike).serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      fetch,
    );
    try {
      await fn(server.addr.port);
    } finally {
      await within(server.shutdown(), 5000, "Deno server shutdown");
    }
  } else {
    const server = (g.Bun as BunLike).serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch,
    });
    try {
      await fn(server.port);
    } finally {
      await within(server.stop(true), 5000, "Bun server stop");
    }
  }
}

async function send(port: number, request: string): Promise<RawResponse> {
  const [response] = await within(exchange(port, request), 5000, request);
  return response;
}

/**
 * Asserts that the app saw the true path and query, or that the request
 * was refused (400) before it ran: never a shifted path.
 */
function trueOrRefused(
  response: RawResponse,
  path: string,
  query: string,
  what: string,
): Record<string, string> | null {
  if (response.status === 400) return null;
  assert.equal(response.status, 200, `${what}: ${response.statusLine}`);
  const seen = JSON.parse(text(response));
  assert.equal(seen.PATH_INFO, path, what);
  assert.equal(seen.QUERY_STRING, query, what);
  return seen;
}

// Hosts that RFC 9110 §7.2 (Host = uri-host [":" port], RFC 3986 §3.2)
// does not allow: each was seen to shift PATH_INFO on Deno, Bun or workerd.
const HOSTILE_HOSTS = [
  "evil/admin",
  "evil/..",
  "evil/admin/real",
  "user@evil",
  "evil?q=x",
  "evil#x",
  "evil\\x",
  "a b",
  "evil:abc",
  "\xe2\x80\xa8/admin", // raw UTF-8: Deno decodes it into its URL
  "\xc3\xa9?x", // likewise, with a "?" that would start the query
  "\xe9", // not UTF-8: Deno puts localhost:PORT in its URL instead
];

// Hosts a client may send: each must be served, with the true path.
const GOOD_HOSTS = [
  "t",
  "T",
  "EVIL:80",
  "evil:",
  "[::1]:8",
  "a_b.example:8000",
  "evil%2Fx", // pct-encoded stays three characters on every runtime tried
  "", // RFC 9112 §3.2: empty when the target has no authority
];

test("toFetchHandler served: a Host header never shifts PATH_INFO", {
  skip: NO_SERVER,
}, async () => {
  await withFetchServer(async (port) => {
    for (const host of HOSTILE_HOSTS) {
      const what = `Host: ${JSON.stringify(host)}`;
      const response = await send(
        port,
        `GET /real/path?x=1 HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      );
      trueOrRefused(response, "/real/path", "x=1", what);
      // RFC 9112 §3.2: a Host that is not a host is answered 400.
      assert.equal(response.status, 400, what);
      assert.match(text(response), /Host/, what);
    }
    for (const host of GOOD_HOSTS) {
      const what = `Host: ${JSON.stringify(host)}`;
      const response = await send(
        port,
        `GET /real/path?x=1 HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      );
      assert.equal(response.status, 200, `${what}: ${text(response)}`);
      const seen = trueOrRefused(response, "/real/path", "x=1", what)!;
      assert.equal(seen.HTTP_HOST, host, what);
    }
    // Two Host lines (RFC 9112 §3.2: 400): Bun builds its URL from one.
    const two = await send(
      port,
      "GET /real/path HTTP/1.1\r\nHost: evil\r\nHost: t\r\n\r\n",
    );
    assert.equal(two.status, 400);
  });
});

test("toFetchHandler served: without a Host, the whole target", {
  skip: NO_SERVER,
}, async () => {
  // Bun gives a bare target for HTTP/1.0 without Host, and for an empty
  // Host: the core cut its first segment off (issue 9, defect 2).
  await withFetchServer(async (port) => {
    for (
      const request of [
        "GET /xx/internal/secret HTTP/1.0\r\n\r\n",
        "GET /xx/internal/secret HTTP/1.1\r\nHost: \r\n\r\n",
      ]
    ) {
      const response = await send(port, request);
      assert.equal(response.status, 200, request);
      const seen = JSON.parse(text(response));
      assert.equal(seen.PATH_INFO, "/xx/internal/secret", request);
      // PEP 3333: SERVER_NAME and SERVER_PORT are never empty.
      assert.notEqual(seen.SERVER_NAME, "", request);
      assert.equal(seen.SERVER_PORT, String(port), request);
    }
    const ten = JSON.parse(
      text(await send(port, "GET /ten?a=1 HTTP/1.0\r\n\r\n")),
    );
    assert.deepEqual([ten.PATH_INFO, ten.QUERY_STRING], ["/ten", "a=1"]);
  });
});

test("toFetchHandler served: an absolute-form target keeps its own path", {
  skip: NO_SERVER,
}, async () => {
  // RFC 9112 §3.2.2: the target's authority wins over Host. With a Host
  // that holds a "/", Deno's URL is the target's, workerd's the Host's:
  // no cut could tell them apart, so such a Host is refused.
  await withFetchServer(async (port) => {
    const ok = await send(
      port,
      "GET http://other/abs/p?q HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    trueOrRefused(ok, "/abs/p", "q", "absolute form");
    assert.equal(ok.status, 200);
    for (
      const target of ["http://other/abs/p?q", "http://evil/admin/abs/p?q"]
    ) {
      const odd = await send(
        port,
        `GET ${target} HTTP/1.1\r\nHost: evil/admin\r\n\r\n`,
      );
      trueOrRefused(odd, new URL(target).pathname, "q", target);
    }
  });
});

test("toFetchHandler served: raw bytes in the target are never decoded", {
  skip: NO_SERVER,
}, async () => {
  // Deno decodes the target's bytes as UTF-8 into Request.url (issue 9,
  // defect 3), and so does Bun for a bare target: PATH_INFO is a native
  // string, one character per byte, as wsgiref shows it.
  await withFetchServer(async (port) => {
    for (const host of ["t", ""]) {
      const cafe = await send(
        port,
        `GET /caf\xc3\xa9?q=\xc3\xa9 HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      );
      assert.equal(cafe.status, 200, text(cafe));
      const seen = JSON.parse(text(cafe));
      assert.equal(seen.PATH_INFO, "/caf\xc3\xa9", `Host: ${host}`);
      assert.ok(
        ["q=\xc3\xa9", "q=%C3%A9"].includes(seen.QUERY_STRING),
        JSON.stringify(seen.QUERY_STRING),
      );
      const sep = await send(
        port,
        `GET /log_i\xe2\x80\xa8X HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      );
      assert.equal(JSON.parse(text(sep)).PATH_INFO, "/log_i\xe2\x80\xa8X");
    }
  });
});

/** Spawns the root server.ts as users run it; its port, and a stop(). */
async function spawnServerTs(): Promise<
  { port: number; stop(): Promise<void>; output(): string }
> {
  const [args, env]: [string[], Record<string, string>] = RUNTIME === "deno"
    ? [["serve", "--host", "127.0.0.1", "--port", "0", "server.ts"], {}]
    : [["server.ts"], { PORT: "0", NODE_ENV: "production" }];
  const child = startChild(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env, NO_COLOR: "1" },
  });
  const stop = async (): Promise<void> =>
    void await child.stop("SIGTERM", 3000);
  try {
    const [, port] = await child.waitFor(/https?:\/\/[^\s/]+:(\d+)/);
    return { port: Number(port), stop, output: () => child.text() };
  } catch (error) {
    await stop();
    throw error;
  }
}

test("server.ts under deno serve / bun: a Host header never shifts PATH_INFO", {
  skip: NO_SERVER,
}, async () => {
  const server = await spawnServerTs();
  try {
    const pathOf = (response: RawResponse): string | null => {
      if (response.status === 400) return null;
      assert.equal(response.status, 200, response.statusLine);
      const line = /^PATH_INFO = (.*)$/m.exec(text(response));
      assert.ok(line, text(response));
      return line[1];
    };
    for (const host of ["evil/admin", "evil/..", "user@evil", "evil?q=x"]) {
      const response = await send(
        server.port,
        `GET /real/path?x=1 HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      );
      const path = pathOf(response);
      if (path !== null) assert.equal(path, "'/real/path'", host);
      assert.equal(response.status, 400, host);
    }
    const bare = await send(
      server.port,
      "GET /xx/internal/secret HTTP/1.0\r\n\r\n",
    );
    assert.equal(pathOf(bare), "'/xx/internal/secret'");
    const cafe = await send(
      server.port,
      "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    assert.equal(pathOf(cafe), "'/caf\xc3\xa9'");
  } finally {
    await server.stop();
  }
});

// ------------------------------------------- the core, without a socket

test("handleRequest: a Host that is not a host is refused, on every runtime", async () => {
  // What Deno and workerd hand over for `GET /real/path` with
  // `Host: evil/admin`: the same URL as for `GET /admin/real/path` with
  // `Host: evil`. Only the Host header tells them apart; one that is not
  // RFC 9110 §7.2's uri-host [":" port] gets a 400 (RFC 9112 §3.2).
  const request = new Request("http://evil/admin/real/path?x=1", {
    headers: { host: "evil/admin" },
  });
  const refused = await handleRequest(request, echo);
  assert.equal(refused.status, 400);
  assert.match(await refused.text(), /evil\/admin/);
  // A good Host, or none: the URL's path.
  for (const host of ["evil", "EVIL:8080", "[::1]", null]) {
    const headers: Record<string, string> = host === null ? {} : { host };
    const response = await handleRequest(
      new Request("http://evil/admin/real/path?x=1", { headers }),
      echo,
    );
    assert.equal(response.status, 200, String(host));
    const seen = await response.json();
    assert.equal(seen.PATH_INFO, "/admin/real/path");
    assert.equal(seen.QUERY_STRING, "x=1");
  }
});
