// What the deployment paths cost (issue 17): makeServer on the runtime's
// own server ("native"), on the node:net front with `proxyProtocol: "v1"`
// and a PROXY header per connection ("proxy"), and on a socket inherited
// from Debian's systemd-socket-activate ("fd"). On Node the last two are
// the same node:http plus a node:net hand-over; on Deno and Bun they are
// those runtimes' node:http instead of Deno.serve and Bun.serve.
//
//   deno run -A scripts/bench.ts --deploy      (or this file directly)
//   [--rounds N] [--duration S] [--connections C]
//
// No wrk on this machine: the load is a node:net keep-alive client in this
// (Deno) process, C connections each sending one GET at a time. The server
// runs alone on CPU 1 (taskset), the client on CPU 0; the server's CPU time
// (/proc/<pid>/stat utime+stime) around each run, divided by the requests
// answered, is the figure; req/s is shown too, bounded by the client. The
// modes are interleaved within each round; the median over rounds is
// shown, and each mode's ratio to native in the same round.
//
// As a server (run by the above): `<runtime> _bench_deploy.ts serve MODE`.
import { connect, type Socket } from "node:net";
import { makeServer } from "../mod.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const BIN = `${ROOT}node_modules/.bin/`;
const SELF = new URL(import.meta.url).pathname;
const MODES = ["native", "proxy", "fd"] as const;
type Mode = typeof MODES[number];
const RUNTIMES = ["deno", "bun", "node"] as const;

const g = globalThis as Record<string, unknown>;
const argv: string[] = typeof g.Deno === "object"
  ? (g.Deno as { args: string[] }).args
  : (g.process as { argv: string[] }).argv.slice(2);

if (argv[0] === "serve") {
  const mode = argv[1] as Mode;
  const hello = new TextEncoder().encode("¡Hola, mundo!");
  const server = makeServer(
    mode === "fd" ? "fd://3" : "127.0.0.1",
    0,
    (_environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
      return [hello];
    },
    { log: false, ...(mode === "proxy" ? { proxyProtocol: "v1" } : {}) },
  );
  await server.ready;
  console.log(`PORT ${server.serverPort}`);
  await server.serveForever();
} else if (typeof g.Deno === "object") {
  await bench();
}

interface DenoLike {
  args: string[];
  Command: new (cmd: string, o: Record<string, unknown>) => {
    spawn(): {
      pid: number;
      stdout: ReadableStream<Uint8Array>;
      kill(s: string): void;
      status: Promise<unknown>;
    };
  };
  readTextFileSync(path: string): string;
  readDirSync(path: string): Iterable<{ name: string }>;
}

function option(name: string, fallback: number): number {
  const at = argv.indexOf(name);
  return at === -1 ? fallback : Number(argv[at + 1]);
}

/** The server's CPU seconds, its threads included (/proc/<pid>/stat). */
function cpuSeconds(pid: number): number {
  const Deno = g.Deno as DenoLike;
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function start(runtime: string, mode: Mode) {
  const Deno = g.Deno as DenoLike;
  const run = runtime === "deno"
    ? [`${BIN}deno`, "run", "-A", SELF]
    : runtime === "bun"
    ? [`${BIN}bun`, SELF]
    : [`${BIN}node`, SELF];
  const port = 20000 + Math.floor(Math.random() * 40000);
  const cmd = mode === "fd"
    ? [
      "taskset",
      "-c",
      "1",
      "systemd-socket-activate",
      "-l",
      `127.0.0.1:${port}`,
      ...run,
      "serve",
      mode,
    ]
    : ["taskset", "-c", "1", ...run, "serve", mode];
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdout: "piped",
    stderr: "null",
  }).spawn();
  if (mode === "fd") {
    // The activator binds, then execs the server on the first connection.
    for (let tries = 0;; tries++) {
      try {
        (await open(port, false)).destroy();
        break;
      } catch (error) {
        if (tries > 200) throw error;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }
  const reader = child.stdout.getReader();
  let text = "";
  while (!/PORT (\d+)/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${runtime} ${mode}: no port line`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  void child.stdout.cancel();
  return {
    pid: child.pid,
    port: Number(/PORT (\d+)/.exec(text)![1]),
    stop: async () => {
      child.kill("SIGKILL");
      await child.status;
    },
  };
}

function open(port: number, proxy: boolean): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: "127.0.0.1" }, () => {
      s.setNoDelay(true);
      if (proxy) s.write(`PROXY TCP4 203.0.113.9 127.0.0.1 5000 ${port}\r\n`);
      resolve(s);
    });
    s.once("error", reject);
    // A reset later is the load loop's to see (its "close"), not a crash.
    s.on("error", () => {});
  });
}

/** C keep-alive connections for `seconds`; the responses completed. */
async function load(
  port: number,
  proxy: boolean,
  connections: number,
  seconds: number,
): Promise<number> {
  const request = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  const until = Date.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      const s = await open(port, proxy);
      await new Promise<void>((resolve) => {
        let buf = "";
        const next = () => {
          if (Date.now() >= until) {
            s.destroy();
            return resolve();
          }
          s.write(request);
        };
        s.on("data", (d: Uint8Array) => {
          buf += new TextDecoder().decode(d);
          // Each response ends with the 14-byte body.
          let at;
          while ((at = buf.indexOf("mundo!")) !== -1) {
            buf = buf.slice(at + 6);
            done += 1;
            next();
          }
        });
        s.on("error", () => resolve());
        s.on("close", () => resolve());
        next();
      });
    }),
  );
  return done;
}

async function bench(): Promise<void> {
  const rounds = option("--rounds", 3);
  const duration = option("--duration", 2);
  const connections = option("--connections", 16);
  const median = (xs: number[]) =>
    [...xs].sort((a, b) => a - b)[xs.length >> 1];
  console.log(
    `deploy paths: ${rounds} rounds of ${duration} s, ${connections} connections, server on CPU 1`,
  );
  console.log(
    "| runtime | path | req/s | CPU µs/req | CPU vs native |\n|---|---|---:|---:|---:|",
  );
  for (const runtime of RUNTIMES) {
    const cpu: Record<Mode, number[]> = { native: [], proxy: [], fd: [] };
    const rps: Record<Mode, number[]> = { native: [], proxy: [], fd: [] };
    const ratio: Record<Mode, number[]> = { native: [], proxy: [], fd: [] };
    for (let r = 0; r < rounds; r++) {
      for (const mode of MODES) {
        const server = await start(runtime, mode);
        try {
          await load(server.port, mode === "proxy", connections, 0.5); // warm-up
          const before = cpuSeconds(server.pid);
          const n = await load(
            server.port,
            mode === "proxy",
            connections,
            duration,
          );
          const used = cpuSeconds(server.pid) - before;
          cpu[mode].push((used * 1e6) / n);
          rps[mode].push(n / duration);
        } finally {
          await server.stop();
        }
      }
      for (const mode of MODES) {
        ratio[mode].push(cpu[mode][r] / cpu.native[r]);
      }
    }
    for (const mode of MODES) {
      console.log(
        `| ${runtime} | ${mode} | ${Math.round(median(rps[mode]))} | ${
          median(cpu[mode]).toFixed(1)
        } | ${median(ratio[mode]).toFixed(2)}× |`,
      );
    }
  }
}
