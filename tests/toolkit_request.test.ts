// WSGIRequest (src/toolkit/request.ts) over real sockets: what it reads
// from the environ the server built, hostile cookies, bodies over their
// limits, malformed JSON and multipart, laziness.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { WSGIApplication, WSGIEnvironment } from "../mod.ts";
import {
  HTTPError,
  WSGIRequest,
  type WSGIRequestOptions,
  WSGIResponse,
} from "../src/toolkit/mod.ts";
import { at, serving } from "./_toolkit.ts";
import { exchange, text } from "./_raw_http.ts";

/** An app answering with JSON of what `what` reads from the request. */
function probe(
  what: (request: WSGIRequest) => unknown,
  options?: WSGIRequestOptions,
): WSGIApplication {
  return async (environ, startResponse) => {
    const request = new WSGIRequest(environ, options);
    try {
      return WSGIResponse.json(await what(request)).respond(
        environ,
        startResponse,
      );
    } catch (error) {
      if (!(error instanceof HTTPError)) throw error;
      return WSGIResponse.fromError(error).respond(environ, startResponse);
    }
  };
}

test("path, scriptRoot, args, url, host, scheme, remoteAddr, headers, as text", async () => {
  const app = probe((r) => ({
    method: r.method,
    path: r.path,
    scriptRoot: r.scriptRoot,
    args: [...r.args],
    url: r.url,
    host: r.host,
    scheme: r.scheme,
    remoteAddr: r.remoteAddr,
    thing: r.headers.get("x-thing"),
    mimetype: r.mimetype,
  }));
  await serving(app, async (server) => {
    const res = await fetch(
      at(server, "/caf%C3%A9/x?name=Zo%C3%AB&a=1&a=&b=%FF"),
      {
        headers: { "X-Thing": "yes" },
      },
    );
    const seen = await res.json();
    assert.deepEqual(seen, {
      method: "GET",
      path: "/café/x",
      scriptRoot: "",
      args: [["name", "Zoë"], ["a", "1"], ["a", ""], ["b", "\ufffd"]],
      url:
        `http://127.0.0.1:${server.serverPort}/caf%C3%A9/x?name=Zo%C3%AB&a=1&a=&b=%FF`,
      host: `127.0.0.1:${server.serverPort}`,
      scheme: "http",
      remoteAddr: "127.0.0.1",
      thing: "yes",
      mimetype: "text/plain",
    });
  });
});

