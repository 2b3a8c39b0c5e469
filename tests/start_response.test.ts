import { test } from "node:test";
import assert from "node:assert/strict";
import {
  handleRequest,
  type StartResponse,
  type WSGIApplication,
  type WSGIEnvironment,
} from "../mod.ts";
import { enc, memoryErrors } from "./_capture.ts";

/** Calls startResponse with the given arguments and returns what it threw. */
async function thrownBy(call: (sr: StartResponse) => void): Promise<unknown> {
  let thrown: unknown = null;
  const response = await handleRequest(new Request("http://h/"), (_e, sr) => {
    try {
      call(sr);
    } catch (error) {
      thrown = error;
    }
    return [];
  }, { errors: memoryErrors() });
  await response.arrayBuffer();
  return thrown;
}

async function rejects(
  call: (sr: StartResponse) => void,
  kind: ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor,
  message: RegExp,
): Promise<void> {
  const error = await thrownBy(call);
  assert.ok(error instanceof kind, `expected ${kind.name}, got ${error}`);
  assert.match((error as Error).message, message);
}

const CT: [string, string] = ["Content-Type", "text/plain"];

test('status must be a string "NNN Reason"', async () => {
  await rejects(
    (sr) => sr(200 as unknown as string, [CT]),
    TypeError,
    /status must be a string like "200 OK", got number/,
  );
  await rejects(
    (sr) => sr("200", [CT]),
    TypeError,
    /status "200" is not "NNN Reason"/,
  );
  await rejects((sr) => sr("200OK", [CT]), TypeError, /status "200OK"/);
  await rejects((sr) => sr("2000 OK", [CT]), TypeError, /status "2000 OK"/);
  await rejects((sr) => sr("OK 200", [CT]), TypeError, /status "OK 200"/);
  await rejects(
    (sr) => sr("999 Whatever", [CT]),
    RangeError,
    /status code 999 in "999 Whatever" is outside 200-599/,
  );
  await rejects(
    (sr) => sr("100 Continue", [CT]),
    RangeError,
    /status code 100/,
  );
});

test("CR, LF and control characters in the status are refused (no response splitting)", async () => {
  await rejects(
    (sr) => sr("200 OK\r\nX-Evil: 1", [CT]),
    TypeError,
    /status "200 OK\\r\\nX-Evil: 1"/,
  );
  await rejects(
    (sr) => sr("200 O\x00K", [CT]),
    TypeError,
    /status "200 O\\u0000K"/,
  );
  await rejects(
    (sr) => sr("200 \u0100K", [CT]),
    TypeError,
    /status "200 \u0100K"/,
  );
});

test("headers must be an array of [name, value] string pairs", async () => {
  await rejects(
    (sr) =>
      sr("200 OK", { "Content-Type": "x" } as unknown as [string, string][]),
    TypeError,
    /headers must be an array of \[name, value\] pairs, got object/,
  );
  await rejects(
    (sr) => sr("200 OK", [["A"]] as unknown as [string, string][]),
    TypeError,
    /each header must be a \[name, value\] pair of strings, got \["A"\]/,
  );
  await rejects(
    (sr) => sr("200 OK", [["A", 1]] as unknown as [string, string][]),
    TypeError,
    /got \["A",1\]/,
  );
  await rejects(
    (sr) => sr("200 OK", ["A: b"] as unknown as [string, string][]),
    TypeError,
    /got "A: b"/,
  );
});

test("header names must be HTTP tokens", async () => {
  for (const name of ["X Bad", "X:Bad", "", "X-\u00e9", "X\r\nY"]) {
    const error = await thrownBy((sr) => sr("200 OK", [[name, "v"]]));
    assert.ok(error instanceof TypeError, name);
    assert.ok(
      error.message.includes(
        `header name ${JSON.stringify(name)} is not an HTTP token`,
      ),
      error.message,
    );
  }
});

test("header values may not hold CR, LF, NUL, other controls or characters above U+00FF", async () => {
  await rejects(
    (sr) => sr("200 OK", [["X-A", "a\r\nSet-Cookie: evil=1"]]),
    TypeError,
    /value "a\\r\\nSet-Cookie: evil=1" of header "X-A" contains a control character/,
  );
  await rejects(
    (sr) => sr("200 OK", [["X-A", "a\nb"]]),
    TypeError,
    /value "a\\nb"/,
  );
  await rejects(
    (sr) => sr("200 OK", [["X-A", "a\x00b"]]),
    TypeError,
    /value "a\\u0000b"/,
  );
  await rejects(
    (sr) => sr("200 OK", [["X-A", "a\x7fb"]]),
    TypeError,
    /value "a\u007fb"/,
  );
  await rejects(
    (sr) => sr("200 OK", [["X-A", "\u20ac"]]),
    TypeError,
    /value "\u20ac" of header "X-A" contains a control character or a character above U\+00FF/,
  );
  // HTAB and latin-1 are fine.
  assert.equal(
    await thrownBy((sr) => sr("200 OK", [["X-A", "a\tb \u00e9"]])),
    null,
  );
});

