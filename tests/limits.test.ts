// makeServer's timeouts and limits (issue 9, "Timeouts and limits", defect
// 10), over raw sockets on the runtime that runs this file, with tiny
// values so that the file stays quick. Where a runtime cannot do one, the
// test pins down what it does instead, as docs/limits.md's table says.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type AsyncInputStream,
  type InputStream,
  makeServer,
  type ServerOptions,
  type WSGIApplication,
} from "../mod.ts";
import { connect, type RawConnection } from "./_raw_http.ts";
import { enc, RUNTIME, sleep } from "./_util.ts";

let calls = 0;
const app: WSGIApplication = (environ, startResponse) => {
  calls++;
  const body = (environ["wsgi.input"] as InputStream).read();
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return [enc(`ok ${body.length}`)];
};

/** Starts a server, runs `fn` with a raw connection, always cleans up. */
async function withConn(
  options: ServerOptions,
  fn: (conn: RawConnection) => Promise<void>,
  application: WSGIApplication | WSGIApplication<AsyncInputStream> = app,
): Promise<void> {
  // Either kind of app (see bufferInput); makeServer types one at a time.
  const server = makeServer("127.0.0.1", 0, application as WSGIApplication, {
    log: false,
    errors: { write() {}, writelines() {}, flush() {} },
    ...options,
  });
  let conn: RawConnection | null = null;
  try {
    await server.ready;
    conn = await connect(server.serverPort);
    await fn(conn);
  } finally {
    conn?.destroy();
    await server.shutdown();
  }
}

/** Sends one request and reads its response on an open connection. */
async function ask(conn: RawConnection, request: string) {
  await conn.write(request);
  return await conn.readResponse();
}

function headers(n: number): string {
  let out = "";
  for (let i = 0; i < n; i++) out += `X-H${i}: v\r\n`;
  return out;
}

// ------------------------------------------------------- headersTimeout

test("headersTimeout: a head sent a byte at a time (slowloris)", async () => {
  await withConn({ headersTimeout: 500 }, async (conn) => {
    const head = "GET / HTTP/1.1\r\nHost: x\r\n" + "X-Slow: y\r\n".repeat(20);
    let i = 0;
    const timer = setInterval(() => {
      if (!conn.ended && i < head.length) void conn.write(head[i++]);
    }, 50);
    try {
      if (RUNTIME === "node") {
        // Node: 408 and close, checked every 50 ms here.
        assert.ok(await conn.waitClosed(3000), "closed");
        assert.match(
          new TextDecoder().decode(conn.buffered),
          /^HTTP\/1\.1 408 /,
        );
      } else {
        // Deno.serve has no such timeout; Bun's is fixed at 10 s (docs/limits.md).
        assert.equal(await conn.waitClosed(1500), false);
      }
    } finally {
      clearInterval(timer);
    }
  });
});

test("headersTimeout: a connection that sends nothing", async () => {
  await withConn({ headersTimeout: 500 }, async (conn) => {
    if (RUNTIME === "node") {
      assert.ok(await conn.waitClosed(3000), "closed");
    } else assert.equal(await conn.waitClosed(1000), false);
  });
});

// ----------------------------------------------------- keepAliveTimeout

