// Node's own refusals, counted for the metrics. Node's HTTP parser answers
// a malformed request (400), a head over its limits (431), an oversized
// chunk extension (413) and a head that does not arrive in time
// (headersTimeout, 408) itself, before any request reaches the server; it
// tells only a `clientError` listener, and a listener replaces what Node
// does by default. So with metrics on, this listener does exactly what
// Node does without one (lib/_http_server.js, socketOnError) and counts
// the answer; with metrics off it is not installed.
import type { ServerMetrics } from "../../core/metrics.ts";

interface ClientSocket {
  writable: boolean;
  _httpMessage?: { _headerSent?: boolean } | null;
  write(data: string): void;
  destroy(error?: Error): void;
}

/** A server that emits `clientError`. */
export interface ClientErrorSource {
  on(
    event: "clientError",
    listener: (error: Error & { code?: string }, socket: ClientSocket) => void,
  ): void;
}

/** Node's answers, as it words them. */
const ANSWERS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, "Request Header Fields Too Large"],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, "Payload Too Large"],
  ERR_HTTP_REQUEST_TIMEOUT: [408, "Request Timeout"],
};

/** Counts Node's own refusals in `metrics`, answering them as Node does. */
export function countClientErrors(
  server: ClientErrorSource,
  metrics: ServerMetrics,
): void {
  server.on("clientError", (error, socket) => {
    // Node answers only when nothing of a response has been sent yet.
    if (
      socket.writable &&
      (!socket._httpMessage || !socket._httpMessage._headerSent)
    ) {
      const [code, reason] = ANSWERS[error.code ?? ""] ??
        [400, "Bad Request"];
      socket.write(
        `HTTP/1.1 ${code} ${reason}\r\nConnection: close\r\n\r\n`,
      );
      metrics.refused(code);
    }
    socket.destroy(error);
  });
}
