// Child processes for the tests: run a command to its end, or start one,
// wait for a line it prints (its port, its URL), and stop it by pid. Every
// child is bounded in time (killed after `timeout`), so a test that fails
// half-way leaves nothing running. Plain node:child_process, so the same
// helper serves deno test, bun test, node --test and tests_npm/ (which
// imports it as a .ts file under Node 24).
import { type ChildProcess, spawn } from "node:child_process";
import type { Readable } from "node:stream";

/** A signal `kill` takes ("SIGTERM", "SIGINT", ...). */
export type Signal = Parameters<ChildProcess["kill"]>[0];

/** How a child ended. */
export interface Exit {
  code: number | null;
  signal: string | null;
}

/** Where and how to start a child. */
export interface ChildOptions {
  /** Working directory (default: this one). */
  cwd?: string;
  /** The whole environment (default: this process's). */
  env?: Record<string, string | undefined>;
  /** Killed with SIGKILL after this many ms (default 60 s). */
  timeout?: number;
  /** Open fd 3 as a pipe too (workerd's control fd). */
  fd3?: boolean;
}

/** A running child: its output so far, a way to wait for a line, a stop. */
export interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Resolves when the child has exited (never rejects). */
  readonly exited: Promise<Exit>;
  /** What it printed so far: stdout, stderr, both (in arrival order), fd 3. */
  text(stream?: "stdout" | "stderr" | "output" | "fd3"): string;
  /**
   * Resolves with the first match of `pattern` in a stream's text; rejects,
   * naming the output, when the child exits first or after `ms`.
   */
  waitFor(
    pattern: RegExp,
    options?: { stream?: "stdout" | "stderr" | "output" | "fd3"; ms?: number },
  ): Promise<RegExpExecArray>;
  /** Sends `signal` (SIGTERM), SIGKILL after `ms` (5 s); resolves on exit. */
  stop(signal?: Signal, ms?: number): Promise<Exit>;
}

/** Starts `cmd args`, its output piped and kept. */
export function startChild(
  cmd: string,
  args: readonly string[],
  options: ChildOptions = {},
): Child {
  const child = spawn(cmd, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: options.fd3
      ? ["ignore", "pipe", "pipe", "pipe"]
      : ["ignore", "pipe", "pipe"],
  });
  const texts = { stdout: "", stderr: "", output: "", fd3: "" };
  const listeners = new Set<() => void>();
  const seen = () => listeners.forEach((listener) => listener());
  child.stdout!.on("data", (d) => {
    texts.stdout += d;
    texts.output += d;
    seen();
  });
  child.stderr!.on("data", (d) => {
    texts.stderr += d;
    texts.output += d;
    seen();
  });
  if (options.fd3) {
    (child.stdio[3] as Readable).on("data", (d) => {
      texts.fd3 += d;
      seen();
    });
  }
  let done: Exit | null = null;
  const exited = new Promise<Exit>((resolve) => {
    // A command that cannot start ends here too, as exit code 127.
    child.once("error", (error) => {
      texts.stderr += `${error.message}\n`;
      texts.output += `${error.message}\n`;
      done ??= { code: 127, signal: null };
      resolve(done);
    });
    child.once("close", (code, signal) => {
      done ??= { code, signal };
      resolve(done);
    });
  });
  const hard = setTimeout(
    () => child.kill("SIGKILL"),
    options.timeout ?? 60_000,
  );
  exited.then(() => {
    clearTimeout(hard);
    seen();
  });
  const what = `${cmd} ${args.join(" ")}`;
  return {
    process: child,
    pid: child.pid ?? -1,
    exited,
    text: (stream = "output") => texts[stream],
    waitFor(pattern, { stream = "output", ms = 15_000 } = {}) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(null), ms);
        const check = () => {
          const match = pattern.exec(texts[stream]);
          if (match) finish(match);
          else if (done) finish(null);
        };
        const finish = (match: RegExpExecArray | null) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (match) return resolve(match);
          const why = done
            ? `exited (${done.code ?? done.signal})`
            : `did not print it within ${ms} ms`;
          reject(
            new Error(
              `${what}: waiting for ${pattern}, ${why}\n--- output\n${texts.output}`,
            ),
          );
        };
        listeners.add(check);
        check();
      });
    },
    async stop(signal = "SIGTERM", ms = 5_000) {
      if (done) return done;
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), ms);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** A finished command: how it ended and what it printed. */
export interface RunResult extends Exit {
  stdout: string;
  stderr: string;
}

/** Runs `cmd args` to its end (killed after `timeout`, 60 s); never rejects. */
export async function run(
  cmd: string,
  args: readonly string[],
  options: Omit<ChildOptions, "fd3"> = {},
): Promise<RunResult> {
  const child = startChild(cmd, args, options);
  const exit = await child.exited;
  return {
    ...exit,
    stdout: child.text("stdout"),
    stderr: child.text("stderr"),
  };
}
