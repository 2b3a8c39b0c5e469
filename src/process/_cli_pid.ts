// Which process receives the documented signals. `--pid FILE` (gunicorn's
// `--pid`) names the server's own pid for `kill -HUP $(cat FILE)`, written
// once it serves and removed when it exits. And `npx wsgi` (or `npm run`)
// puts npm and a `sh -c` between the caller and the server: a signal sent
// to npm's pid ends npm and the shell, never reaching the server, which
// went on serving as an orphan on the old code. Run by npm, the server
// therefore watches its parent and stops gracefully, as on SIGTERM, once
// that parent is gone, saying which command receives signals directly.
import type { CliHost } from "./_cli_host.ts";

/** How often the parent is checked, in ms. */
const PARENT_CHECK_MS = 500;

/** What `startPidWatch` set up; `end()` undoes it as the server exits. */
interface PidWatch {
  end(): void;
}

/**
 * Writes `pidFile` (when given) with this process's id, and, when npm
 * started this command, stops the server once npm is gone. Throws when
 * the file cannot be written.
 */
export function startPidWatch(
  host: CliHost,
  pidFile: string | null,
  log: (line: string) => void,
): PidWatch {
  if (pidFile !== null) {
    try {
      host.writeText(pidFile, `${host.pid()}\n`);
    } catch (error) {
      throw new Error(
        `cannot write --pid ${JSON.stringify(pidFile)}: ${
          (error as Error).message
        }`,
      );
    }
  }
  let timer: ReturnType<typeof setInterval> | null = null;
  // npm sets npm_command (exec for npx, run-script for npm run/start).
  const npm = host.env("npm_command");
  if (npm !== undefined && npm !== "") {
    const parent = host.ppid();
    timer = setInterval(() => {
      if (host.ppid() === parent) return;
      clearInterval(timer!);
      timer = null;
      log(
        `wsgi: npm (npm ${npm}) is gone, so signals sent to it never reach ` +
          `this server: stopping, as on SIGTERM. Run node_modules/.bin/wsgi ` +
          `(or exec it from a script) to receive signals directly`,
      );
      host.terminateSelf();
    }, PARENT_CHECK_MS);
  }
  return {
    end() {
      if (timer !== null) clearInterval(timer);
      if (pidFile !== null) host.removeFile(pidFile);
    },
  };
}
