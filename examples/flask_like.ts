/**
 * A Flask developer's app on the toolkit: a JSON API with path
 * parameters, a form, a multipart upload, a cookie counter, a file
 * download, a stream and a 404, with no hand-written parsing
 * (docs/flask.md walks through it).
 *
 *     deno run --allow-net examples/flask_like.ts
 *
 * @module
 */
import { makeServer } from "../mod.ts";
import { abort, Router, WSGIResponse } from "../src/toolkit/mod.ts";

type Todo = { id: number; title: string; done: boolean };
const todos = new Map<number, Todo>([[1, {
  id: 1,
  title: "Try wsgi",
  done: false,
}]]);
const uploads = new Map<string, File>();
const router = new Router();

router.get("/api/todos", () => WSGIResponse.json([...todos.values()]));
router.post("/api/todos", async (request) => {
  const { title } = await request.json<{ title?: unknown }>();
  if (typeof title !== "string" || !title) {
    abort(400, "title must be a non-empty string");
  }
  const todo = { id: todos.size + 1, title, done: false };
  todos.set(todo.id, todo);
  const location = router.urlFor("todo", { id: todo.id }, { request });
  return WSGIResponse.json(todo, {
    status: 201,
    headers: { Location: location },
  });
});
router.get("/api/todos/<int:id>", (_request, { id }) => {
  return WSGIResponse.json(todos.get(id) ?? abort(404, `no todo ${id}`));
}, { name: "todo" });

router.route("/hello", async (request) => {
  const name = (await request.form()).get("name") ?? request.args.get("name");
  return new WSGIResponse(`Hello, ${name ?? "stranger"}!`);
}, { methods: ["GET", "POST"] });

router.post("/upload", async (request) => {
  const file = await request.file("file") ?? abort(400, "no file in the form");
  uploads.set(file.name, file);
  const url = router.urlFor("download", { name: file.name }, { request });
  return WSGIResponse.json({ name: file.name, size: file.size, url }, {
    status: 201,
  });
});
router.get("/download/<path:name>", (_request, { name }) => {
  const file = uploads.get(name) ?? abort(404, `no upload named ${name}`);
  return new WSGIResponse(file.stream(), {
    contentType: file.type || "application/octet-stream",
    headers: {
      "Content-Disposition": `attachment; filename*=UTF-8''${
        encodeURIComponent(name)
      }`,
    },
  });
}, { name: "download" });

router.get("/counter", (request) => {
  const count = (Number(request.cookies.get("count")) || 0) + 1;
  return new WSGIResponse(`You have been here ${count} times.`)
    .setCookie("count", String(count), {
      httpOnly: true,
      sameSite: "Lax",
      maxAge: 86400,
    });
});

router.get("/stream", () =>
  new WSGIResponse((async function* () {
    for (let i = 1; i <= 3; i++) {
      yield `line ${i}\n`;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })()));

/** The WSGI application: the router answers 404, 405 and OPTIONS itself. */
export const app = router.asApp();

if (import.meta.main) {
  const server = makeServer("127.0.0.1", 8000, app);
  await server.ready;
  console.log(`Serving on ${server.url}`);
  await server.serveForever();
}
