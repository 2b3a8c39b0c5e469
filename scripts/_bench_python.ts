// Issue 16's benchmark: a Flask hello (tests/fixtures/python/flask_app.py,
// Debian's python3-flask) served by `wsgi` through Pyodide on Deno, Bun and
// Node, against gunicorn (sync, one worker) and wsgiref.simple_server on
// CPython, in one interleaved run: requests/s, CPU per request, RSS after
// the load, and the time from the start to the first response.
//
//   deno run -A scripts/bench.ts --python-app [--rounds N] [--duration S]
//
// Each round starts every server afresh (the time to the first response is
// measured from the spawn, with the .pyc cache warm after the first start),
// warms it for 1 s, then wrk (1 thread, 8 connections) loads it for
// --duration seconds. The server runs on CPU 1 and wrk on CPU 0 (taskset)
// when it can. `wsgi` runs with -q: gunicorn logs no access by default.
// Medians over rounds; the Markdown section is printed for BENCHMARKS.md.
const ROOT = new URL("../", import.meta.url).pathname;
const BIN = `${ROOT}node_modules/.bin/`;
const FIXTURES = `${ROOT}tests/fixtures/python/`;
const DIST = "/usr/lib/python3/dist-packages";
const APP = "flask_app:app";

interface Server {
  name: string;
  cmd: string[];
}

function servers(port: number): Server[] {
  const cli = (runtime: string, run: string[]) => ({
    name: `wsgi on ${runtime} (Pyodide)`,
    cmd: [...run, "-q", "--port", String(port), "--pythonpath", DIST, APP],
  });
  return [
    cli("deno", [`${BIN}deno`, "run", "-A", `${ROOT}mod.ts`]),
    cli("bun", [`${BIN}bun`, `${ROOT}mod.ts`]),
    cli("node", [`${BIN}node`, `${ROOT}mod.ts`]),
    {
      name: "gunicorn (sync, 1 worker)",
      cmd: [
        "/usr/bin/gunicorn",
        "-w",
        "1",
        "-k",
        "sync",
        "-b",
        `127.0.0.1:${port}`,
        APP,
      ],
    },
    {
      name: "wsgiref.simple_server",
      cmd: [
        "/usr/bin/python3",
        "-c",
        `import sys; sys.path.insert(0, "."); from wsgiref.simple_server import make_server, WSGIRequestHandler; WSGIRequestHandler.log_message = lambda *a: None; from flask_app import app; make_server("127.0.0.1", ${port}, app).serve_forever()`,
      ],
    },
  ];
}

const TICKS = 100;

function tree(pid: number): number[] {
  const out = [pid];
  try {
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      const kids = Deno.readTextFileSync(
        `/proc/${pid}/task/${task.name}/children`,
      )
        .trim();
      for (const kid of kids ? kids.split(" ") : []) {
        out.push(...tree(Number(kid)));
      }
    }
  } catch { /* gone */ }
  return out;
}

/** CPU seconds and RSS (MiB) of a process tree. */
function usage(pid: number): { cpu: number; rss: number } {
  let cpu = 0;
  let rss = 0;
  for (const p of tree(pid)) {
    try {
      const stat = Deno.readTextFileSync(`/proc/${p}/stat`);
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      cpu += (Number(f[11]) + Number(f[12])) / TICKS;
      const status = Deno.readTextFileSync(`/proc/${p}/status`);
      rss += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
    } catch { /* gone */ }
  }
  return { cpu, rss };
}

async function run(cmd: string[]): Promise<string> {
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  return new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
}

async function wrk(port: number, seconds: number, pin: boolean) {
  const args = ["-t1", "-c8", `-d${seconds}s`, `http://127.0.0.1:${port}/`];
  const text = await run(
    pin ? ["taskset", "-c", "0", "wrk", ...args] : ["wrk", ...args],
  );
  const n = /(\d+) requests in/.exec(text);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  if (!n || !rps) throw new Error(`wrk: ${text}`);
  return { requests: Number(n[1]), rps: Number(rps[1]) };
}

interface Sample {
  rps: number;
  cpuMs: number;
  rss: number;
  first: number;
}

