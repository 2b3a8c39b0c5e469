// `maxConcurrency` (`--max-concurrency N`): a server runs at most N
// requests at once; one more gets `503 Service Unavailable` with
// `Retry-After` at once, never queued (as uvicorn's --limit-concurrency,
// but counting requests, not idle keep-alive connections, and with
// Retry-After: RFC 9110 §15.6.4 and §10.2.3). The refusals are counted
// for the whole process, for the metrics (overloadCounters). The 503
// itself is `overloaded` in _response/answers.ts.

// Process-wide, summed over every server of the process (logging.ts's
// overloadCounters() reads them).
const counters = { refused: 0, inFlight: 0 };

/** Requests answered 503 because a server was at its `maxConcurrency`. */
export function refusedCount(): number {
  return counters.refused;
}

/** Requests running now in servers that have a `maxConcurrency`. */
export function inFlightCount(): number {
  return counters.inFlight;
}

/** The seconds a refused client is asked to wait (`Retry-After`). */
export const RETRY_AFTER = 1;

/** One server's count of requests in flight against its limit. */
export class Gate {
  readonly max: number;
  #inFlight = 0;

  constructor(max: number) {
    this.max = max;
  }

  /** Takes a place; false (counted as refused) when none is free. */
  enter(): boolean {
    if (this.#inFlight >= this.max) {
      counters.refused++;
      return false;
    }
    this.#inFlight++;
    counters.inFlight++;
    return true;
  }

  /** Gives a place back (once per successful enter()). */
  leave(): void {
    this.#inFlight--;
    counters.inFlight--;
  }

  /** Requests in flight now. */
  get inFlight(): number {
    return this.#inFlight;
  }
}

/**
 * The gate for `maxConcurrency`, or null without one. A bad value is a
 * RangeError that names it.
 */
export function gateFor(max: number | undefined): Gate | null {
  if (max === undefined || max === 0) return null;
  if (!Number.isInteger(max) || max < 0) {
    throw new RangeError(
      `maxConcurrency must be a whole number of requests (0: no limit), got ${
        JSON.stringify(max)
      }`,
    );
  }
  return new Gate(max);
}
