// A throwaway certificate authority and a server certificate for
// 127.0.0.1 and localhost, made at test time with the openssl command (no
// key material is kept in the repository). A leaf signed by a CA, rather
// than one self-signed certificate, because rustls (Deno's fetch) refuses
// a CA certificate used as the server's own ("CaUsedAsEndEntity").
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** PEM texts: the CA to trust, and the server's certificate and key. */
export interface TestCerts {
  ca: string;
  cert: string;
  key: string;
}

function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Makes the certificates; null when the openssl command is missing. */
export function makeCerts(): TestCerts | null {
  if (!hasOpenssl()) return null;
  const dir = mkdtempSync(join(tmpdir(), "wsgi-test-certs-"));
  const at = (name: string): string => join(dir, name);
  const openssl = (args: string[]): void => {
    execFileSync("openssl", args, { stdio: "ignore" });
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
  try {
    openssl([
      "req",
      "-x509",
      ...ec,
      "-nodes",
      "-keyout",
      at("ca.key"),
      "-out",
      at("ca.pem"),
      "-days",
      "2",
      "-subj",
      "/CN=wsgi test CA",
    ]);
    openssl([
      "req",
      "-x509",
      ...ec,
      "-nodes",
      "-CA",
      at("ca.pem"),
      "-CAkey",
      at("ca.key"),
      "-keyout",
      at("key.pem"),
      "-out",
      at("cert.pem"),
      "-days",
      "2",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-addext",
      "extendedKeyUsage=serverAuth",
    ]);
    return {
      ca: readFileSync(at("ca.pem"), "utf8"),
      cert: readFileSync(at("cert.pem"), "utf8"),
      key: readFileSync(at("key.pem"), "utf8"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
