// How the supervisor on Deno starts a worker: the parent's own `deno run`
// command again, with its flags (`--config`, `--import-map`, `--lock`,
// `--cached-only`...) and script as the user typed them, plus `-A
// --unstable-net`. Starting `deno run -A Deno.mainModule` instead lost
// them: for a local main module Deno then found the library's deno.json,
// not the user's, and the app's imports failed in every worker.
// Runtime-free: _cli_host_deno.ts reads the command line and the files.

/** Flags that name the configuration (or say there is none). */
const CONFIG_FLAGS = /^(?:-c|--config|--no-config|--import-map)(?:=|$)/;
/** Flags the worker gets anyway. */
const OURS = new Set(["-A", "--allow-all", "--unstable-net"]);
/**
 * The parent's alone: a debugger port (every worker would want the same
 * one) and a file watcher (the supervisor's --reload restarts workers).
 */
const PARENT_ONLY =
  /^--(?:inspect|inspect-brk|inspect-wait|watch|watch-hmr)(?:=|$)/;

/** What a worker's command is made of. */
interface DenoWorkerArgsInput {
  /** The parent's argv as the kernel has it (`/proc/self/cmdline`), or null. */
  cmdline: string[] | null;
  /** `Deno.args`: the arguments after the script. */
  args: string[];
  /** `Deno.mainModule`, used when the command line cannot be read. */
  mainModule: string;
  /** The deno.json(c) Deno would find from the working directory, or null. */
  configFile: string | null;
  /** Flags for the worker alone (its own --inspect port). */
  extraFlags?: string[];
}

/** The arguments of `deno` for a worker. */
export function denoWorkerArgs(input: DenoWorkerArgsInput): string[] {
  let flags: string[] = [];
  let script = input.mainModule;
  const argv = input.cmdline;
  // argv: deno [run] FLAGS... SCRIPT ARGS...; ARGS are Deno.args.
  const end = argv === null ? -1 : argv.length - input.args.length - 1;
  if (argv !== null && end >= 1) {
    const start = argv[1] === "run" ? 2 : 1;
    flags = argv.slice(start, end).filter((f) =>
      !OURS.has(f) && !PARENT_ONLY.test(f)
    );
    script = argv[end];
  }
  if (input.configFile !== null && !flags.some((f) => CONFIG_FLAGS.test(f))) {
    // The user's config, as `deno run jsr:@wsgi/wsgi` finds it from the
    // working directory, rather than the one next to a local main module.
    flags.push("--config", input.configFile);
  }
  return [
    "run",
    "-A",
    "--unstable-net",
    ...flags,
    ...(input.extraFlags ?? []),
    script,
    ...input.args,
  ];
}
