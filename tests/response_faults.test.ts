// Faults on the response side, over real sockets, on the runtime that runs
// this file (deno test: Deno.serve; bun test: Bun.serve; node --test:
// node:http): write() after the end (issue 9, defect 8), a non-iterable
// result with close() (defect 9), an iterable that fails midway (defect
// 11), and a body shorter or longer than its declared Content-Length
// (defect 12). Raw TCP (./_raw_http.ts), since fetch hides how a response
// ends.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  makeServer,
  type ServerOptions,
  type WriteFunction,
  type WSGIApplication,
} from "../mod.ts";
import { connect, get, type RawConnection } from "./_raw_http.ts";
import { collectingErrors, enc, latin1 } from "./_util.ts";

/** Starts a server, runs `fn`, always shuts it down; keeps the log lines. */
async function withServer(
  app: WSGIApplication,
  options: ServerOptions,
  fn: (port: number, lines: string[]) => Promise<void>,
): Promise<void> {
  const lines: string[] = [];
  const server = makeServer("127.0.0.1", 0, app, {
    log: (line) => lines.push(line),
    ...options,
  });
  try {
    await server.ready;
    await fn(server.serverPort, lines);
  } finally {
    await server.shutdown();
  }
}

/** Polls `cond` every 10 ms; false when it is still false after `ms`. */
async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

/**
 * Sends one GET and reads until the server closes the connection (or 3 s
 * pass): what arrived, and whether it closed.
 */
async function getToClose(
  port: number,
): Promise<{ raw: string; closed: boolean }> {
  const conn = await connect(port);
  try {
    await conn.write(get("/"));
    const closed = await conn.waitClosed(3000);
    return { raw: latin1(conn.buffered), closed };
  } finally {
    conn.destroy();
  }
}

/**
 * Whether a raw response is complete as framed: a chunked body with its
 * terminator, or a Content-Length body with all its bytes.
 */
function framing(raw: string): {
  status: string;
  body: string;
  complete: boolean;
} {
  const end = raw.indexOf("\r\n\r\n");
  assert.ok(end !== -1, `no response head in ${JSON.stringify(raw)}`);
  const head = raw.slice(0, end).split("\r\n");
  let rest = raw.slice(end + 4);
  const field = (name: string): string | null => {
    for (const line of head.slice(1)) {
      const colon = line.indexOf(":");
      if (line.slice(0, colon).toLowerCase() === name) {
        return line.slice(colon + 1).trim();
      }
    }
    return null;
  };
  if (/chunked/i.test(field("transfer-encoding") ?? "")) {
    let body = "";
    for (;;) {
      const nl = rest.indexOf("\r\n");
      if (nl === -1) return { status: head[0], body, complete: false };
      const size = parseInt(rest.slice(0, nl), 16);
      if (size === 0) {
        return {
          status: head[0],
          body,
          complete: rest.slice(nl + 2).startsWith("\r\n"),
        };
      }
      if (rest.length < nl + 2 + size + 2) {
        return {
          status: head[0],
          body: body + rest.slice(nl + 2),
          complete: false,
        };
      }
      body += rest.slice(nl + 2, nl + 2 + size);
      rest = rest.slice(nl + 2 + size + 2);
    }
  }
  const length = Number(field("content-length"));
  return {
    status: head[0],
    body: rest.slice(0, length),
    complete: rest.length >= length,
  };
}

// ---------------------------------------------- defect 8: late write()

test("write() after the response ended throws, names the loss, and is logged", async () => {
  const errors = collectingErrors();
  let late: WriteFunction | null = null;
  const app: WSGIApplication = (_environ, startResponse) => {
    late = startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return [enc("done")];
  };
  await withServer(app, { errors }, async (port) => {
    const conn = await connect(port);
    try {
      await conn.write(get("/"));
      assert.equal((await conn.readResponse()).status, 200);
    } finally {
      conn.destroy();
    }
    assert.ok(late !== null);
    assert.throws(
      () => late!(enc("too late")),
      /write\(\) was called after the response ended; its 8 bytes were not sent/,
    );
    assert.match(
      errors.text(),
      /write\(\) was called after the response ended/,
    );
  });
});

test("write() after a streamed body ended throws, and so does write() from close()", async () => {
  const errors = collectingErrors();
  let late: WriteFunction | null = null;
  let inClose: unknown = null;
  const app: WSGIApplication = (_environ, startResponse) => {
    const write = startResponse("200 OK", [["Content-Type", "text/plain"]]);
    late = write;
    write(enc("a"));
    const body = (function* () {
      yield enc("b");
    })();
    return Object.assign(body, {
      close() {
        try {
          write(enc("c"));
        } catch (error) {
          inClose = error;
        }
      },
    });
  };
  await withServer(app, { errors }, async (port) => {
    const conn = await connect(port);
    try {
      await conn.write(get("/"));
      const response = await conn.readResponse();
      assert.equal(new TextDecoder().decode(response.body), "ab");
    } finally {
      conn.destroy();
    }
    assert.ok(await until(() => inClose !== null, 2000));
    assert.match(String(inClose), /after the response ended/);
    assert.throws(() => late!(enc("x")), /after the response ended/);
  });
});

// ------------------------------- defect 9: not iterable, but has close()

