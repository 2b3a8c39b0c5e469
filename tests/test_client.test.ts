// testClient: requests straight into the application, Web Responses out.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type AsyncInputStream,
  type ErrorStream,
  type InputStream,
  MemoryErrorStream,
  type StartResponse,
  testClient,
  validator,
  type WSGIApplication,
  type WSGIEnvironment,
  WSGIValidationError,
} from "../mod.ts";

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);

// The CGI and wsgi.* values of the environ the app saw, as JSON.
const KEYS = [
  "REQUEST_METHOD",
  "SCRIPT_NAME",
  "PATH_INFO",
  "QUERY_STRING",
  "CONTENT_TYPE",
  "CONTENT_LENGTH",
  "SERVER_NAME",
  "SERVER_PORT",
  "SERVER_PROTOCOL",
  "REMOTE_ADDR",
  "REMOTE_PORT",
  "HTTP_HOST",
  "HTTP_X_TOKEN",
  "wsgi.url_scheme",
];

function report(environ: WSGIEnvironment, body: Uint8Array): Uint8Array {
  const seen: Record<string, unknown> = { body: String.fromCharCode(...body) };
  for (const key of KEYS) seen[key] = environ[key];
  return encode(JSON.stringify(seen));
}

const echo: WSGIApplication = (environ, startResponse) => {
  const body = (environ["wsgi.input"] as InputStream).read();
  startResponse("200 OK", [["Content-Type", "application/json"]]);
  return [report(environ, body)];
};

test("testClient returns the app's status, reason, headers and body as a Response", async () => {
  const client = testClient((_environ, startResponse) => {
    startResponse("201 Made It", [
      ["Content-Type", "text/plain; charset=utf-8"],
      ["X-Trace", "abc"],
      ["Set-Cookie", "a=1"],
      ["Set-Cookie", "b=2"],
    ]);
    return [encode("¡Hola!")];
  });
  const res = await client.get("/");
  assert.ok(res instanceof Response);
  assert.equal(res.status, 201);
  assert.equal(res.statusText, "Made It");
  assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8");
  assert.equal(res.headers.get("x-trace"), "abc");
  assert.deepEqual(res.headers.getSetCookie(), ["a=1", "b=2"]);
  assert.equal(res.headers.get("content-length"), "7");
  assert.equal(await res.text(), "¡Hola!");
});

test("testClient fills PATH_INFO, QUERY_STRING and REMOTE_ADDR as a server would", async () => {
  const client = testClient(echo);
  const seen = await (await client.get("/a%2Fb/caf%C3%A9?x=1&y=%C3%A9")).json();
  // wsgiref's unquote(path, "iso-8859-1"): %2F is a "/", é is two bytes.
  assert.equal(seen.PATH_INFO, "/a/b/caf\u00c3\u00a9");
  assert.equal(seen.QUERY_STRING, "x=1&y=%C3%A9");
  assert.equal(seen.SCRIPT_NAME, "");
  assert.equal(seen.REQUEST_METHOD, "GET");
  assert.equal(seen.REMOTE_ADDR, "127.0.0.1");
  assert.equal(seen.SERVER_NAME, "localhost");
  assert.equal(seen.SERVER_PORT, "80");
  assert.equal(seen.HTTP_HOST, "localhost");
  assert.equal(seen["wsgi.url_scheme"], "http");
  // A leading "//" is part of the path, not a host name; PATH_INFO has one
  // "/", as http.server collapses them (CPython gh-87389).
  const slashes = await (await client.get("//evil.example/x")).json();
  assert.equal(slashes.PATH_INFO, "/evil.example/x");
  assert.equal(slashes.SERVER_NAME, "localhost");
});