test("a header name or status accepted before is still checked with its value", async () => {
  // startResponse remembers good names and statuses; the value is checked
  // every time all the same.
  for (let i = 0; i < 2; i++) {
    assert.equal(
      await thrownBy((sr) => sr("299 Fine Thing", [["X-Seen", "ok"]])),
      null,
    );
  }
  await rejects(
    (sr) => sr("299 Fine Thing", [["X-Seen", "ok\r\nSet-Cookie: evil=1"]]),
    TypeError,
    /value "ok\\r\\nSet-Cookie: evil=1" of header "X-Seen"/,
  );
  await rejects(
    (sr) => sr("299 Fine Thing\r\n", [["X-Seen", "ok"]]),
    TypeError,
    /is not "NNN Reason"/,
  );
});

test("hop-by-hop headers are an error", async () => {
  for (
    const name of [
      "Connection",
      "keep-alive",
      "Transfer-Encoding",
      "Upgrade",
      "TE",
      "Trailer",
      "Proxy-Authenticate",
    ]
  ) {
    await rejects(
      (sr) => sr("200 OK", [[name, "x"]]),
      TypeError,
      new RegExp(`hop-by-hop header "${name}" is not allowed`),
    );
  }
});

test("a second startResponse without excInfo is an error", async () => {
  await rejects(
    (sr) => {
      sr("200 OK", [CT]);
      sr("404 Not Found", [CT]);
    },
    Error,
    /startResponse\(\) was already called; a second call must pass the caught error as excInfo/,
  );
});

test("excInfo before output replaces status and headers", async () => {
  const response = await handleRequest(new Request("http://h/"), (_e, sr) => {
    sr("200 OK", [CT, ["X-First", "1"]]);
    try {
      throw new Error("boom");
    } catch (error) {
      sr("500 Oops", [["Content-Type", "text/html"]], error);
    }
    return [enc("<p>sorry</p>")];
  });
  assert.equal(response.status, 500);
  assert.equal(response.headers.get("content-type"), "text/html");
  assert.equal(response.headers.get("x-first"), null);
  assert.equal(await response.text(), "<p>sorry</p>");
});

test("excInfo after output rethrows it", async () => {
  const boom = new Error("boom");
  let rethrown: unknown = null;
  const response = await handleRequest(new Request("http://h/"), (_e, sr) => {
    const write = sr("200 OK", [CT]);
    write(enc("partial"));
    try {
      sr("500 Oops", [CT], boom);
    } catch (error) {
      rethrown = error;
    }
    return [enc(" rest")];
  });
  assert.equal(rethrown, boom);
  assert.equal(response.status, 200);
  assert.equal(await response.text(), "partial rest");
});

test("write() output goes out before the iterable's chunks", async () => {
  const response = await handleRequest(new Request("http://h/"), (_e, sr) => {
    const write = sr("200 OK", [CT]);
    write(enc("1"));
    write(enc("2"));
    return (function* () {
      yield enc("3");
      write(enc("4"));
      yield enc("5");
    })();
  });
  assert.equal(await response.text(), "12345");
});

test("write() takes only Uint8Array, and only after startResponse", async () => {
  const errors = memoryErrors();
  const app: WSGIApplication = (_e: WSGIEnvironment, sr: StartResponse) => {
    const write = sr("200 OK", [CT]);
    write("text" as unknown as Uint8Array);
    return [];
  };
  const response = await handleRequest(new Request("http://h/"), app, {
    errors,
  });
  assert.equal(response.status, 500);
  assert.match(
    errors.text(),
    /write\(\) takes a Uint8Array, got "text"; encode text with new TextEncoder\(\)\.encode/,
  );
});

test("an application that never calls startResponse gets a 500", async () => {
  const errors = memoryErrors();
  const response = await handleRequest(
    new Request("http://h/"),
    () => [enc("x")],
    { errors },
  );
  assert.equal(response.status, 500);
  assert.match(errors.text(), /without calling startResponse\(\)/);
});
