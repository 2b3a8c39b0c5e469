// Router (src/toolkit/routing.ts) over real sockets: converters, methods,
// 404/405/OPTIONS/HEAD, the trailing-slash redirect, URL building under a
// mount, path tricks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { abort, dispatcher, Router, WSGIResponse } from "../src/toolkit/mod.ts";
import { at, serving } from "./_toolkit.ts";
import { exchange, header, text } from "./_raw_http.ts";

function router(): Router {
  const r = new Router();
  r.get("/", () => new WSGIResponse("index"), { name: "index" });
  r.get("/users/me", () => WSGIResponse.json("me"));
  r.get(
    "/users/<int:id>",
    (request, { id }) =>
      WSGIResponse.json({
        id,
        type: typeof id,
        self: r.urlFor("user", { id }, { request }),
      }),
    { name: "user" },
  );
  r.get("/users/<name>", (_q, { name }) => WSGIResponse.json({ name }));
  r.route("/items/<int(signed=True):n>", (_q, { n }) => WSGIResponse.json(n), {
    methods: ["GET", "PUT"],
  });
  r.get("/pages/<int(min=1, max=9):n>", (_q, { n }) => WSGIResponse.json(n));
  r.get("/price/<float:x>", (_q, { x }) => WSGIResponse.json(x));
  r.get("/obj/<uuid:key>", (_q, { key }) => WSGIResponse.json(key));
  r.get("/files/<path:rest>", (_q, { rest }) => WSGIResponse.json(rest), {
    name: "file",
  });
  r.get(
    "/kind/<any(cat, dog):kind>",
    (_q, { kind }) => WSGIResponse.json(kind),
  );
  r.get("/code/<string(length=2):c>", (_q, { c }) => WSGIResponse.json(c));
  r.get("/docs/", () => new WSGIResponse("docs"), { name: "docs" });
  r.post("/docs/", () => new WSGIResponse("posted docs"));
  r.get("/deep/<path:p>/", (_q, { p }) => WSGIResponse.json(p));
  r.get("/forbidden", () => abort(403, "admins only"));
  r.get("/boom", () => {
    throw new Error("handler bug");
  });
  r.delete("/users/<int:id>", () => new WSGIResponse(null, { status: 204 }));
  return r;
}

