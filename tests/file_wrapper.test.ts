import { test } from "node:test";
import assert from "node:assert/strict";
import {
  FileWrapper,
  type FileWrapperFactory,
  handleRequest,
  makeServer,
  type WSGIApplication,
} from "../mod.ts";
import { enc } from "./_capture.ts";

const CT: [string, string] = ["Content-Type", "application/octet-stream"];

function bytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 7) & 0xff;
  return out;
}

/** An app returning environ["wsgi.file_wrapper"](source, blksize). */
function serving(source: () => unknown, blksize?: number): WSGIApplication {
  return (environ, startResponse) => {
    startResponse("200 OK", [CT]);
    const wrap = environ["wsgi.file_wrapper"] as FileWrapperFactory;
    return wrap(source(), blksize);
  };
}

test("FileWrapper iterates blksize chunks from read(n) sources, sync or async", async () => {
  const data = bytes(10);
  let pos = 0;
  const reads: number[] = [];
  const sync = {
    read(n: number) {
      reads.push(n);
      const out = data.subarray(pos, pos + n);
      pos += n;
      return out;
    },
  };
  const chunks: number[] = [];
  for await (const c of new FileWrapper(sync, 4)) chunks.push(c.length);
  assert.deepEqual(chunks, [4, 4, 2]);
  assert.ok(reads.every((n) => n === 4));
  let apos = 0;
  const asyncSource = {
    read: (n: number) => {
      const out = data.subarray(apos, apos + n);
      apos += n;
      return Promise.resolve(out);
    },
  };
  const all: number[] = [];
  for await (const c of new FileWrapper(asyncSource, 3)) all.push(...c);
  assert.deepEqual(all, [...data]);
});

test("FileWrapper refuses what it cannot read, naming it", () => {
  assert.throws(
    () => new FileWrapper("path.txt"),
    /expected a Blob, a ReadableStream or an object with read\(size\), got string/,
  );
  assert.throws(
    () => new FileWrapper(new Blob([]), 0),
    /blksize must be a positive integer, got 0/,
  );
});

test("close() is forwarded to the source exactly once, through the server", async () => {
  let closed = 0;
  let pos = 0;
  const data = bytes(20000);
  const source = {
    read(n: number) {
      const out = data.subarray(pos, pos + n);
      pos += n;
      return out;
    },
    close() {
      closed++;
    },
  };
  const response = await handleRequest(
    new Request("http://h/"),
    serving(() => source),
  );
  const got = new Uint8Array(await response.arrayBuffer());
  assert.deepEqual(got, data);
  assert.equal(closed, 1);
});

test("a Blob goes to the Response as it is, with its length", async () => {
  const data = bytes(100_000);
  const response = await handleRequest(
    new Request("http://h/"),
    serving(() => new Blob([data as Uint8Array<ArrayBuffer>])),
  );
  assert.equal(response.headers.get("content-length"), "100000");
  assert.deepEqual(new Uint8Array(await response.arrayBuffer()), data);
  const head = await handleRequest(
    new Request("http://h/", { method: "HEAD" }),
    serving(() => new Blob([data as Uint8Array<ArrayBuffer>])),
  );
  assert.equal(head.headers.get("content-length"), "100000");
  assert.equal(head.body, null);
});

test("a ReadableStream goes to the Response as it is", async () => {
  const stream = () =>
    new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc("part 1, "));
        c.enqueue(enc("part 2"));
        c.close();
      },
    });
  const response = await handleRequest(
    new Request("http://h/"),
    serving(stream),
  );
  assert.equal(await response.text(), "part 1, part 2");
});

test("file bodies over a real server: Blob, stream and read(n) give the same bytes", async () => {
  const data = bytes(300_000);
  const sources: Record<string, () => unknown> = {
    "/blob": () => new Blob([data as Uint8Array<ArrayBuffer>]),
    "/stream": () => new Blob([data as Uint8Array<ArrayBuffer>]).stream(),
    "/read": () => {
      let pos = 0;
      return {
        read(n: number) {
          const out = data.subarray(pos, pos + n);
          pos += n;
          return out;
        },
      };
    },
  };
  const server = makeServer("127.0.0.1", 0, (environ, startResponse) => {
    const source = sources[environ.PATH_INFO as string];
    return serving(source, 65536)(environ, startResponse);
  }, { log: false });
  try {
    await server.ready;
    for (const path of Object.keys(sources)) {
      const response = await fetch(new URL(path, server.url));
      assert.equal(response.status, 200, path);
      assert.deepEqual(
        new Uint8Array(await response.arrayBuffer()),
        data,
        path,
      );
    }
  } finally {
    await server.shutdown();
  }
});
