// The command line run for real as a child process (tests/_child.ts) on
// the current runtime (`deno run -A mod.ts`, `bun mod.ts`, and on Node
// tests/fixtures/node_cli.ts, as the npm bin does): its output, its worker
// pids from the log, and a cleanup that stops every process it started by
// pid. Shared by the suites that start servers with workers.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startChild } from "./_child.ts";
import { sleep } from "./_util.ts";

const g = globalThis as Record<string, unknown>;
/** The few process facilities the suites use (no Node types needed). */
export const proc = g.process as {
  execPath: string;
  env: Record<string, string>;
  kill(pid: number, signal: string | number): void;
};
/** The repository's root folder. */
export const ROOT: string = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The command that runs the CLI on this runtime, from the repo root. */
export function cliCommand(): [string, string[]] {
  if (typeof g.Deno === "object") {
    const deno = g.Deno as { execPath(): string };
    return [deno.execPath(), ["run", "-A", join(ROOT, "mod.ts")]];
  }
  if (typeof g.Bun === "object") return [proc.execPath, [join(ROOT, "mod.ts")]];
  return [proc.execPath, [join(ROOT, "tests/fixtures/node_cli.ts")]];
}

/** A running command line. */
export interface Cli {
  child: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | string>;
  /** Waits for stderr or stdout to match; rejects after `ms`. */
  wait(re: RegExp, ms?: number, from?: number): Promise<RegExpExecArray>;
}

/** Starts the CLI (from `cwd`, the repo root by default). */
export function startCli(
  args: string[],
  env: Record<string, string> = {},
  cwd: string = ROOT,
  command: [string, string[]] = cliCommand(),
): Cli {
  const [cmd, base] = command;
  const child = startChild(cmd, [...base, ...args], {
    cwd,
    env: { ...proc.env, NO_COLOR: "1", ...env },
    timeout: 120_000,
  });
  let done = false;
  const exited = child.exited.then((e) => {
    done = true;
    return e.code ?? e.signal ?? "unknown";
  });
  const out = () => child.text("stdout");
  const err = () => child.text("stderr");
  return {
    child: child.process,
    pid: child.pid,
    stdout: out,
    stderr: err,
    exited,
    async wait(re, ms = 15000, from = 0) {
      const deadline = Date.now() + ms;
      for (;;) {
        const m = re.exec((out() + "\n" + err()).slice(from));
        if (m) return m;
        if (done || Date.now() > deadline) {
          throw new Error(
            `never matched ${re} (${done ? "exited" : `${ms} ms`}); stdout: ${
              JSON.stringify(out())
            }; stderr: ${JSON.stringify(err().slice(-3000))}`,
          );
        }
        await sleep(25);
      }
    },
  };
}

/** The pids of the workers that listened, from the supervisor's log. */
export function workerPids(cli: Cli): number[] {
  return [...cli.stderr().matchAll(/worker (\d+) listening/g)].map((m) =>
    Number(m[1])
  );
}

/** Whether a process is alive. */
export function alive(pid: number): boolean {
  try {
    proc.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops the CLI and every worker it logged, by pid; waits for the CLI.
 * SIGTERM first, as a user stops it, so that it removes its temporary
 * folder (in /dev/shm); SIGKILL to whatever is left after 3 s, and then
 * that folder is removed here (named in a worker's environment).
 */
export async function cleanup(cli: Cli): Promise<void> {
  if (alive(cli.pid)) {
    try {
      proc.kill(cli.pid, "SIGTERM");
    } catch { /* gone */ }
    await Promise.race([cli.exited, sleep(3000)]);
  }
  const pids = [...cli.stderr().matchAll(/worker (\d+) booting/g)].map((m) =>
    Number(m[1])
  );
  const folders = new Set<string>();
  for (const pid of [cli.pid, ...pids]) {
    if (alive(pid)) {
      const folder = scoreboardFolder(pid);
      if (folder !== null) folders.add(folder);
      try {
        proc.kill(pid, "SIGKILL");
      } catch { /* gone */ }
    }
  }
  await Promise.race([cli.exited, sleep(5000)]);
  for (const folder of folders) {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** The supervisor's temporary folder, from a worker's environment (Linux). */
function scoreboardFolder(pid: number): string | null {
  try {
    const env = readFileSync(`/proc/${pid}/environ`, "latin1").split("\0");
    const config = env.find((e) => e.startsWith("WSGI_WORKER="));
    if (config === undefined) return null;
    const board: string = JSON.parse(config.slice(12)).scoreboard;
    return /^\/.+\/wsgi-[^/]+\/worker-\d+$/.test(board) ? dirname(board) : null;
  } catch {
    return null;
  }
}

/** Waits for the CLI's Serving line on 127.0.0.1; the port. */
export async function serving(cli: Cli): Promise<number> {
  const m = await cli.wait(
    /Serving HTTP on 127\.0\.0\.1 port (\d+) \(http:\/\/127\.0\.0\.1:(\d+)\/\)/,
  );
  assert.equal(m[1], m[2]);
  assert.ok(Number(m[1]) > 0, "port 0 becomes the real port");
  return Number(m[1]);
}

/** The source of an app module (`app.mjs`) that answers `word`. */
export function wordApp(word: string): string {
  return `export function app(environ, startResponse) {\n` +
    `  startResponse("200 OK", [["Content-Type", "text/plain"]]);\n` +
    `  return [new TextEncoder().encode(${JSON.stringify(word)})];\n}\n`;
}

/** How a CLI that ends by itself ended, and what it printed. */
export interface Finished {
  /** Its exit code or signal; undefined if it ran 15 s (then killed). */
  code: number | string | void;
  /** Its stderr, trimmed, a line each. */
  err: string[];
  out: string;
}

/** Runs a CLI that must end by itself (stopped by pid after 15 s). */
export async function finish(
  args: string[],
  env: Record<string, string> = {},
): Promise<Finished> {
  const cli = startCli(args, env);
  try {
    const code = await Promise.race([cli.exited, sleep(15000)]);
    return { code, err: cli.stderr().trim().split("\n"), out: cli.stdout() };
  } finally {
    await cleanup(cli);
  }
}
