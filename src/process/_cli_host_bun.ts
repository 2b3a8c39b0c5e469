// The process side of the command line on Bun: `--workers` starts copies
// of this command with `Bun.spawn` and an IPC channel, each serving with
// `reusePort` (`Bun.serve` bypasses node:net, so node:cluster cannot hand
// it a socket). Files, signals and ports go through Bun's node: modules.
import type { CliHost } from "./_cli_host.ts";
import type { ChildHandle } from "./_process_host.ts";
import type { WorkerMessage } from "./_worker_protocol.ts";
import {
  loadNodeModules,
  nodeCliHost,
  nodeFiles,
  nodeWorkerSide,
  zeroFile,
} from "./_cli_host_node.ts";

// The few Bun APIs used here, declared so that no Bun types are needed.
interface BunSubprocess {
  pid: number;
  kill(signal?: string): void;
}
interface BunGlobal {
  version: string;
  mmap(path: string, options: { shared: boolean }): Uint8Array;
  spawn(cmd: string[], options: {
    env: Record<string, string | undefined>;
    stdio: ["inherit", "inherit", "inherit", ...number[]];
    ipc(message: WorkerMessage): void;
    onExit(
      subprocess: BunSubprocess,
      exitCode: number | null,
      signalCode: string | number | null,
    ): void;
  }): BunSubprocess;
}
interface BunProcess {
  argv: string[];
  execPath: string;
  env: Record<string, string | undefined>;
}

const Bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
const proc = (globalThis as unknown as { process: BunProcess }).process;

/** Descriptors 3..max as themselves, so that fd N is N in the worker. */
function passFds(options?: { inheritFds?: readonly number[] }): number[] {
  const fds = options?.inheritFds ?? [];
  if (fds.length === 0) return [];
  const out: number[] = [];
  for (let fd = 3; fd <= Math.max(...fds); fd++) out.push(fd);
  return out;
}

/** The command line's view of Bun. */
export async function cliHost(): Promise<CliHost> {
  await loadNodeModules();
  return {
    ...nodeCliHost("bun", Bun.version),
    cannotSupervise: () => null,
    supervisor: (options) =>
      Promise.resolve({
        ...nodeFiles(),
        spawn(env, events): ChildHandle {
          // This same command (`bun mod.ts ...` or the npm bin), as a worker.
          const child = Bun.spawn(
            [proc.execPath, ...proc.argv.slice(1)],
            {
              env: { ...proc.env, ...env },
              // Bun.spawn passes no other descriptor unless told: the
              // sockets systemd passed (fd://N) go to the same numbers.
              stdio: ["inherit", "inherit", "inherit", ...passFds(options)],
              ipc: (message) => events.message(message),
              onExit: (_child, code, signal) =>
                events.exit(
                  signal === null ? code : null,
                  signal === null ? null : String(signal),
                ),
            },
          );
          return { pid: child.pid, kill: (signal) => child.kill(signal) };
        },
      }),
    worker: () =>
      Promise.resolve({
        ...nodeWorkerSide(true),
        // MAP_SHARED: the counters are in the page cache as they are
        // written, and stay there when the worker is killed.
        sharedMemory(path: string, bytes: number) {
          zeroFile(path, bytes);
          const mapped = Bun.mmap(path, { shared: true });
          return new Float64Array(mapped.buffer, mapped.byteOffset, bytes / 8);
        },
      }),
  };
}
