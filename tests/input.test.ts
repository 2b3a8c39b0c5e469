import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type AsyncInputStream,
  handleRequest,
  type InputStream,
  makeServer,
  runCgi,
  type WSGIApplication,
} from "../mod.ts";
import { enc } from "./_capture.ts";

const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function post(body: BodyInit | null, headers: HeadersInit = {}): Request {
  return new Request("http://h/upload", {
    method: "POST",
    body,
    headers,
    duplex: "half",
  } as RequestInit);
}

function chunked(...parts: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const p of parts) c.enqueue(enc(p));
      c.close();
    },
  });
}

/** Runs `read` against wsgi.input inside an app; returns what it produced. */
async function withInput<T>(
  request: Request,
  read: (input: InputStream) => T,
): Promise<T> {
  let out: T | undefined;
  let called = false;
  const response = await handleRequest(request, (environ, startResponse) => {
    called = true;
    out = read(environ["wsgi.input"] as InputStream);
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return [];
  });
  assert.equal(response.status, 200);
  assert.ok(called);
  return out as T;
}

test("wsgi.input read() returns the whole body, then empty (simulated EOF)", async () => {
  const [all, again] = await withInput(post("line one\nline two\n"), (i) => [
    dec(i.read()),
    i.read().length,
  ]);
  assert.equal(all, "line one\nline two\n");
  assert.equal(again, 0);
});

test("wsgi.input read(size), readline(size?), readlines(hint?) and iteration", async () => {
  const body = "alpha\nbeta\ngamma\ndelta";
  assert.deepEqual(
    await withInput(
      post(body),
      (i) => [dec(i.read(3)), dec(i.read(4)), dec(i.read(-1))],
    ),
    ["alp", "ha\nb", "eta\ngamma\ndelta"],
  );
  assert.deepEqual(
    await withInput(
      post(body),
      (
        i,
      ) => [
        dec(i.readline()),
        dec(i.readline(2)),
        dec(i.readline()),
        dec(i.readline(100)),
      ],
    ),
    ["alpha\n", "be", "ta\n", "gamma\n"],
  );
  assert.deepEqual(
    await withInput(post(body), (i) => i.readlines().map(dec)),
    ["alpha\n", "beta\n", "gamma\n", "delta"],
  );
  assert.deepEqual(
    await withInput(post(body), (i) => i.readlines(7).map(dec)),
    ["alpha\n", "beta\n"],
  );
  assert.deepEqual(
    await withInput(post(body), (i) => [...i].map(dec)),
    ["alpha\n", "beta\n", "gamma\n", "delta"],
  );
});

test("a chunked (streamed) body is read in full before the app runs", async () => {
  const got = await withInput(
    post(chunked("par", "t one\n", "part two")),
    (i) => i.readlines().map(dec),
  );
  assert.deepEqual(got, ["part one\n", "part two"]);
});

test("a request without a body has an empty wsgi.input", async () => {
  const got = await withInput(new Request("http://h/"), (i) => i.read().length);
  assert.equal(got, 0);
});

test("a body over maxBodySize gets 413 and the app is not called (declared length)", async () => {
  let called = false;
  const app: WSGIApplication = (_e, sr) => {
    called = true;
    sr("200 OK", [["Content-Type", "text/plain"]]);
    return [];
  };
  const response = await handleRequest(post("x".repeat(101)), app, {
    maxBodySize: 100,
  });
  assert.equal(response.status, 413);
  assert.match(await response.text(), /limit of 100 bytes/);
  assert.equal(called, false);
  const ok = await handleRequest(post("x".repeat(100)), app, {
    maxBodySize: 100,
  });
  assert.equal(ok.status, 200);
  assert.equal(called, true);
});

test("a chunked body over maxBodySize gets 413 and the app is not called", async () => {
  let called = false;
  const response = await handleRequest(
    post(chunked("x".repeat(60), "x".repeat(60))),
    (_e, sr) => {
      called = true;
      sr("200 OK", [["Content-Type", "text/plain"]]);
      return [];
    },
    { maxBodySize: 100 },
  );
  assert.equal(response.status, 413);
  assert.equal(called, false);
});

test("bufferInput: false gives an async wsgi.input read with await", async () => {
  const app: WSGIApplication<AsyncInputStream> = async (
    environ,
    startResponse,
  ) => {
    const input = environ["wsgi.input"];
    const first = await input.readline();
    const next = await input.read(3);
    const lines: string[] = [];
    for await (const line of input) lines.push(dec(line));
    const end = await input.read();
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return [enc(JSON.stringify([dec(first), dec(next), lines, end.length]))];
  };
  const response = await handleRequest(
    post(chunked("one\ntw", "o\nthree\nfo", "ur")),
    app,
    { bufferInput: false },
  );
  assert.deepEqual(JSON.parse(await response.text()), ["one\n", "two", [
    "\n",
    "three\n",
    "four",
  ], 0]);
});

test("bufferInput: false still refuses a declared length over the limit", async () => {
  const body = "x".repeat(50);
  const headers = { "content-length": "50" };
  const response = await handleRequest(post(body, headers), () => {
    throw new Error("must not run");
  }, { bufferInput: false, maxBodySize: 10 });
  assert.equal(response.status, 413);
});

// Bytes leave the library as Uint8Array<ArrayBuffer> (issue 19.4): a
// BodyInit and BufferSource as they are. A runtime's request body is an
// ArrayBuffer already, and reads hand out views of it, no copy; a source
// that yields SharedArrayBuffer views (a CGI io of one's own) is copied.
test("wsgi.input hands out ArrayBuffer views, copy-free over a socket, copied from a SharedArrayBuffer", async () => {
  const seen: Uint8Array[] = [];
  const app: WSGIApplication = (environ, startResponse) => {
    const input = environ["wsgi.input"] as InputStream;
    seen.push(input.read(3), input.readline(), ...input);
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return [];
  };
  const server = makeServer("127.0.0.1", 0, app, { log: false });
  try {
    await server.ready;
    const res = await fetch(server.url, {
      method: "POST",
      body: "abcdef\nxy\n",
    });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  } finally {
    await server.shutdown();
  }
  assert.deepEqual(seen.map(dec), ["abc", "def\n", "xy\n"]);
  for (const bytes of seen) assert.ok(bytes.buffer instanceof ArrayBuffer);
  // One body, one buffer: each read is a view, not a copy.
  assert.equal(new Set(seen.map((b) => b.buffer)).size, 1);

  const shared = new Uint8Array(new SharedArrayBuffer(5));
  shared.set(enc("hello"));
  for (const bufferInput of [true, false]) {
    const got: Uint8Array[] = [];
    await runCgi(async (environ, startResponse) => {
      const input = environ["wsgi.input"] as InputStream | AsyncInputStream;
      got.push(await input.read());
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return [];
    }, {
      bufferInput,
      io: {
        env: {
          REQUEST_METHOD: "POST",
          CONTENT_LENGTH: "5",
          SERVER_NAME: "h",
          SERVER_PORT: "80",
        },
        stdin: (async function* () {
          yield shared;
        })(),
        stdout: { write: () => {} },
      },
    });
    assert.equal(dec(got[0]), "hello", `bufferInput: ${bufferInput}`);
    assert.ok(
      got[0].buffer instanceof ArrayBuffer,
      `bufferInput: ${bufferInput}`,
    );
  }
});
