// The access log's cost per request, by format: `log: false`, wsgiref's
// default line (on this branch, and on the commit it started from: main),
// gunicorn's format string (its default plus %(D)s) and JSON, measured in
// one interleaved run (scripts/bench.ts --logs):
//
//   deno run -A scripts/bench.ts --logs [--rounds N] [--duration S]
//                                [--runtime deno,bun,node]
//
// For each runtime: (1) in one process, the cost of each access logger per
// record (scripts/_bench_logs_micro.ts); (2) five servers
// (scripts/_bench_logs_server.ts; "main" runs it in a `git archive` of the
// merge-base with main), their stderr to a file, loaded by wrk (16
// connections, browser-like headers) in turn within each round, servers on
// CPU 1 and wrk on CPU 0: CPU per request from /proc/<pid>/stat, the median
// over rounds, and the ratio to `log: false` measured in the same round.
// Prints a Markdown section for BENCHMARKS.md.
const ROOT = new URL("../", import.meta.url).pathname;
const BIN = `${ROOT}node_modules/.bin/`;
const SERVER = "scripts/_bench_logs_server.ts";
const MICRO = "scripts/_bench_logs_micro.ts";
/** "main": the default line on the commit this branch started from. */
const MODES = ["off", "main", "default", "format", "json"] as const;
const HEADERS: [string, string][] = [
  ["User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Firefox/133.0"],
  ["Accept", "text/html,application/xhtml+xml"],
  ["Accept-Language", "en-US,en;q=0.5"],
  ["Referer", "http://127.0.0.1/"],
];

/** Runs `script` (from `root`, this tree or main's) on `runtime`. */
function cmd(runtime: string, script: string, ...args: string[]): string[] {
  return runtime === "deno"
    ? [BIN + "deno", "run", "-A", script, ...args]
    : [BIN + runtime, script, ...args];
}

/**
 * The commit this branch started from (merge-base with main), unpacked
 * with this branch's server script: its makeServer is main's.
 */
async function mainTree(dir: string): Promise<string> {
  const base = (await output("git", ["-C", ROOT, "merge-base", "HEAD", "main"]))
    .trim();
  const tree = `${dir}/main`;
  Deno.mkdirSync(`${tree}/scripts`, { recursive: true });
  const tar = `${dir}/main.tar`;
  await output("git", [
    "-C",
    ROOT,
    "archive",
    "-o",
    tar,
    base,
    "mod.ts",
    "src",
    "package.json",
  ]);
  await output("tar", ["-xf", tar, "-C", tree]);
  Deno.copyFileSync(`${ROOT}${SERVER}`, `${tree}/${SERVER}`);
  return tree;
}

async function output(program: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(program, { args, stderr: "inherit" })
    .output();
  if (!out.success) throw new Error(`${program} ${args.join(" ")} failed`);
  return new TextDecoder().decode(out.stdout);
}

function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

interface Server {
  pid: number;
  port: number;
  child: Deno.ChildProcess;
}

async function start(
  runtime: string,
  mode: string,
  dir: string,
  mainRoot: string,
) {
  const root = mode === "main" ? mainRoot : ROOT;
  const argv = cmd(
    runtime,
    `${root}${root.endsWith("/") ? "" : "/"}${SERVER}`,
    mode === "main" ? "default" : mode,
  );
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      'f="$1"; shift; exec taskset -c 1 "$@" 2>>"$f"',
      "sh",
      `${dir}/${runtime}-${mode}.stderr`,
      ...argv,
    ],
    stdout: "piped",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`${runtime} ${mode}: no port line`);
    seen += value;
    const m = /PORT (\d+)/.exec(seen);
    if (m) {
      (async () => {
        for (;;) if ((await reader.read()).done) return;
      })().catch(() => {});
      return { pid: child.pid, port: Number(m[1]), child } as Server;
    }
  }
}

