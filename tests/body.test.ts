import { test } from "node:test";
import assert from "node:assert/strict";
import { handleRequest, type WSGIApplication, type WSGIBody } from "../mod.ts";
import { enc, hello, memoryErrors } from "./_capture.ts";

const CT: [string, string] = ["Content-Type", "text/plain"];
const run = (
  app: WSGIApplication,
  init: RequestInit = {},
  errors = memoryErrors(),
) => handleRequest(new Request("http://h/", init), app, { errors });

test("the tutorial's app: 200, its headers, an exact Content-Length", async () => {
  const response = await run(hello);
  assert.equal(response.status, 200);
  assert.equal(
    response.headers.get("content-type"),
    "text/plain; charset=utf-8",
  );
  assert.equal(
    response.headers.get("content-length"),
    String(enc("¡Hola, mundo!").length),
  );
  assert.equal(await response.text(), "¡Hola, mundo!");
});

test("a string, a number or a bare Uint8Array instead of a list is a TypeError with a hint", async () => {
  const cases: [unknown, RegExp][] = [
    [
      "Hello",
      /returned a string; it must return a list of encoded chunks, such as \[new TextEncoder\(\)\.encode\("Hello"\)\]/,
    ],
    [42, /returned number/],
    [enc("Hello"), /returned a bare Uint8Array/],
    [undefined, /returned undefined/],
    [{}, /returned a non-iterable object/],
  ];
  for (const [value, message] of cases) {
    const errors = memoryErrors();
    const response = await run(
      (_e, sr) => {
        sr("200 OK", [CT]);
        return value as WSGIBody;
      },
      {},
      errors,
    );
    assert.equal(response.status, 500);
    assert.equal(
      await response.text(),
      "A server error occurred.  Please contact the administrator.",
    );
    assert.match(errors.text(), /TypeError/);
    assert.match(errors.text(), message);
  }
});

test("a list of strings is a TypeError naming the chunk", async () => {
  const errors = memoryErrors();
  const response = await run(
    (_e, sr) => {
      sr("200 OK", [CT]);
      return ["Hello"] as unknown as Uint8Array[];
    },
    {},
    errors,
  );
  assert.equal(response.status, 500);
  assert.match(
    errors.text(),
    /body yielded the string "Hello"; each chunk must be a Uint8Array/,
  );
});

test("an app that throws before output gets wsgiref's 500 page; the stack goes to wsgi.errors", async () => {
  const errors = memoryErrors();
  const response = await run(
    () => {
      throw new Error("kaboom");
    },
    {},
    errors,
  );
  assert.equal(response.status, 500);
  assert.equal(response.headers.get("content-type"), "text/plain");
  assert.equal(response.headers.get("content-length"), "59");
  assert.equal((await response.text()).length, 59);
  assert.match(errors.text(), /Error: kaboom\n\s+at /);
});

test("async apps and async generators", async () => {
  const asyncApp: WSGIApplication = async (_e, sr) => {
    await new Promise((r) => setTimeout(r, 5));
    sr("201 Created", [CT]);
    return [enc("made")];
  };
  const r1 = await run(asyncApp);
  assert.equal(r1.status, 201);
  assert.equal(await r1.text(), "made");
  const genApp: WSGIApplication = (_e, sr) => {
    sr("200 OK", [CT]);
    return (async function* () {
      yield enc("a");
      await new Promise((r) => setTimeout(r, 5));
      yield enc("");
      yield enc("b");
    })();
  };
  const r2 = await run(genApp);
  assert.equal(r2.headers.get("content-length"), null);
  assert.equal(await r2.text(), "ab");
});

test("startResponse may be called inside a generator, before its first chunk", async () => {
  const response = await run((_e, sr) =>
    (function* () {
      sr("202 Accepted", [CT]);
      yield enc("late");
    })()
  );
  assert.equal(response.status, 202);
  assert.equal(await response.text(), "late");
});

test("an empty body gets Content-Length: 0; an app's own Content-Length stands", async () => {
  const r1 = await run((_e, sr) => {
    sr("200 OK", [CT]);
    return [];
  });
  assert.equal(r1.headers.get("content-length"), "0");
  const r2 = await run((_e, sr) => {
    sr("200 OK", [CT, ["Content-Length", "1234"]]);
    return [];
  }, { method: "HEAD" });
  assert.equal(r2.headers.get("content-length"), "1234");
});

test("204 and 304 carry no body", async () => {
  const response = await run((_e, sr) => {
    sr("204 No Content", []);
    return [];
  });
  assert.equal(response.status, 204);
  assert.equal(response.body, null);
});

/** An iterable that records pulls and close(). */
function tracked(chunks: string[], fail = -1) {
  const log: string[] = [];
  const body = {
    closed: 0,
    *[Symbol.iterator]() {
      for (let i = 0; i < chunks.length; i++) {
        log.push(`pull ${i}`);
        if (i === fail) throw new Error("mid-stream failure");
        yield enc(chunks[i]);
      }
    },
    close() {
      body.closed++;
      log.push("close");
    },
  };
  return { body, log };
}

