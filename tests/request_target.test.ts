// What the application sees of the request line and the request headers,
// byte for byte, on the three runtimes (the same file runs under deno test,
// bun test and node --test): the request-target whatever the Host header
// holds, raw bytes in the target, bodies the runtime would drop, duplicate
// Content-Length, header whitespace, leading slashes. Raw TCP
// (./_raw_http.ts), since fetch would clean up what is tested here. Each
// expectation is CPython 3.11's wsgiref.simple_server on the same bytes,
// except where a runtime cannot do it (then docs/runtimes.md's table
// says so, and the test pins what it does).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type InputStream,
  makeServer,
  type ServerOptions,
  type WSGIApplication,
} from "../mod.ts";
import {
  connect,
  ConnectionClosed,
  exchange,
  type RawResponse,
  text,
} from "./_raw_http.ts";
import { enc, RUNTIME, until, within } from "./_util.ts";

/** Bytes shown one per character, as native strings show them. */
function latin1(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

/** What the echo app reports. */
interface Seen {
  PATH_INFO: string;
  QUERY_STRING: string;
  CONTENT_LENGTH: string;
  HTTP_HOST?: string;
  HTTP_X?: string;
  HTTP_X_DUP?: string;
  HTTP_COOKIE?: string;
  body: string;
}

/**
 * An app that answers with what it saw, as JSON (every string a native
 * string: JSON keeps each code unit), and counts its calls.
 */
function echo(): WSGIApplication & { calls: number } {
  const app: WSGIApplication = (environ, startResponse) => {
    counted.calls++;
    const seen: Record<string, unknown> = {};
    for (
      const key of [
        "PATH_INFO",
        "QUERY_STRING",
        "CONTENT_LENGTH",
        "HTTP_HOST",
        "HTTP_X",
        "HTTP_X_DUP",
        "HTTP_COOKIE",
      ]
    ) if (key in environ) seen[key] = environ[key];
    seen.body = latin1((environ["wsgi.input"] as InputStream).read());
    startResponse("200 OK", [["Content-Type", "application/json"]]);
    return [enc(JSON.stringify(seen))];
  };
  const counted = Object.assign(app, { calls: 0 });
  return counted;
}

/** Starts a server on 127.0.0.1, runs `fn`, and always shuts it down. */
async function withServer(
  app: WSGIApplication,
  options: ServerOptions,
  fn: (port: number) => Promise<void>,
): Promise<void> {
  const server = makeServer("127.0.0.1", 0, app, { log: false, ...options });
  try {
    await within(server.ready, 5000, "server.ready");
    await fn(server.serverPort);
  } finally {
    await within(server.shutdown(), 5000, "server.shutdown()");
  }
}

/** Sends one raw request on a fresh connection; the response. */
async function send(port: number, request: string): Promise<RawResponse> {
  const [response] = await exchange(port, request);
  return response;
}

/** Sends one raw request; what the echo app saw (asserting a 200). */
async function seen(port: number, request: string): Promise<Seen> {
  const response = await send(port, request);
  assert.equal(
    response.status,
    200,
    `${JSON.stringify(request)}: ${response.statusLine} ${text(response)}`,
  );
  return JSON.parse(text(response));
}

// ------------------------------------------------------- Host and target

test("a Host that is not host[:port] is refused (400); a good one never changes PATH_INFO", async () => {
  // Deno builds Request.url from Host ("http://" + Host + target): a Host
  // with a "/" shifted the path (issue 9, defect 1). Bun gives a bare
  // target when Host is empty or not a valid host, and the shim cut its
  // first segment (defect 2). RFC 9112 §3.2: a Host with an invalid value
  // gets a 400; the same rule as the fetch handler, on every runtime.
  const app = echo();
  const lines: string[] = [];
  const log = (line: string) => void lines.push(line);
  await withServer(app, { log }, async (port) => {
    for (
      const host of [
        "evil/admin",
        "evil/..",
        "user@evil",
        "evil?q=x",
        "evil#x",
        "evil\\x",
        "evil/admin/real",
        "evil:abc",
        "a b",
        "\xe2\x80\xa8/admin", // raw UTF-8, with a "/": Deno decodes it
        "\xe9", // not UTF-8
      ]
    ) {
      const what = `Host: ${JSON.stringify(host)}`;
      const response = await send(
        port,
        `GET /real/path?x=1 HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      );
      assert.equal(response.status, 400, what);
      assert.match(text(response), /Host/, what);
    }
    assert.equal(app.calls, 0);
    // Each refusal is access-logged, as every other answer is (the log is
    // written in batches: wait for the lines).
    await until(() => lines.length >= 11, 1000);
    assert.equal(
      lines.filter((line) => /" 400 \d+$/.test(line)).length,
      11,
      lines.join("\n"),
    );
    // RFC 9112 §3.2: two Host lines get a 400 too (Deno's own, here), but
    // on Bun, which builds the URL from the first: telling them apart means
    // building every request's Headers there, a quarter more CPU per
    // request (docs/runtimes.md). The path is still the target's.
    for (const hosts of ["evil\r\nHost: t", "t\r\nHost: t"]) {
      const request = `GET /real/path HTTP/1.1\r\nHost: ${hosts}\r\n\r\n`;
      if (RUNTIME === "bun") {
        const got = await seen(port, request);
        assert.equal(got.PATH_INFO, "/real/path", JSON.stringify(hosts));
      } else {
        const twice = await send(port, request);
        assert.equal(twice.status, 400, JSON.stringify(hosts));
      }
    }
    assert.equal(app.calls, RUNTIME === "bun" ? 2 : 0);
    // Where a request is served, the path is the target's, whatever Host.
    for (
      const host of ["", "t", "T", "EVIL:80", "[::1]:8", "a_b.example:8000"]
    ) {
      const got = await seen(
        port,
        `GET /real/path?x=1 HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      );
      assert.equal(got.PATH_INFO, "/real/path", `Host: ${host}`);
      assert.equal(got.QUERY_STRING, "x=1", `Host: ${host}`);
      assert.equal(got.HTTP_HOST, host);
    }
  });
});

test("a Host found valid once lets no bad Host through after it, whatever they share", async () => {
  // The Deno and Bun shims remember the Host (Bun: the URL's scheme and
  // authority) last found valid, to skip checking it again: a bad Host
  // that begins like it, or a good request between bad ones, changes
  // nothing.
  const app = echo();
  await withServer(app, { log: false }, async (port) => {
    const good = (host: string) =>
      seen(port, `GET /real/path HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    for (
      const host of [
        "good/admin",
        "good:abc",
        "good/",
        "good@evil",
        "good:80/x",
        "good?x",
        "good evil",
      ]
    ) {
      const got = await good("good");
      assert.equal(got.PATH_INFO, "/real/path");
      assert.equal(got.HTTP_HOST, "good");
      const what = `Host: ${JSON.stringify(host)}`;
      const response = await send(
        port,
        `GET /real/path HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      );
      assert.equal(response.status, 400, what);
    }
    assert.equal(app.calls, 7);
    assert.equal((await good("good:8000")).HTTP_HOST, "good:8000");
  });
});

