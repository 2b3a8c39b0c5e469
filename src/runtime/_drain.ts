// A retiring server's last moments (issue 17): before it closes, it
// drains. Every response then says `Connection: close` and its connection
// ends after it, so a keep-alive client learns between two requests that
// it must reconnect. Closing idle keep-alive connections at once instead
// cut requests already on the wire: a client that had just sent one on an
// idle connection got a reset (about 1 in 400 requests failed across a
// reload, 4 per reload with 4 keep-alive clients). The drain ends once no
// request has come for QUIET_MS (the clients have moved), or after its
// bound; then the server shuts down as before, and only connections idle
// for that long are closed, as at any keep-alive timeout (RFC 9112 §9.3.1:
// a client retries a request on a connection closed while idle).
//
// Runtime-free: each shim notes requests while draining and marks its
// outcomes `close` (Node's by its own `closing` flag, Deno's and Bun's in
// _web_request.ts), which their responses turn into `Connection: close`.

/** No request for this long: the drain is over. */
const QUIET_MS = 200;

/** One server's drain. */
export class Drain {
  /** Draining: responses say `Connection: close`. */
  active = false;
  #last = 0;

  /** Notes a request (only called while active). */
  note(): void {
    this.#last = Date.now();
  }

  /** Starts draining; resolves when quiet, or after `maxMs`. */
  run(maxMs: number): Promise<void> {
    this.active = true;
    const start = this.#last = Date.now();
    return new Promise((resolve) => {
      const check = (): void => {
        const now = Date.now();
        if (now - this.#last >= QUIET_MS || now - start >= maxMs) {
          return resolve();
        }
        setTimeout(check, Math.min(QUIET_MS, maxMs) / 4);
      };
      check();
    });
  }
}