test("close() runs exactly once when the body ends", async () => {
  const { body, log } = tracked(["a", "b", "c"]);
  const response = await run((_e, sr) => {
    sr("200 OK", [CT]);
    return body;
  });
  assert.equal(await response.text(), "abc");
  assert.equal(body.closed, 1);
  assert.equal(log.at(-1), "close");
});

test("close() runs once for a one-element list body too (as an object with close)", async () => {
  let closed = 0;
  const response = await run((_e, sr) => {
    sr("200 OK", [CT]);
    return Object.assign([enc("x")], { close: () => void closed++ });
  });
  assert.equal(await response.text(), "x");
  assert.equal(closed, 1);
});

test("chunks stream one at a time, pulled only when the consumer reads", async () => {
  const { body, log } = tracked(["a", "b", "c", "d"]);
  const response = await run((_e, sr) => {
    sr("200 OK", [CT]);
    return body;
  });
  assert.equal(response.headers.get("content-length"), null);
  const reader = response.body!.getReader();
  assert.deepEqual(log, ["pull 0"]); // only the first chunk, to settle the headers
  const first = await reader.read();
  assert.equal(new TextDecoder().decode(first.value), "a");
  await new Promise((r) => setTimeout(r, 10));
  assert.ok(log.length <= 2, `read ahead: ${log}`);
  await reader.read();
  await new Promise((r) => setTimeout(r, 10));
  assert.ok(log.length <= 3, `read ahead: ${log}`);
  await reader.cancel();
  assert.equal(body.closed, 1);
});

test("close() runs once when the client goes away (the stream is cancelled)", async () => {
  let closed = 0;
  let finallyRan = false;
  const response = await run((_e, sr) => {
    sr("200 OK", [CT]);
    const gen = (async function* () {
      try {
        for (let i = 0;; i++) yield enc(`tick ${i}\n`);
      } finally {
        finallyRan = true;
      }
    })();
    return Object.assign(gen, { close: () => void closed++ });
  });
  const reader = response.body!.getReader();
  await reader.read();
  await reader.cancel("client gone");
  assert.equal(closed, 1);
  assert.equal(finallyRan, false); // close() given: it is the app's job
  // Without close(), the iterator's return() runs (a generator's finally).
  const r2 = await run((_e, sr) => {
    sr("200 OK", [CT]);
    return (function* () {
      try {
        for (;;) yield enc("x");
      } finally {
        finallyRan = true;
      }
    })();
  });
  const reader2 = r2.body!.getReader();
  await reader2.read();
  await reader2.cancel();
  assert.equal(finallyRan, true);
});

test("an error after output errors the stream, logs, and closes once", async () => {
  const errors = memoryErrors();
  const { body } = tracked(["a", "b", "c"], 1);
  const response = await run(
    (_e, sr) => {
      sr("200 OK", [CT]);
      return body;
    },
    {},
    errors,
  );
  assert.equal(response.status, 200);
  await assert.rejects(response.text());
  assert.equal(body.closed, 1);
  assert.match(errors.text(), /mid-stream failure/);
});

test("an error before the first chunk becomes a 500 and closes the iterable", async () => {
  const { body } = tracked(["a"], 0);
  const response = await run((_e, sr) => {
    sr("200 OK", [CT]);
    return body;
  });
  assert.equal(response.status, 500);
  assert.equal(body.closed, 1);
});

test("HEAD: the headers GET would send, and no body", async () => {
  const head = await run(hello, { method: "HEAD" });
  const get = await run(hello);
  assert.equal(head.status, 200);
  assert.equal(
    head.headers.get("content-length"),
    get.headers.get("content-length"),
  );
  assert.equal(
    head.headers.get("content-type"),
    get.headers.get("content-type"),
  );
  assert.equal(head.body, null);
  const { body } = tracked(["a", "b"]);
  const streamed = await run((_e, sr) => {
    sr("200 OK", [CT]);
    return body;
  }, { method: "HEAD" });
  assert.equal(streamed.body, null);
  assert.equal(body.closed, 1);
});

test("several Set-Cookie headers stay separate", async () => {
  const response = await run((_e, sr) => {
    sr("200 OK", [CT, ["Set-Cookie", "a=1; Path=/"], ["Set-Cookie", "b=2, c"]]);
    return [];
  });
  assert.deepEqual(response.headers.getSetCookie(), ["a=1; Path=/", "b=2, c"]);
});

test("the reason phrase is kept as the Response's statusText", async () => {
  const response = await run((_e, sr) => {
    sr("299 Fine Thing", [CT]);
    return [];
  });
  assert.equal(response.status, 299);
  assert.equal(response.statusText, "Fine Thing");
});