test("HTTP/1.1 without Host: 400 where the runtime can tell", async () => {
  // RFC 9112 §3.2: 400. Bun and Node answer so themselves; Deno tells
  // no HTTP version to its handler (nor Bun), so there the request is
  // served, with the whole target as PATH_INFO.
  const app = echo();
  await withServer(app, {}, async (port) => {
    const response = await send(port, "GET /xx/real HTTP/1.1\r\n\r\n");
    if (RUNTIME === "deno") {
      assert.equal(response.status, 200);
      assert.equal(JSON.parse(text(response)).PATH_INFO, "/xx/real");
    } else {
      assert.equal(response.status, 400);
      assert.equal(app.calls, 0);
    }
  });
});

test("HTTP/1.0 without Host: the whole target is PATH_INFO", async () => {
  // Bun dropped the first segment (issue 9, defect 2; issue 11).
  const app = echo();
  await withServer(app, {}, async (port) => {
    const secret = await seen(port, "GET /xx/internal/secret HTTP/1.0\r\n\r\n");
    assert.equal(secret.PATH_INFO, "/xx/internal/secret");
    assert.equal("HTTP_HOST" in secret, false);
    const ten = await seen(port, "GET /ten?a=1 HTTP/1.0\r\n\r\n");
    assert.equal(ten.PATH_INFO, "/ten");
    assert.equal(ten.QUERY_STRING, "a=1");
  });
});

test("an absolute-form target: its path, not Host's", async () => {
  // RFC 9112 §3.2.2: the target's own authority wins over Host. Node keeps
  // the whole target as PATH_INFO, as wsgiref does; Deno and Bun hand over
  // a URL, whose path is all that is left of it.
  const app = echo();
  await withServer(app, {}, async (port) => {
    const absolute = "GET http://other/abs/p?q HTTP/1.1\r\nHost: ";
    const got = await seen(port, `${absolute}t\r\n\r\n`);
    const path = RUNTIME === "node" ? "http://other/abs/p" : "/abs/p";
    assert.equal(got.PATH_INFO, path);
    assert.equal(got.QUERY_STRING, "q");
    // With a Host that holds a "/", Deno's URL no longer tells where the
    // target starts: such a request is refused on every runtime (RFC 9112
    // §3.2: 400 for an invalid Host), never misread.
    const odd = await send(port, `${absolute}evil/admin\r\n\r\n`);
    assert.equal(odd.status, 400);
    assert.equal(app.calls, 1);
  });
});

