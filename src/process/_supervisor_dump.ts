// SIGUSR2 to the supervisor: every live worker writes its requests in
// flight to `<scoreboard>.dump` (its own SIGUSR2 handler, _worker.ts) and
// keeps serving; the supervisor logs them a moment later. A worker whose
// event loop is blocked cannot answer: its line says so, with the last
// request it began (the scoreboard) and how long it has not beaten.
import { dumpLine } from "./_worker_report.ts";

/** How long the supervisor waits for the workers' dumps, in ms. */
export const DUMP_WAIT_MS = 500;

/** The dump's log lines for one worker. */
export function dumpLines(
  w: { pid: number; scoreboard: string; lastBeat: number },
  read: (path: string) => string | null,
  askedAt: number,
  now: number,
): string {
  const text = read(`${w.scoreboard}.dump`);
  const nl = text?.indexOf("\n") ?? -1;
  let dump: { at: number; requests: Parameters<typeof dumpLine>[0][] } | null =
    null;
  try {
    if (text && nl !== -1) dump = JSON.parse(text.slice(0, nl));
  } catch {
    // Torn: treated as no answer.
  }
  if (dump === null || !(dump.at >= askedAt)) {
    const last = (read(w.scoreboard) ?? "").split("\n")[0];
    return `wsgi: worker ${w.pid}: no answer (no heartbeat for ${
      ((now - w.lastBeat) / 1000).toFixed(1)
    } s)${last ? `; last request begun: ${last}` : ""}`;
  }
  const n = dump.requests.length;
  return `wsgi: worker ${w.pid}: ${n} request(s) in flight${
    n ? ": " + dump.requests.map(dumpLine).join(", ") : ""
  }`;
}
