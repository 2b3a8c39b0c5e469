// examples/flask_like.ts, the app of docs/flask.md ("Coming from Flask"),
// served by makeServer on this runtime, exercised over real sockets in
// validator(); and the guide shows exactly the file's code.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { app } from "../examples/flask_like.ts";
import { at, serving } from "./_toolkit.ts";

const root = new URL("..", import.meta.url);

test("docs/flask.md shows examples/flask_like.ts as it is", () => {
  const guide = readFileSync(new URL("docs/flask.md", root), "utf8");
  const file = readFileSync(new URL("examples/flask_like.ts", root), "utf8");
  const block = /<!-- examples\/flask_like\.ts -->\n+```ts\n([\s\S]*?)```\n/
    .exec(guide);
  assert.ok(
    block,
    "docs/flask.md has no block marked <!-- examples/flask_like.ts -->",
  );
  assert.equal(block[1], file);
});

test("the JSON API: list, create (201 + Location), show, 400 on bad input, 404, 405", async () => {
  await serving(app, async (server) => {
    // The app's list lives as long as the module: under bun test, which
    // runs every file in one process, docs/flask.md's block added to it.
    const before = await (await fetch(at(server, "/api/todos"))).json();
    assert.deepEqual(before[0], { id: 1, title: "Try wsgi", done: false });
    const id = before.length + 1;
    const created = await fetch(at(server, "/api/todos"), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ title: "Write tests" }),
    });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get("location"), `/api/todos/${id}`);
    assert.deepEqual(await created.json(), {
      id,
      title: "Write tests",
      done: false,
    });
    assert.equal(
      (await (await fetch(at(server, `/api/todos/${id}`))).json()).title,
      "Write tests",
    );
    const missing = await fetch(at(server, "/api/todos/99"));
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /no todo 99/);
    const notInt = await fetch(at(server, "/api/todos/abc"));
    assert.equal(notInt.status, 404);
    await notInt.arrayBuffer();
    for (const body of ['{"title": 5}', "{not json", "{}"]) {
      const bad = await fetch(at(server, "/api/todos"), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body,
      });
      assert.equal(bad.status, 400, body);
      await bad.arrayBuffer();
    }
    const put = await fetch(at(server, "/api/todos/1"), { method: "PUT" });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get("allow"), "GET, HEAD, OPTIONS");
    await put.arrayBuffer();
  });
});

test("the form, by GET query or POST body", async () => {
  await serving(app, async (server) => {
    assert.equal(
      await (await fetch(at(server, "/hello?name=Ana"))).text(),
      "Hello, Ana!",
    );
    const posted = await fetch(at(server, "/hello"), {
      method: "POST",
      body: new URLSearchParams({ name: "Zoë" }),
    });
    assert.equal(await posted.text(), "Hello, Zoë!");
  });
});

test("upload then download: the same bytes, streamed, as an attachment", async () => {
  await serving(app, async (server) => {
    const bytes = new Uint8Array(200_000).map((_, i) => i % 256);
    const form = new FormData();
    // A type that matches the extension: Bun 1.4's formData() takes a
    // File's type from its name, not the part's Content-Type (bun#39884).
    form.append("file", new File([bytes], "données.csv", { type: "text/csv" }));
    const up = await fetch(at(server, "/upload"), {
      method: "POST",
      body: form,
    });
    assert.equal(up.status, 201);
    const { size, url } = await up.json();
    assert.equal(size, bytes.length);
    assert.equal(url, "/download/donn%C3%A9es.csv");
    const down = await fetch(at(server, url));
    assert.equal(down.headers.get("content-type"), "text/csv");
    assert.equal(
      down.headers.get("content-disposition"),
      "attachment; filename*=UTF-8''donn%C3%A9es.csv",
    );
    assert.deepEqual(new Uint8Array(await down.arrayBuffer()), bytes);
    const none = await fetch(at(server, "/upload"), {
      method: "POST",
      body: new FormData(),
    });
    assert.equal(none.status, 400);
    await none.arrayBuffer();
  });
});

test("the cookie counter counts", async () => {
  await serving(app, async (server) => {
    let cookie = "";
    for (let n = 1; n <= 3; n++) {
      const res = await fetch(at(server, "/counter"), {
        headers: cookie ? { Cookie: cookie } : {},
      });
      assert.equal(await res.text(), `You have been here ${n} times.`);
      const set = res.headers.getSetCookie()[0];
      assert.match(set, /HttpOnly; Path=\/; SameSite=Lax$/);
      cookie = set.split(";")[0];
    }
    const hostile = await fetch(at(server, "/counter"), {
      headers: { Cookie: 'count="1;2"; count=7' },
    });
    // The first "count" wins, and "1;2" is no number: the count restarts.
    assert.equal(await hostile.text(), "You have been here 1 times.");
  });
});

test("the stream arrives line by line; an unknown path is a 404", async () => {
  await serving(app, async (server) => {
    const started = Date.now();
    const res = await fetch(at(server, "/stream"));
    const reader = res.body!.getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), "line 1\n");
    assert.ok(
      Date.now() - started < 200,
      `first line after ${Date.now() - started} ms`,
    );
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      rest += new TextDecoder().decode(r.value);
    }
    assert.equal(rest, "line 2\nline 3\n");
    const missing = await fetch(at(server, "/nope"));
    assert.equal(missing.status, 404);
    await missing.arrayBuffer();
  });
});
