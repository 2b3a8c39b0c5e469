// Router matching against URLPattern, on one 50-route table: how long one
// match takes per request, for the decision recorded in docs/toolkit.md;
// then what the router and WSGIRequest add to a whole request through
// handleRequest (in process, no socket), against a bare WSGI app.
// Run on each runtime (a one-off measurement; not part of bench.ts):
//   deno run -A scripts/_route_match_bench.ts
//   bun scripts/_route_match_bench.ts
//   node scripts/_route_match_bench.ts
import { handleRequest, type WSGIApplication } from "../mod.ts";
import { Router, WSGIResponse } from "../src/toolkit/mod.ts";

const resources = [
  "users",
  "posts",
  "comments",
  "tags",
  "orders",
  "items",
  "carts",
  "files",
  "teams",
  "events",
];
const rules: string[] = ["/", "/about", "/health", "/login", "/logout"];
for (const r of resources) {
  rules.push(
    `/api/${r}`,
    `/api/${r}/<int:id>`,
    `/api/${r}/<int:id>/edit`,
    `/api/${r}/<int:id>/<string:field>`,
  );
}
rules.push(
  "/static/<path:rest>",
  "/u/<string:name>",
  "/search/<string:q>",
  "/x/<int:a>/<int:b>",
  "/y/<uuid:k>",
);
if (rules.length !== 50) throw new Error(`${rules.length} rules`);

const router = new Router();
const ok = () => new WSGIResponse("");
for (const rule of rules) router.get(rule, ok);

// The same table as URLPatterns (werkzeug's converters as regex groups).
const toPattern = (rule: string): string =>
  rule.replace(
    /<(?:(\w+):)?(\w+)>/g,
    (_, conv: string | undefined, name: string) =>
      conv === "int"
        ? `:${name}(\\d+)`
        : conv === "path"
        ? `:${name}(.+)`
        : conv === "uuid"
        ? `:${name}([0-9a-fA-F\\-]+)`
        : `:${name}`,
  );
const URLPatternClass = (globalThis as unknown as {
  URLPattern: new (init: { pathname: string }) => {
    exec(
      input: { pathname: string },
    ): { pathname: { groups: Record<string, string> } } | null;
  };
}).URLPattern;
const patterns = rules.map((rule) =>
  new URLPatternClass({ pathname: toPattern(rule) })
);

const paths = [
  "/",
  "/api/users/42",
  "/api/events/7/edit",
  "/api/events/7/title",
  "/static/css/site.css",
  "/y/a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
  "/nowhere/at/all",
];

function viaRouter(path: string): unknown {
  return router.match("GET", path);
}
function viaPattern(path: string): unknown {
  for (const p of patterns) {
    const m = p.exec({ pathname: path });
    if (m) return m.pathname.groups;
  }
  return null;
}

for (const path of paths) {
  if ((viaRouter(path) === null) !== (viaPattern(path) === null)) {
    throw new Error(`the two disagree on ${path}`);
  }
}

function time(f: (p: string) => unknown, rounds: number): number {
  const start = performance.now();
  for (let i = 0; i < rounds; i++) for (const p of paths) f(p);
  return (performance.now() - start) * 1e6 / (rounds * paths.length);
}

const runtime = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";
time(viaRouter, 2000);
time(viaPattern, 200);
// Interleaved rounds: the machine is shared, ratios are what holds.
const r: number[] = [];
const u: number[] = [];
for (let k = 0; k < 5; k++) {
  r.push(time(viaRouter, 20000));
  u.push(time(viaPattern, 2000));
}
const median = (xs: number[]) => xs.sort((a, b) => a - b)[2];
console.log(
  `${runtime}: Router.match ${median(r).toFixed(0)} ns, URLPattern loop ${
    median(u).toFixed(0)
  } ns per match ` +
    `(x${
      (median(u) / median(r)).toFixed(1)
    }), ${rules.length} rules, ${paths.length} paths`,
);

// A whole request in process: the bare app, the router on a static and on
// a dynamic rule, and a handler that reads args, a header and a cookie.
const hello = new TextEncoder().encode("ok");
const bare: WSGIApplication = (_environ, startResponse) => {
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return [hello];
};
const full = new Router();
for (const rule of rules) full.get(rule, () => new WSGIResponse("ok"));
full.get("/read/<int:id>", (request, { id }) =>
  new WSGIResponse(
    `${id} ${request.args.get("q")} ${request.header("accept")} ${
      request.cookies.get("s")
    }`,
  ));
const routed = full.asApp();
const headers = { Accept: "text/plain", Cookie: "s=1; t=2" };
async function perRequest(app: WSGIApplication, path: string, n: number) {
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const res = await handleRequest(
      new Request(`http://localhost${path}`, { headers }),
      app,
    );
    await res.arrayBuffer();
  }
  return (performance.now() - start) * 1000 / n;
}
const cases: [string, WSGIApplication, string][] = [
  ["bare app", bare, "/api/events/7/title"],
  ["router, static rule", routed, "/health"],
  ["router, dynamic rule", routed, "/api/events/7/title"],
  ["router, reads args+header+cookie", routed, "/read/7?q=x"],
  ["router, 404", routed, "/nowhere/at/all"],
];
for (const [, app, path] of cases) await perRequest(app, path, 2000);
const results = cases.map(() => [] as number[]);
for (let k = 0; k < 5; k++) {
  for (let c = 0; c < cases.length; c++) {
    results[c].push(await perRequest(cases[c][1], cases[c][2], 5000));
  }
}
console.log(
  `${runtime}, per request through handleRequest (µs, median of 5): ` +
    cases.map(([name], c) => `${name} ${median(results[c]).toFixed(1)}`).join(
      "; ",
    ),
);
