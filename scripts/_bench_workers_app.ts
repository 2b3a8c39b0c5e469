// Applications for the workers rows of scripts/bench.ts: the tutorial's
// hello, and one that spends about 200 µs of CPU per request (a stand-in for
// real work).
import type { StartResponse } from "../mod.ts";

const BODY = new TextEncoder().encode("¡Hola, mundo!");

/** The tutorial's application. */
export function hello(_environ: unknown, startResponse: StartResponse) {
  startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
  return [BODY];
}

/** Spins for 200 µs, then answers as `hello` does. */
export function cpu(_environ: unknown, startResponse: StartResponse) {
  const end = performance.now() + 0.2;
  while (performance.now() < end) { /* work */ }
  startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
  return [BODY];
}
