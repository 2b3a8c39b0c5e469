// `wsgi --workers 2 --metrics HOST:PORT`, run for real on the current
// runtime, over real sockets: the supervisor's /metrics sums its workers
// (the requests sent, the histogram's count, also after kill -9 of one
// worker), /ready turns 503 at a graceful stop while /live stays 200,
// SIGUSR2 lists the requests in flight without killing anyone, and a
// worker stuck in a loop is killed with its request named (and, on Node,
// its stack). Every process is stopped by pid; every loop is bounded.
import { test } from "node:test";
import assert from "node:assert/strict";
import { exchange, get } from "./_raw_http.ts";
import { parseExposition, type Sample, total } from "./_prom_parse.ts";
import { RUNTIME, sleep } from "./_util.ts";
import {
  cleanup,
  type Cli as Proc,
  proc,
  startCli as startProc,
} from "./_cli_proc.ts";

const g = globalThis as Record<string, unknown>;
const APP = "tests/fixtures/workers_app.ts:app";
const REQUESTS = "wsgi_http_server_requests_total";

/** A running CLI; `log()` is its stdout and stderr. */
interface Cli extends Proc {
  log(): string;
}

/** Starts the CLI serving APP, without the access log. */
function startCli(args: string[]): Cli {
  const cli = startProc([APP, "-q", ...args]);
  return { ...cli, log: () => cli.stdout() + cli.stderr() };
}

/** Starts the CLI; its app port and metrics port once it serves. */
async function start(args: string[]): Promise<[Cli, number, number]> {
  const cli = startCli(["--port", "0", "--metrics", "127.0.0.1:0", ...args]);
  try {
    const m = await cli.wait(/metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/);
    const s = await cli.wait(/Serving HTTP on 127\.0\.0\.1 port (\d+)/);
    return [cli, Number(s[1]), Number(m[1])];
  } catch (error) {
    await cleanup(cli);
    throw error;
  }
}

async function scrape(port: number, open = false): Promise<Sample[]> {
  const r = await fetch(`http://127.0.0.1:${port}/metrics`, {
    headers: open ? { Accept: "application/openmetrics-text" } : {},
  });
  assert.equal(r.status, 200);
  assert.match(
    r.headers.get("content-type")!,
    open ? /^application\/openmetrics-text/ : /^text\/plain; version=0\.0\.4/,
  );
  return parseExposition(await r.text(), open);
}

/** `n` requests, `clients` at a time, each on its own connection. */
async function send(port: number, n: number, clients = 4): Promise<number> {
  let sent = 0;
  let ok = 0;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (sent < n) {
      sent++;
      const [r] = await exchange(port, get("/", "Connection: close\r\n"));
      if (r.status === 200) ok++;
    }
  }));
  return ok;
}

/** Polls /metrics until `cond` holds (at most `ms`); the last scrape. */
async function scrapeUntil(
  port: number,
  cond: (s: Sample[]) => boolean,
  ms = 3000,
): Promise<Sample[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = await scrape(port);
    if (cond(s) || Date.now() > deadline) return s;
    await sleep(50);
  }
}

test("--metrics: two workers' counters sum to the requests sent, and keep them after kill -9", async () => {
  const [cli, port, mport] = await start(["--workers", "2"]);
  try {
    await cli.wait(/2 worker\(s\) serving/);
    let sent = await send(port, 200);
    assert.equal(sent, 200);
    let s = await scrapeUntil(mport, (s) => total(s, REQUESTS) >= sent);
    assert.equal(total(s, REQUESTS), sent, "the sum over the workers");
    assert.equal(
      total(s, "wsgi_http_server_request_duration_seconds_count"),
      sent,
      "the histogram counts every request",
    );
    assert.equal(total(s, "wsgi_workers"), 2);
    assert.equal(
      s.filter((x) => x.name === "wsgi_worker_resident_memory_bytes").length,
      2,
    );
    assert.ok(total(s, "wsgi_worker_cpu_seconds_total") > 0);
    await scrape(mport, true); // OpenMetrics parses too
    // kill -9 one worker once its counts are reported (a report every
    // 25 ms): they stay in the sum, and its replacement adds to it.
    const victim = Number(/worker (\d+) listening/.exec(cli.log())![1]);
    proc.kill(victim, "SIGKILL");
    await cli.wait(/replacing it/);
    await cli.wait(
      new RegExp(`worker \\d+ booting \\(to replace ${victim}\\)`),
    );
    s = await scrape(mport);
    assert.equal(total(s, REQUESTS), sent, "no counter went backwards");
    assert.equal(
      total(s, "wsgi_worker_restarts_total", { reason: "crash" }),
      1,
    );
    await cli.wait(/listening[\s\S]*listening[\s\S]*listening/);
    sent += await send(port, 100);
    s = await scrapeUntil(mport, (s) => total(s, REQUESTS) >= sent);
    assert.equal(total(s, REQUESTS), sent);
    assert.equal(
      total(s, "wsgi_http_server_request_duration_seconds_count"),
      sent,
    );
  } finally {
    await cleanup(cli);
  }
});

