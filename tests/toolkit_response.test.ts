// WSGIResponse and HTTPError (src/toolkit/response.ts, http_error.ts) over
// real sockets: bodies of every kind, cookies and their refusals,
// redirects and their refusals, HEAD, close() exactly once.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { WSGIApplication } from "../mod.ts";
import { HTTPError, WSGIResponse } from "../src/toolkit/mod.ts";
import { at, serving } from "./_toolkit.ts";
import { connect, exchange, header, text } from "./_raw_http.ts";
import { sleep, until } from "./_util.ts";

const answer =
  (make: () => WSGIResponse): WSGIApplication => (environ, startResponse) =>
    make().respond(environ, startResponse);

test("text, bytes, iterable and async iterable bodies; Content-Length for text and bytes", async () => {
  const bodies: Record<string, () => WSGIResponse> = {
    "/text": () => new WSGIResponse("¡hola!"),
    "/bytes": () =>
      new WSGIResponse(new Uint8Array([1, 2, 3]), {
        contentType: "application/octet-stream",
      }),
    "/iter": () => new WSGIResponse(["a", new TextEncoder().encode("b"), "c"]),
    "/async": () =>
      new WSGIResponse((async function* () {
        yield "x";
        yield "y";
      })()),
    "/status": () =>
      new WSGIResponse("teapot", { status: "418 Short And Stout" }),
  };
  const app: WSGIApplication = (environ, startResponse) =>
    bodies[environ.PATH_INFO]().respond(environ, startResponse);
  await serving(app, async (server) => {
    const t = await fetch(at(server, "/text"));
    assert.equal(t.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(t.headers.get("content-length"), "7");
    assert.equal(await t.text(), "¡hola!");
    const b = await fetch(at(server, "/bytes"));
    assert.deepEqual(
      new Uint8Array(await b.arrayBuffer()),
      new Uint8Array([1, 2, 3]),
    );
    assert.equal(b.headers.get("content-type"), "application/octet-stream");
    assert.equal(await (await fetch(at(server, "/iter"))).text(), "abc");
    assert.equal(await (await fetch(at(server, "/async"))).text(), "xy");
    const [raw] = await exchange(
      server.serverPort,
      "GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert.equal(raw.status, 418);
    // Node sends the reason given; Deno and Bun their own phrases.
    assert.ok(
      ["Short And Stout", "I'm a teapot", "I'm a Teapot"].includes(raw.reason),
      raw.reason,
    );
  });
});

test("a streamed body is sent chunk by chunk, not buffered", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const app = answer(() =>
    new WSGIResponse((async function* () {
      yield "first\n";
      await gate;
      yield "second\n";
    })())
  );
  await serving(app, async (server) => {
    const res = await fetch(server.url);
    const reader = res.body!.getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), "first\n");
    release();
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      rest += new TextDecoder().decode(r.value);
    }
    assert.equal(rest, "second\n");
  });
});

