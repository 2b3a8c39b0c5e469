// maxConcurrency: requests beyond the limit get 503 with Retry-After at
// once, never queued, counted (overloadCounters) and logged; the places are
// given back when responses end, so the server serves again afterwards.
// Over real sockets, on the runtime running this file.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  makeServer,
  overloadCounters,
  ServerMetrics,
  type StartResponse,
} from "../mod.ts";
import { parseExposition, total } from "./_prom_parse.ts";
import { connect, exchange, get, header } from "./_raw_http.ts";
import { sleep, until, within } from "./_util.ts";

const SLOW_MS = 1500;

async function slowApp(
  _environ: unknown,
  start: StartResponse,
): Promise<Uint8Array[]> {
  await sleep(SLOW_MS);
  start("200 OK", [["Content-Type", "text/plain"]]);
  return [new TextEncoder().encode("slow")];
}

test("maxConcurrency 2: of 10 concurrent slow requests, 2 served, 8 refused at once", async () => {
  const lines: string[] = [];
  const metrics = new ServerMetrics();
  const server = makeServer("127.0.0.1", 0, slowApp, {
    log: (line) => void lines.push(line),
    maxConcurrency: 2,
    metrics,
  });
  await server.ready;
  const before = overloadCounters().refused;
  try {
    const t0 = performance.now();
    const results = await within(
      Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          // The first two go first, so that they are the two served.
          if (i >= 2) await sleep(100);
          const [res] = await exchange(
            server.serverPort,
            get(`/r${i}`, "Connection: close\r\n"),
          );
          return { res, ms: performance.now() - t0 };
        }),
      ),
      10_000,
      "10 requests",
    );
    const served = results.filter((r) => r.res.status === 200);
    const refused = results.filter((r) => r.res.status === 503);
    assert.equal(served.length, 2, "served");
    assert.equal(refused.length, 8, "refused");
    for (const r of refused) {
      assert.equal(header(r.res, "retry-after"), "1");
      // At once: well before the slow requests could have ended.
      assert.ok(r.ms < SLOW_MS - 300, `a 503 after ${Math.round(r.ms)} ms`);
    }
    for (const r of served) assert.ok(r.ms >= SLOW_MS - 50, `${r.ms} ms`);
    assert.equal(overloadCounters().refused - before, 8, "counted");
    assert.ok(
      await until(() => lines.length === 10, 3000),
      `${lines.length} log lines`,
    );
    assert.equal(lines.filter((l) => / 503 /.test(l)).length, 8, "logged");
    // The metrics count them as the server's own answers.
    const samples = parseExposition(metrics.text());
    assert.equal(
      total(samples, "wsgi_http_server_refused_requests_total", {
        http_response_status_code: "503",
      }),
      8,
      "503s in the metrics",
    );
    assert.equal(overloadCounters().inFlight, 0, "every place given back");
    // The places are free again: the next request is served.
    const [again] = await exchange(
      server.serverPort,
      get("/again", "Connection: close\r\n"),
    );
    assert.equal(again.status, 200);
  } finally {
    await server.shutdown();
  }
});

test("maxConcurrency: a bad value is a RangeError that names it", () => {
  assert.throws(
    () => makeServer("127.0.0.1", 0, slowApp, { maxConcurrency: -1 }),
    /maxConcurrency .* got -1/,
  );
  assert.throws(
    () => makeServer("127.0.0.1", 0, slowApp, { maxConcurrency: 1.5 }),
    /got 1.5/,
  );
});

test("maxConcurrency: a client that leaves mid-body gives its place back", async () => {
  // A body that would take 10 s; the client reads its start and leaves.
  const endless = (e: { PATH_INFO: string }, start: StartResponse) => {
    start("200 OK", [["Content-Type", "text/plain"]]);
    if (e.PATH_INFO !== "/stream") return [new TextEncoder().encode("short")];
    return (async function* () {
      for (let i = 0; i < 500; i++) {
        yield new TextEncoder().encode(`chunk ${i}\n`);
        await sleep(20);
      }
    })();
  };
  const server = makeServer("127.0.0.1", 0, endless, {
    log: false,
    maxConcurrency: 1,
  });
  await server.ready;
  try {
    const conn = await connect(server.serverPort);
    await conn.write(get("/stream"));
    await conn.peek(1);
    assert.equal(overloadCounters().inFlight, 1);
    conn.destroy();
    assert.ok(
      await until(() => overloadCounters().inFlight === 0, 5000),
      "the place is given back",
    );
    const [res] = await exchange(
      server.serverPort,
      "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert.equal(res.status, 200, "served again");
  } finally {
    await server.shutdown();
  }
});
