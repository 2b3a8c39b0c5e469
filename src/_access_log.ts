// The access log line in wsgiref's format (http.server's log_message):
// `127.0.0.1 - - [25/Nov/2026 04:00:00] "GET / HTTP/1.1" 200 12`.

const MONTHS = [
  "Jan",
  "Feb",
  "Mar",
  "Apr",
  "May",
  "Jun",
  "Jul",
  "Aug",
  "Sep",
  "Oct",
  "Nov",
  "Dec",
];

const pad = (n: number): string => (n < 10 ? "0" : "") + n;

/** `DD/Mon/YYYY HH:MM:SS` in local time, as http.server prints it. */
export function logTime(d: Date = new Date()): string {
  return `${pad(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()} ${
    pad(d.getHours())
  }:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * Escapes control characters as `\xNN` and doubles backslashes, so that a
 * request cannot forge log lines (CPython gh-100001).
 */
export function escapeLog(s: string): string {
  return s.replace(
    /[\x00-\x1f\x7f-\x9f\\]/g,
    (c) =>
      c === "\\"
        ? "\\\\"
        : "\\x" + c.charCodeAt(0).toString(16).padStart(2, "0"),
  );
}

/**
 * One access log line, without the trailing newline. `complete` false (the
 * body failed midway, or the client left) marks the line `(incomplete)`:
 * the status was sent, and `bytes` is what was handed to the connection
 * before it was cut.
 */
export function accessLine(
  remoteAddr: string,
  method: string,
  target: string,
  protocol: string,
  code: number,
  bytes: number | null,
  complete = true,
): string {
  return `${remoteAddr} - - [${logTime()}] "${
    escapeLog(`${method} ${target} ${protocol}`)
  }" ${code} ${bytes === null ? "-" : bytes}${complete ? "" : " (incomplete)"}`;
}
