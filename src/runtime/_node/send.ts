// The response side of the Node shim: an outcome written straight to
// node:http's `ServerResponse`, a streamed body pulled as the socket drains.
import type { Outcome, Pump } from "../../core/_response/outcome.ts";
import { logError } from "../../core/_errors.ts";
import { concat } from "../../core/_bytes.ts";
import type { NodeResponse } from "./http.ts";

/** What a streamed body sent: its bytes, and whether it ended well. */
export interface Sent {
  bytes: number;
  ok: boolean;
}

/**
 * Writes an outcome to a ServerResponse; gives the body bytes sent, at
 * once for a body known whole.
 */
export function send(
  res: NodeResponse,
  out: Outcome,
  isHead: boolean,
): number | Promise<number | Sent> {
  const flat: string[] = [];
  for (const [name, value] of out.headers) flat.push(name, value);
  if (out.length !== null) flat.push("Content-Length", String(out.length));
  // A 408 mid-body, or a server shutting down (its in-flight responses end
  // their connection, so it closes once they are done): RFC 9112 §9.6.
  if (out.close) flat.push("Connection", "close");
  // Node, unlike Deno and Bun, sends the application's own reason phrase.
  res.writeHead(out.code, out.reason, flat);
  const more = out.more;
  if (more === null || isHead) {
    const body = out.body.length ? concat(out.body) : undefined;
    const bytes = isHead ? 0 : body?.length ?? 0;
    if (more === null) {
      res.end(body);
      return bytes;
    }
    return Promise.resolve(more.close()).then(() => {
      res.end(body);
      return bytes;
    });
  }
  return stream(res, out, more);
}

/** Writes a streamed body, pulling each chunk as the socket drains. */
async function stream(
  res: NodeResponse,
  out: Outcome,
  more: Pump,
): Promise<Sent> {
  let bytes = 0;
  if (res.destroyed) {
    // The client left while the application was running: "close" has
    // already fired and will not fire again, and write() would return
    // false with no "drain" to follow. Close the iterable now (PEP 3333).
    await more.close();
    return { bytes, ok: false };
  }
  for (const chunk of out.body) {
    bytes += chunk.length;
    res.write(chunk);
  }
  let gone = false;
  let wake: (() => void) | null = null;
  res.on("close", () => {
    // The client went away before the end: stop pulling, close the app's
    // iterable now (PEP 3333), not when it next yields.
    if (!res.writableFinished) {
      gone = true;
      void more.close();
    }
    wake?.();
  });
  try {
    for (;;) {
      if (gone) return { bytes, ok: false };
      let chunk = more.next();
      if (chunk instanceof Promise) chunk = await chunk;
      if (gone) return { bytes, ok: false };
      if (chunk === null) {
        res.end();
        await more.close();
        return { bytes, ok: true };
      }
      bytes += chunk.length;
      if (!res.write(chunk)) {
        // Backpressure: wait until the socket drains (or closes).
        await new Promise<void>((resolve) => {
          wake = resolve;
          res.once("drain", resolve);
        });
        wake = null;
      }
    }
  } catch (error) {
    // After the head, an error can only cut the response short (RFC 9112
    // §8: no chunked terminator, or fewer bytes than Content-Length, so
    // the client sees an incomplete response). destroy() at once dropped
    // the head and chunks Node still held corked: no status line at all.
    // Ending the socket flushes them first, then closes (as Deno does).
    logError(out.errors, error);
    await more.close();
    const socket = res.socket;
    if (socket !== null && !res.destroyed) {
      // Node 24.22 holds what was written in this tick until the tick
      // ends (24.21 did not): ending the socket at once sent nothing, not
      // even the head. An empty write's callback comes once it is flushed
      // (no chunk is framed for it: the response stays incomplete).
      await new Promise<void>((resolve) => {
        res.write(new Uint8Array(0), resolve);
        res.once("close", resolve);
      });
      socket.end();
      // A client that never reads would hold the socket open: drop it.
      const timer = setTimeout(() => socket.destroy(), 5000) as unknown as {
        unref?: () => void;
      };
      timer.unref?.();
    } else res.destroy(error);
    return { bytes, ok: false };
  }
}