test("cookies: RFC 6265 pairs, the first of a repeated name, quoted values with ; and escapes, bad bytes, nameless pairs dropped", async () => {
  const app = probe((r) => Object.fromEntries(r.cookies));
  await serving(app, async (server) => {
    // Raw bytes: fetch would re-encode what is not UTF-8.
    const cookie = 'a=1; b="x;y"; a=2; =bad; ;; c="q\\"uo\\\\te"; ' +
      'd=caf\xc3\xa9; e=\xff; f="\\303\\251"; g = 7 ; h=; i="unterminated; j=ok';
    const [res] = await exchange(
      server.serverPort,
      `GET / HTTP/1.1\r\nHost: x\r\nCookie: ${cookie}\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(res.body)), {
      a: "1",
      b: "x;y",
      c: 'q"uo\\te',
      d: "café",
      e: "\ufffd",
      f: "é",
      g: "7",
      h: "",
      i: '"unterminated',
      j: "ok",
    });
  });
});

test("cookies: two Cookie header lines are both read", async () => {
  const app = probe((r) => Object.fromEntries(r.cookies));
  await serving(app, async (server) => {
    const [res] = await exchange(
      server.serverPort,
      "GET / HTTP/1.1\r\nHost: x\r\nCookie: a=1\r\nCookie: b=2\r\nConnection: close\r\n\r\n",
    );
    const seen = JSON.parse(text(res));
    assert.equal(seen.a, "1");
    assert.equal(seen.b, "2");
  });
});

test("json(): parsed; 400 naming the parse error; 415 for another type; 413 over the limit before reading", async () => {
  const app = probe((r) => r.json(), { maxFormMemorySize: 100 });
  await serving(app, async (server) => {
    const post = (body: string, type = "application/json") =>
      fetch(server.url, {
        method: "POST",
        body,
        headers: { "Content-Type": type },
      });
    const ok = await post('{"a":[1,"é"]}');
    assert.deepEqual(await ok.json(), { a: [1, "é"] });
    const vendor = await post(
      '{"b":true}',
      "application/vnd.api+json; charset=utf-8",
    );
    assert.deepEqual(await vendor.json(), { b: true });
    const bad = await post('{"a":');
    assert.equal(bad.status, 400);
    assert.match(
      await bad.text(),
      /^400 Bad Request\n\nthe body is not valid JSON: /,
    );
    const wrong = await post('{"a":1}', "text/plain");
    assert.equal(wrong.status, 415);
    assert.match(await wrong.text(), /"text\/plain"/);
    const big = await post(JSON.stringify({ a: "x".repeat(200) }));
    assert.equal(big.status, 413);
    assert.match(await big.text(), /over the 100-byte limit/);
  });
});

test("data(): a body over maxContentLength is 413, with a Content-Length or chunked; the server keeps serving", async () => {
  const app = probe(async (r) => (await r.data()).length, {
    maxContentLength: 1000,
  });
  await serving(app, async (server) => {
    const fits = await fetch(server.url, {
      method: "POST",
      body: "x".repeat(1000),
    });
    assert.equal(await fits.json(), 1000);
    const over = await fetch(server.url, {
      method: "POST",
      body: "x".repeat(1001),
    });
    assert.equal(over.status, 413);
    await over.arrayBuffer();
    const chunk = "x".repeat(600);
    const [chunked] = await exchange(
      server.serverPort,
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
        `258\r\n${chunk}\r\n258\r\n${chunk}\r\n0\r\n\r\n`,
    );
    assert.equal(chunked.status, 413);
    const again = await fetch(server.url, { method: "POST", body: "abc" });
    assert.equal(await again.json(), 3);
  });
});

test("form() and files(): urlencoded and multipart through the runtime's parser; uploads as Files", async () => {
  const app = probe(async (r) => {
    const form = await r.form();
    const files = await r.files();
    const upload = await r.file("upload");
    return {
      fields: [...form],
      files: [...files].map((
        [k, v],
      ) => [k, v.map((f) => [f.name, f.type, f.size])]),
      content: upload ? await upload.text() : null,
      data: (await r.data()).length > 0,
    };
  });
  await serving(app, async (server) => {
    const url = await fetch(server.url, {
      method: "POST",
      body: new URLSearchParams([["name", "Zoë & co"], ["tag", "a"], [
        "tag",
        "b",
      ]]),
    });
    assert.deepEqual(await url.json(), {
      fields: [["name", "Zoë & co"], ["tag", "a"], ["tag", "b"]],
      files: [],
      content: null,
      data: true,
    });
    const form = new FormData();
    form.append("title", 'Report; "final"');
    form.append(
      "upload",
      new File(["héllo\r\n--not a boundary"], "r é.txt", {
        type: "text/plain",
      }),
    );
    form.append("upload", new File([new Uint8Array([0, 1, 2])], "b.bin"));
    const multi = await fetch(server.url, { method: "POST", body: form });
    const seen = await multi.json();
    assert.deepEqual(seen.fields, [["title", 'Report; "final"']]);
    assert.equal(seen.files[0][0], "upload");
    assert.deepEqual(seen.files[0][1][0].slice(0, 1), ["r é.txt"]);
    assert.equal(seen.files[0][1][1][2], 3);
    assert.equal(seen.content, "héllo\r\n--not a boundary");
    // A JSON body is not a form: both empty.
    const json = await fetch(server.url, {
      method: "POST",
      body: "{}",
      headers: { "Content-Type": "application/json" },
    });
    assert.deepEqual((await json.json()).fields, []);
  });
});

test("malformed multipart is a 400, too many parts a 413, an oversized field a 413", async () => {
  const app = probe(async (r) => [...await r.form()].length, {
    maxFormParts: 3,
    maxFormMemorySize: 50,
  });
  await serving(app, async (server) => {
    const post = (body: string, boundary = "XyZ") =>
      fetch(server.url, {
        method: "POST",
        body,
        headers: {
          "Content-Type": `multipart/form-data; boundary=${boundary}`,
        },
      });
    const part = (name: string, value: string) =>
      `--XyZ\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    assert.equal(await (await post(part("a", "1") + "--XyZ--\r\n")).json(), 1);
    const garbage = await post("garbage without any boundary");
    assert.equal(garbage.status, 400);
    assert.match(
      await garbage.text(),
      /multipart\/form-data body is malformed/,
    );
    // No closing boundary, or a part whose headers never end: Deno's parser
    // is lenient, Bun's and Node's refuse the body; either way an answer
    // (200 or 400), never a crash.
    for (const bad of [part("a", "1"), "--XyZ\r\nno headers end"]) {
      const res = await post(bad);
      assert.ok([200, 400].includes(res.status), `${res.status} for ${bad}`);
      await res.arrayBuffer();
    }
    const noBoundary = await fetch(server.url, {
      method: "POST",
      body: part("a", "1") + "--XyZ--\r\n",
      headers: { "Content-Type": "multipart/form-data" },
    });
    assert.equal(noBoundary.status, 400);
    await noBoundary.arrayBuffer();
    const many = await post(
      ["a", "b", "c", "d"].map((n) => part(n, "1")).join("") + "--XyZ--\r\n",
    );
    assert.equal(many.status, 413);
    assert.match(await many.text(), /more than 3 form parts/);
    const big = await post(part("a", "x".repeat(51)) + "--XyZ--\r\n");
    assert.equal(big.status, 413);
    assert.match(await big.text(), /form field "a"/);
  });
});

test("lazy: a request nobody reads leaves wsgi.input unread", async () => {
  const app: WSGIApplication = (environ: WSGIEnvironment, startResponse) => {
    const request = new WSGIRequest(environ);
    const seen = `${request.method} ${request.path}`;
    const left = environ["wsgi.input"].read(100).length;
    return new WSGIResponse(`${seen} ${left}`).respond(environ, startResponse);
  };
  await serving(app, async (server) => {
    const res = await fetch(at(server, "/p"), {
      method: "POST",
      body: "12345",
    });
    assert.equal(await res.text(), "POST /p 5");
  });
});

test("data() and json() read a streaming wsgi.input (bufferInput: false) too", async () => {
  const app = probe(async (r) => ({
    json: await r.json(),
    bytes: (await r.data()).length,
  }));
  await serving(
    app as WSGIApplication,
    async (server) => {
      const body = JSON.stringify({ x: "y".repeat(100_000) });
      const res = await fetch(server.url, {
        method: "POST",
        body,
        headers: { "Content-Type": "application/json" },
      });
      const seen = await res.json();
      assert.equal(seen.json.x.length, 100_000);
      assert.equal(seen.bytes, body.length);
    },
    { bufferInput: false },
  );
});

test("text() decodes by the charset; accepts() negotiates by q-values", async () => {
  const app = probe(async (r) => ({
    text: await r.text(),
    best: r.accepts("json", "html"),
    png: r.accepts("image/png"),
  }));
  await serving(app, async (server) => {
    const res = await fetch(server.url, {
      method: "POST",
      body: new Uint8Array([0x63, 0x61, 0x66, 0xe9]),
      headers: {
        "Content-Type": "text/plain; charset=iso-8859-1",
        Accept: "application/json;q=0.5, text/html, image/*;q=0",
      },
    });
    assert.deepEqual(await res.json(), {
      text: "café",
      best: "html",
      png: null,
    });
  });
});
