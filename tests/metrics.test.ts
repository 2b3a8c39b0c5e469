// makeServer's `metrics` option (ServerMetrics), over real sockets on the
// current runtime: every answer is counted once by method and status
// class, the histogram's count is the requests', body bytes add up, the
// server's own refusals (400 bad Host, 413, 431) are counted by status,
// requests in flight go up and back down, and both text formats parse.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  makeServer,
  ServerMetrics,
  type StartResponse,
  type WSGIEnvironment,
} from "../mod.ts";
import { exchange } from "./_raw_http.ts";
import { parseExposition, total } from "./_prom_parse.ts";
import { RUNTIME, sleep, until } from "./_util.ts";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

// Node's own parser answers a head over its limits (431) before the server
// sees a request: counted as refused (its clientError), not as a request.
const OURS_431 = RUNTIME === "node" ? 0 : 1;

const enc = new TextEncoder();

function app(environ: WSGIEnvironment, startResponse: StartResponse) {
  const path = environ.PATH_INFO as string;
  if (path === "/slow") {
    return new Promise<Uint8Array[]>((resolve) =>
      setTimeout(() => {
        startResponse("200 OK", [["Content-Type", "text/plain"]]);
        resolve([enc.encode("slow")]);
      }, 300)
    );
  }
  if (path === "/missing") {
    startResponse("404 Not Found", [["Content-Type", "text/plain"]]);
    return [enc.encode("no")];
  }
  const input = environ["wsgi.input"] as { read(): Uint8Array };
  const body = input.read();
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return [enc.encode(`got ${body.length}`)];
}

test("metrics: requests by method and status class, histogram, bytes, refusals, in flight", async () => {
  const metrics = new ServerMetrics();
  const server = makeServer("127.0.0.1", 0, app, {
    log: false,
    metrics,
    maxBodySize: 100,
    maxHeaderCount: 20,
  });
  await server.ready;
  try {
    const url = server.url;
    let gets = 0;
    for (let i = 0; i < 20; i++, gets++) await (await fetch(url)).text();
    for (let i = 0; i < 5; i++) {
      await (await fetch(url, { method: "POST", body: "x".repeat(10) }))
        .text();
    }
    for (let i = 0; i < 3; i++) await (await fetch(url + "missing")).text();
    // 413: over maxBodySize, declared.
    const big = await fetch(url, { method: "PUT", body: "y".repeat(200) });
    assert.equal(big.status, 413);
    await big.text();
    // 431: more fields than maxHeaderCount.
    const many = Array.from({ length: 30 }, (_, i) => `X-H${i}: v\r\n`).join(
      "",
    );
    const [r431] = await exchange(
      server.serverPort,
      `GET / HTTP/1.1\r\nHost: a\r\n${many}Connection: close\r\n\r\n`,
    );
    assert.equal(r431.status, 431);
    // 400: a Host that is not a host, answered by the server.
    const [r400] = await exchange(
      server.serverPort,
      "GET / HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n",
    );
    assert.equal(r400.status, 400);
    // One in flight while /slow runs.
    const slow = fetch(url + "slow").then((r) => r.text());
    assert.ok(
      await until(
        () =>
          total(
            parseExposition(metrics.text()),
            "wsgi_http_server_active_requests",
          ) === 1,
        2000,
      ),
      "a slow request is in flight",
    );
    await slow;
    gets += 1;
    // The end of a response is counted when its body has been handed over.
    await sleep(50);
    const s = parseExposition(metrics.text());
    const req = "wsgi_http_server_requests_total";
    const get2 = { http_request_method: "GET", status_class: "2xx" };
    assert.equal(total(s, req, get2), gets);
    assert.equal(
      total(s, req, { http_request_method: "POST", status_class: "2xx" }),
      5,
    );
    // The 404s, the 431 and the 400: GET 4xx.
    assert.equal(
      total(s, req, { http_request_method: "GET", status_class: "4xx" }),
      4 + OURS_431,
    );
    assert.equal(
      total(s, req, { http_request_method: "PUT", status_class: "4xx" }),
      1,
    );
    const all = total(s, req);
    assert.equal(all, gets + 5 + 3 + 1 + 1 + OURS_431);
    const count = "wsgi_http_server_request_duration_seconds_count";
    assert.equal(total(s, count), all, "the histogram counts every request");
    assert.equal(
      total(s, "wsgi_http_server_request_duration_seconds_bucket", {
        ...get2,
        le: "+Inf",
      }),
      gets,
    );
    // /slow took 0.3 s: not in the buckets up to 0.25 s.
    const upTo = (le: string) =>
      total(s, "wsgi_http_server_request_duration_seconds_bucket", {
        ...get2,
        le,
      });
    assert.ok(upTo("0.25") <= gets - 1, "the slow one is above 0.25 s");
    assert.ok(total(s, "wsgi_http_server_request_duration_seconds_sum") > 0.3);
    assert.equal(total(s, "wsgi_http_server_active_requests"), 0);
    // 5 bodies of 10 bytes, and the refused 200 declared.
    assert.equal(total(s, "wsgi_http_server_request_body_bytes_total"), 250);
    assert.ok(total(s, "wsgi_http_server_response_body_bytes_total") > 0);
    const refused = "wsgi_http_server_refused_requests_total";
    for (
      const [code, n] of [["400", 1], ["413", 1], ["431", 1], ["408", 0]]
    ) {
      assert.equal(
        total(s, refused, { http_response_status_code: code as string }),
        n,
        `refused ${code}`,
      );
    }
    // The app's own 404s are not refusals.
    assert.equal(total(s, refused), 3);
    // OpenMetrics: the same samples, with # EOF.
    const open = parseExposition(metrics.text(true), true);
    assert.equal(total(open, req), all);
  } finally {
    await server.shutdown();
  }
});

