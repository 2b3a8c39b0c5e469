// The compression middleware (src/toolkit/compress.ts) over real sockets,
// validator() around it: the bytes on the wire (raw TCP, since fetch
// decodes) decompress to the original for br, gzip and deflate; q-values;
// what is left alone; headers; streaming chunk by chunk; close() once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";
import {
  makeServer,
  validator,
  type WSGIApplication,
  type WSGIServer,
} from "../mod.ts";
import {
  compress,
  type CompressOptions,
  serveStatic,
} from "../src/toolkit/mod.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  connect,
  exchange,
  get,
  header,
  type RawResponse,
} from "./_raw_http.ts";
import { sleep, until, within } from "./_util.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const TEXT = Array.from(
  { length: 400 },
  (_, i) => `<li class="row-${i % 7}">item ${i}</li>\n`,
).join("");

async function serving(
  app: WSGIApplication,
  body: (server: WSGIServer) => Promise<void>,
  options?: CompressOptions,
): Promise<void> {
  const server = makeServer("127.0.0.1", 0, validator(compress(app, options)), {
    log: false,
  });
  try {
    await server.ready;
    await body(server);
  } finally {
    await server.shutdown();
  }
}

function answering(
  headers: [string, string][],
  chunks: string[] = [TEXT],
  status = "200 OK",
): WSGIApplication {
  return (_environ, startResponse) => {
    startResponse(status, headers);
    return chunks.map(enc);
  };
}

function decode(r: RawResponse): string {
  const coding = header(r, "content-encoding");
  const raw = r.body;
  const bytes = coding === "br"
    ? brotliDecompressSync(raw)
    : coding === "gzip"
    ? gunzipSync(raw)
    : coding === "deflate"
    ? inflateSync(raw)
    : raw;
  return new TextDecoder().decode(bytes);
}

async function raw(
  server: WSGIServer,
  accept: string | null,
  method = "GET",
  path = "/",
): Promise<RawResponse> {
  const extra = accept === null ? "" : `Accept-Encoding: ${accept}\r\n`;
  const request = method === "GET"
    ? get(path, extra)
    : `${method} ${path} HTTP/1.1\r\nHost: test\r\n${extra}\r\n`;
  const [r] = await exchange(server.serverPort, request, 1, [
    method === "HEAD",
  ]);
  return r;
}

test("br, gzip and deflate on the wire decompress to the original", async () => {
  const app = answering([
    ["Content-Type", "text/html; charset=utf-8"],
    ["Content-Length", String(enc(TEXT).length)],
    ["ETag", '"v1"'],
    ["Accept-Ranges", "bytes"],
  ]);
  await serving(app, async (server) => {
    for (const coding of ["br", "gzip", "deflate"]) {
      const r = await raw(server, coding);
      assert.equal(r.status, 200);
      assert.equal(header(r, "content-encoding"), coding);
      assert.equal(header(r, "content-length"), null, coding);
      assert.equal(header(r, "accept-ranges"), null, coding);
      assert.equal(header(r, "vary"), "Accept-Encoding");
      assert.equal(header(r, "etag"), 'W/"v1"');
      assert.ok(r.body.length < enc(TEXT).length / 3, coding);
      assert.equal(decode(r), TEXT, coding);
    }
    // fetch decodes it again to the original on every runtime.
    const f = await fetch(server.url, { headers: { "Accept-Encoding": "br" } });
    assert.equal(await f.text(), TEXT);
  });
});

test("the coding follows Accept-Encoding q-values; identity gets Vary only", async () => {
  const app = answering([["Content-Type", "text/plain"]]);
  await serving(app, async (server) => {
    const cases: [string | null, string | null][] = [
      ["gzip, deflate, br", "br"],
      ["gzip;q=0.5, br;q=0.9", "br"],
      ["br;q=0.1, gzip", "gzip"],
      ["br;q=0, gzip", "gzip"],
      ["deflate", "deflate"],
      ["*", "br"],
      ["identity", null],
      ["gzip;q=0, br;q=0", null],
      ["gzip;q=0.5, identity", null],
      ["gzip;q=junk", null],
      ["", null],
      [null, null],
    ];
    for (const [accept, coding] of cases) {
      const r = await raw(server, accept);
      assert.equal(header(r, "content-encoding"), coding, String(accept));
      assert.equal(header(r, "vary"), "Accept-Encoding", String(accept));
      assert.equal(decode(r), TEXT, String(accept));
    }
  });
  await serving(app, async (server) => {
    const r = await raw(server, "br, gzip");
    assert.equal(header(r, "content-encoding"), "gzip");
  }, { encodings: ["gzip"] });
});

