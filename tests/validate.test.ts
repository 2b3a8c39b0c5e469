// validator(): one test per check of wsgiref.validate (numbered as in
// wsgiref.md §1.5), each showing the side that breaks the rule (a bad
// environ or stream passed straight to the wrapped app is a broken server;
// a bad call or result from the app is a broken application), then
// correct apps run through handleRequest without complaint.
import { test } from "node:test";
import assert from "node:assert/strict";
import { validator, WSGIValidationError } from "../src/wsgiref/validate.ts";
import {
  MemoryErrorStream,
  setupTestingDefaults,
} from "../src/wsgiref/util.ts";
import { handleRequest } from "../src/core/handler.ts";
import { demoApp } from "../src/wsgiref/demo_app.ts";
import type {
  HeaderPair,
  InputStream,
  StartResponse,
  WSGIApplication,
  WSGIEnvironment,
} from "../src/core/types.ts";
import { enc } from "./_util.ts";

const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const TEXT: HeaderPair[] = [["Content-Type", "text/plain"]];

/** A valid environ (wsgiref's testing defaults plus QUERY_STRING). */
function environ(
  changes: Record<string, unknown> = {},
  body = "",
): WSGIEnvironment {
  const env: Record<string, unknown> = { QUERY_STRING: "" };
  if (body) env["wsgi.input"] = inputOf(body);
  setupTestingDefaults(env);
  for (const [key, value] of Object.entries(changes)) {
    if (value === DELETE) delete env[key];
    else env[key] = value;
  }
  return env as WSGIEnvironment;
}
const DELETE = Symbol("delete");

function inputOf(text: string): InputStream {
  const data = enc(text);
  let pos = 0;
  const read = (n?: number | null): Uint8Array<ArrayBuffer> => {
    const end = n == null || n < 0
      ? data.length
      : Math.min(data.length, pos + n);
    const out = data.subarray(pos, end);
    pos = end;
    return out;
  };
  const readline = (n?: number | null): Uint8Array<ArrayBuffer> => {
    const nl = data.indexOf(10, pos);
    let end = nl === -1 ? data.length : nl + 1;
    if (n != null && n >= 0) end = Math.min(end, pos + n);
    const out = data.subarray(pos, end);
    pos = end;
    return out;
  };
  return {
    read,
    readline,
    readlines: () => {
      const lines: Uint8Array<ArrayBuffer>[] = [];
      for (let l = readline(); l.length; l = readline()) lines.push(l);
      return lines;
    },
    *[Symbol.iterator]() {
      for (let l = readline(); l.length; l = readline()) yield l;
    },
  };
}

/** A fake server: records what startResponse and write() received. */
function server() {
  const calls: unknown[][] = [];
  const written: Uint8Array[] = [];
  const startResponse = ((...args: unknown[]) => {
    calls.push(args);
    return (data: Uint8Array) => void written.push(data);
  }) as StartResponse;
  return { calls, written, startResponse };
}

/** Runs a validated app as a server would: call, iterate all, close. */
async function serve(app: WSGIApplication, env = environ()) {
  const s = server();
  const body = await validator(app)(env, s.startResponse);
  const chunks: Uint8Array[] = [];
  try {
    if (Symbol.asyncIterator in body) {
      for await (const c of body) chunks.push(c);
    } else for (const c of body) chunks.push(c);
  } finally {
    await (body as unknown as { close(): unknown }).close();
  }
  return { ...s, chunks, env };
}

const hello: WSGIApplication = (_env, startResponse) => {
  startResponse("200 OK", TEXT);
  return [enc("hello")];
};

/** An app that runs `f` inside, after a valid startResponse. */
function appDoing(f: (env: WSGIEnvironment) => unknown): WSGIApplication {
  return (env, startResponse) => {
    startResponse("200 OK", TEXT);
    f(env);
    return [];
  };
}

/** Asserts that running `app` throws a WSGIValidationError matching `re`. */
async function rejects(
  app: WSGIApplication,
  re: RegExp,
  env = environ(),
): Promise<void> {
  await assert.rejects(() => serve(app, env), (e: unknown) => {
    assert.ok(
      e instanceof WSGIValidationError,
      `not a WSGIValidationError: ${e}`,
    );
    assert.equal(e.name, "WSGIValidationError");
    assert.match(e.message, re);
    assert.match(e.message, /\((PEP 3333; )?wsgiref\.validate\)$/);
    return true;
  });
}

/** Asserts that the environ is refused before the app runs. */
async function refused(changes: Record<string, unknown>, re: RegExp) {
  let called = false;
  await rejects(
    (env, sr) => {
      called = true;
      return hello(env, sr);
    },
    re,
    environ(changes),
  );
  assert.equal(called, false, "the app must not run with a bad environ");
}