async function wrk(port: number, seconds: number, lua: string) {
  const text = await output("taskset", [
    "-c",
    "0",
    "wrk",
    "-t1",
    "-c16",
    `-d${seconds}s`,
    "-s",
    lua,
    `http://127.0.0.1:${port}/`,
  ]);
  const m = /(\d+) requests in/.exec(text);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  if (!m || !rps) throw new Error(`wrk: ${text}`);
  return { requests: Number(m[1]), rps: Number(rps[1]) };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? s[s.length >> 1]
    : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Runs the log benchmark; returns its Markdown section. */
export async function benchLogs(options: {
  runtimes: string[];
  rounds: number;
  duration: number;
}): Promise<string> {
  const dir = Deno.makeTempDirSync({ prefix: "wsgi-bench-logs-" });
  const lua = `${dir}/headers.lua`;
  Deno.writeTextFileSync(
    lua,
    HEADERS.map(([n, v]) =>
      `wrk.headers[${JSON.stringify(n)}] = ${JSON.stringify(v)}`
    )
      .join("\n") + "\n",
  );
  const mainRoot = await mainTree(dir);
  const micro: string[] = [];
  const rows: string[] = [];
  try {
    for (const runtime of options.runtimes) {
      const [program, ...args] = cmd(runtime, ROOT + MICRO);
      const text = await output(program, args);
      const ns: Record<string, string> = {};
      for (const m of text.matchAll(/MICRO (\S+) (\d+)/g)) ns[m[1]] = m[2];
      micro.push(
        `| ${runtime} | ${
          ns["main-default"]
        } | ${ns.default} | ${ns.format} | ${ns.json} |`,
      );
      console.error(`${runtime} micro: ${JSON.stringify(ns)}`);
      const servers: Record<string, Server> = {};
      for (const mode of MODES) {
        servers[mode] = await start(runtime, mode, dir, mainRoot);
      }
      const cpu: Record<string, number[]> = {};
      const rps: Record<string, number[]> = {};
      const ratio: Record<string, number[]> = {};
      try {
        for (const s of Object.values(servers)) await wrk(s.port, 1, lua);
        for (let round = 0; round < options.rounds; round++) {
          const us: Record<string, number> = {};
          for (const mode of MODES) {
            const s = servers[mode];
            const before = cpuSeconds(s.pid);
            const r = await wrk(s.port, options.duration, lua);
            us[mode] = (cpuSeconds(s.pid) - before) * 1e6 / r.requests;
            (cpu[mode] ??= []).push(us[mode]);
            (rps[mode] ??= []).push(r.rps);
          }
          for (const mode of MODES) {
            (ratio[mode] ??= []).push(us[mode] / us.off);
          }
        }
      } finally {
        for (const s of Object.values(servers)) {
          try {
            Deno.kill(s.pid, "SIGKILL");
          } catch { /* gone */ }
          await s.child.status;
        }
      }
      for (const mode of MODES) {
        rows.push(
          `| ${runtime} | ${mode} | ${median(cpu[mode]).toFixed(1)} | ${
            median(ratio[mode]).toFixed(2)
          } | ${Math.round(median(rps[mode]))} |`,
        );
      }
      console.error(rows.slice(-MODES.length).join("\n"));
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
  const versions = (await Promise.all(
    options.runtimes.map(async (r) =>
      (await output(BIN + r, ["--version"])).split("\n")[0].trim()
        .replace(/^(?!deno)/, `${r} `)
    ),
  )).join("; ");
  return `## Access-log formats (scripts/bench.ts --logs)

Per record, in one process (ns, median of 7 interleaved rounds of 200 000
records into a batcher that only counts bytes): main's default line as it was
before the formats, today's default, gunicorn's format string (its default plus
\`%(D)s\`) and JSON.

| runtime | main's default | default | format | json |
| ------- | -------------: | ------: | -----: | ---: |
${micro.join("\n")}

Per request, through makeServer() (the tutorial app, stderr to a file, wrk with
16 connections and browser-like headers, ${options.rounds} interleaved rounds of
${options.duration} s; CPU µs per request, its ratio to \`log: false\` in the same
round, req/s; medians). _main_ is the default line served by the commit this
branch started from (its own makeServer), beside this branch's _default_:

| runtime | log | CPU µs/req | × off | req/s |
| ------- | --- | ---------: | ----: | ----: |
${rows.join("\n")}

- Date: ${new Date().toISOString()}; ${versions}
- The machine is a shared 2-core virtual one, used by other engineers at the
  same time: figures are noisy; the ratios, measured in the same round, are
  the steadier part.
`;
}
