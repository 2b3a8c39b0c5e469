// The metrics as text: Prometheus' exposition format 0.0.4, or OpenMetrics
// 1.0 (asked for by `Accept: application/openmetrics-text`). The two differ
// in a counter's family name (OpenMetrics drops `_total` from the TYPE
// line), in `# UNIT` lines and in the closing `# EOF`.
import {
  BUCKETS,
  CLASSES,
  HISTOGRAM,
  IN_FLIGHT,
  METHODS,
  REFUSALS,
  REFUSED,
  REQUEST_BYTES,
  REQUESTS,
  RESPONSE_BYTES,
  SETS,
  SLOTS,
  SUM,
} from "./_metrics.ts";

/** One metric family beyond the request metrics (the supervisor's own). */
export interface Family {
  /** The sample name; counters end in `_total`. */
  name: string;
  type: "counter" | "gauge";
  help: string;
  /** The unit, when the name ends with it (`seconds`, `bytes`). */
  unit?: string;
  /** Samples: their labels, already `name="value"` joined by commas. */
  samples: { labels: string; value: number }[];
}

/** Prometheus' text format (version 0.0.4). */
export const PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8";
/** OpenMetrics' text format. */
export const OPENMETRICS_TYPE =
  "application/openmetrics-text; version=1.0.0; charset=utf-8";

/** Whether an `Accept` header asks for OpenMetrics. */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  return accept !== undefined &&
    accept.includes("application/openmetrics-text");
}

function num(n: number): string {
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return Number.isNaN(n) ? "NaN" : String(n);
}

function head(
  out: string[],
  name: string,
  type: string,
  help: string,
  unit: string | undefined,
  open: boolean,
): void {
  // OpenMetrics names a counter's family without its `_total` suffix.
  const family = open && type === "counter" ? name.slice(0, -6) : name;
  out.push(`# HELP ${family} ${help}`);
  out.push(`# TYPE ${family} ${type}`);
  if (open && unit) out.push(`# UNIT ${family} ${unit}`);
}

/** The request metrics in `v`, then `extra`, as one exposition. */
export function renderMetrics(
  v: Float64Array,
  extra: Family[],
  open: boolean,
): string {
  const out: string[] = [];
  const sets: { set: number; labels: string }[] = [];
  for (let set = 0; set < SETS; set++) {
    if (v[REQUESTS + set] === 0) continue;
    sets.push({
      set,
      labels: `http_request_method="${METHODS[set / 5 | 0]}",status_class="${
        CLASSES[set % 5]
      }"`,
    });
  }
  const requests = "wsgi_http_server_requests_total";
  head(
    out,
    requests,
    "counter",
    "Requests answered, by method and status class.",
    undefined,
    open,
  );
  for (const s of sets) {
    out.push(`${requests}{${s.labels}} ${v[REQUESTS + s.set]}`);
  }
  const duration = "wsgi_http_server_request_duration_seconds";
  head(
    out,
    duration,
    "histogram",
    "Time from the request's head to the end of its response (OpenTelemetry http.server.request.duration).",
    "seconds",
    open,
  );
  for (const s of sets) {
    let total = 0;
    for (let b = 0; b < SLOTS; b++) {
      total += v[HISTOGRAM + s.set * SLOTS + b];
      const le = b < BUCKETS.length ? String(BUCKETS[b]) : "+Inf";
      out.push(`${duration}_bucket{${s.labels},le="${le}"} ${total}`);
    }
    out.push(`${duration}_sum{${s.labels}} ${num(v[SUM + s.set])}`);
    out.push(`${duration}_count{${s.labels}} ${total}`);
  }
  const families: Family[] = [
    {
      name: "wsgi_http_server_active_requests",
      type: "gauge",
      help: "Requests being served now.",
      samples: [{ labels: "", value: Math.max(0, v[IN_FLIGHT]) }],
    },
    {
      name: "wsgi_http_server_request_body_bytes_total",
      type: "counter",
      help: "Request body bytes received (Content-Length, or what was read).",
      unit: "bytes",
      samples: [{ labels: "", value: v[REQUEST_BYTES] }],
    },
    {
      name: "wsgi_http_server_response_body_bytes_total",
      type: "counter",
      help: "Response body bytes handed to the connection.",
      unit: "bytes",
      samples: [{ labels: "", value: v[RESPONSE_BYTES] }],
    },
    {
      name: "wsgi_http_server_refused_requests_total",
      type: "counter",
      help:
        "Requests the server answered itself, by status (400, 408, 413, 431, 503).",
      samples: REFUSALS.map((code, i) => ({
        labels: `http_response_status_code="${code}"`,
        value: v[REFUSED + i],
      })),
    },
    ...extra,
  ];
  for (const f of families) {
    head(out, f.name, f.type, f.help, f.unit, open);
    for (const s of f.samples) {
      out.push(`${f.name}${s.labels ? `{${s.labels}}` : ""} ${num(s.value)}`);
    }
  }
  if (open) out.push("# EOF");
  return out.join("\n") + "\n";
}
