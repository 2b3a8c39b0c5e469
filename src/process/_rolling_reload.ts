// `--reload-mode rolling`: SIGHUP (or --reload) replaces the workers one at
// a time, each new one listening before the old one it replaces retires
// (uvicorn's behaviour), for apps whose boot is heavy: at most one extra
// worker boots at a time, and capacity never drops below the count. The
// default, `all`, starts every new worker at once (gunicorn's HUP). Each
// step is a recycling (see _recycle.ts): the supervisor marks every old
// worker, and this bookkeeping lets one replacement boot at a time.
import type { Worker } from "./_supervisor_workers.ts";

/** The recycling reason of a rolling reload's workers. */
export const ROLLING = "rolling reload";

/** The state of a rolling reload. */
export class Rolling {
  #active = false;

  /** Starts one; returns how many workers it will replace. */
  start(workers: Set<Worker>): number {
    this.#active = true;
    return [...workers].filter((w) => this.wants(w)).length;
  }

  /** Whether the reload replaces `w`: it serves, and nothing replaces it yet. */
  wants(w: Worker): boolean {
    return w.state === "listening" && !w.retireWanted;
  }

  /** At most one worker boots at a time while a rolling reload runs. */
  limit(missing: number, workers: Set<Worker>): number {
    if (!this.#active) return missing;
    const booting = [...workers].some((w) => w.state === "booting");
    return Math.min(missing, booting ? 0 : 1);
  }

  /**
   * True once, when the last old worker has exited (it drains first: see
   * the supervisor's "reload done").
   */
  done(workers: Set<Worker>): boolean {
    if (!this.#active) return false;
    const left = [...workers].some((w) => w.retireWhy === ROLLING);
    if (left) return false;
    this.#active = false;
    return true;
  }

  /** A replacement failed to boot: the old workers left stay. */
  abandon(workers: Set<Worker>): number {
    this.#active = false;
    let kept = 0;
    for (const w of workers) {
      if (w.retireWhy === ROLLING && w.state !== "retiring") {
        w.retireWanted = false;
        w.retireWhy = null;
        kept++;
      }
    }
    return kept;
  }
}