test("testClient takes full URLs, Requests, a base URL and connection options", async () => {
  const client = testClient(echo, {
    baseUrl: "https://example.com:8443/app/",
    remoteAddr: "203.0.113.7",
    remotePort: 40000,
    protocol: "HTTP/1.0",
  });
  const relative = await (await client.get("items?page=2")).json();
  assert.equal(relative.PATH_INFO, "/app/items");
  assert.equal(relative.QUERY_STRING, "page=2");
  assert.equal(relative.SERVER_NAME, "example.com");
  assert.equal(relative.SERVER_PORT, "8443");
  assert.equal(relative["wsgi.url_scheme"], "https");
  assert.equal(relative.REMOTE_ADDR, "203.0.113.7");
  assert.equal(relative.REMOTE_PORT, "40000");
  assert.equal(relative.SERVER_PROTOCOL, "HTTP/1.0");
  assert.equal(relative.HTTP_HOST, "example.com:8443");
  const full = await (await client.get(new URL("http://other.test/z"))).json();
  assert.equal(full.SERVER_NAME, "other.test");
  assert.equal(full.PATH_INFO, "/z");
  const req = new Request("http://localhost/r", {
    method: "PUT",
    headers: { "X-Token": "t1" },
    body: "from a Request",
  });
  const fromRequest = await (await client.request(req)).json();
  assert.equal(fromRequest.REQUEST_METHOD, "PUT");
  assert.equal(fromRequest.HTTP_X_TOKEN, "t1");
  assert.equal(fromRequest.body, "from a Request");
  assert.equal(fromRequest.HTTP_HOST, "localhost");
  const hosted = await (await client.get("/h", {
    headers: { Host: "virtual.test" },
  })).json();
  assert.equal(hosted.HTTP_HOST, "virtual.test");
});

test("testClient POSTs a body through wsgi.input with CONTENT_TYPE and CONTENT_LENGTH", async () => {
  const client = testClient(echo);
  const form = await (await client.post(
    "/form",
    new URLSearchParams({ name: "Adá" }),
  )).json();
  assert.equal(form.REQUEST_METHOD, "POST");
  assert.equal(
    form.CONTENT_TYPE,
    "application/x-www-form-urlencoded;charset=UTF-8",
  );
  assert.equal(form.body, "name=Ad%C3%A1");
  assert.equal(form.CONTENT_LENGTH, "13");
  const json = await (await client.post("/json", JSON.stringify({ a: "é" }), {
    headers: { "Content-Type": "application/json", "X-Token": "secret" },
  })).json();
  assert.equal(json.CONTENT_TYPE, "application/json");
  assert.equal(json.HTTP_X_TOKEN, "secret");
  // The bytes, one character each: UTF-8 "é" is C3 A9.
  assert.equal(json.body, '{"a":"\u00c3\u00a9"}');
  assert.equal(json.CONTENT_LENGTH, "10");
  const methods = [
    await (await client.put("/p", "1")).json(),
    await (await client.patch("/p", "22")).json(),
    await (await client.delete("/p")).json(),
  ];
  assert.deepEqual(methods.map((m) => [m.REQUEST_METHOD, m.body]), [
    ["PUT", "1"],
    ["PATCH", "22"],
    ["DELETE", ""],
  ]);
});

test("testClient streams a request body to an async wsgi.input with bufferInput false", async () => {
  const app: WSGIApplication<AsyncInputStream> = async (
    environ,
    startResponse,
  ) => {
    const input = environ["wsgi.input"];
    const lines: string[] = [];
    for await (const line of input) lines.push(new TextDecoder().decode(line));
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return [encode(lines.join("|"))];
  };
  const client = testClient(app, { bufferInput: false });
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(encode("one\ntw"));
      c.enqueue(encode("o\nthree"));
      c.close();
    },
  });
  const res = await client.post("/upload", body);
  assert.equal(await res.text(), "one\n|two\n|three");
});

test("testClient HEAD gets the headers without a body", async () => {
  let method = "";
  const client = testClient((environ, startResponse) => {
    method = String(environ.REQUEST_METHOD);
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return [encode("a body HEAD must not carry")];
  });
  const res = await client.head("/page");
  assert.equal(method, "HEAD");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-length"), "26");
  assert.equal(res.body, null);
  assert.equal(await res.text(), "");
});

test("testClient with throwErrors false gives wsgiref's 500 page and logs the error", async () => {
  let logged = "";
  const errors: ErrorStream = {
    write: (s) => void (logged += s),
    writelines: (seq) => void (logged += [...seq].join("")),
    flush: () => {},
  };
  const client = testClient(() => {
    throw new Error("the app broke");
  }, { errors, throwErrors: false });
  const res = await client.get("/");
  assert.equal(res.status, 500);
  assert.equal(res.statusText, "Internal Server Error");
  assert.equal(res.headers.get("content-type"), "text/plain");
  assert.equal(
    await res.text(),
    "A server error occurred.  Please contact the administrator.",
  );
  assert.match(logged, /Error: the app broke/);
});