function errorsOf(env: WSGIEnvironment): string {
  // The validator replaced wsgi.errors with its wrapper; setupTestingDefaults
  // made a MemoryErrorStream, kept here by the test.
  return (env["test.errors"] as MemoryErrorStream).getValue();
}

function tracked(changes: Record<string, unknown> = {}): WSGIEnvironment {
  const env = environ(changes);
  env["test.errors"] = env["wsgi.errors"];
  return env;
}

// ---- Calling the application -------------------------------------------

test("check 1: the app takes exactly environ and startResponse", async () => {
  const app = validator(hello) as (...args: unknown[]) => unknown;
  const s = server();
  for (const args of [[environ()], [environ(), s.startResponse, 1], []]) {
    assert.throws(() => app(...args), {
      name: "WSGIValidationError",
      message: new RegExp(
        `two arguments, environ and startResponse; got ${args.length}`,
      ),
    });
  }
  assert.throws(() => app(environ(), "not callable"), WSGIValidationError);
  assert.ok(await serve(hello));
});

test("check 2: environ is checked, then wsgi.input and wsgi.errors are wrapped", async () => {
  const env = environ({}, "body");
  const input = env["wsgi.input"];
  const errors = env["wsgi.errors"];
  let seen: unknown[] = [];
  await serve((e, sr) => {
    seen = [e, e["wsgi.input"], e["wsgi.errors"]];
    return hello(e, sr);
  }, env);
  assert.equal(seen[0], env);
  assert.notEqual(seen[1], input);
  assert.notEqual(seen[2], errors);
  // The environ dict itself was changed, as in Python.
  assert.equal(env["wsgi.input"], seen[1]);
  assert.equal((seen[1] as InputStream).read(10).length, 4);
  await refused({ REQUEST_METHOD: DELETE }, /required key "REQUEST_METHOD"/);
});

test("check 3: the app must return something (if only an empty list)", async () => {
  for (const bad of [null, undefined, false, 0]) {
    await rejects(
      (_e, sr) => (sr("200 OK", TEXT), bad as never),
      new RegExp(`must return an iterable, if only an empty list; got ${bad}`),
    );
  }
  // An async app resolving to nothing is caught too.
  await rejects(
    (_e, sr) => (sr("200 OK", TEXT), Promise.resolve(null as never)),
    /got null/,
  );
  assert.deepEqual(
    (await serve((_e, sr) => (sr("200 OK", TEXT), []))).chunks,
    [],
  );
});

test("check 4: the app must not return a string or bytes", async () => {
  await rejects(
    (_e, sr) => (sr("200 OK", TEXT), "hi" as never),
    /returned "hi": you should not return a string or bytes/,
  );
  await rejects(
    (_e, sr) => (sr("200 OK", TEXT), enc("hi") as never),
    /returned a Uint8Array of 2 bytes/,
  );
});

test("check 5: the body is wrapped (no list, so no computed Content-Length)", async () => {
  await rejects(
    (_e, sr) => (sr("200 OK", TEXT), {} as never),
    /neither iterable nor async iterable/,
  );
  const s = server();
  const body = validator(hello)(environ(), s.startResponse);
  assert.equal(Array.isArray(body), false);
  // wsgiref's test_validated_hello: only the unwrapped list gets a length.
  const plain = await handleRequest(new Request("http://localhost/"), hello);
  const checked = await handleRequest(
    new Request("http://localhost/"),
    validator(hello),
  );
  assert.equal(plain.headers.get("content-length"), "5");
  assert.equal(checked.headers.get("content-length"), null);
  assert.equal(await checked.text(), "hello");
});

// ---- Environ (a broken server) -----------------------------------------

test("check 6: the environ must be a plain object", async () => {
  for (const bad of [[], new Map(), null, "env", new (class Env {})()]) {
    const s = server();
    assert.throws(() => validator(hello)(bad as never, s.startResponse), {
      name: "WSGIValidationError",
      message:
        /^The environ must be a plain object \(prototype Object.prototype or null\), got /,
    });
  }
  const bare = Object.assign(Object.create(null), environ());
  assert.equal(dec((await serve(hello, bare)).chunks[0]), "hello");
});

test("check 7: the environ must have the required keys", async () => {
  for (
    const key of [
      "REQUEST_METHOD",
      "SERVER_NAME",
      "SERVER_PORT",
      "wsgi.version",
      "wsgi.input",
      "wsgi.errors",
      "wsgi.multithread",
      "wsgi.multiprocess",
      "wsgi.run_once",
    ]
  ) {
    await refused(
      { [key]: DELETE },
      new RegExp(`missing the required key "${key}"`),
    );
  }
});