test("left alone: small bodies, compressed types, encoded, 204/304/206, no-transform, no type", async () => {
  const cases: [string, WSGIApplication][] = [
    [
      "small",
      answering([["Content-Type", "text/plain"], ["Content-Length", "5"]], [
        "hello",
      ]),
    ],
    ["png", answering([["Content-Type", "image/png"]])],
    ["woff2", answering([["Content-Type", "font/woff2"]])],
    [
      "encoded",
      answering([["Content-Type", "text/plain"], [
        "Content-Encoding",
        "identity",
      ]]),
    ],
    [
      "no-transform",
      answering([["Content-Type", "text/plain"], [
        "Cache-Control",
        "public, no-transform",
      ]]),
    ],
    ["204", answering([], [], "204 No Content")],
    ["304", answering([["ETag", '"x"']], [], "304 Not Modified")],
    [
      "206",
      answering(
        [
          ["Content-Type", "text/plain"],
          ["Content-Range", `bytes 0-${enc(TEXT).length - 1}/99999`],
        ],
        [TEXT],
        "206 Partial Content",
      ),
    ],
  ];
  for (const [name, app] of cases) {
    await serving(app, async (server) => {
      const r = await raw(server, "gzip, br");
      assert.equal(
        header(r, "content-encoding") ?? null,
        name === "encoded" ? "identity" : null,
        name,
      );
      assert.equal(header(r, "vary"), null, name);
    });
  }
});

test("HEAD gets the headers a GET gets and no body; Vary merges with the app's", async () => {
  const app = answering([
    ["Content-Type", "text/plain"],
    ["Vary", "Cookie"],
    ["Content-Length", String(enc(TEXT).length)],
  ]);
  await serving(app, async (server) => {
    const head = await raw(server, "gzip", "HEAD");
    assert.equal(head.status, 200);
    assert.equal(header(head, "content-encoding"), "gzip");
    assert.equal(header(head, "vary"), "Cookie, Accept-Encoding");
    assert.equal(head.body.length, 0);
    const getR = await raw(server, "gzip");
    assert.equal(header(getR, "vary"), "Cookie, Accept-Encoding");
    assert.equal(decode(getR), TEXT);
  });
  const star = answering([["Content-Type", "text/plain"], ["Vary", "*"]]);
  await serving(star, async (server) => {
    assert.equal(header(await raw(server, "gzip"), "vary"), "*");
  });
});

test("a streamed body is encoded chunk by chunk: the first decodes before the app yields the second", async () => {
  let release!: () => void;
  let closed = 0;
  const app: WSGIApplication = (_environ, startResponse) => {
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    const released = new Promise<void>((resolve) => (release = resolve));
    const chunks = async function* () {
      yield enc("first chunk ".repeat(20));
      await released;
      yield enc("second chunk ".repeat(20));
    };
    const body = chunks();
    return Object.assign(body, {
      close() {
        closed++;
      },
    });
  };
  await serving(app, async (server) => {
    for (const coding of ["gzip", "br"]) {
      const r = await fetch(server.url, {
        headers: { "Accept-Encoding": coding },
      });
      assert.equal(r.headers.get("content-encoding"), coding);
      const reader = r.body!.getReader();
      try {
        let got = "";
        const decoder = new TextDecoder();
        while (!got.includes("first chunk ".repeat(20))) {
          const { done, value } = await within(reader.read(), 5000, coding);
          assert.ok(!done, "ended before the first chunk");
          got += decoder.decode(value, { stream: true });
        }
        assert.ok(!got.includes("second"));
        release();
        for (;;) {
          const { done, value } = await within(reader.read(), 5000, coding);
          if (done) break;
          got += decoder.decode(value, { stream: true });
        }
        assert.equal(
          got,
          "first chunk ".repeat(20) + "second chunk ".repeat(20),
        );
      } finally {
        // A failed wait must not leave the app waiting forever.
        release();
        await reader.cancel().catch(() => {});
      }
    }
  });
  assert.equal(closed, 2);
});

