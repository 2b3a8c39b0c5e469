// nginx for the deploy suites: docs/deploy.md's nginx block, taken from
// the page as written, with only its ports and certificate paths
// substituted, run by Debian's nginx with its own prefix, pid and error
// log in a temporary folder, and stopped by pid.
import { type ChildProcess, spawn } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { connect as netConnect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./_cli_proc.ts";
import type { TestCerts } from "./_certs.ts";
import { sleep } from "./_util.ts";

/** The nginx binary, or null when it is not installed. */
export const NGINX: string | null =
  ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"].find((p) =>
    existsSync(p)
  ) ?? null;

/** The first ```nginx block of docs/deploy.md, as written. */
export function deployBlock(): string {
  const page = readFileSync(join(ROOT, "docs/deploy.md"), "utf8");
  const m = /```nginx\n([\s\S]*?)```/.exec(page);
  if (!m) throw new Error("docs/deploy.md has no nginx block");
  return m[1];
}

/** A free TCP port on 127.0.0.1 (closed again: nginx binds it next). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** A running nginx. */
export interface Nginx {
  /** The plain HTTP port (the block's `listen 80`). */
  http: number;
  /** The TLS port (the block's `listen 443 ssl`). */
  https: number;
  /** The configuration it runs. */
  config: string;
  /** Stops it by pid and removes its folder. */
  stop(): Promise<void>;
}

/**
 * Runs the block in front of `upstream` (the port the app listens on, or
 * its unix socket's path), listening on 127.0.0.1 only, TLS with `certs`.
 */
export async function startNginx(
  upstream: number | string,
  certs: TestCerts,
): Promise<Nginx> {
  if (NGINX === null) throw new Error("nginx is not installed");
  const dir = mkdtempSync(join(tmpdir(), "wsgi-nginx-"));
  writeFileSync(join(dir, "cert.pem"), certs.cert);
  writeFileSync(join(dir, "key.pem"), certs.key);
  const [http, https] = [await freePort(), await freePort()];
  const block = deployBlock()
    .replace(
      "server 127.0.0.1:8000;",
      // A unix socket's path: the page's `server unix:PATH;` line.
      typeof upstream === "string"
        ? `server unix:${upstream};`
        : `server 127.0.0.1:${upstream};`,
    )
    .replace(/listen 80;/, `listen 127.0.0.1:${http};`)
    .replace(/listen 443 ssl;/, `listen 127.0.0.1:${https} ssl;`)
    .replace(/ssl_certificate\s+(\S+);/, `ssl_certificate ${dir}/cert.pem;`)
    .replace(
      /ssl_certificate_key\s+(\S+);/,
      `ssl_certificate_key ${dir}/key.pem;`,
    );
  // One process in the foreground (no master, no user switch), so that its
  // pid is the one to stop; everything it writes stays in `dir`.
  const config = `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
${block}
}
`;
  writeFileSync(join(dir, "nginx.conf"), config);
  const child: ChildProcess = spawn(
    NGINX,
    ["-p", dir, "-e", `${dir}/error.log`, "-c", `${dir}/nginx.conf`],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let err = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (d: string) => void (err += d));
  let exited = false;
  const closed = new Promise<void>((resolve) =>
    child.once("close", () => {
      exited = true;
      resolve();
    })
  );
  const stop = async (): Promise<void> => {
    if (!exited) child.kill("SIGTERM");
    await Promise.race([closed, sleep(5000)]);
    if (!exited) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready once it accepts on the plain port.
  const deadline = Date.now() + 10000;
  for (;;) {
    if (exited || Date.now() > deadline) {
      const log = existsSync(`${dir}/error.log`)
        ? readFileSync(`${dir}/error.log`, "utf8")
        : "";
      await stop();
      throw new Error(`nginx did not start: ${err}${log}\n${config}`);
    }
    const up = await new Promise<boolean>((resolve) => {
      const s = netConnect({ port: http, host: "127.0.0.1" });
      s.once("error", () => resolve(false));
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
    });
    if (up) break;
    await sleep(50);
  }
  return { http, https, config, stop };
}
