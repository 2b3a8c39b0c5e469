// A body known whole reaches the wire byte for byte, whatever the shim hands
// the runtime: on Deno a short body goes as the text it encodes (cheaper
// than Deno's copy of a Uint8Array), which must change no byte and no
// header. Checked on every runtime with a raw client, and the strict
// UTF-8 decoder behind it against TextDecoder's fatal mode.
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeServer, type WSGIApplication } from "../mod.ts";
import { exchange, get, header } from "./_raw_http.ts";
import { decodeUtf8Strict } from "../src/core/_utf8.ts";
import { enc } from "./_util.ts";

// Each path answers these bytes; "/plain/..." answers without a
// Content-Type, which must stay absent.
const BODIES: Record<string, Uint8Array> = {
  "/hola": enc("¡Hola, mundo!"),
  "/bom": enc("\uFEFFwith a byte-order mark"),
  "/emoji": enc("four bytes: 😀, three: 日本, two: é"),
  "/nul": new Uint8Array([0, 1, 2, 0x7f]),
  "/latin1": new Uint8Array([0x63, 0x61, 0x66, 0xe9]), // "café" in latin-1
  "/overlong": new Uint8Array([0xc0, 0xaf, 0x41]),
  "/surrogate": new Uint8Array([0xed, 0xa0, 0x80]),
  "/truncated": new Uint8Array([0x41, 0xe6, 0x97]),
  "/big": enc("ñ".repeat(1500)),
  "/empty": new Uint8Array(0),
  "/plain/hola": enc("¡Hola, mundo!"),
};

const app: WSGIApplication = (environ, startResponse) => {
  const path = environ.PATH_INFO as string;
  startResponse(
    "200 OK",
    path.startsWith("/plain/") ? [] : [[
      "Content-Type",
      "application/octet-stream",
    ]],
  );
  return [BODIES[path]];
};

test("wire: whole bodies arrive byte for byte, with the app's headers only", async () => {
  const server = makeServer("127.0.0.1", 0, app, { log: false });
  await server.ready;
  try {
    const paths = Object.keys(BODIES);
    const responses = await exchange(
      server.serverPort,
      paths.map((p) => get(p)).join(""),
      paths.length,
    );
    paths.forEach((path, i) => {
      const r = responses[i];
      assert.equal(r.status, 200, path);
      assert.deepEqual(r.body, BODIES[path], path);
      assert.equal(
        header(r, "content-length"),
        String(BODIES[path].length),
        path,
      );
      // Without the app's Content-Type, none is added (a string body
      // would get text/plain;charset=UTF-8). Bun labels any bytes body
      // application/octet-stream itself (measured on Bun 1.4.5).
      const plain = typeof (globalThis as Record<string, unknown>).Bun ===
          "object"
        ? "application/octet-stream"
        : null;
      assert.equal(
        header(r, "content-type"),
        path.startsWith("/plain/") ? plain : "application/octet-stream",
        path,
      );
    });
  } finally {
    await server.shutdown();
  }
});

test("strict UTF-8: the same verdict and text as TextDecoder's fatal mode", () => {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  let x = 2463534242;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  for (let t = 0; t < 20000; t++) {
    // Mostly lead and continuation bytes, so that every branch is taken.
    const bytes = new Uint8Array(next() % 7);
    for (let i = 0; i < bytes.length; i++) {
      const kind = next() % 4;
      bytes[i] = kind === 0
        ? next() % 0x80
        : kind === 1
        ? 0x80 + next() % 0x40
        : 0xc0 + next() % 0x40;
    }
    let want: string | null;
    try {
      want = decoder.decode(bytes);
    } catch {
      want = null;
    }
    assert.equal(decodeUtf8Strict(bytes), want, `bytes ${[...bytes]}`);
  }
  for (const s of ["\uFEFF", "😀", "\u0800\uffff\u{10ffff}", "\u07ff"]) {
    assert.equal(decodeUtf8Strict(enc(s)), s);
  }
});
