// Every program in examples/, served by makeServer on this runtime and
// exercised over a real socket, each wrapped in validator(): a PEP 3333
// violation on either side would fail the request, and is also looked for
// in wsgi.errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  makeServer,
  validator,
  type WSGIApplication,
  type WSGIServer,
} from "../mod.ts";
import { app as hello } from "../examples/hello.ts";
import { app as form } from "../examples/form.ts";
import { app as sse } from "../examples/sse.ts";
import { app as timed, timing } from "../examples/middleware.ts";
import { app as router } from "../examples/router.ts";
import { memoryErrors } from "./_capture.ts";

async function serving(
  app: WSGIApplication,
  check: (server: WSGIServer) => Promise<void>,
  errors = memoryErrors(),
): Promise<void> {
  const server = makeServer("127.0.0.1", 0, validator(app), {
    log: false,
    errors,
  });
  try {
    await server.ready;
    await check(server);
  } finally {
    await server.shutdown();
  }
  assert.doesNotMatch(errors.text(), /WSGIValidationError|WSGIWarning/);
}

test("examples/hello.ts: the tutorial's greeting", async () => {
  await serving(hello, async (server) => {
    const response = await fetch(server.url);
    assert.equal(response.status, 200);
    assert.equal(
      response.headers.get("content-type"),
      "text/plain; charset=utf-8",
    );
    assert.equal(await response.text(), "¡Hola, mundo!");
  });
});

test("examples/form.ts: GET shows the form, POST reads request.form()", async () => {
  await serving(form, async (server) => {
    const page = await fetch(server.url);
    assert.match(await page.text(), /<form method="post">/);
    const posted = await fetch(server.url, {
      method: "POST",
      body: new URLSearchParams({ name: "Zoë <3" }),
    });
    assert.equal(await posted.text(), "<p>Hello, Zoë &#60;3!</p>");
    const put = await fetch(server.url, { method: "PUT" });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get("allow"), "GET, HEAD, OPTIONS, POST");
  });
});

test("examples/sse.ts: events arrive one by one, before the stream ends", async () => {
  await serving(sse, async (server) => {
    const started = Date.now();
    const response = await fetch(new URL("?count=3&interval=300", server.url));
    assert.equal(response.headers.get("content-type"), "text/event-stream");
    const reader = response.body!.getReader();
    const first = await reader.read();
    // The first event must not wait for the next two (600 ms).
    assert.ok(
      Date.now() - started < 500,
      `first event after ${Date.now() - started} ms`,
    );
    assert.match(
      new TextDecoder().decode(first.value),
      /^id: 1\ndata: tick 1\n\n/,
    );
    let rest = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    assert.match(rest, /data: tick 3\n\n$/);
  });
});

test("examples/middleware.ts: adds X-Response-Time and logs after close()", async () => {
  const errors = memoryErrors();
  await serving(timed, async (server) => {
    const response = await fetch(new URL("/timed", server.url));
    assert.match(
      response.headers.get("x-response-time") ?? "",
      /^\d+\.\d{3}ms$/,
    );
    assert.match(await response.text(), /^Hello world!/);
  }, errors);
  assert.match(errors.text(), /^GET \/timed took \d+\.\d{3}ms$/m);
  // close() reaches the inner iterable through the wrapper.
  let closed = 0;
  const inner: WSGIApplication = (_e, sr) => {
    sr("200 OK", [["Content-Type", "text/plain"]]);
    return Object.assign([new TextEncoder().encode("x")], {
      close: () => void closed++,
    });
  };
  await serving(timing(inner), async (server) => {
    await (await fetch(server.url)).text();
  });
  assert.equal(closed, 1);
});

test("examples/router.ts: Router rules, and an app mounted with dispatcher()", async () => {
  await serving(router, async (server) => {
    assert.match(await (await fetch(server.url)).text(), /^Routes:/);
    assert.equal(
      await (await fetch(new URL("/hello/Jos%C3%A9", server.url))).text(),
      "Hello, José!\n",
    );
    assert.equal(
      await (await fetch(new URL("/hello", server.url))).text(),
      "Hello, world!\n",
    );
    const where = await (await fetch(new URL("/where/x/y", server.url))).text();
    assert.match(
      where,
      /^SCRIPT_NAME=\/where PATH_INFO=\/x\/y URI=http:\/\/127\.0\.0\.1:\d+\/where\/x\/y\n$/,
    );
    const missing = await fetch(new URL("/nope", server.url));
    assert.equal(missing.status, 404);
    assert.equal(await missing.text(), '404 Not Found\n\nnothing at "/nope"\n');
  });
});
