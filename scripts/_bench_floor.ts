// The benchmarks' shared pieces: the tutorial's application, and the floor
// of WSGI itself (raw-wsgi), used by the wire runs (_bench_server.ts) and
// the in-process timing (_bench_handler.ts) alike.
import type { StartResponse } from "../mod.ts";

const HELLO_TYPE = "text/plain; charset=utf-8";

/** The tutorial's application. */
export function helloApp(_environ: unknown, startResponse: StartResponse) {
  startResponse("200 OK", [["Content-Type", HELLO_TYPE]]);
  return [new TextEncoder().encode("¡Hola, mundo!")];
}

/**
 * The least a WSGI server must do per request, without any check: a plain
 * environ of the CGI and wsgi.* keys (the HTTP_* keys left out, as
 * makeServer's environ reads them only when asked), a start_response that
 * keeps the status and headers, the app called, and its one chunk
 * answered with that status and those headers.
 */
export function minimalWsgi(
  method: string,
  target: string,
): { code: number; headers: [string, string][]; body: Uint8Array } {
  const q = target.indexOf("?");
  const environ = {
    REQUEST_METHOD: method,
    SCRIPT_NAME: "",
    PATH_INFO: q === -1 ? target : target.slice(0, q),
    QUERY_STRING: q === -1 ? "" : target.slice(q + 1),
    CONTENT_TYPE: "",
    CONTENT_LENGTH: "",
    SERVER_NAME: "127.0.0.1",
    SERVER_PORT: "0",
    SERVER_PROTOCOL: "HTTP/1.1",
    SERVER_SOFTWARE: "floor",
    GATEWAY_INTERFACE: "CGI/1.1",
    REMOTE_ADDR: "",
    REMOTE_HOST: "",
    "wsgi.version": [1, 0],
    "wsgi.url_scheme": "http",
    "wsgi.input": null,
    "wsgi.errors": null,
    "wsgi.multithread": false,
    "wsgi.multiprocess": false,
    "wsgi.run_once": false,
  };
  let status = "";
  let headers: [string, string][] = [];
  const body = helloApp(environ, (s: string, h: [string, string][]) => {
    status = s;
    headers = h;
    return () => {};
  })[0];
  return { code: Number(status.slice(0, 3)), headers, body };
}

/** minimalWsgi behind a fetch handler. */
export function minimalHandler(request: Request): Response {
  const url = request.url;
  const out = minimalWsgi(
    request.method,
    url.slice(url.indexOf("/", url.indexOf("://") + 3)),
  );
  return new Response(out.body as Uint8Array<ArrayBuffer>, {
    status: out.code,
    headers: out.headers,
  });
}
