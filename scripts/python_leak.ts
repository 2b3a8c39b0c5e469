// The leak check of issue 16: 10,000 requests through pythonApp (Flask
// from Debian's python3-flask, and a bare WSGI app streaming a generator
// and reading a body), with the Wasm heap and Python's live object count
// read along the way; they must stay flat once warm.
//
//   node scripts/python_leak.ts    (or bun, or deno run -A)
//
// Bounded: stops after 10,000 requests or 120 s, whichever comes first.
// Exits 1 when the heap grew or the object count rose by more than 1%
// between the first checkpoint after warm-up and the last.
import { loadPyodide } from "pyodide";
import { handleRequest } from "../mod.ts";
import { pythonApp } from "../src/python/python_app.ts";

const FIXTURES = new URL("../tests/fixtures/python/", import.meta.url).pathname;
const TOTAL = 10_000;
const DEADLINE = Date.now() + 120_000;

const py = await loadPyodide();
const flask = pythonApp(py, "flask_app:app", {
  cwd: FIXTURES,
  path: ["/usr/lib/python3/dist-packages"],
});
const bare = pythonApp(py, "leak_app:app", { cwd: FIXTURES });
const count = py.runPython(
  "import gc\ndef count():\n    gc.collect()\n    return len(gc.get_objects())\ncount",
) as () => number;
const heap = () =>
  (py as unknown as { _module: { HEAPU8: Uint8Array } })._module.HEAPU8.length;

const requests: [string, () => Request][] = [
  ["flask /", () => new Request("http://127.0.0.1/")],
  ["flask json", () =>
    new Request("http://127.0.0.1/json", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"a": [1, 2, 3]}',
    })],
  ["flask stream", () => new Request("http://127.0.0.1/stream")],
  ["flask 404", () => new Request("http://127.0.0.1/missing")],
  [
    "bare",
    () =>
      new Request("http://127.0.0.1/x", {
        method: "POST",
        body: "x".repeat(5000),
      }),
  ],
];

const points: { n: number; heap: number; objects: number; ms: number }[] = [];
const start = performance.now();
let n = 0;
for (; n < TOTAL && Date.now() < DEADLINE; n++) {
  const [name, make] = requests[n % requests.length];
  const app = name === "bare" ? bare : flask;
  const response = await handleRequest(make(), app);
  await response.arrayBuffer();
  if (response.status >= 500) throw new Error(`${name}: ${response.status}`);
  if ((n + 1) % 1000 === 0) {
    points.push({
      n: n + 1,
      heap: heap(),
      objects: count(),
      ms: performance.now() - start,
    });
    const p = points[points.length - 1];
    console.log(
      `${p.n} requests: Wasm heap ${(p.heap / 2 ** 20).toFixed(1)} MiB, ` +
        `${p.objects} Python objects, ${(p.ms / 1000).toFixed(1)} s`,
    );
  }
}
const first = points[1] ?? points[0];
const last = points[points.length - 1];
const grew = last.heap > first.heap ||
  last.objects > first.objects * 1.01;
console.log(
  `${n} requests: heap ${first.heap} -> ${last.heap} bytes, objects ` +
    `${first.objects} -> ${last.objects}: ${grew ? "GROWING" : "flat"}`,
);
(globalThis as { process?: { exitCode?: number } }).process!.exitCode = grew
  ? 1
  : 0;