test("--metrics: kill -9 right after a burst: every request answered is counted", async () => {
  // Every answer the client has read is counted before the kill (Deno and
  // Bun count into a file mapped shared; Node writes its counters to a file
  // in the same turn as the answer: docs/observability.md).
  const [cli, port, mport] = await start(["--workers", "1"]);
  try {
    await cli.wait(/1 worker\(s\) serving/);
    const before = await send(port, 50);
    const s0 = await scrapeUntil(mport, (s) => total(s, REQUESTS) >= before);
    assert.equal(total(s0, REQUESTS), before);
    const burst = await send(port, 100, 4);
    const pid = Number(/worker (\d+) listening/.exec(cli.log())![1]);
    proc.kill(pid, "SIGKILL");
    await cli.wait(/replacing it/);
    const s = await scrape(mport);
    const counted = total(s, REQUESTS);
    const lost = before + burst - counted;
    console.log(`kill -9 after a burst of ${burst}: ${lost} lost`);
    assert.ok(counted >= before, "never backwards");
    assert.equal(lost, 0, `lost ${lost} of ${burst}`);
  } finally {
    await cleanup(cli);
  }
});

test("--metrics: SIGUSR2 lists requests in flight; /ready turns 503 at SIGTERM while /live stays 200", async () => {
  const [cli, port, mport] = await start(["--workers", "2"]);
  try {
    await cli.wait(/2 worker\(s\) serving/);
    const ready = () => fetch(`http://127.0.0.1:${mport}/ready`);
    assert.equal((await ready()).status, 200);
    const slow = exchange(port, get("/slow?ms=1500", "Connection: close\r\n"));
    await sleep(300);
    proc.kill(cli.child.pid!, "SIGUSR2");
    await cli.wait(/1 request\(s\) in flight: GET \/slow\?ms=1500 \(\d/);
    await cli.wait(/worker \d+: 0 request\(s\) in flight/);
    assert.doesNotMatch(cli.log(), /exited|died/, "nobody was killed");
    proc.kill(cli.child.pid!, "SIGTERM");
    await cli.wait(/SIGTERM: stopping/);
    const r = await ready();
    assert.equal(r.status, 503, "not ready from the moment of the stop");
    await r.text();
    const live = await fetch(`http://127.0.0.1:${mport}/live`);
    assert.equal(live.status, 200);
    await live.text();
    const [answer] = await slow;
    assert.equal(answer.status, 200, "the request in flight finished");
    assert.equal(await cli.exited, 0);
  } finally {
    await cleanup(cli);
  }
});

test("without --metrics: SIGUSR2 still lists each request in flight with the time it has run, and forgets it once answered", async () => {
  const cli = startCli(["--port", "0", "--workers", "1"]);
  try {
    const s = await cli.wait(/Serving HTTP on 127\.0\.0\.1 port (\d+)/);
    await cli.wait(/1 worker\(s\) serving/);
    // The worker has run for over a second when the request comes: a
    // start left unread (0) would show as that much, not as 0.3 s.
    await sleep(1200);
    const slow = exchange(
      Number(s[1]),
      get("/slow?ms=1500", "Connection: close\r\n"),
    );
    await sleep(300);
    proc.kill(cli.child.pid!, "SIGUSR2");
    const m = await cli.wait(
      /1 request\(s\) in flight: GET \/slow\?ms=1500 \((\d+\.\d+) s\)/,
    );
    const seconds = Number(m[1]);
    assert.ok(seconds >= 0.25 && seconds < 1.2, `ran for ${seconds} s`);
    const [answer] = await slow;
    assert.equal(answer.status, 200);
    proc.kill(cli.child.pid!, "SIGUSR2");
    await cli.wait(/worker \d+: 0 request\(s\) in flight/);
    assert.doesNotMatch(cli.log(), /exited|died/, "nobody was killed");
  } finally {
    await cleanup(cli);
  }
});

test("--timeout: the kill line names the stuck request (and on Node and Deno the loop's stack frame)", async () => {
  const [cli, port, mport] = await start([
    "--workers",
    "1",
    "--timeout",
    "1",
    // Deno's inspector must be opened at start; Node and Bun ignore it.
    "--timeout-stacks",
  ]);
  try {
    await cli.wait(/1 worker\(s\) serving/);
    const stuck = exchange(port, get("/spin", "Connection: close\r\n"))
      .catch(() => null);
    const m = await cli.wait(
      /worker \d+ timed out \(no heartbeat for [\d.]+ s, --timeout 1\); last request: GET \/spin \(running at least [\d.]+ s\): killing it/,
    );
    assert.ok(m);
    await cli.wait(/died \(killed after --timeout\)/, 10000);
    const s = await scrape(mport);
    assert.equal(
      total(s, "wsgi_worker_restarts_total", { reason: "timeout" }),
      1,
    );
    // The supervisor needs a WebSocket client (Node 22 and later; Deno).
    if (RUNTIME !== "bun" && typeof g.WebSocket === "function") {
      // The frame of the app's loop, through the inspector.
      assert.match(
        cli.log(),
        / {2}at app \(file:\/\/.*workers_app\.ts:\d+:\d+\)/,
      );
    } else {
      // Bun's inspector cannot pause a blocked loop (see
      // docs/observability.md): the request is all there is.
      assert.doesNotMatch(cli.log(), / {2}at app \(/);
    }
    await stuck;
  } finally {
    await cleanup(cli);
  }
});

test("--metrics without --workers: one process's requests, memory, CPU and event-loop delay", async () => {
  const [cli, port, mport] = await start([]);
  try {
    const sent = await send(port, 30, 2);
    const s = await scrapeUntil(mport, (s) => total(s, REQUESTS) >= sent);
    assert.equal(total(s, REQUESTS), sent);
    assert.equal(
      total(s, "wsgi_http_server_request_duration_seconds_count"),
      sent,
    );
    assert.ok(total(s, "wsgi_worker_resident_memory_bytes") > 1e6);
    // A request that blocks the loop for 300 ms: the delay of that second.
    const [busy] = await exchange(
      port,
      get("/busy?ms=300", "Connection: close\r\n"),
    );
    assert.equal(busy.status, 200);
    const lag = "wsgi_worker_event_loop_delay_seconds";
    const d = await scrapeUntil(mport, (s) => total(s, lag) >= 0.25, 4000);
    assert.ok(total(d, lag) >= 0.25, `event-loop delay ${total(d, lag)}`);
    assert.ok(total(d, lag) < 5);
    const ready = await fetch(`http://127.0.0.1:${mport}/ready`);
    assert.equal(ready.status, 200);
    await ready.text();
    const other = await fetch(`http://127.0.0.1:${mport}/`);
    assert.equal(other.status, 404);
    await other.text();
    // The application's port does not serve the metrics.
    const [app] = await exchange(
      port,
      get("/metrics", "Connection: close\r\n"),
    );
    assert.doesNotMatch(new TextDecoder().decode(app.body), /wsgi_http/);
  } finally {
    await cleanup(cli);
  }
});

test("--metrics: workers retired by --max-requests and SIGHUP lose no count, and are counted by reason", async () => {
  const [cli, port, mport] = await start([
    "--workers",
    "1",
    "--max-requests",
    "25",
  ]);
  try {
    await cli.wait(/1 worker\(s\) serving/);
    // Sequential requests: each retirement's last report comes after its
    // last request, so the sum is exact without waiting for a report.
    let sent = 0;
    for (let i = 0; i < 60; i++) {
      const [r] = await exchange(port, get("/", "Connection: close\r\n"));
      if (r.status === 200) sent++;
    }
    await cli.wait(/retiring \(max-requests[\s\S]*exited/);
    proc.kill(cli.child.pid!, "SIGHUP");
    await cli.wait(/reload done/);
    await cli.wait(/retiring \(reloaded\)[\s\S]*exited/);
    const s = await scrapeUntil(
      mport,
      (s) =>
        total(s, "wsgi_worker_restarts_total", { reason: "reload" }) >= 1 &&
        total(s, "wsgi_worker_restarts_total", { reason: "max-requests" }) >= 1,
    );
    assert.equal(total(s, REQUESTS), sent, "nothing lost at retirement");
    assert.ok(
      total(s, "wsgi_worker_restarts_total", { reason: "max-requests" }) >= 1,
    );
    assert.equal(
      total(s, "wsgi_worker_restarts_total", { reason: "reload" }),
      1,
    );
    assert.equal(
      total(s, "wsgi_worker_restarts_total", { reason: "crash" }),
      0,
    );
  } finally {
    await cleanup(cli);
  }
});

test("--metrics on a port in use: one line, exit 2, no worker started", async () => {
  const { createServer } = await import("node:net");
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  const port = (taken.address() as { port: number }).port;
  const cli = startCli([
    "--workers",
    "1",
    "--port",
    "0",
    "--metrics",
    `127.0.0.1:${port}`,
  ]);
  try {
    assert.equal(await cli.exited, 2);
    assert.match(
      cli.log(),
      new RegExp(
        `cannot serve --metrics on 127\\.0\\.0\\.1:${port}: address already in use`,
      ),
    );
    assert.doesNotMatch(cli.log(), /booting/);
  } finally {
    await cleanup(cli);
    taken.close();
  }
});
