// Reason phrases for the status codes RFC 9110 §15 registers (plus 429 and
// 431 of RFC 6585, 451 of RFC 7725): what a bare number turns into on the
// status line, as werkzeug's `HTTP_STATUS_CODES`.
const PHRASES: Record<number, string> = {
  100: "Continue",
  101: "Switching Protocols",
  103: "Early Hints",
  200: "OK",
  201: "Created",
  202: "Accepted",
  203: "Non-Authoritative Information",
  204: "No Content",
  205: "Reset Content",
  206: "Partial Content",
  300: "Multiple Choices",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  407: "Proxy Authentication Required",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  411: "Length Required",
  412: "Precondition Failed",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  416: "Range Not Satisfiable",
  417: "Expectation Failed",
  418: "I'm a teapot",
  421: "Misdirected Request",
  422: "Unprocessable Content",
  425: "Too Early",
  426: "Upgrade Required",
  428: "Precondition Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  451: "Unavailable For Legal Reasons",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

/** The reason phrase of a status code; `"Unknown"` as werkzeug says. */
export function phrase(code: number): string {
  return PHRASES[code] ?? "Unknown";
}

/**
 * A status as `[code, "NNN Reason"]` from a number or a `"NNN Reason"`
 * line; a TypeError naming the value for anything else (a status line
 * carrying CR/LF would split the response).
 */
export function statusLine(status: number | string): [number, string] {
  if (typeof status === "number") {
    if (!Number.isInteger(status) || status < 100 || status > 999) {
      throw new TypeError(`status ${status} is not a 3-digit integer`);
    }
    return [status, `${status} ${phrase(status)}`];
  }
  const m = /^([1-9]\d\d) [\t\x20-\x7e\x80-\xff]*$/.exec(status);
  if (!m) {
    throw new TypeError(
      `status ${JSON.stringify(status)} is not "NNN Reason" (RFC 9112 §4)`,
    );
  }
  return [Number(m[1]), status];
}