test("a non-iterable result with close(): close() runs once, 500 names the value", async () => {
  const errors = collectingErrors();
  let closed = 0;
  class Thing {
    close(): void {
      closed++;
    }
  }
  const plain: WSGIApplication = (_environ, startResponse) => {
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return { close: () => void closed++ } as never;
  };
  const ofClass: WSGIApplication = async (_environ, startResponse) => {
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return await Promise.resolve(new Thing() as never);
  };
  for (const [app, what] of [[plain, "{close}"], [ofClass, "Thing"]] as const) {
    closed = 0;
    await withServer(app, { errors }, async (port) => {
      const conn = await connect(port);
      try {
        await conn.write(get("/"));
        const response = await conn.readResponse();
        assert.equal(response.status, 500);
      } finally {
        conn.destroy();
      }
      assert.equal(closed, 1);
      assert.ok(errors.text().includes(what), errors.text());
      assert.match(errors.text(), /The application returned a non-iterable/);
    });
  }
});

// --------------------------------- defect 11: failing at the second chunk

test("an iterable that throws at its second chunk: head and first chunk, then a cut; the log says so", async () => {
  const errors = collectingErrors();
  let closed = 0;
  const app: WSGIApplication = (_environ, startResponse) => {
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    const body = (function* () {
      yield enc("a".repeat(1000));
      throw new Error("boom at chunk 2");
    })();
    return Object.assign(body, { close: () => void closed++ });
  };
  await withServer(app, { errors }, async (port, lines) => {
    const { raw, closed: cut } = await getToClose(port);
    assert.ok(cut, "the connection is closed");
    const { status, body, complete } = framing(raw);
    assert.equal(status, "HTTP/1.1 200 OK");
    assert.equal(body, "a".repeat(1000));
    assert.equal(complete, false, "never a falsely complete response");
    assert.ok(await until(() => lines.length === 1, 2000));
    assert.match(lines[0], /"GET \/ HTTP\/1\.1" 200 1000 \(incomplete\)$/);
    assert.equal(closed, 1);
    assert.match(errors.text(), /boom at chunk 2/);
  });
});

test("an async iterable that rejects at its second chunk is cut the same way", async () => {
  const app: WSGIApplication = (_environ, startResponse) => {
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return (async function* () {
      yield enc("first");
      await new Promise((resolve) => setTimeout(resolve, 20));
      throw new Error("late boom");
    })();
  };
  await withServer(app, { errors: collectingErrors() }, async (port, lines) => {
    const { raw, closed } = await getToClose(port);
    assert.ok(closed);
    const { status, body, complete } = framing(raw);
    assert.equal(status, "HTTP/1.1 200 OK");
    assert.equal(body, "first");
    assert.equal(complete, false);
    assert.ok(await until(() => lines.length === 1, 2000));
    assert.match(lines[0], / 200 5 \(incomplete\)$/);
  });
});

// ------------------------------ defect 12: Content-Length and the body

for (const streamed of [false, true]) {
  const kind = streamed ? "streamed" : "whole";
  test(`Content-Length: 100 with 5 bytes (${kind}): the connection closes, the response is incomplete`, async () => {
    const errors = collectingErrors();
    const app: WSGIApplication = (_environ, startResponse) => {
      startResponse("200 OK", [["Content-Length", "100"]]);
      return streamed
        ? (function* () {
          yield enc("hel");
          yield enc("lo");
        })()
        : [enc("hello")];
    };
    await withServer(app, { errors }, async (port, lines) => {
      const { raw, closed } = await getToClose(port);
      assert.ok(closed, `closed at once, got ${JSON.stringify(raw)}`);
      const { status, body, complete } = framing(raw);
      assert.equal(status, "HTTP/1.1 200 OK");
      assert.equal(body, "hello");
      assert.equal(complete, false);
      assert.match(
        errors.text(),
        /declared Content-Length: 100 but its body ended after 5 bytes/,
      );
      assert.ok(await until(() => lines.length === 1, 2000));
      assert.match(lines[0], / 200 5 \(incomplete\)$/);
    });
  });

  test(`Content-Length: 3 with 5 bytes (${kind}): cut to 3, the connection stays in step`, async () => {
    const errors = collectingErrors();
    const app: WSGIApplication = (environ, startResponse) => {
      if (environ.PATH_INFO === "/next") {
        startResponse("200 OK", [["Content-Type", "text/plain"]]);
        return [enc("next")];
      }
      startResponse("200 OK", [["Content-Length", "3"]]);
      return streamed
        ? (function* () {
          yield enc("he");
          yield enc("llo");
        })()
        : [enc("hello")];
    };
    await withServer(app, { errors }, async (port) => {
      let conn: RawConnection | null = null;
      try {
        conn = await connect(port);
        await conn.write(get("/"));
        const first = await conn.readResponse();
        assert.equal(new TextDecoder().decode(first.body), "hel");
        // RFC 9112 §6.3: had "lo" gone out, it would be read as the start
        // of the next response.
        await conn.write(get("/next"));
        const second = await conn.readResponse();
        assert.equal(second.statusLine, "HTTP/1.1 200 OK");
        assert.equal(new TextDecoder().decode(second.body), "next");
      } finally {
        conn?.destroy();
      }
      assert.match(errors.text(), /longer than the Content-Length: 3/);
    });
  });
}

test("a body exactly as long as its Content-Length is untouched and keeps the connection", async () => {
  const errors = collectingErrors();
  const app: WSGIApplication = (_environ, startResponse) => {
    startResponse("200 OK", [["Content-Length", "5"]]);
    return (function* () {
      yield enc("he");
      yield enc("llo");
    })();
  };
  await withServer(app, { errors }, async (port, lines) => {
    const conn = await connect(port);
    try {
      for (let i = 0; i < 2; i++) {
        await conn.write(get("/"));
        const response = await conn.readResponse();
        assert.equal(new TextDecoder().decode(response.body), "hello");
      }
    } finally {
      conn.destroy();
    }
    assert.equal(errors.text(), "");
    assert.ok(await until(() => lines.length === 2, 2000));
    assert.match(lines[0], / 200 5$/);
  });
});
