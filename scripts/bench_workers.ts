// The supervisor's figures, with wrk, for each runtime:
//
//   deno run -A scripts/bench_workers.ts [--runtime deno,bun,node]
//                                        [--duration S] [--rounds N]
//
// - its own cost: the hello app served by one plain process (`wsgi app`)
//   against one supervised worker (`wsgi --workers 1 app`): server CPU per
//   request (utime + stime of every process of the server, from
//   /proc/<pid>/stat), with the servers on CPU 1 and wrk on CPU 0;
// - scaling: an app that spends about 200 µs of CPU per request, one plain
//   process against `--workers 2` (unpinned: the workers need both cores),
//   in requests per second.
//
// Each figure is the median over rounds; a warm-up run precedes each. On a
// shared 2-core machine, trust ratios over absolute figures.
const ROOT = new URL("../", import.meta.url).pathname;
const BIN = `${ROOT}node_modules/.bin/`;
const APP = "scripts/_bench_workers_app.ts";

const args = Deno.args;
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : args[i + 1];
};
const runtimes = option("--runtime", "deno,bun,node").split(",");
const duration = Number(option("--duration", "4"));
const rounds = Number(option("--rounds", "3"));

const COMMANDS: Record<string, string[]> = {
  deno: [`${BIN}deno`, "run", "-A", "mod.ts"],
  bun: [`${BIN}bun`, "mod.ts"],
  node: [`${BIN}node`, "mod.ts"],
};

function ticks(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** The pid and its descendants. */
function tree(pid: number): number[] {
  const out = [pid];
  try {
    const children = Deno.readTextFileSync(
      `/proc/${pid}/task/${pid}/children`,
    ).trim();
    for (const c of children ? children.split(" ") : []) {
      out.push(...tree(Number(c)));
    }
  } catch {
    // Gone.
  }
  return out;
}

async function wrk(port: number, seconds: number, pin: boolean) {
  const cmd = [
    ...(pin ? ["taskset", "-c", "0"] : []),
    "wrk",
    "-t1",
    "-c50",
    `-d${seconds}s`,
    `http://127.0.0.1:${port}/`,
  ];
  const { stdout } = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdout: "piped",
    stderr: "null",
  }).output();
  const text = new TextDecoder().decode(stdout);
  return Number(/(\d+) requests in/.exec(text)?.[1] ?? 0);
}

async function measure(
  runtime: string,
  extra: string[],
  app: string,
  pin: boolean,
) {
  const [cmd, ...base] = COMMANDS[runtime];
  const full = [
    ...(pin ? ["taskset", "-c", "1"] : []),
    cmd,
    ...base,
    ...extra,
    "--port",
    "0",
    "-q",
    `${APP}:${app}`,
  ];
  const child = new Deno.Command(full[0], {
    args: full.slice(1),
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.getReader();
  let out = "";
  while (!/port (\d+)/.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${runtime} ${extra.join(" ")} did not start`);
    out += new TextDecoder().decode(value);
  }
  const port = Number(/port (\d+)/.exec(out)![1]);
  const results: { rps: number; cpu: number }[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      await wrk(port, 1, pin);
      const pids = tree(child.pid);
      const before = pids.reduce((a, p) => a + ticks(p), 0);
      const requests = await wrk(port, duration, pin);
      const after = pids.reduce((a, p) => a + ticks(p), 0);
      // Clock ticks are 10 ms.
      results.push({
        rps: requests / duration,
        cpu: ((after - before) * 10_000) / requests,
      });
    }
  } finally {
    child.kill("SIGTERM");
    await child.status;
    reader.releaseLock();
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
  return {
    rps: median(results.map((r) => r.rps)),
    cpu: median(results.map((r) => r.cpu)),
  };
}

console.log(
  "| runtime | case | req/s | CPU µs/request | ratio |\n|---|---|---|---|---|",
);
for (const runtime of runtimes) {
  const plain = await measure(runtime, [], "hello", true);
  const one = await measure(runtime, ["--workers", "1"], "hello", true);
  console.log(
    `| ${runtime} | hello, one process | ${plain.rps.toFixed(0)} | ${
      plain.cpu.toFixed(1)
    } | |`,
  );
  console.log(
    `| ${runtime} | hello, --workers 1 | ${one.rps.toFixed(0)} | ${
      one.cpu.toFixed(1)
    } | CPU ×${(one.cpu / plain.cpu).toFixed(2)} |`,
  );
  const single = await measure(runtime, [], "cpu", false);
  const two = await measure(runtime, ["--workers", "2"], "cpu", false);
  console.log(
    `| ${runtime} | 200 µs CPU, one process | ${single.rps.toFixed(0)} | | |`,
  );
  console.log(
    `| ${runtime} | 200 µs CPU, --workers 2 | ${
      two.rps.toFixed(0)
    } | | req/s ×${(two.rps / single.rps).toFixed(2)} |`,
  );
}