test("close() runs exactly once, write() data comes first, startResponse at first iteration", async () => {
  let closed = 0;
  const app: WSGIApplication = (_environ, startResponse) => {
    const write = startResponse("200 OK", [["Content-Type", "text/plain"]]);
    write(enc("written "));
    return {
      *[Symbol.iterator]() {
        yield enc(TEXT);
      },
      close() {
        closed++;
      },
    } as Iterable<Uint8Array>;
  };
  await serving(app, async (server) => {
    const r = await raw(server, "gzip");
    assert.equal(decode(r), "written " + TEXT);
    const plain = await raw(server, null);
    assert.equal(decode(plain), "written " + TEXT);
  });
  assert.equal(closed, 2);
  const lazy: WSGIApplication = (_environ, startResponse) => {
    return (function* () {
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      yield enc(TEXT);
    })();
  };
  await serving(lazy, async (server) => {
    const r = await raw(server, "br");
    assert.equal(header(r, "content-encoding"), "br");
    assert.equal(decode(r), TEXT);
  });
});

test("a client that leaves mid-stream: the app's close() runs once, the generator stops", async () => {
  let closed = 0;
  let yielded = 0;
  const app: WSGIApplication = (_environ, startResponse) => {
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    const body = (async function* () {
      // Bounded: 2000 chunks at most, 2 ms apart.
      for (let i = 0; i < 2000; i++) {
        yielded++;
        yield enc(`chunk ${i} `.repeat(50));
        await sleep(2);
      }
    })();
    return Object.assign(body, {
      close() {
        closed++;
      },
    });
  };
  await serving(app, async (server) => {
    const conn = await connect(server.serverPort);
    await conn.write(get("/", "Accept-Encoding: gzip\r\n"));
    await conn.peek(200);
    conn.destroy();
    assert.ok(await until(() => closed === 1, 5000), "close() not called");
    const after = yielded;
    await sleep(100);
    assert.equal(closed, 1);
    assert.ok(yielded - after <= 1, `still yielding: ${yielded - after}`);
    assert.ok(yielded < 2000);
  });
});

test("around the static files: plain files compressed, precompressed ones left, 304 on the weak ETag", async () => {
  const dir = mkdtempSync(join(tmpdir(), "wsgi-compress-static-"));
  try {
    writeFileSync(join(dir, "page.html"), TEXT);
    writeFileSync(join(dir, "style.css"), TEXT);
    writeFileSync(join(dir, "style.css.br"), "PRECOMPRESSED");
    await serving(serveStatic(dir), async (server) => {
      const page = await raw(server, "gzip", "GET", "/page.html");
      assert.equal(header(page, "content-encoding"), "gzip");
      assert.equal(header(page, "accept-ranges"), null);
      assert.equal(decode(page), TEXT);
      const etag = header(page, "etag")!;
      assert.match(etag, /^W\//);
      const [again] = await exchange(
        server.serverPort,
        get(
          "/page.html",
          `Accept-Encoding: gzip\r\nIf-None-Match: ${etag}\r\n`,
        ),
      );
      assert.equal(again.status, 304);
      const [css] = await exchange(
        server.serverPort,
        get("/style.css", "Accept-Encoding: br\r\n"),
      );
      assert.equal(header(css, "content-encoding"), "br");
      assert.equal(new TextDecoder().decode(css.body), "PRECOMPRESSED");
      // A range of the file is the file's bytes, never encoded.
      const [part] = await exchange(
        server.serverPort,
        get("/page.html", "Accept-Encoding: gzip\r\nRange: bytes=0-9\r\n"),
      );
      assert.equal(part.status, 206);
      assert.equal(header(part, "content-encoding"), null);
      assert.equal(new TextDecoder().decode(part.body), TEXT.slice(0, 10));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("compress refuses bad options, naming them", () => {
  const app = answering([]);
  assert.throws(() => compress(app, { threshold: -5 }), /threshold.*-5/);
  assert.throws(() => compress(app, { encodings: ["zstd"] }), /"zstd"/);
});
