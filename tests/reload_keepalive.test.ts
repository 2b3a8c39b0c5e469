// Issue 17, defect 6: keep-alive clients across a reload. 1,500 requests
// from 4 keep-alive connections to `--workers 2` on this runtime, SIGHUP
// after the first 300: no request may fail, and no old worker answers once
// the supervisor has said `reload done`. A retiring worker drains: every
// response says `Connection: close`, and it stops only when no request has
// come for a moment. On Node it stops accepting at once (one shared
// socket); on Deno and Bun, whose workers share the port by SO_REUSEPORT,
// it still accepts while draining (a reconnecting client may land on it
// again, and is told to close again), so "reload done" waits until the old
// workers have exited. Before: 4 failed per reload on Deno and Bun (each
// idle keep-alive connection closed by the retiring worker as its client
// sent the next request), and old workers answered 13-16 requests after
// "reload done".
import { test } from "node:test";
import assert from "node:assert/strict";
import { cleanup, proc, serving, startCli, workerPids } from "./_cli_proc.ts";
import { keepAliveLoad } from "./_keepalive_load.ts";
import { connect, header, text } from "./_raw_http.ts";
import { RUNTIME, sleep, until } from "./_util.ts";
import { makeServer, type WSGIApplication } from "../mod.ts";

const APP = "tests/fixtures/workers_app.ts:app";

test("SIGHUP under a keep-alive load (1,500 requests, 4 connections): none fails, no old worker answers after 'reload done'", async () => {
  const cli = startCli(["--workers", "2", "--port", "0", "-q", APP]);
  try {
    const port = await serving(cli);
    const old = workerPids(cli);
    let done = false;
    const late: string[] = [];
    const load = keepAliveLoad(port, {
      clients: 4,
      total: 1500,
      ms: 30000,
      pauseMs: 5,
      // The app answers its pid. `done` is seen a moment after the
      // supervisor logs it, so this misses none that came after it.
      onResponse: (r) => {
        if (done && old.includes(Number(text(r)))) late.push(text(r));
      },
    });
    assert.ok(await until(() => load.count() >= 300, 10000));
    proc.kill(cli.pid, "SIGHUP");
    await cli.wait(/reload done/);
    done = true;
    // Said once the old workers have exited: their lines come first.
    for (const pid of old) {
      assert.match(cli.stderr(), new RegExp(`worker ${pid} exited`));
    }
    const during = load.count();
    const result = await load.done;
    assert.ok(during < 1500, `the reload ended within the load (at ${during})`);
    console.log(
      `reload_keepalive (${RUNTIME}): ${result.requests} requests, ` +
        `${result.failures.length} failed, ${result.connections} connections`,
    );
    assert.equal(result.requests, 1500);
    assert.deepEqual(result.failures, []);
    assert.deepEqual(late, [], "old workers answered after 'reload done'");
    proc.kill(cli.pid, "SIGTERM");
    assert.equal(await cli.exited, 0);
  } finally {
    await cleanup(cli);
  }
});

test("shutdown({ drainMs }): a request on an idle keep-alive connection is answered with Connection: close; shutdown() alone closes that connection", async () => {
  const app: WSGIApplication = (_environ, startResponse) => {
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return [new TextEncoder().encode("ok")];
  };
  for (const drainMs of [2000, 0]) {
    const server = makeServer("127.0.0.1", 0, app, { log: false });
    await server.ready;
    const conn = await connect(server.serverPort);
    try {
      await conn.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      assert.equal((await conn.readResponse()).status, 200);
      const started = Date.now();
      const stopped = server.shutdown({ drainMs });
      await sleep(50);
      if (drainMs === 0) {
        assert.ok(await conn.waitClosed(2000), "the idle connection is closed");
        await stopped;
        continue;
      }
      // Draining: the idle connection still takes one request.
      await conn.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      const r = await conn.readResponse();
      assert.equal(r.status, 200);
      assert.equal(header(r, "connection"), "close");
      conn.destroy();
      await stopped;
      // Ended once quiet (200 ms), long before drainMs.
      assert.ok(Date.now() - started < 1500, `${Date.now() - started} ms`);
    } finally {
      conn.destroy();
      await server.shutdown();
    }
  }
});
