// Shared helpers for the core tests: run an app through the public API and
// keep what it saw.
import {
  type ErrorStream,
  handleRequest,
  type StartResponse,
  type WSGIEnvironment,
  type WSGIOptions,
} from "../mod.ts";

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Runs `request` through an app that records its environ. */
export async function environOf(
  request: Request,
  options: WSGIOptions = {},
): Promise<WSGIEnvironment> {
  let seen: WSGIEnvironment | null = null;
  const response = await handleRequest(request, (environ, startResponse) => {
    seen = environ;
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return [];
  }, options);
  await response.arrayBuffer();
  if (seen === null) throw new Error(`app not called: ${response.status}`);
  return seen;
}

/** An error stream that keeps what is written. */
export function memoryErrors(): ErrorStream & { text(): string } {
  let text = "";
  return {
    write: (s: string) => void (text += s),
    writelines: (seq: Iterable<string>) => {
      for (const s of seq) text += s;
    },
    flush: () => {},
    text: () => text,
  };
}

/** The app of the tutorial. */
export function hello(
  _environ: WSGIEnvironment,
  startResponse: StartResponse,
): Uint8Array[] {
  startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
  return [enc("¡Hola, mundo!")];
}
