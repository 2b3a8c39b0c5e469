// Unknown option names (issue 12.5): a TypeError naming the option and,
// where one is close or the mistake well known, the right one; checked
// once where the server, handler, client or CGI run is made.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  handleRequest,
  makeServer,
  runCgi,
  type StartResponse,
  testClient,
  toFetchHandler,
  type WSGIEnvironment,
} from "../mod.ts";

function app(_environ: WSGIEnvironment, startResponse: StartResponse) {
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return [new TextEncoder().encode("ok")];
}

/** Asserts a TypeError whose message matches every pattern. */
function refused(...patterns: RegExp[]): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof TypeError, `not a TypeError: ${e}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  };
}

test("makeServer refuses quiet: true and says log: false (the CLI's --quiet)", () => {
  assert.throws(
    () => makeServer("127.0.0.1", 0, app, { quiet: true } as never),
    refused(
      /^makeServer\(\): unknown option "quiet"; did you mean log: false\?/,
      /known options: .*\blog\b/,
    ),
  );
});

test("makeServer names the close option for a slip, and aliases other servers' names", () => {
  assert.throws(
    () => makeServer("127.0.0.1", 0, app, { maxBodysize: 1 } as never),
    refused(/unknown option "maxBodysize"; did you mean "maxBodySize"\?/),
  );
  assert.throws(
    () => makeServer("127.0.0.1", 0, app, { singal: null } as never),
    refused(/did you mean "signal"\?/),
  );
  assert.throws(
    () => makeServer("127.0.0.1", 0, app, { port: 8000 } as never),
    refused(/"port"; did you mean makeServer\(host, port, app\)/),
  );
  assert.throws(
    () => makeServer("127.0.0.1", 0, app, { hostname: "::1" } as never),
    refused(/the host is an argument/),
  );
  assert.throws(
    () => makeServer("127.0.0.1", 0, app, { frobnicate: 1 } as never),
    refused(/unknown option "frobnicate" \(known options: /),
  );
  assert.throws(
    () => makeServer("127.0.0.1", 0, app, "quiet" as never),
    refused(/options must be an object, got string/),
  );
});

test("makeServer accepts every option name, including those other branches add", async () => {
  const server = makeServer("127.0.0.1", 0, app, {
    log: false,
    maxBodySize: 1024,
    bufferInput: true,
    allowUnderscoreHeaders: false,
    serverSoftware: "x/1",
    // Being added on other branches; accepted by name already.
    ...{
      reusePort: false,
      forwardedAllowIps: ["127.0.0.1"],
      headersTimeout: 5000,
      keepAliveTimeout: 5000,
      bodyTimeout: 5000,
      maxHeaderCount: 100,
      maxHeaderSize: 8192,
    },
  });
  try {
    await server.ready;
    assert.equal(await (await fetch(server.url)).text(), "ok");
  } finally {
    await server.shutdown();
  }
});

test("toFetchHandler and handleRequest refuse unknown names at once", async () => {
  assert.throws(
    () => toFetchHandler(app, { bufferInputs: false } as never),
    refused(
      /^toFetchHandler\(\): unknown option "bufferInputs"; did you mean "bufferInput"\?/,
    ),
  );
  assert.throws(
    () => toFetchHandler(app, { log: false } as never),
    refused(/unknown option "log"/),
  );
  // The name another branch adds is known already.
  toFetchHandler(app, { remoteAddrHeader: "CF-Connecting-IP" } as never);
  assert.throws(
    () =>
      handleRequest(new Request("http://localhost/"), app, {
        maxBodySise: 1,
      } as never),
    refused(/^handleRequest\(\): .*did you mean "maxBodySize"\?/),
  );
  const options = { maxBodySize: 10 };
  for (let i = 0; i < 3; i++) {
    const res = await handleRequest(
      new Request("http://localhost/"),
      app,
      options,
    );
    assert.equal(await res.text(), "ok");
  }
});

test("testClient and runCgi refuse unknown names", async () => {
  assert.throws(
    () => testClient(app, { base_url: "http://x/" } as never),
    refused(
      /^testClient\(\): unknown option "base_url"; did you mean "baseUrl"\?/,
    ),
  );
  await assert.rejects(
    runCgi(app, { passenv: [] } as never),
    refused(/^runCgi\(\): unknown option "passenv"; did you mean "passEnv"\?/),
  );
});
