// Issue 17, defect 6: keep-alive clients across a reload. 1,500 requests
// from 4 keep-alive connections to `--workers 2` on this runtime, SIGHUP
// after the first 300: no request may fail. A retiring worker answers
// what it has read with `Connection: close`, and closes a connection only
// between requests, so a client never has a request cut under it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cleanup, proc, serving, startCli, workerPids } from "./_cli_proc.ts";
import { keepAliveLoad } from "./_keepalive_load.ts";
import { RUNTIME, until } from "./_util.ts";

const APP = "tests/fixtures/workers_app.ts:app";

test("SIGHUP under a keep-alive load (1,500 requests, 4 connections): no request fails", async () => {
  const cli = startCli(["--workers", "2", "--port", "0", "-q", APP]);
  try {
    const port = await serving(cli);
    const old = workerPids(cli);
    const load = keepAliveLoad(port, {
      clients: 4,
      total: 1500,
      ms: 30000,
      pauseMs: 5,
    });
    assert.ok(await until(() => load.count() >= 300, 10000));
    proc.kill(cli.pid, "SIGHUP");
    await cli.wait(/reload done/);
    for (const pid of old) {
      await cli.wait(new RegExp(`worker ${pid} exited`), 15000);
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
    proc.kill(cli.pid, "SIGTERM");
    assert.equal(await cli.exited, 0);
  } finally {
    await cleanup(cli);
  }
});