test("setCookie: every attribute, one Set-Cookie line per cookie; deleteCookie", async () => {
  const app = answer(() =>
    new WSGIResponse("ok")
      .setCookie("session", "abc.def", {
        httpOnly: true,
        secure: true,
        sameSite: "strict",
        maxAge: 60,
        path: "/app",
        domain: ".example.com",
      })
      .setCookie("theme", "dark", {
        expires: new Date(Date.UTC(2030, 0, 2)),
        partitioned: true,
      })
      .deleteCookie("old", { path: "/x" })
  );
  await serving(app, async (server) => {
    const [res] = await exchange(
      server.serverPort,
      "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    const cookies = res.headers.filter(([n]) =>
      n.toLowerCase() === "set-cookie"
    ).map(([, v]) => v);
    assert.equal(cookies.length, 3);
    assert.match(
      cookies[0],
      /^session=abc\.def; Domain=example\.com; Expires=[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT; Max-Age=60; Secure; HttpOnly; Path=\/app; SameSite=Strict$/,
    );
    assert.equal(
      cookies[1],
      "theme=dark; Expires=Wed, 02 Jan 2030 00:00:00 GMT; Secure; Path=/; Partitioned",
    );
    assert.equal(
      cookies[2],
      "old=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/x",
    );
  });
});

test("setCookie refuses CR/LF, ';', spaces, quotes and controls, naming the value", () => {
  const response = new WSGIResponse("ok");
  for (
    const [name, value, options, shown] of [
      ["a", "x\r\nSet-Cookie: evil=1", {}, /"x\\r\\nSet-Cookie: evil=1"/],
      ["a", "x; Domain=evil.com", {}, /"x; Domain=evil.com"/],
      ["a", "two words", {}, /"two words"/],
      ["a", 'q"uote', {}, /"q\\"uote"/],
      ["a", "caf\u00e9", {}, /"café"/],
      ["bad name", "x", {}, /"bad name"/],
      ["a;b", "x", {}, /"a;b"/],
      ["", "x", {}, /""/],
      ["a", "x", { path: "/; Domain=evil" }, /"\/; Domain=evil"/],
      ["a", "x", { path: "/\r\nX: y" }, /"\/\\r\\nX: y"/],
      ["a", "x", { domain: "evil.com; Secure" }, /"evil\.com; Secure"/],
      ["a", "x", { sameSite: "Sometimes" }, /"Sometimes"/],
      ["a", "x", { maxAge: 1.5 }, /1\.5/],
      ["a", "x", { expires: "not a date" }, /"not a date"/],
    ] as const
  ) {
    assert.throws(
      () => response.setCookie(name, value, options as never),
      (e: Error) => e instanceof TypeError && (shown as RegExp).test(e.message),
      `${name}=${value} ${JSON.stringify(options)}`,
    );
  }
  assert.deepEqual(response.headers.getSetCookie(), []);
  // A quoted value of cookie-octets is a valid cookie-value (RFC 6265).
  response.setCookie("q", '"ok"');
  assert.deepEqual(response.headers.getSetCookie(), ['q="ok"; Path=/']);
});

test("redirect(): 303 by default, 307/308 kept, Location checked; JSON and error helpers", async () => {
  const routes: Record<string, () => WSGIResponse> = {
    "/303": () => WSGIResponse.redirect("/target?a=1"),
    "/308": () => WSGIResponse.redirect("https://example.com/ça va", 308),
    "/json": () => WSGIResponse.json({ ok: ["é"] }, { status: 201 }),
    "/405": () => WSGIResponse.error(405, undefined, { Allow: "GET, HEAD" }),
  };
  const app: WSGIApplication = (environ, startResponse) =>
    routes[environ.PATH_INFO]().respond(environ, startResponse);
  await serving(app, async (server) => {
    const r303 = await fetch(at(server, "/303"), { redirect: "manual" });
    assert.equal(r303.status, 303);
    assert.equal(r303.headers.get("location"), "/target?a=1");
    const r308 = await fetch(at(server, "/308"), { redirect: "manual" });
    assert.equal(r308.status, 308);
    assert.equal(
      r308.headers.get("location"),
      "https://example.com/%C3%A7a%20va",
    );
    const json = await fetch(at(server, "/json"));
    assert.equal(json.status, 201);
    assert.equal(json.headers.get("content-type"), "application/json");
    assert.deepEqual(await json.json(), { ok: ["é"] });
    const r405 = await fetch(at(server, "/405"));
    assert.equal(r405.status, 405);
    assert.equal(r405.headers.get("allow"), "GET, HEAD");
    assert.equal(r405.headers.get("x-content-type-options"), "nosniff");
    assert.equal(await r405.text(), "405 Method Not Allowed\n");
  });
  for (
    const bad of [
      "//evil.example/",
      "/\\evil.example",
      "\\\\evil.example",
      " //evil.example",
      "/ok\r\nSet-Cookie: a=1",
      "/ok\nx",
      "javascript:alert(1)",
      "data:text/html,hi",
      "",
    ]
  ) {
    assert.throws(
      () => WSGIResponse.redirect(bad),
      (e: Error) =>
        e instanceof TypeError && e.message.includes(JSON.stringify(bad)),
      JSON.stringify(bad),
    );
  }
  assert.throws(() => WSGIResponse.redirect("/x", 200), /200 is not 301/);
  assert.throws(
    () => new WSGIResponse("x", { status: "200 OK\r\nX: y" }),
    TypeError,
  );
  assert.throws(() => new WSGIResponse("x", { status: 42 }), TypeError);
  assert.throws(() => new HTTPError(1000), TypeError);
});

test("HEAD sends no body but the length; 204 and 304 send neither; each body closed once", async () => {
  let closes = 0;
  const app: WSGIApplication = (environ, startResponse) => {
    const status = Number(environ.PATH_INFO.slice(1)) || 200;
    function* body() {
      try {
        yield "data";
      } finally {
        closes++;
      }
    }
    return new WSGIResponse(status === 200 ? "hello" : body(), { status })
      .callOnClose(() => closes++)
      .respond(environ, startResponse);
  };
  await serving(app, async (server) => {
    const conn = await connect(server.serverPort);
    try {
      await conn.write("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
      const head = await conn.readResponse({ head: true });
      assert.equal(head.status, 200);
      assert.equal(header(head, "content-length"), "5");
      assert.equal(head.body.length, 0);
      await conn.write(
        "GET /204 HTTP/1.1\r\nHost: x\r\n\r\nGET /304 HTTP/1.1\r\nHost: x\r\n\r\n",
      );
      const r204 = await conn.readResponse();
      assert.equal(r204.status, 204);
      assert.equal(header(r204, "content-length"), null);
      const r304 = await conn.readResponse();
      assert.equal(r304.status, 304);
      // The connection is still in step: one more request answers.
      await conn.write(
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      );
      assert.equal(text(await conn.readResponse()), "hello");
    } finally {
      conn.destroy();
    }
    // 4 callOnClose calls; the generators never started, so no finally ran.
    assert.ok(await until(() => closes === 4, 2000), `closes: ${closes}`);
  });
});

test("a client gone mid-stream: the async generator is ended and callOnClose runs, once each", async () => {
  let finallies = 0;
  let callbacks = 0;
  const app = answer(() =>
    new WSGIResponse((async function* () {
      try {
        for (let i = 0; i < 1000; i++) {
          yield "chunk\n".repeat(1000);
          await sleep(5);
        }
      } finally {
        finallies++;
      }
    })()).callOnClose(() => callbacks++)
  );
  await serving(app, async (server) => {
    const conn = await connect(server.serverPort);
    await conn.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await conn.peek(100);
    conn.destroy();
    assert.ok(
      await until(() => callbacks === 1, 5000),
      `callbacks: ${callbacks}`,
    );
    assert.ok(
      await until(() => finallies === 1, 5000),
      `finallies: ${finallies}`,
    );
    await sleep(50);
    assert.equal(callbacks, 1);
    assert.equal(finallies, 1);
  });
});

test("HTTPError and abort(): status, description, headers", () => {
  const error = new HTTPError(429, "slow down", {
    headers: { "Retry-After": "5" },
  });
  assert.equal(error.message, "429 Too Many Requests: slow down");
  const response = WSGIResponse.fromError(error);
  assert.equal(response.statusLine, "429 Too Many Requests");
  assert.equal(response.headers.get("retry-after"), "5");
  assert.equal(response.headers.get("cache-control"), "no-store");
  assert.equal(response.body, "429 Too Many Requests\n\nslow down\n");
});