test("metrics: unknown methods are _OTHER; a server without metrics records nothing", async () => {
  const metrics = new ServerMetrics();
  const server = makeServer("127.0.0.1", 0, app, { log: false, metrics });
  const plain = makeServer("127.0.0.1", 0, app, { log: false });
  await Promise.all([server.ready, plain.ready]);
  try {
    await (await fetch(server.url, { method: "PURGE" })).text();
    await (await fetch(plain.url)).text();
    await sleep(20);
    const s = parseExposition(metrics.text());
    assert.equal(
      total(s, "wsgi_http_server_requests_total", {
        http_request_method: "_OTHER",
      }),
      1,
    );
    assert.equal(total(s, "wsgi_http_server_requests_total"), 1);
  } finally {
    await Promise.all([server.shutdown(), plain.shutdown()]);
  }
});

test("metrics: the option must be a ServerMetrics", () => {
  assert.throws(
    () =>
      makeServer("127.0.0.1", 0, app, {
        metrics: {} as unknown as ServerMetrics,
      }),
    /metrics/,
  );
});

test("docs/observability.md: its TypeScript block runs as shown", async () => {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const doc = readFileSync(join(root, "docs/observability.md"), "utf8");
  const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.equal(blocks.length, 1);
  const dir = join(root, ".tmp");
  mkdirSync(dir, { recursive: true });
  const file = join(
    dir,
    `observability_${Math.random().toString(36).slice(2)}.ts`,
  );
  writeFileSync(
    file,
    blocks[0].replace(
      '"@wsgi/wsgi"',
      JSON.stringify(pathToFileURL(join(root, "mod.ts")).href),
    ),
  );
  try {
    await import(pathToFileURL(file).href);
  } finally {
    rmSync(file, { force: true });
  }
});

test("metrics: the runtime's own refusals of malformed requests (Node: counted; Deno, Bun: not seen)", async () => {
  const metrics = new ServerMetrics();
  const server = makeServer("127.0.0.1", 0, app, {
    log: false,
    metrics,
    headersTimeout: 300,
  });
  await server.ready;
  try {
    // A request line that is not one.
    const [bad] = await exchange(
      server.serverPort,
      "GET / HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n",
    );
    assert.equal(bad.status, 400);
    const counted = RUNTIME === "node" ? 1 : 0;
    const refused = "wsgi_http_server_refused_requests_total";
    assert.ok(
      await until(
        () =>
          total(parseExposition(metrics.text()), refused, {
            http_response_status_code: "400",
          }) === counted,
        1000,
      ),
    );
    if (RUNTIME === "node") {
      // A head that never ends: Node's headersTimeout answers 408.
      const { connect } = await import("node:net");
      const socket = connect(server.serverPort, "127.0.0.1");
      let got = "";
      socket.setEncoding("utf8");
      socket.on("data", (d: string) => void (got += d));
      socket.write("GET / HTTP/1.1\r\nHost: a\r\n");
      await until(() => got.length > 0, 3000);
      socket.destroy();
      assert.match(got, /^HTTP\/1\.1 408 /);
      const s = parseExposition(metrics.text());
      assert.equal(
        total(s, refused, { http_response_status_code: "408" }),
        1,
      );
    }
    // None of them is a request.
    assert.equal(
      total(parseExposition(metrics.text()), "wsgi_http_server_requests_total"),
      0,
    );
  } finally {
    await server.shutdown();
  }
});
