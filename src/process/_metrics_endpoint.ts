// `--metrics HOST:PORT`: its own listener, never the application's port,
// served by makeServer with this small WSGI application:
//   /metrics  Prometheus text (OpenMetrics when the Accept header asks)
//   /ready    200 while serving; 503 from the moment a graceful stop begins,
//             so that a load balancer stops sending before connections close
//   /live     200 while the process runs
import type { WSGIApplication } from "../core/types.ts";
import {
  OPENMETRICS_TYPE,
  PROMETHEUS_TYPE,
  wantsOpenMetrics,
} from "../core/_metrics_text.ts";
import { makeServer, type WSGIServer } from "../runtime/server.ts";
import type { Bind } from "./_worker_protocol.ts";

/** What the endpoint shows. */
export interface MetricsSource {
  /** The exposition, OpenMetrics when `open`. */
  text(open: boolean): string;
  /** False once a graceful stop has begun. */
  ready(): boolean;
}

const encoder = new TextEncoder();

/** The endpoint's WSGI application. */
function metricsApp(source: MetricsSource): WSGIApplication {
  return (environ, startResponse) => {
    const path = environ.PATH_INFO;
    const plain = (status: string, text: string) => {
      startResponse(status, [
        ["Content-Type", "text/plain; charset=utf-8"],
        ["Cache-Control", "no-store"],
      ]);
      return [encoder.encode(text)];
    };
    if (environ.REQUEST_METHOD !== "GET" && environ.REQUEST_METHOD !== "HEAD") {
      return plain("405 Method Not Allowed", "GET only\n");
    }
    if (path === "/metrics") {
      const open = wantsOpenMetrics(environ.HTTP_ACCEPT as string | undefined);
      const body = encoder.encode(source.text(open));
      startResponse("200 OK", [
        ["Content-Type", open ? OPENMETRICS_TYPE : PROMETHEUS_TYPE],
        ["Cache-Control", "no-store"],
      ]);
      return [body];
    }
    if (path === "/ready") {
      return source.ready()
        ? plain("200 OK", "ready\n")
        : plain("503 Service Unavailable", "stopping\n");
    }
    if (path === "/live") return plain("200 OK", "live\n");
    return plain("404 Not Found", "/metrics, /ready or /live\n");
  };
}

/** Starts the endpoint's listener (no access log: scrapes are not traffic). */
export function serveMetrics(bind: Bind, source: MetricsSource): WSGIServer {
  return makeServer(bind.host, bind.port, metricsApp(source), { log: false });
}