test("check 8: HTTP_CONTENT_TYPE and HTTP_CONTENT_LENGTH must be absent", async () => {
  await refused(
    { HTTP_CONTENT_TYPE: "text/plain" },
    /must not have the key HTTP_CONTENT_TYPE \(use CONTENT_TYPE instead\)/,
  );
  await refused(
    { HTTP_CONTENT_LENGTH: "1" },
    /HTTP_CONTENT_LENGTH \(use CONTENT_LENGTH instead\)/,
  );
});

test("check 9: a missing QUERY_STRING is a warning on wsgi.errors", async () => {
  const env = tracked({ QUERY_STRING: DELETE });
  const out = await serve(hello, env);
  assert.equal(dec(out.chunks[0]), "hello");
  assert.match(
    errorsOf(env),
    /^WSGIWarning: QUERY_STRING is not in the WSGI environment; .* \(wsgiref\.validate\)\n$/,
  );
  const ok = tracked();
  await serve(hello, ok);
  assert.equal(errorsOf(ok), "");
});

test("check 10: CGI variables must be native strings; extensions are free", async () => {
  await refused(
    { SERVER_PORT: 80 },
    /The environ variable SERVER_PORT must be a string, got 80/,
  );
  await refused(
    { HTTP_X: undefined },
    /The environ variable HTTP_X must be a string, got undefined/,
  );
  await refused(
    { HTTP_X: "\u20ac" },
    /HTTP_X "€" has the character "€" at index 0, above U\+00FF/,
  );
  const out = await serve(
    hello,
    environ({ "x.custom": 42, HTTP_X: "caf\u00e9" }),
  );
  assert.equal(out.chunks.length, 1);
});

test("check 11: wsgi.version must be an array like [1, 0]", async () => {
  for (const bad of ["1.0", { 0: 1, 1: 0, length: 2 }, [1], [1, "0"]]) {
    await refused(
      { "wsgi.version": bad },
      /wsgi.version must be an array of two integers like \[1, 0\], got /,
    );
  }
  assert.ok(
    await serve(hello, environ({ "wsgi.version": Object.freeze([1, 0]) })),
  );
});

test("check 12: wsgi.url_scheme must be http or https", async () => {
  await refused(
    { "wsgi.url_scheme": "ftp" },
    /wsgi.url_scheme must be "http" or "https", got "ftp"/,
  );
  await refused(
    { "wsgi.url_scheme": DELETE },
    /missing the key "wsgi.url_scheme"/,
  );
  assert.ok(await serve(hello, environ({ "wsgi.url_scheme": "https" })));
});

test("check 13: wsgi.input must have read, readline, readlines and iteration", async () => {
  for (const name of ["read", "readline", "readlines"]) {
    const input = { ...inputOf(""), [name]: undefined };
    await refused(
      { "wsgi.input": input },
      new RegExp(`wsgi.input \\(.*\\) has no ${name}\\(\\) method`),
    );
  }
  const { read, readline, readlines } = inputOf("");
  await refused(
    { "wsgi.input": { read, readline, readlines } },
    /wsgi.input \(an object of class Object\) is neither iterable nor async iterable/,
  );
});

test("check 14: wsgi.errors must have flush, write and writelines", async () => {
  for (const name of ["flush", "write", "writelines"]) {
    const errors = { flush() {}, write() {}, writelines() {}, [name]: "no" };
    await refused(
      { "wsgi.errors": errors },
      new RegExp(`wsgi.errors \\(.*\\) has no ${name}\\(\\) method`),
    );
  }
});

test("check 15: an unknown REQUEST_METHOD is a warning", async () => {
  const env = tracked({ REQUEST_METHOD: "BREW" });
  assert.ok(await serve(hello, env));
  assert.equal(
    errorsOf(env),
    'WSGIWarning: Unknown REQUEST_METHOD: "BREW" (wsgiref.validate)\n',
  );
  for (
    const method of [
      "GET",
      "HEAD",
      "POST",
      "OPTIONS",
      "PATCH",
      "PUT",
      "DELETE",
      "TRACE",
    ]
  ) {
    const ok = tracked({ REQUEST_METHOD: method });
    await serve(hello, ok);
    assert.equal(errorsOf(ok), "");
  }
});

test("check 16: a non-empty SCRIPT_NAME must start with /", async () => {
  await refused(
    { SCRIPT_NAME: "app" },
    /SCRIPT_NAME "app" doesn't start with "\/"/,
  );
  assert.ok(await serve(hello, environ({ SCRIPT_NAME: "/app" })));
});

