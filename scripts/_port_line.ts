// Waits for a server child process to say which port it listens on: the
// bench and soak scripts start servers on port 0 and read it from stdout.

/**
 * Reads the child's stdout until a line matches `pattern` (its first
 * capture group that matched is the port); then keeps draining stdout so
 * that the child never blocks on it. Kills the child after 30 s without
 * one. Throws, with what it printed, when it exits first.
 */
export async function portLine(
  child: Deno.ChildProcess,
  pattern: RegExp,
  what: string,
): Promise<number> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const timeout = setTimeout(() => child.kill("SIGKILL"), 30_000);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      seen += value;
      const m = pattern.exec(seen);
      if (m) {
        (async () => {
          for (;;) if ((await reader.read()).done) return;
        })().catch(() => {});
        return Number(m.slice(1).find((group) => group !== undefined));
      }
    }
  } finally {
    clearTimeout(timeout);
  }
  throw new Error(`${what} exited before listening:\n${seen}`);
}
