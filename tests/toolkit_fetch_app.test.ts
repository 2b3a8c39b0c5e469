// fromFetchHandler (src/toolkit/fetch_app.ts) over real sockets: a Hono
// app mounted under dispatcher(), wrapped by WSGI middleware and
// validator(); bodies streamed both ways; cookies kept apart; close()
// cancelling the handler's stream, once.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  setupTestingDefaults,
  testClient,
  type WSGIApplication,
  type WSGIEnvironment,
} from "../mod.ts";
import {
  dispatcher,
  fromFetchHandler,
  Router,
  WSGIResponse,
} from "../src/toolkit/mod.ts";
import { timing } from "../examples/middleware.ts";
import { at, serving } from "./_toolkit.ts";
import { connect } from "./_raw_http.ts";
import { sleep, until } from "./_util.ts";

// Hono from node_modules, as scripts/_bench_server.ts loads it (a
// devDependency; Deno runs without an npm import map here).
const { Hono } = await import(
  new URL("../node_modules/hono/dist/index.js", import.meta.url).href
);

// What these tests use of Hono's Context.
type Ctx = {
  req: {
    param(name: string): string;
    query(name: string): string | undefined;
    header(name: string): string | undefined;
    arrayBuffer(): Promise<ArrayBuffer>;
    url: string;
  };
  json(data: unknown): Response;
  text(text: string): Response;
  header(name: string, value: string, options?: { append: boolean }): void;
  body(body: null, status: number): Response;
};

let cancels = 0;
let pulls = 0;

function honoApp(): {
  fetch: (request: Request) => Response | Promise<Response>;
} {
  const app = new Hono();
  app.get(
    "/users/:id",
    (c: Ctx) => c.json({ id: c.req.param("id"), q: c.req.query("q") }),
  );
  app.post("/echo", async (c: Ctx) => {
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    return c.json({
      length: bytes.length,
      sha: [...digest].map((b) => b.toString(16).padStart(2, "0")).join(""),
      type: c.req.header("content-type") ?? null,
    });
  });
  app.get("/cookies", (c: Ctx) => {
    c.header("Set-Cookie", "a=1; Path=/", { append: true });
    c.header("Set-Cookie", "b=2, with comma; Path=/", { append: true });
    c.header("X-Url", c.req.url);
    return c.text("two cookies");
  });
  app.get("/stream", () => {
    let i = 0;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        pulls++;
        // The first part at once, the next after 300 ms, then one every
        // 2 ms up to ~10 s: only a cancel stops it early.
        await sleep(i === 1 ? 300 : i > 1 ? 2 : 0);
        controller.enqueue(
          new TextEncoder().encode(`part ${i++}\n`.repeat(i > 1 ? 100 : 1)),
        );
        if (i > 5000) controller.close();
      },
      cancel() {
        cancels++;
      },
    });
    return new Response(stream, { headers: { "Content-Type": "text/plain" } });
  });
  app.get("/empty", (c: Ctx) => c.body(null, 204));
  return app;
}

function mounted(): WSGIApplication {
  const site = new Router().get("/", () => new WSGIResponse("WSGI home"));
  return dispatcher(site.asApp(), {
    "/hono": timing(fromFetchHandler(honoApp().fetch)),
  });
}

const sha256 = async (bytes: Uint8Array): Promise<string> =>
  [
    ...new Uint8Array(
      await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
    ),
  ]
    .map((b) => b.toString(16).padStart(2, "0")).join("");

test("a Hono app under dispatcher() and WSGI middleware: routes below its mount, JSON, the query", async () => {
  await serving(mounted(), async (server) => {
    assert.equal(await (await fetch(server.url)).text(), "WSGI home");
    const res = await fetch(at(server, "/hono/users/7?q=%C3%A9"));
    assert.deepEqual(await res.json(), { id: "7", q: "é" });
    assert.match(res.headers.get("x-response-time") ?? "", /ms$/); // the WSGI middleware ran
    const missing = await fetch(at(server, "/hono/nope"));
    assert.equal(missing.status, 404);
    await missing.arrayBuffer();
  });
});