test("keepAliveTimeout: an idle keep-alive connection is closed", async () => {
  await withConn({ keepAliveTimeout: 1000 }, async (conn) => {
    const response = await ask(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.equal(response.status, 200);
    // Not before the timeout...
    assert.equal(await conn.waitClosed(700), false);
    if (RUNTIME === "deno") {
      // ...and never on Deno.serve, which has no such timeout.
      assert.equal(await conn.waitClosed(1500), false);
    } else {
      // ...and soon after it: Node adds its keepAliveTimeoutBuffer (1 s),
      // Bun checks its timers every 4 s.
      assert.ok(await conn.waitClosed(6000), "closed");
    }
  });
});

test("keepAliveTimeout does not cut a request in progress", async () => {
  const slow: WSGIApplication = async (_environ, startResponse) => {
    await sleep(1500);
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return [enc("slow")];
  };
  await withConn({ keepAliveTimeout: 1000 }, async (conn) => {
    const response = await ask(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.equal(new TextDecoder().decode(response.body), "slow");
  }, slow);
});

// ---------------------------------------------------------- bodyTimeout

test("bodyTimeout: a body that stalls gets 408 and the app is not called", async () => {
  calls = 0;
  await withConn({ bodyTimeout: 500 }, async (conn) => {
    await conn.write(
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
    );
    const response = await conn.readResponse({ timeoutMs: 3000 });
    assert.equal(response.status, 408);
    assert.equal(calls, 0);
    if (RUNTIME === "deno") {
      // Deno.serve keeps reading the rest of the body: it closes only when
      // the client sends it or leaves (docs/limits.md).
      assert.equal(await conn.waitClosed(500), false);
    } else assert.ok(await conn.waitClosed(2000), "closed after the 408");
  });
});

test("bodyTimeout is a stall, not a total: a body trickling in is read", async () => {
  await withConn({ bodyTimeout: 500 }, async (conn) => {
    await conn.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\n");
    for (let i = 0; i < 8; i++) {
      await sleep(150);
      await conn.write("z");
    }
    const response = await conn.readResponse({ timeoutMs: 3000 });
    assert.equal(response.status, 200);
    assert.equal(new TextDecoder().decode(response.body), "ok 8");
  });
});

test("bodyTimeout with bufferInput: false: the app's read throws, 408", async () => {
  let seen: unknown = null;
  const streaming: WSGIApplication<AsyncInputStream> = async (
    environ,
    startResponse,
  ) => {
    try {
      await environ["wsgi.input"].read();
    } catch (error) {
      seen = error;
      throw error;
    }
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return [enc("read")];
  };
  await withConn({ bodyTimeout: 500, bufferInput: false }, async (conn) => {
    await conn.write(
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
    );
    const response = await conn.readResponse({ timeoutMs: 3000 });
    assert.equal(response.status, 408);
    assert.match(String(seen), /sent nothing for 500 ms \(bodyTimeout\)/);
  }, streaming);
});

// ------------------------------------------- maxHeaderCount, maxHeaderSize

test("maxHeaderCount: one field more than the limit gets 431, the app is not called", async () => {
  await withConn({ maxHeaderCount: 10 }, async (conn) => {
    // Host and 9 more: 10 fields.
    const ok = await ask(
      conn,
      `GET / HTTP/1.1\r\nHost: x\r\n${headers(9)}\r\n`,
    );
    assert.equal(ok.status, 200);
    calls = 0;
    const refused = await ask(
      conn,
      `GET / HTTP/1.1\r\nHost: x\r\n${headers(10)}\r\n`,
    );
    assert.equal(refused.status, 431);
    assert.equal(calls, 0);
    if (RUNTIME === "deno") {
      // Deno.serve ignores a response's Connection: close; the refused
      // request was read whole, so the connection stays in step.
      const again = await ask(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      assert.equal(again.status, 200);
    } else assert.ok(await conn.waitClosed(2000), "closed after the 431");
  });
});

test("maxHeaderSize: a head over the limit gets 431", async () => {
  await withConn({ maxHeaderSize: 1000 }, async (conn) => {
    const ok = await ask(
      conn,
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(900)}\r\n\r\n`,
    );
    assert.equal(ok.status, 200);
    const refused = await ask(
      conn,
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(1000)}\r\n\r\n`,
    );
    assert.equal(refused.status, 431);
  });
});

// The defaults: 100 fields and 16 KiB on Node; Deno's and Bun's own limits
// there (128 fields and 64 KiB, 198 fields and 16 KiB), unless given.
const MAX_FIELDS = { node: 100, bun: 198, deno: 128 }[RUNTIME];
const MAX_HEAD = RUNTIME === "deno" ? 65000 : 16000;

test("the default header limits: the most fields and bytes pass, more are refused", async () => {
  await withConn({}, async (conn) => {
    const most = headers(MAX_FIELDS - 1); // and Host
    const ok = await ask(conn, `GET / HTTP/1.1\r\nHost: x\r\n${most}\r\n`);
    assert.equal(ok.status, 200);
    const big = await ask(
      conn,
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(MAX_HEAD)}\r\n\r\n`,
    );
    assert.equal(big.status, 200);
    const refused = await ask(
      conn,
      `GET / HTTP/1.1\r\nHost: x\r\n${headers(MAX_FIELDS)}\r\n`,
    );
    // Deno's own refusal is a 400.
    assert.equal(refused.status, RUNTIME === "deno" ? 400 : 431);
  });
  await withConn({}, async (conn) => {
    const refused = await ask(
      conn,
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${
        "a".repeat(MAX_HEAD + 5000)
      }\r\n\r\n`,
    );
    assert.equal(refused.status, RUNTIME === "deno" ? 400 : 431);
  });
});

test("a bad timeout or limit is a RangeError naming it and its value", () => {
  const cases: [ServerOptions, RegExp][] = [
    [{ headersTimeout: -1 }, /headersTimeout must be a whole number.*got -1/],
    [{ keepAliveTimeout: 1.5 }, /keepAliveTimeout .*got 1\.5/],
    [{ bodyTimeout: "5" as never }, /bodyTimeout .*got "5"/],
    [{ maxHeaderCount: NaN }, /maxHeaderCount .*got NaN/],
    [{ maxHeaderSize: Infinity }, /maxHeaderSize .*got Infinity/],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => makeServer("127.0.0.1", 0, app, { log: false, ...options }),
      (error: unknown) =>
        error instanceof RangeError && message.test(error.message),
    );
  }
});