test("converters: typed values, static rules before dynamic ones, int before string", async () => {
  await serving(router().asApp(), async (server) => {
    const get = async (path: string) => {
      const res = await fetch(at(server, path), { redirect: "manual" });
      return [
        res.status,
        res.status === 200 ? await res.json() : await res.text(),
      ];
    };
    assert.deepEqual(await get("/users/me"), [200, "me"]);
    assert.deepEqual(await get("/users/42"), [200, {
      id: 42,
      type: "number",
      self: "/users/42",
    }]);
    assert.deepEqual(await get("/users/zo%C3%AB"), [200, { name: "zoë" }]);
    assert.deepEqual(await get("/items/-3"), [200, -3]);
    assert.deepEqual(await get("/pages/9"), [200, 9]);
    assert.equal((await get("/pages/10"))[0], 404);
    assert.equal((await get("/pages/0"))[0], 404);
    assert.deepEqual(await get("/price/1.50"), [200, 1.5]);
    assert.equal((await get("/price/1"))[0], 404);
    assert.deepEqual(
      await get("/obj/A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"),
      [200, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"],
    );
    assert.equal((await get("/obj/not-a-uuid"))[0], 404);
    assert.deepEqual(await get("/files/a/b/c.txt"), [200, "a/b/c.txt"]);
    assert.deepEqual(await get("/kind/dog"), [200, "dog"]);
    assert.equal((await get("/kind/cow"))[0], 404);
    assert.deepEqual(await get("/code/fr"), [200, "fr"]);
    assert.equal((await get("/code/fra"))[0], 404);
    assert.equal((await get("/users/99999999999999999999"))[0], 200); // too big for int: the string rule
  });
});

test("percent-encoded slashes are slashes by then (PEP 3333): never inside a <string>, kept in a <path>", async () => {
  await serving(router().asApp(), async (server) => {
    const send = async (target: string) =>
      (await exchange(
        server.serverPort,
        `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      ))[0];
    const slash = await send("/users/a%2Fb");
    assert.equal(slash.status, 404);
    const path = await send("/files/a%2Fb%2F..%2Fc");
    assert.equal(path.status, 200);
    assert.equal(JSON.parse(text(path)), "a/b/../c");
    const nul = await send("/users/a%00b");
    assert.equal(nul.status, 200);
    assert.deepEqual(JSON.parse(text(nul)), { name: "a\u0000b" });
    const bad = await send("/users/%FF");
    assert.deepEqual(JSON.parse(text(bad)), { name: "\ufffd" });
  });
});

test("405 with Allow; OPTIONS answered; HEAD follows GET with no body; 404", async () => {
  await serving(router().asApp(), async (server) => {
    const post = await fetch(at(server, "/users/7"), { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "DELETE, GET, HEAD, OPTIONS");
    await post.arrayBuffer();
    const options = await fetch(at(server, "/items/1"), { method: "OPTIONS" });
    assert.equal(options.status, 200);
    assert.equal(options.headers.get("allow"), "GET, HEAD, OPTIONS, PUT");
    await options.arrayBuffer();
    const del = await fetch(at(server, "/users/7"), { method: "DELETE" });
    assert.equal(del.status, 204);
    const [head] = await exchange(
      server.serverPort,
      "HEAD /users/7 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      1,
      [true],
    );
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.ok(Number(header(head, "content-length")) > 0);
    const missing = await fetch(at(server, "/nowhere"));
    assert.equal(missing.status, 404);
    assert.equal(
      await missing.text(),
      '404 Not Found\n\nnothing at "/nowhere"\n',
    );
    const options404 = await fetch(at(server, "/nowhere"), {
      method: "OPTIONS",
    });
    assert.equal(options404.status, 404);
    await options404.arrayBuffer();
  });
});

test("trailing slash: 308 to the slashed URL, query and method kept; never a //host Location", async () => {
  await serving(router().asApp(), async (server) => {
    const res = await fetch(at(server, "/docs?x=1&y=%C3%A9"), {
      redirect: "manual",
    });
    assert.equal(res.status, 308);
    assert.equal(res.headers.get("location"), "/docs/?x=1&y=%C3%A9");
    await res.arrayBuffer();
    const followed = await fetch(at(server, "/docs"), {
      method: "POST",
      body: "x",
    });
    assert.equal(await followed.text(), "posted docs");
    const send = async (target: string) =>
      (await exchange(
        server.serverPort,
        `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      ))[0];
    for (
      const target of [
        "//deep/evil.example",
        "///deep/evil.example",
        "/deep//evil.example",
      ]
    ) {
      const r = await send(target);
      const location = header(r, "location");
      if (r.status === 308) {
        assert.ok(
          location && !/^[\\/]{2}/.test(location),
          `${target} -> ${location}`,
        );
      } else assert.equal(r.status, 404, target);
    }
    const evil = await send("//deep/evil.example");
    assert.equal(header(evil, "location"), "/deep/evil.example/");
  });
});

test("HTTPError from a handler is its response; another error is the server's 500 and the server keeps serving", async () => {
  await serving(router().asApp(), async (server, errors) => {
    const forbidden = await fetch(at(server, "/forbidden"));
    assert.equal(forbidden.status, 403);
    assert.equal(await forbidden.text(), "403 Forbidden\n\nadmins only\n");
    const boom = await fetch(at(server, "/boom"));
    assert.equal(boom.status, 500);
    await boom.arrayBuffer();
    assert.match(errors(), /handler bug/);
    assert.equal(await (await fetch(server.url)).text(), "index");
  });
});

test("urlFor under a mount: SCRIPT_NAME prefixed, values quoted, spare values in the query", async () => {
  const r = router();
  r.get("/links", (request) =>
    WSGIResponse.json([
      r.urlFor("user", { id: 7 }, { request }),
      r.urlFor("file", { rest: "a b/ç?.txt", v: [1, 2] }, { request }),
      r.urlFor("docs", {}, { request, external: true }),
      r.urlFor("index", {}, { request }),
    ]));
  const app = dispatcher(() => [], { "/my app": r.asApp() });
  await serving(app, async (server) => {
    const res = await fetch(at(server, "/my%20app/links"));
    assert.deepEqual(await res.json(), [
      "/my%20app/users/7",
      "/my%20app/files/a%20b/%C3%A7%3F.txt?v=1&v=2",
      `http://127.0.0.1:${server.serverPort}/my%20app/docs/`,
      "/my%20app/",
    ]);
    const slash = await fetch(at(server, "/my%20app/docs"), {
      redirect: "manual",
    });
    assert.equal(slash.headers.get("location"), "/my%20app/docs/");
    await slash.arrayBuffer();
  });
  assert.throws(() => r.urlFor("user", {}), /no value for <id>/);
  assert.throws(
    () => r.urlFor("user", { id: -1 }),
    /-1 is not an unsigned integer/,
  );
  assert.throws(() => r.urlFor("user", { id: "x/y" }), /"x\/y"/);
  assert.equal(r.urlFor("/users/<name>", { name: "a/b" }), "/users/a%2Fb");
});

test("bad rules are refused when added, naming the rule", () => {
  const r = new Router();
  const h = () => new WSGIResponse("");
  assert.throws(() => r.get("users", h), /"users" must start with "\/"/);
  assert.throws(() => r.get("/a/<nope:x>", h), /unknown converter "nope"/);
  assert.throws(() => r.get("/a/<x>/<x>", h), /"x" is used twice/);
  assert.throws(() => r.get("/a/<x", h), /malformed converter/);
  r.get("/a", h, { name: "a" });
  assert.throws(() => r.get("/b", h, { name: "a" }), /"a" is taken by "\/a"/);
});

const hasWerkzeug =
  spawnSync("python3", ["-c", "import werkzeug"]).status === 0;

test(
  "the same rule and values as CPython's werkzeug Map for the same table and paths (redirects and 404s too)",
  { skip: hasWerkzeug ? false : "python3 -c 'import werkzeug' fails here" },
  async () => {
    const rules = [
      "/users/me",
      "/users/<int:id>",
      "/users/<name>",
      "/users/<int:id>/posts",
      "/<a>/<b>",
      "/files/<path:p>",
      "/files/<path:p>/raw",
      "/docs/",
      "/n/<float:x>",
      "/k/<any(a,b):k>",
      "/c/<string(length=2):c>",
      "/i/<int(signed=True):i>",
      "/<path:all>",
    ];
    const paths = [
      "/users/me",
      "/users/7",
      "/users/ana",
      "/users/7/posts",
      "/x/y",
      "/files/a/b/raw",
      "/files/a/b",
      "/docs",
      "/docs/",
      "/n/1.5",
      "/n/1",
      "/k/a",
      "/k/c",
      "/c/fr",
      "/c/fra",
      "/i/-3",
      "/anything/at/all",
      "/",
      "/users/",
      "/users//7",
      "/users/7/posts/",
      "/files/a/raw/",
      "/docs/x",
      "/k/a/",
      "/c/f%C3%A9",
      "/users/caf%C3%A9",
      "/i/--3",
      "/n/-1.5",
    ];
    const script = `
import json, sys
from urllib.parse import unquote
from werkzeug.routing import Map, Rule, RequestRedirect
from werkzeug.exceptions import NotFound, MethodNotAllowed
rules, paths = json.load(sys.stdin)
bound = Map([Rule(r, endpoint=r, methods=["GET"]) for r in rules]).bind("x", "/")
out = []
for p in paths:
    try:
        # PATH_INFO as a server hands it over: percent-decoded.
        endpoint, values = bound.match(unquote(p), method="GET")
        out.append(["match", endpoint, values])
    except RequestRedirect as e:
        out.append(["redirect", e.new_url.replace("http://x", ""), e.code])
    except MethodNotAllowed:
        out.append(["405"])
    except NotFound:
        out.append(["404"])
print(json.dumps(out))
`;
    const run = spawnSync("python3", ["-c", script], {
      input: JSON.stringify([rules, paths]),
      encoding: "utf8",
    });
    assert.equal(run.status, 0, run.stderr);
    const router = new Router();
    for (const rule of rules) {
      router.get(rule, (_request, params) => WSGIResponse.json([rule, params]));
    }
    const ours: unknown[] = [];
    await serving(router.asApp(), async (server) => {
      for (const path of paths) {
        const [res] = await exchange(
          server.serverPort,
          `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
        );
        if (res.status === 200) ours.push(["match", ...JSON.parse(text(res))]);
        else if (res.status === 308) {
          ours.push(["redirect", header(res, "location"), 308]);
        } else ours.push([String(res.status)]);
      }
    });
    assert.deepEqual(ours, JSON.parse(run.stdout));
  },
);