test("testClient throws the app's error into the test by default, and logs nothing", async () => {
  const errors = new MemoryErrorStream();
  const broke = new Error("the app broke");
  const client = testClient(() => {
    throw broke;
  }, { errors });
  await assert.rejects(client.get("/"), (error) => error === broke);
  assert.equal(errors.getValue(), "");
  // An app that returns a string: the server's TypeError, thrown here too.
  const stringy = testClient(
    ((_environ: WSGIEnvironment, startResponse: StartResponse) => {
      startResponse("200 OK", []);
      return "hello";
    }) as unknown as WSGIApplication,
  );
  await assert.rejects(stringy.get("/"), TypeError);
});

test("testClient(validator(app)) rejects with the WSGIValidationError", async () => {
  const errors = new MemoryErrorStream();
  // A 200 without Content-Type breaks wsgiref.validate's check.
  const client = testClient(
    validator((_environ, startResponse) => {
      startResponse("200 OK", []);
      return [encode("ok")];
    }),
    { errors },
  );
  await assert.rejects(client.get("/"), WSGIValidationError);
  // throwErrors: false keeps the old behaviour: a 500 page, the error logged.
  const lenient = testClient(
    validator((_environ, startResponse) => {
      startResponse("200 OK", []);
      return [encode("ok")];
    }),
    { errors, throwErrors: false },
  );
  assert.equal((await lenient.get("/")).status, 500);
  assert.match(errors.getValue(), /WSGIValidationError/);
});

test("testClient: an error in a streamed body after the headers rejects the body read", async () => {
  const late = new Error("late failure");
  const errors = new MemoryErrorStream();
  const client = testClient((_environ, startResponse) => {
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return (async function* () {
      yield encode("first ");
      await Promise.resolve();
      yield encode("second ");
      throw late;
    })();
  }, { errors });
  const res = await client.get("/");
  assert.equal(res.status, 200);
  await assert.rejects(res.text(), (error) => error === late);
  // Late, it is logged too (the response was already in the test's hands).
  assert.match(errors.getValue(), /late failure/);
});

test("testClient post/put/patch take fetch's shape, post(url, { body, headers })", async () => {
  const client = testClient(echo);
  const seen = await (await client.post("/f", {
    body: JSON.stringify({ a: 1 }),
    headers: { "Content-Type": "application/json" },
  })).json();
  assert.equal(seen.REQUEST_METHOD, "POST");
  assert.equal(seen.body, '{"a":1}');
  assert.equal(seen.CONTENT_TYPE, "application/json");
  const put = await (await client.put("/p", { body: "x", method: "put" }))
    .json();
  assert.deepEqual([put.REQUEST_METHOD, put.body], ["PUT", "x"]);
  const patch = await (await client.patch("/p", {})).json();
  assert.deepEqual([patch.REQUEST_METHOD, patch.body], ["PATCH", ""]);
});

test("testClient refuses what would silently post the wrong body", async () => {
  const client = testClient(echo);
  // A JSON value is not a body, nor a RequestInit.
  await assert.rejects(
    client.post("/", { name: "Ana" } as RequestInit),
    (e: Error) =>
      e instanceof TypeError &&
      /"name" is not a RequestInit key/.test(e.message) &&
      /JSON\.stringify/.test(e.message),
  );
  // A misspelt RequestInit key.
  await assert.rejects(
    client.post("/", { body: "x", header: {} } as RequestInit),
    (e: Error) => e instanceof TypeError && /"header"/.test(e.message),
  );
  await assert.rejects(
    client.get("/", { body: "x", heders: {} } as RequestInit),
    (e: Error) => e instanceof TypeError && /"heders"/.test(e.message),
  );
  // Both shapes at once.
  await assert.rejects(
    client.post("/", { body: "x" }, { headers: {} }),
    (e: Error) =>
      e instanceof TypeError && /already a RequestInit/.test(e.message),
  );
  // post() with another method.
  await assert.rejects(
    client.post("/", { body: "x", method: "PUT" }),
    (e: Error) =>
      e instanceof TypeError && /"PUT" differs from POST/.test(e.message),
  );
});

test("testClient refuses unknown option names, naming the right one", () => {
  assert.throws(
    () => testClient(echo, { throwError: false } as never),
    (e: Error) =>
      e instanceof TypeError && /unknown option "throwError"/.test(e.message) &&
      /did you mean "throwErrors"\?/.test(e.message),
  );
  assert.throws(
    () => testClient(echo, { catchErrors: true } as never),
    /did you mean throwErrors: false\?/,
  );
  assert.throws(
    () => testClient(echo, { baseURL: "http://x/" } as never),
    /did you mean baseUrl\?/,
  );
});