test("check 17: a non-empty PATH_INFO must start with /", async () => {
  await refused({ PATH_INFO: "*" }, /PATH_INFO "\*" doesn't start with "\/"/);
  await refused(
    { PATH_INFO: "http://h/x" },
    /PATH_INFO "http:\/\/h\/x" doesn't start/,
  );
  assert.ok(
    await serve(hello, environ({ SCRIPT_NAME: "/app", PATH_INFO: "" })),
  );
});

test("check 18: a non-empty CONTENT_LENGTH must be an integer >= 0", async () => {
  await refused({ CONTENT_LENGTH: "-1" }, /Invalid CONTENT_LENGTH: "-1"/);
  await refused(
    { CONTENT_LENGTH: "abc" },
    /CONTENT_LENGTH "abc" is not an integer/,
  );
  await refused(
    { CONTENT_LENGTH: "1__0" },
    /CONTENT_LENGTH "1__0" is not an integer/,
  );
  // What Python's int() accepts passes: spaces, a sign, underscores.
  for (const ok of ["", "0", " 12 ", "+5", "-0", "1_000"]) {
    assert.ok(await serve(hello, environ({ CONTENT_LENGTH: ok })), ok);
  }
});

test("check 19: without SCRIPT_NAME, PATH_INFO is required", async () => {
  await refused(
    { SCRIPT_NAME: "", PATH_INFO: DELETE },
    /One of SCRIPT_NAME or PATH_INFO is required/,
  );
  await refused(
    { SCRIPT_NAME: DELETE, PATH_INFO: DELETE },
    /One of SCRIPT_NAME or PATH_INFO/,
  );
  assert.ok(
    await serve(hello, environ({ SCRIPT_NAME: "/a", PATH_INFO: DELETE })),
  );
});

test("check 20: SCRIPT_NAME must not be /", async () => {
  await refused(
    { SCRIPT_NAME: "/" },
    /SCRIPT_NAME cannot be "\/"; it should instead be "", and PATH_INFO should be "\/"/,
  );
});

// ---- wsgi.input ----------------------------------------------------------

const input = (env: WSGIEnvironment) => env["wsgi.input"] as InputStream;
const loose = (env: WSGIEnvironment) =>
  env["wsgi.input"] as unknown as Record<string, (...a: unknown[]) => unknown>;

test("check 21: the app must call read() with exactly one argument", async () => {
  await rejects(
    appDoing((e) => input(e).read()),
    /wsgi.input.read\(\) must be called with exactly one argument \(a size\), got 0 \(wsgiref\.validate\)$/,
  );
  await rejects(
    appDoing((e) => loose(e).read(1, 2)),
    /exactly one argument \(a size\), got 2/,
  );
  let got = "";
  await serve(
    appDoing((e) => (got = dec(input(e).read(3)))),
    environ({}, "abcdef"),
  );
  assert.equal(got, "abc");
});

test("check 22: read() must give a Uint8Array (a broken server)", async () => {
  const bad = { ...inputOf("abc"), read: () => "abc" };
  await rejects(
    appDoing((e) => input(e).read(3)),
    /wsgi.input.read\(\) must give a Uint8Array, got "abc"/,
    environ({ "wsgi.input": bad }),
  );
});

test("check 23: readline() takes at most one argument and gives a Uint8Array", async () => {
  await rejects(
    appDoing((e) => loose(e).readline(1, 2)),
    /readline\(\) takes at most one argument, got 2/,
  );
  const bad = { ...inputOf("a\nb"), readline: () => [97] };
  await rejects(
    appDoing((e) => input(e).readline()),
    /readline\(\) must give a Uint8Array, got \[97\]/,
    environ({ "wsgi.input": bad }),
  );
  const lines: string[] = [];
  await serve(
    appDoing((e) =>
      lines.push(dec(input(e).readline()), dec(input(e).readline(1)))
    ),
    environ({}, "ab\ncd"),
  );
  assert.deepEqual(lines, ["ab\n", "c"]);
});

test("check 24: readlines() takes at most one argument and gives an array of Uint8Array", async () => {
  await rejects(
    appDoing((e) => loose(e).readlines(1, 2)),
    /readlines\(\) takes at most one argument, got 2/,
  );
  const notArray = { ...inputOf(""), readlines: () => new Set() };
  await rejects(
    appDoing((e) => input(e).readlines()),
    /readlines\(\) must give an array, got an object of class Set/,
    environ({ "wsgi.input": notArray }),
  );
  const badItem = { ...inputOf(""), readlines: () => [enc("a\n"), "b"] };
  await rejects(
    appDoing((e) => input(e).readlines()),
    /Each line from wsgi.input.readlines\(\) must give a Uint8Array, got "b"/,
    environ({ "wsgi.input": badItem }),
  );
  let n = 0;
  await serve(
    appDoing((e) => (n = input(e).readlines().length)),
    environ({}, "a\nb\nc"),
  );
  assert.equal(n, 3);
});

test("check 25: iterating wsgi.input yields lines through the checked readline", async () => {
  let lines: string[] = [];
  await serve(
    appDoing((e) => (lines = [...input(e)].map(dec))),
    environ({}, "a\nb\n"),
  );
  assert.deepEqual(lines, ["a\n", "b\n"]);
  const bad = { ...inputOf("a\n"), readline: () => "a\n" };
  await rejects(
    appDoing((e) => [...input(e)]),
    /readline\(\) must give a Uint8Array, got "a\\n"/,
    environ({ "wsgi.input": bad }),
  );
});

test("check 26: the app must not close wsgi.input", async () => {
  await rejects(
    appDoing((e) => loose(e).close()),
    /^wsgi.input.close\(\) must not be called/,
  );
});

test("checks 21-26 also hold for the async wsgi.input (bufferInput: false)", async () => {
  const errors = new MemoryErrorStream();
  const seen: string[] = [];
  const app = validator(async (env, startResponse) => {
    const body = env["wsgi.input"] as unknown as
      & AsyncIterable<Uint8Array>
      & Record<string, (...a: unknown[]) => Promise<unknown>>;
    seen.push(dec(await body.read(2) as Uint8Array));
    seen.push(dec(await body.readline() as Uint8Array));
    for await (const line of body) seen.push(dec(line));
    await assert.rejects(
      () => body.read(),
      /exactly one argument \(a size\), got 0/,
    );
    assert.throws(
      () => body.close(),
      /wsgi.input.close\(\) must not be called/,
    );
    await assert.rejects(
      () => body.readline(1, 2),
      /readline\(\) takes at most one argument, got 2/,
    );
    await assert.rejects(
      () => body.readlines(1, 2),
      /readlines\(\) takes at most one argument, got 2/,
    );
    assert.deepEqual(await body.readlines(), []);
    startResponse("200 OK", TEXT);
    return [enc("ok")];
  });
  const response = await handleRequest(
    new Request("http://localhost/", { method: "POST", body: "abc\nde\nf" }),
    app,
    { bufferInput: false, errors },
  );
  assert.equal(await response.text(), "ok");
  assert.deepEqual(seen, ["ab", "c\n", "de\n", "f"]);
  assert.equal(errors.getValue(), "");
});

test("checks 22-24 catch a broken async wsgi.input (a broken server)", async () => {
  const cases: [string, unknown, RegExp][] = [
    ["read", "text", /wsgi.input.read\(\) must give a Uint8Array, got "text"/],
    ["readline", null, /readline\(\) must give a Uint8Array, got null/],
    ["readlines", "x", /readlines\(\) must give an array, got "x"/],
    ["readlines", [1], /Each line from wsgi.input.readlines\(\) must give/],
  ];
  for (const [method, value, re] of cases) {
    const broken = {
      read: () => Promise.resolve(new Uint8Array(0)),
      readline: () => Promise.resolve(new Uint8Array(0)),
      readlines: () => Promise.resolve([]),
      async *[Symbol.asyncIterator]() {},
      [method]: () => Promise.resolve(value),
    };
    let read: Promise<unknown> | null = null;
    await serve(
      appDoing((e) => {
        const input = e["wsgi.input"] as unknown as Record<
          string,
          (n: number) => unknown
        >;
        read = Promise.resolve(input[method](1));
        read.catch(() => {}); // asserted below, after the app returns
      }),
      environ({ "wsgi.input": broken }),
    );
    await assert.rejects(read!, re);
  }
});

// ---- wsgi.errors ---------------------------------------------------------

const errs = (env: WSGIEnvironment) =>
  env["wsgi.errors"] as unknown as Record<string, (...a: unknown[]) => unknown>;

test("check 27: wsgi.errors.write() takes a string", async () => {
  await rejects(
    appDoing((e) => errs(e).write(enc("x"))),
    /wsgi.errors.write\(\) takes a string, got a Uint8Array of 1 bytes/,
  );
  const env = tracked();
  await serve(appDoing((e) => errs(e).write("note\n")), env);
  assert.equal(errorsOf(env), "note\n");
});

test("check 28: wsgi.errors.writelines() writes strings only", async () => {
  const env = tracked();
  await rejects(
    appDoing((e) => errs(e).writelines(["a", 1])),
    /write\(\) takes a string, got 1/,
    env,
  );
  assert.equal(errorsOf(env), "a");
});

test("check 29: wsgi.errors.flush() passes through", async () => {
  let flushed = 0;
  const errors = { write() {}, writelines() {}, flush: () => void flushed++ };
  await serve(
    appDoing((e) => errs(e).flush()),
    environ({ "wsgi.errors": errors }),
  );
  assert.equal(flushed, 1);
});

test("check 30: the app must not close wsgi.errors", async () => {
  await rejects(
    appDoing((e) => errs(e).close()),
    /^wsgi.errors.close\(\) must not be called/,
  );
});

// ---- startResponse, status and headers ---------------------------------

/** An app that calls startResponse with these arguments. */
const starting = (...args: unknown[]): WSGIApplication => (_env, sr) => {
  (sr as (...a: unknown[]) => unknown)(...args);
  return [];
};

test("check 31: startResponse takes two or three arguments", async () => {
  await rejects(
    starting("200 OK"),
    /startResponse\(\) takes two or three arguments \(status, headers, excInfo\), got 1/,
  );
  await rejects(starting("200 OK", TEXT, null, 1), /got 4/);
  const out = await serve(starting("200 OK", TEXT, null));
  assert.deepEqual(out.calls, [["200 OK", TEXT, null]]);
});

test("check 32: the status must be a native string", async () => {
  await rejects(starting(200, TEXT), /The status must be a string, got 200/);
  await rejects(
    starting("200 \u2713", TEXT),
    /The status "200 ✓" has the character "✓" at index 4, above U\+00FF/,
  );
});

test("check 33: the status code must be three characters", async () => {
  await rejects(
    starting("2000 OK", TEXT),
    /Status code "2000" in "2000 OK" must be three characters/,
  );
  await rejects(starting("20 OK", TEXT), /Status code "20" in "20 OK"/);
  await rejects(
    starting("", TEXT),
    /Status code "" in "" must be three characters/,
  );
});

test("check 34: the status code must be an integer >= 100", async () => {
  await rejects(
    starting("abc OK", TEXT),
    /Status code "abc" in "abc OK" is not an integer/,
  );
  await rejects(
    starting("099 Low", TEXT),
    /Status code 99 in "099 Low" is invalid: it must be at least 100/,
  );
  assert.ok(await serve(starting("100 Continue", TEXT)));
});

test("check 35: a status without a space after the code is a warning", async () => {
  for (const status of ["200", "200\tOK"]) {
    const env = tracked();
    const out = await serve(starting(status, TEXT), env);
    assert.equal(out.calls[0][0], status);
    assert.match(
      errorsOf(env),
      new RegExp(
        `^WSGIWarning: The status string \\(${
          JSON.stringify(status).replace("\\", "\\\\")
        }\\) should be a three-digit integer followed by a single space`,
      ),
    );
  }
  const env = tracked();
  await serve(starting("200 OK", TEXT), env);
  assert.equal(errorsOf(env), "");
});

test("check 36: the headers must be an array", async () => {
  await rejects(
    starting("200 OK", { "Content-Type": "text/plain" }),
    /Headers must be an array, got an object of class Object/,
  );
});

test("check 37: each header must be a [name, value] pair", async () => {
  await rejects(
    starting("200 OK", [["Content-Type", "text/plain", "x"]]),
    /Each header must be a \[name, value\] array of length 2, got \["Content-Type","text\/plain","x"\]/,
  );
  await rejects(
    starting("200 OK", ["Content-Type: text/plain"]),
    /got "Content-Type: text\/plain"/,
  );
});

test("check 38: header names and values must be native strings", async () => {
  await rejects(
    starting("200 OK", [[1, "x"]]),
    /A header name must be a string, got 1/,
  );
  await rejects(
    starting("200 OK", [["Content-Type", null]]),
    /The value of header "Content-Type" must be a string, got null/,
  );
  await rejects(
    starting("200 OK", [...TEXT, ["X", "\u20ac"]]),
    /The value of header "X" "€" has the character/,
  );
});

test("check 39: no Status header", async () => {
  await rejects(
    starting("200 OK", [...TEXT, ["STATUS", "404"]]),
    /The Status header cannot be used \(value: "404"\)/,
  );
});

test("check 40: header names may not contain : or newline", async () => {
  await rejects(
    starting("200 OK", [...TEXT, ["X:Y", "1"]]),
    /Header names may not contain ":" or "\\n": "X:Y"/,
  );
  await rejects(
    starting("200 OK", [...TEXT, ["X\nY", "1"]]),
    /may not contain ":" or "\\n": "X\\nY"/,
  );
});

test("check 41: header names must match wsgiref's pattern", async () => {
  await assert.rejects(
    () => serve(starting("200 OK", [...TEXT, ["X Bad", "1"]])),
    {
      name: "WSGIValidationError",
      message:
        'Header name "X Bad" must match ^[a-zA-Z][a-zA-Z0-9\\-_]*$ (PEP 3333; wsgiref.validate)',
    },
  );
  await rejects(
    starting("200 OK", [...TEXT, ["1X", "1"]]),
    /Header name "1X" must match/,
  );
  await rejects(
    starting("200 OK", [...TEXT, ["X.Y", "1"]]),
    /Header name "X.Y" must match/,
  );
});

test("check 42: header names may not end in - or _", async () => {
  await rejects(
    starting("200 OK", [...TEXT, ["X-", "1"]]),
    /Header name "X-" may not end in "-" or "_"/,
  );
  await rejects(
    starting("200 OK", [...TEXT, ["X_", "1"]]),
    /Header name "X_" may not end/,
  );
});

test("check 43: header values may not contain 0x00-0x1F, TAB included", async () => {
  await rejects(
    starting("200 OK", [...TEXT, ["X", "a\tb"]]),
    /Bad header value "a\\tb" of header "X": it contains "\\t"/,
  );
  await rejects(
    starting("200 OK", [...TEXT, ["X", "a\r\nSet-Cookie: x=1"]]),
    /contains "\\r"/,
  );
  assert.ok(
    await serve(starting("200 OK", [...TEXT, ["X", "caf\u00e9 \x7f"]])),
  );
});

test("check 44: Content-Type is required, except in 204 and 304 where it is forbidden", async () => {
  await rejects(
    starting("200 OK", [["X", "1"]]),
    /No Content-Type header found in headers \[\["X","1"\]\]/,
  );
  await rejects(
    starting("204 No Content", TEXT),
    /A Content-Type header was found in a 204 response, which must not return content/,
  );
  await rejects(
    starting("304 Not Modified", [["content-type", "x"]]),
    /in a 304 response/,
  );
  assert.ok(await serve(starting("204 No Content", [])));
  assert.ok(
    await serve(starting("404 Not Found", [["content-TYPE", "text/html"]])),
  );
});

test("check 45: excInfo must be null, undefined or the caught error", async () => {
  for (const bad of [false, 0, ""]) {
    await rejects(
      starting("200 OK", TEXT, bad),
      /excInfo must be null, undefined or the caught error, got /,
    );
  }
  for (const ok of [null, undefined, new Error("boom"), "thrown string"]) {
    assert.ok(await serve(starting("500 Oops", TEXT, ok)));
  }
});

test("check 46: write() takes a Uint8Array", async () => {
  await rejects((_e, sr) => {
    sr("200 OK", TEXT)("text" as never);
    return [];
  }, /write\(\) takes a Uint8Array, got "text"/);
  const out = await serve((_e, sr) => {
    sr("200 OK", TEXT)(enc("early"));
    return [];
  });
  assert.deepEqual(out.written.map(dec), ["early"]);
});

// ---- The body ------------------------------------------------------------

test("check 47: reading the body after close() fails", async () => {
  const s = server();
  const body = validator(hello)(environ(), s.startResponse) as
    & Iterable<Uint8Array>
    & { close(): void };
  body.close();
  assert.throws(
    () => body[Symbol.iterator]().next(),
    /^WSGIValidationError: Iterator read after closed/,
  );
  const asyncBody = await validator((_e, sr) => {
    sr("200 OK", TEXT);
    return Promise.resolve((async function* () {
      yield enc("x");
    })());
  })(environ(), s.startResponse) as AsyncIterable<Uint8Array> & {
    close(): Promise<void>;
  };
  await asyncBody.close();
  await assert.rejects(
    () => asyncBody[Symbol.asyncIterator]().next(),
    /Iterator read after closed/,
  );
});

test("check 48: every chunk must be a Uint8Array", async () => {
  await rejects(
    (_e, sr) => (sr("200 OK", TEXT), ["text"] as never),
    /Iterator yielded "text", not a Uint8Array/,
  );
  await rejects((_e, sr) => {
    sr("200 OK", TEXT);
    return (async function* () {
      yield new Uint16Array(1);
    })() as never;
  }, /Iterator yielded an object of class Uint16Array, not a Uint8Array/);
});

test("check 49: startResponse must be called before the first chunk", async () => {
  await rejects(
    () => [enc("early")],
    /started iterating over its body, but startResponse has not yet been called/,
  );
  // A generator app may call it during its first step, as in Python.
  const out = await serve((_e, sr) =>
    (function* () {
      sr("200 OK", TEXT);
      yield enc("a");
      yield enc("b");
    })()
  );
  assert.deepEqual(out.chunks.map(dec), ["a", "b"]);
});

test("check 50: close() reaches the app's close(), or a generator's return()", async () => {
  let closed = 0;
  const out = await serve((_e, sr) => {
    sr("200 OK", TEXT);
    return Object.assign([enc("x")], { close: () => void closed++ });
  });
  assert.equal(closed, 1);
  assert.deepEqual(out.chunks.map(dec), ["x"]);
  let cleaned = false;
  const s = server();
  const body = validator((_e, sr) =>
    (function* () {
      sr("200 OK", TEXT);
      try {
        yield enc("a");
        yield enc("b");
      } finally {
        cleaned = true;
      }
    })()
  )(environ(), s.startResponse) as IterableIterator<Uint8Array> & {
    close(): void;
  };
  assert.equal(dec(body.next().value!), "a");
  body.close();
  assert.equal(cleaned, true);
});

type GC = () => void;
async function findGc(): Promise<GC | null> {
  const g = globalThis as { gc?: GC; Bun?: { gc(force: boolean): void } };
  if (typeof g.gc === "function") return g.gc;
  if (g.Bun) return () => g.Bun!.gc(true);
  try {
    const v8 = await import("node:v8");
    const vm = await import("node:vm");
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc");
    return typeof gc === "function" ? gc : null;
  } catch {
    return null;
  }
}

test("check 51: a body collected without close() is reported to wsgi.errors", async (t) => {
  const gc = await findGc();
  if (gc === null) return t.skip("no way to force garbage collection here");
  const leaked = tracked();
  const closed = tracked();
  (() => {
    const s = server();
    validator(hello)(leaked, s.startResponse);
    const body = validator(hello)(closed, s.startResponse) as unknown as {
      close(): void;
    };
    body.close();
  })();
  for (let i = 0; i < 50 && errorsOf(leaked) === ""; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(
    errorsOf(leaked),
    "WSGIValidationError: Iterator garbage collected without being closed (PEP 3333; wsgiref.validate)\n",
  );
  assert.equal(errorsOf(closed), "");
});

// ---- Correct apps pass -----------------------------------------------------

test("the tutorial app and demoApp run validated through handleRequest", async () => {
  const tutorial: WSGIApplication = (_environ, startResponse) => {
    startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
    return [enc("¡Hola, mundo!")];
  };
  const errors = new MemoryErrorStream();
  const r1 = await handleRequest(
    new Request("http://localhost/?x=1"),
    validator(tutorial),
    { errors },
  );
  assert.equal(r1.status, 200);
  assert.equal(await r1.text(), "¡Hola, mundo!");
  const r2 = await handleRequest(
    new Request("http://localhost/a/b"),
    validator(demoApp),
    { errors },
  );
  assert.equal(r2.status, 200);
  const text = await r2.text();
  assert.match(text, /^Hello world!\n\n/);
  assert.match(text, /PATH_INFO = '\/a\/b'/);
  const r3 = await handleRequest(
    new Request("http://localhost/", { method: "HEAD" }),
    validator(demoApp),
    { errors },
  );
  assert.equal(r3.status, 200);
  assert.equal(errors.getValue(), "", "no warning and no error");
});

test("a validated app reading a POST body and streaming async runs clean", async () => {
  const errors = new MemoryErrorStream();
  // An async app: it returns a Promise of an async iterable.
  const app: WSGIApplication = async (environ, startResponse) => {
    await Promise.resolve();
    const length = Number(environ.CONTENT_LENGTH || 0);
    const body = (environ["wsgi.input"] as InputStream).read(length);
    startResponse("201 Created", [["Content-Type", "text/plain"], [
      "X-Len",
      String(length),
    ]]);
    return (async function* () {
      yield body;
      yield enc("!");
    })();
  };
  const response = await handleRequest(
    new Request("http://localhost/submit", { method: "POST", body: "payload" }),
    validator(app),
    { errors },
  );
  assert.equal(response.status, 201);
  assert.equal(response.headers.get("x-len"), "7");
  assert.equal(await response.text(), "payload!");
  assert.equal(errors.getValue(), "");
});

test("through handleRequest, a violation becomes the 500 page and is logged", async () => {
  const errors = new MemoryErrorStream();
  const app = validator((_environ, startResponse) => {
    startResponse("200 OK", [["Content-Type", "text/plain"], ["X Bad", "1"]]);
    return [enc("never")];
  });
  const response = await handleRequest(new Request("http://localhost/"), app, {
    errors,
  });
  assert.equal(response.status, 500);
  await response.text();
  assert.match(
    errors.getValue(),
    /WSGIValidationError: Header name "X Bad" must match/,
  );
});

test("validator() refuses a non-function", () => {
  assert.throws(() => validator("app" as never), {
    name: "TypeError",
    message: 'validator() takes a function, got "app"',
  });
});