test("leading slashes collapse to one, as in http.server (gh-87389)", async () => {
  const app = echo();
  await withServer(app, {}, async (port) => {
    const one = await seen(
      port,
      "GET //evil.example/x HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    assert.equal(one.PATH_INFO, "/evil.example/x");
    const many = await seen(
      port,
      "GET ///evil.example//x?a=//b HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    assert.equal(many.PATH_INFO, "/evil.example//x");
    assert.equal(many.QUERY_STRING, "a=//b");
    // Collapsed before percent-decoding, as wsgiref does it.
    const escaped = await seen(port, "GET //%2Fx HTTP/1.1\r\nHost: t\r\n\r\n");
    assert.equal(escaped.PATH_INFO, "//x");
  });
});

test("raw bytes >= 0x80 in the target come back as latin-1, never decoded", async () => {
  // Deno decodes the target as UTF-8 (issue 9, defect 3): "/café" reached
  // the app with é as U+00E9, and U+2028 reached PATH_INFO and the log.
  // wsgiref: one character per byte. Bun percent-encodes such bytes (so
  // QUERY_STRING shows %XX); Node refuses them (400).
  const lines: string[] = [];
  const app = echo();
  await withServer(app, { log: (line) => lines.push(line) }, async (port) => {
    const cafe = await send(
      port,
      "GET /caf\xc3\xa9?q=\xc3\xa9 HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    const separator = await send(
      port,
      "GET /log_i\xe2\x80\xa8X HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    // DEL, a control character: refused but by Bun, which percent-encodes
    // it (other controls get Bun's 505).
    const del = await send(port, "GET /a\x7fb HTTP/1.1\r\nHost: t\r\n\r\n");
    if (RUNTIME === "bun") {
      assert.equal(JSON.parse(text(del)).PATH_INFO, "/a\x7fb");
    } else assert.equal(del.status, 400);
    if (RUNTIME === "node") {
      assert.equal(cafe.status, 400);
      assert.equal(separator.status, 400);
      assert.equal(app.calls, 0);
      return;
    }
    const got: Seen = JSON.parse(text(cafe));
    assert.equal(got.PATH_INFO, "/caf\xc3\xa9");
    assert.equal(
      got.QUERY_STRING,
      RUNTIME === "bun" ? "q=%C3%A9" : "q=\xc3\xa9",
    );
    const sep: Seen = JSON.parse(text(separator));
    assert.equal(sep.PATH_INFO, "/log_i\xe2\x80\xa8X");
    const deadline = Date.now() + 2000;
    const logged = RUNTIME === "bun" ? 3 : 2;
    while (lines.length < logged && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(lines.length, logged);
    for (const line of lines) {
      for (const c of line) {
        assert.ok(
          c.charCodeAt(0) <= 0xff,
          `U+${c.charCodeAt(0).toString(16)} in the log: ${line}`,
        );
      }
    }
  });
});

// ------------------------------------------------------------- bodies

test("a GET with a body: wsgi.input and CONTENT_LENGTH agree", async () => {
  // Deno and Bun give GET no body; CONTENT_LENGTH said 5 over an empty
  // wsgi.input (issue 9, defect 4). Deno's shim now reads it (as Node and
  // wsgiref do); Bun discards it, and CONTENT_LENGTH then says "".
  const app = echo();
  await withServer(app, {}, async (port) => {
    const conn = await connect(port);
    try {
      await conn.write(
        "GET /hello HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello" +
          "GET /next HTTP/1.1\r\nHost: t\r\n\r\n",
      );
      const first = await conn.readResponse();
      const second = await conn.readResponse();
      const got: Seen = JSON.parse(text(first));
      if (RUNTIME === "bun") {
        assert.deepEqual([got.CONTENT_LENGTH, got.body], ["", ""]);
      } else {
        assert.deepEqual([got.CONTENT_LENGTH, got.body], ["5", "hello"]);
      }
      // The body was framed: the next request is read as one.
      assert.equal(JSON.parse(text(second)).PATH_INFO, "/next");
    } finally {
      conn.destroy();
    }
    const chunked = await seen(
      port,
      "GET /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
        "5\r\nhello\r\n0\r\n\r\n",
    );
    assert.deepEqual(
      [chunked.CONTENT_LENGTH, chunked.body],
      RUNTIME === "bun" ? ["", ""] : ["5", "hello"],
    );
    const empty = await seen(
      port,
      "GET /e HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n",
    );
    assert.deepEqual([empty.CONTENT_LENGTH, empty.body], ["0", ""]);
  });
});

test("no body headers: CONTENT_LENGTH is empty, whatever the method", async () => {
  // Deno hands PURGE, POST... a body stream even without Content-Length
  // or Transfer-Encoding; CONTENT_LENGTH said "0" (issue 11). wsgiref: "".
  const app = echo();
  await withServer(app, {}, async (port) => {
    for (const method of ["PURGE", "POST", "OPTIONS", "DELETE", "GET"]) {
      const got = await seen(port, `${method} /x HTTP/1.1\r\nHost: t\r\n\r\n`);
      assert.equal(got.CONTENT_LENGTH, "", method);
      assert.equal(got.body, "", method);
    }
  });
});

test("Content-Length sent twice is refused (400), never read as a list", async () => {
  // Deno and Bun joined two identical Content-Lengths into "5, 5" (issue 9,
  // defect 6); Node's parser refuses them. RFC 9112 §6.3: invalid framing
  // gets a 400.
  const app = echo();
  await withServer(app, {}, async (port) => {
    const twice = "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello";
    const post = await send(port, `POST /p HTTP/1.1\r\nHost: t\r\n${twice}`);
    assert.equal(post.status, 400);
    assert.equal(app.calls, 0);
    let get: RawResponse | null = null;
    try {
      get = await send(port, `GET /g HTTP/1.1\r\nHost: t\r\n${twice}`);
    } catch (error) {
      if (!(error instanceof ConnectionClosed)) throw error;
    }
    if (RUNTIME === "bun") {
      // Bun drops a GET's body: there is nothing to frame for the app.
      assert.equal(get?.status, 200);
      assert.equal(JSON.parse(text(get!)).CONTENT_LENGTH, "");
    } else {
      assert.equal(get?.status, 400);
      assert.equal(app.calls, 0);
    }
  });
});

test("a chunked body with a trailer field reaches the app whole", async () => {
  // Bun reads the trailer field as a second request and answers it 400,
  // then closes (issue 9, defect 5; a bare Bun.serve does the same, and no
  // response header of ours prevents it): docs/runtimes.md's table says
  // so, and this pins it down.
  const app = echo();
  await withServer(app, {}, async (port) => {
    const conn = await connect(port);
    try {
      await conn.write(
        "POST /t HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
          "5\r\nhello\r\n0\r\nX-Trailer: a\r\n\r\n" +
          "GET /after HTTP/1.1\r\nHost: t\r\n\r\n",
      );
      const first = await conn.readResponse();
      assert.equal(first.status, 200);
      assert.deepEqual(
        [JSON.parse(text(first)).body, JSON.parse(text(first)).CONTENT_LENGTH],
        ["hello", "5"],
      );
      const second = await conn.readResponse();
      if (RUNTIME === "bun") {
        assert.equal(second.status, 400);
        assert.equal(await conn.waitClosed(2000), true);
        assert.equal(app.calls, 1);
      } else {
        assert.equal(second.status, 200);
        assert.equal(JSON.parse(text(second)).PATH_INFO, "/after");
      }
    } finally {
      conn.destroy();
    }
  });
});

// ------------------------------------------------------------ headers

test("header values lose only SP and HTAB at their ends (RFC 9110 §5.5)", async () => {
  // Node's shim trimmed with String.prototype.trim, which also strips 0xA0
  // (issue 9, defect 7). Deno and Bun keep it.
  const app = echo();
  await withServer(app, {}, async (port) => {
    const nbsp = await seen(
      port,
      "GET /x HTTP/1.1\r\nHost: t\r\nX: \xa0a\xa0b\xa0\r\n\r\n",
    );
    assert.equal(nbsp.HTTP_X, "\xa0a\xa0b\xa0");
    const ows = await seen(
      port,
      "GET /x HTTP/1.1\r\nHost: t\r\nX: \t a b \t\r\n\r\n",
    );
    assert.equal(ows.HTTP_X, "a b");
  });
});

test('repeated headers are joined with ", ", Cookie with "; "', async () => {
  // RFC 9110 §5.3 (combining field lines), as Fetch's Headers does on every
  // runtime; a Cookie list is "; "-separated (RFC 9113 §8.2.3). wsgiref
  // joins with a bare ",".
  const app = echo();
  await withServer(app, {}, async (port) => {
    const got = await seen(
      port,
      "GET /x HTTP/1.1\r\nHost: t\r\nX-Dup: 1\r\nCookie: a=1\r\n" +
        "X-Dup: 2\r\nCookie: b=2\r\n\r\n",
    );
    assert.equal(got.HTTP_X_DUP, "1, 2");
    assert.equal(got.HTTP_COOKIE, "a=1; b=2");
  });
});
