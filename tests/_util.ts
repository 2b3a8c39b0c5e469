// Small helpers the test files share: which runtime runs the suite,
// bytes and strings, waiting with a bound, and an error stream that keeps
// what it is given.
import type { ErrorStream } from "../mod.ts";

/** A runtime the suites run on. */
export type Runtime = "deno" | "bun" | "node";

const g = globalThis as Record<string, unknown>;

/** The runtime running this suite. */
export const RUNTIME: Runtime = typeof g.Deno === "object"
  ? "deno"
  : typeof g.Bun === "object"
  ? "bun"
  : "node";

/** UTF-8 bytes of a string. */
export const enc = (s: string): Uint8Array<ArrayBuffer> =>
  new TextEncoder().encode(s);

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** Bytes as a native string: one character per byte. */
export function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/** Rejects when `promise` takes longer than `ms`. */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${what}: not done within ${ms} ms`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `cond` every 10 ms; false when it is still false after `ms`. */
export async function until(
  cond: () => boolean,
  ms: number,
): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

/** An error stream that keeps what it is given. */
export function collectingErrors(): ErrorStream & { text(): string } {
  let all = "";
  return {
    write: (s) => void (all += s),
    writelines: (seq) => {
      for (const s of seq) all += s;
    },
    flush: () => {},
    text: () => all,
  };
}
