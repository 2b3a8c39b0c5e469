// The JSON access log (`--access-log-json`): one object a line, its field
// names from OpenTelemetry's HTTP semantic conventions (semconv
// docs/http/http-spans.md, docs/http/http-metrics.md), values typed (the
// status and sizes are numbers, the duration seconds as OpenTelemetry's
// `http.server.request.duration`). JSON.stringify escapes quotes,
// backslashes and every control character, so no header value can end the
// line or add a field; DEL, C1, U+2028 and U+2029, which JSON leaves raw,
// are escaped too (line breaks to some log readers).
import {
  basicUser,
  clientAddress,
  type LineFormat,
  type LogEntry,
  requestHeader,
  targetPath,
  targetQuery,
} from "./_log_format.ts";

// The time is made at most once a millisecond.
let isoMs = -1;
let isoCached = "";
function nowIso(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoCached = new Date(now).toISOString();
    isoMs = now;
  }
  return isoCached;
}

/** Seconds to the microsecond: no float noise in the line. */
const micro = (seconds: number): number => Math.round(seconds * 1e6) / 1e6;

// What JSON.stringify leaves raw but a log reader may take for a line
// break or a terminal control: DEL, C1 (0x85 is NEL), U+2028, U+2029.
const RAW = /[\x7f-\x9f\u2028\u2029]/;
const RAW_ALL = /[\x7f-\x9f\u2028\u2029]/g;
const hex4 = (c: string): string =>
  "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0");

/**
 * One access-log record as a JSON line (without its newline). Fields left
 * out when unknown: `url.query` (no `?`), `user_agent.original`,
 * `http.request.header.referer`, `user.name` (no Basic credentials),
 * `http.response.body.size` (not counted), `wsgi.request.wait_duration`
 * (not measured). `error.type` is `"incomplete"` when the body failed
 * midway or the client left.
 */
export const jsonLine: LineFormat = (e: LogEntry): string => {
  const f = e.facts;
  const protocol = f.protocol ?? "HTTP/1.1";
  const record: Record<string, string | number> = {
    "time": nowIso(),
    "http.request.method": f.method,
    "url.path": targetPath(f.target),
  };
  const query = targetQuery(f.target);
  if (query !== null) record["url.query"] = query;
  record["url.scheme"] = f.scheme ?? "http";
  record["network.protocol.version"] = protocol.startsWith("HTTP/")
    ? protocol.slice(5)
    : protocol;
  record["http.response.status_code"] = e.code;
  if (e.bytes !== null) record["http.response.body.size"] = e.bytes;
  record["http.server.request.duration"] = micro(e.seconds);
  record["client.address"] = clientAddress(e);
  const agent = requestHeader(e, "user-agent");
  if (agent !== null) record["user_agent.original"] = agent;
  const referer = requestHeader(e, "referer");
  if (referer !== null) record["http.request.header.referer"] = referer;
  const user = basicUser(e);
  if (user !== null) record["user.name"] = user;
  if (f.start && f.ran && f.ran > 0) {
    record["wsgi.request.wait_duration"] = micro((f.ran - f.start) / 1000);
  }
  if (!e.complete) record["error.type"] = "incomplete";
  record["process.pid"] = e.pid;
  const line = JSON.stringify(record);
  return RAW.test(line) ? line.replace(RAW_ALL, hex4) : line;
};