async function once(
  server: Server,
  port: number,
  seconds: number,
  pin: boolean,
): Promise<Sample> {
  const cmd = pin ? ["taskset", "-c", "1", ...server.cmd] : server.cmd;
  const t0 = performance.now();
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: FIXTURES,
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    let first = 0;
    while (performance.now() - t0 < 60_000) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/`);
        const body = await r.text();
        if (r.status === 200 && body === "Hello, World!") {
          first = performance.now() - t0;
          break;
        }
      } catch { /* not yet */ }
      await new Promise((r) => setTimeout(r, 20));
    }
    if (first === 0) throw new Error(`${server.name}: no answer in 60 s`);
    await wrk(port, 1, pin);
    const before = usage(child.pid).cpu;
    const load = await wrk(port, seconds, pin);
    const after = usage(child.pid);
    return {
      rps: load.rps,
      cpuMs: (after.cpu - before) * 1000 / load.requests,
      rss: after.rss,
      first,
    };
  } finally {
    for (const p of tree(child.pid).reverse()) {
      try {
        Deno.kill(p, "SIGKILL");
      } catch { /* gone */ }
    }
    await child.status;
  }
}

const median = (v: number[]) =>
  [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/** Runs the benchmark; returns the Markdown section. */
export async function benchPython(
  rounds: number,
  seconds: number,
): Promise<string> {
  const pin = (await run(["taskset", "-c", "0", "true"])) === "";
  const port = 20000 + Math.floor(Math.random() * 20000);
  const list = servers(port);
  const samples = new Map<string, Sample[]>(list.map((s) => [s.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const server of list) {
      const s = await once(server, port, seconds, pin);
      samples.get(server.name)!.push(s);
      console.error(
        `round ${round + 1} ${server.name}: ${s.rps.toFixed(0)} req/s, ` +
          `${s.cpuMs.toFixed(3)} ms CPU/req, ${
            s.rss.toFixed(0)
          } MiB, first response ${(s.first / 1000).toFixed(2)} s`,
      );
    }
  }
  const gunicorn = median(
    samples.get("gunicorn (sync, 1 worker)")!.map((s) => s.rps),
  );
  const rows = list.map((server) => {
    const s = samples.get(server.name)!;
    const rps = median(s.map((x) => x.rps));
    return `| ${server.name} | ${rps.toFixed(0)} | ${
      (rps / gunicorn).toFixed(2)
    }× | ${median(s.map((x) => x.cpuMs)).toFixed(3)} | ${
      median(s.map((x) => x.rss)).toFixed(0)
    } | ${(median(s.map((x) => x.first)) / 1000).toFixed(2)} |`;
  });
  const load = Deno.readTextFileSync("/proc/loadavg").split(" ")[0];
  return [
    "## Python apps through Pyodide (issue 16)",
    "",
    `\`deno run -A scripts/bench.ts --python-app --rounds ${rounds} --duration ${seconds}\`: ` +
    "a Flask 2.2.2 hello (Debian's python3-flask) served by `wsgi -q` through Pyodide 0.29.3 " +
    "(CPython 3.13 in WebAssembly), one process, against gunicorn (sync, 1 worker) and " +
    "wsgiref.simple_server on CPython 3.11, interleaved, each server started afresh per round; " +
    `wrk -t1 -c8, ${
      pin ? "server on CPU 1 and wrk on CPU 0" : "unpinned"
    }; medians of ${rounds} rounds. ` +
    `Load average ${load} at the end: **the machine was shared and busy; the figures are noisy**, ` +
    "the ratios within one run less so.",
    "",
    "| server | req/s | vs gunicorn | CPU ms/request | RSS MiB after load | first response (s) |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
  ].join("\n");
}

/** `--python-app [--rounds N] [--duration S]`: prints the section. */
export async function benchPythonCli(args: string[]): Promise<void> {
  const value = (flag: string, fallback: number) => {
    const i = args.findIndex((a) => a === flag || a.startsWith(flag + "="));
    if (i === -1) return fallback;
    const n = Number(
      args[i].includes("=") ? args[i].split("=")[1] : args[i + 1],
    );
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(`${flag} takes a positive integer`);
    }
    return n;
  };
  console.log(await benchPython(value("--rounds", 3), value("--duration", 3)));
}
