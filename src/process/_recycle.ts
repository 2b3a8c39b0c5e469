// Recycling workers by memory and age (issue 17): `--max-worker-rss MiB`
// and `--max-worker-lifetime S` (with `--max-worker-lifetime-jitter J`).
// Each is a graceful retirement, as `--max-requests` is: the replacement
// starts, and the worker retires once it listens. The memory limit is
// read from /proc/PID/status (Linux) once a second, and only a worker
// over it for RSS_SAMPLES samples in a row is recycled: a spike (one big
// request, a collection not yet run) is not a leak. gunicorn has refused
// a memory limit for years (its answer: --max-requests); granian has one.
// Pure: the supervisor calls these from its tick.
import type { Worker } from "./_supervisor_workers.ts";

/** The recycling settings (0 = off). */
export interface RecycleSettings {
  /** `--max-worker-rss`, MiB. */
  maxWorkerRss: number;
  /** `--max-worker-lifetime`, seconds. */
  maxWorkerLifetime: number;
  /** `--max-worker-lifetime-jitter`, seconds added at random, 0..J. */
  maxWorkerLifetimeJitter: number;
}

/** Samples over the limit, in a row, before a worker is recycled. */
const RSS_SAMPLES = 3;
/** Time between two samples of one worker's memory. */
const RSS_EVERY_MS = 1000;

/** When a worker started at `now` reaches its lifetime (0: never). */
export function lifetimeEnd(s: RecycleSettings, now: number): number {
  if (s.maxWorkerLifetime <= 0) return 0;
  const jitter = Math.random() * s.maxWorkerLifetimeJitter;
  return now + (s.maxWorkerLifetime + jitter) * 1000;
}

/** VmRSS from /proc/PID/status, in MiB; null when not there. */
function rssMiB(status: string | null): number | null {
  const m = status === null ? null : /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) / 1024 : null;
}

/**
 * Why a listening worker should be recycled now, or null. `readText`
 * reads a file (the worker's /proc status).
 */
export function recycleReason(
  w: Worker,
  now: number,
  s: RecycleSettings,
  readText: (path: string) => string | null,
): string | null {
  if (w.state !== "listening" || w.retireWanted) return null;
  if (w.lifetimeEnd > 0 && now >= w.lifetimeEnd) {
    return `--max-worker-lifetime ${s.maxWorkerLifetime} s: it lived ${
      ((now - w.spawnedAt) / 1000).toFixed(1)
    } s`;
  }
  if (s.maxWorkerRss <= 0 || now - w.rssSampledAt < RSS_EVERY_MS) {
    return null;
  }
  w.rssSampledAt = now;
  const rss = rssMiB(readText(`/proc/${w.pid}/status`));
  if (rss === null) return null;
  w.rssOver = rss > s.maxWorkerRss ? w.rssOver + 1 : 0;
  if (w.rssOver < RSS_SAMPLES) return null;
  return `--max-worker-rss ${s.maxWorkerRss} MiB: it used ${
    Math.round(rss)
  } MiB, over the limit in ${RSS_SAMPLES} samples ${
    RSS_EVERY_MS / 1000
  } s apart`;
}
