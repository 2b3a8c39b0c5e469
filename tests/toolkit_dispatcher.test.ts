// dispatcher() (src/toolkit/dispatcher.ts) over real sockets: the
// SCRIPT_NAME and PATH_INFO each mounted app sees, compared with CPython's
// werkzeug DispatcherMiddleware run on the same PATH_INFO values.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import type { WSGIApplication } from "../mod.ts";
import { dispatcher } from "../src/toolkit/mod.ts";
import { serving } from "./_toolkit.ts";
import { exchange } from "./_raw_http.ts";

const hasWerkzeug =
  spawnSync("python3", ["-c", "import werkzeug"]).status === 0;

type Seen = { app: string; before: string; script: string; path: string };

function recorder(
  name: string,
  log: Seen[],
  before: () => string,
): WSGIApplication {
  return (environ, startResponse) => {
    log.push({
      app: name,
      before: before(),
      script: environ.SCRIPT_NAME,
      path: environ.PATH_INFO,
    });
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return [];
  };
}

const MOUNTS = ["/api", "/api/v2", "/a b", "/caf\u00c3\u00a9", "/x/y/z"];
const TARGETS = [
  "/",
  "/home",
  "/api",
  "/api/",
  "/api/users",
  "/api//users",
  "/api/v2",
  "/api/v2/",
  "/api/v2/x/",
  "/api/v20",
  "/apix",
  "/API/x",
  "/a%20b/c",
  "/caf%C3%A9/x",
  "/api/%2e%2e/x",
  "/api/a%2Fb",
  "/x/y/z/w",
  "/x/y",
];

async function ours(): Promise<Seen[]> {
  const log: Seen[] = [];
  let before = "";
  const inner = dispatcher(
    recorder("default", log, () => before),
    Object.fromEntries(MOUNTS.map((m) => [m, recorder(m, log, () => before)])),
  );
  const app: WSGIApplication = (environ, startResponse) => {
    before = environ.PATH_INFO;
    return inner(environ, startResponse);
  };
  await serving(app, async (server) => {
    for (const target of TARGETS) {
      const [res] = await exchange(
        server.serverPort,
        `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      );
      assert.equal(res.status, 200, target);
    }
  });
  return log;
}

test("dispatcher: the longest prefix on a / boundary wins; SCRIPT_NAME and PATH_INFO split there", async () => {
  const log = await ours();
  const by = new Map(log.map((s) => [s.before, s]));
  assert.deepEqual(by.get("/api/users"), {
    app: "/api",
    before: "/api/users",
    script: "/api",
    path: "/users",
  });
  assert.deepEqual(by.get("/api"), {
    app: "/api",
    before: "/api",
    script: "/api",
    path: "",
  });
  assert.deepEqual(by.get("/api/"), {
    app: "/api",
    before: "/api/",
    script: "/api",
    path: "/",
  });
  assert.deepEqual(by.get("/api/v2/x/"), {
    app: "/api/v2",
    before: "/api/v2/x/",
    script: "/api/v2",
    path: "/x/",
  });
  assert.deepEqual(by.get("/api/v20"), {
    app: "/api",
    before: "/api/v20",
    script: "/api",
    path: "/v20",
  });
  assert.deepEqual(by.get("/apix"), {
    app: "default",
    before: "/apix",
    script: "",
    path: "/apix",
  });
  assert.deepEqual(by.get("/API/x"), {
    app: "default",
    before: "/API/x",
    script: "",
    path: "/API/x",
  });
  assert.deepEqual(by.get("/a b/c"), {
    app: "/a b",
    before: "/a b/c",
    script: "/a b",
    path: "/c",
  });
  assert.equal(by.get("/caf\u00c3\u00a9/x")?.app, "/caf\u00c3\u00a9");
  assert.equal(log.length, TARGETS.length);
});

test(
  "dispatcher: the same SCRIPT_NAME and PATH_INFO as CPython's werkzeug DispatcherMiddleware",
  { skip: hasWerkzeug ? false : "python3 -c 'import werkzeug' fails here" },
  async () => {
    const log = await ours();
    const script = `
import json, sys
from werkzeug.middleware.dispatcher import DispatcherMiddleware
mounts, paths = json.load(sys.stdin)
seen = []
def rec(name):
    def app(environ, start_response):
        seen.append({"app": name, "before": environ["_before"], "script": environ["SCRIPT_NAME"], "path": environ["PATH_INFO"]})
        return []
    return app
d = DispatcherMiddleware(rec("default"), {m: rec(m) for m in mounts})
for p in paths:
    d({"SCRIPT_NAME": "", "PATH_INFO": p, "_before": p}, None)
print(json.dumps(seen))
`;
    const run = spawnSync("python3", ["-c", script], {
      input: JSON.stringify([MOUNTS, log.map((s) => s.before)]),
      encoding: "utf8",
    });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(log, JSON.parse(run.stdout));
  },
);

test("dispatcher: prefixes must start with / and not end with one", () => {
  const app: WSGIApplication = () => [];
  for (const bad of ["api", "/api/", "/", ""]) {
    assert.throws(
      () => dispatcher(app, { [bad]: app }),
      new RegExp(JSON.stringify(bad)),
    );
  }
});