test("request bodies pass through whole (1 MiB, streaming wsgi.input too); Content-Type only where a body is", async () => {
  const body = new Uint8Array(1 << 20).map((_, i) => (i * 7919) % 251);
  for (const bufferInput of [true, false]) {
    await serving(
      mounted(),
      async (server) => {
        const res = await fetch(at(server, "/hono/echo"), {
          method: "POST",
          body,
          headers: { "Content-Type": "application/octet-stream" },
        });
        assert.deepEqual(await res.json(), {
          length: body.length,
          sha: await sha256(body),
          type: "application/octet-stream",
        });
      },
      { bufferInput },
    );
  }
});

test("Set-Cookie headers stay one per cookie; status and the handler's URL", async () => {
  await serving(mounted(), async (server) => {
    const res = await fetch(at(server, "/hono/cookies"));
    assert.deepEqual(res.headers.getSetCookie(), [
      "a=1; Path=/",
      "b=2, with comma; Path=/",
    ]);
    assert.equal(
      res.headers.get("x-url"),
      `http://127.0.0.1:${server.serverPort}/cookies`,
    );
    await res.arrayBuffer();
    const empty = await fetch(at(server, "/hono/empty"));
    assert.equal(empty.status, 204);
  });
});

test("a streamed response arrives before it ends; a client gone mid-stream cancels it once", async () => {
  await serving(mounted(), async (server) => {
    cancels = 0;
    const started = Date.now();
    const res = await fetch(at(server, "/hono/stream"));
    const reader = res.body!.getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value).slice(0, 7), "part 0\n");
    assert.ok(
      Date.now() - started < 290,
      `first part after ${Date.now() - started} ms`,
    );
    await reader.cancel();
    const conn = await connect(server.serverPort);
    await conn.write("GET /hono/stream HTTP/1.1\r\nHost: x\r\n\r\n");
    await conn.peek(2000);
    const before = pulls;
    await sleep(50);
    conn.destroy();
    assert.ok(await until(() => cancels === 2, 5000), `cancels: ${cancels}`);
    await sleep(100);
    assert.equal(cancels, 2);
    assert.ok(pulls - before < 4000, "the stream was not read to its end");
  });
});

test("testClient drives a fetch handler as any WSGI app", async () => {
  const client = testClient(fromFetchHandler(honoApp().fetch));
  const res = await client.get("/users/9");
  assert.deepEqual(await res.json(), { id: "9" });
  const full = testClient(
    dispatcher(() => [], {
      "/x": fromFetchHandler((r) => new Response(new URL(r.url).pathname), {
        fullPath: true,
      }),
    }),
  );
  assert.equal(await (await full.get("/x/y%20z")).text(), "/x/y%20z");
  assert.throws(
    () => fromFetchHandler("nope" as never),
    /string, not a function/,
  );
});

test("a Host header with a path in it never moves the path the handler sees", async () => {
  const seen: string[] = [];
  const app = fromFetchHandler((request) => {
    seen.push(request.url);
    return new Response("ok");
  });
  for (const host of ["evil.example/admin?", "a@evil.example", "x#y", "a\\b"]) {
    const environ: Record<string, unknown> = {
      HTTP_HOST: host,
      PATH_INFO: "/p",
      SERVER_NAME: "127.0.0.1",
      SERVER_PORT: "8000",
    };
    setupTestingDefaults(environ);
    const body = await app(
      environ as unknown as WSGIEnvironment,
      () => () => {},
    );
    for await (const _ of body as AsyncIterable<Uint8Array>) { /* drain */ }
  }
  assert.deepEqual(seen, Array(4).fill("http://127.0.0.1:8000/p"));
});
