// The hostile-input case table for tests/hostile.test.ts: raw requests an
// attacker (or a broken client) sends, each with what the server may do
// about it. The runtimes legitimately differ in whether they answer 400 or
// just close, so a case names the security property, not a status:
// either the request is refused before the application runs, or the
// application sees exactly the request the bytes frame (method, path,
// body), and never a request smuggled after it.
//
// Sources of the shapes: RFC 9112 (§2.2 line endings, §3 request line,
// §5 field syntax, §6 message body, §7 chunked), and the parser bugs and
// CVEs in ../shared/reference/serving.md §2.5: gunicorn CVE-2024-1135,
// CVE-2024-6827, #3047; waitress CVE-2022-24761, CVE-2019-16789; Node
// CVE-2025-23167, CVE-2023-30589, CVE-2024-22019, CVE-2021-22959,
// CVE-2020-8287, CVE-2026-21710; Bun #29732, PR #26931, #8893.

/** What the application saw of one request (strings are native strings). */
export interface Seen {
  method: string;
  path: string;
  query: string;
  body: string;
  contentLength: string;
  /** `REMOTE_ADDR` (a forwarded-header option may take it from a header). */
  remoteAddr: string;
  /** Every `HTTP_*` key. */
  headers: Record<string, string>;
}

/** A partial `Seen`: each given field must match exactly. */
export type SeenLike = Partial<Omit<Seen, "headers">> & {
  headers?: Record<string, string | undefined>;
};

/** One hostile request. */
export interface HostileCase {
  /** Short and unique: it names the case in failure messages. */
  name: string;
  /** The bytes sent on a fresh connection (each char one byte). */
  send: string;
  /**
   * What the application may see. `"refuse"`: it must not run at all.
   * Otherwise a list of acceptable outcomes, each the exact list of
   * requests the application saw on the connection; the empty outcome
   * (refused before the app ran) is always acceptable too.
   */
  allow: "refuse" | SeenLike[][];
  /** Why this case is here (RFC section, CVE, defect of issue 9). */
  why: string;
  /**
   * A runtime's own parser bug that no shim can mend (it happens before
   * the handler runs), as docs/runtimes.md's table states it: on that
   * runtime, this reading is accepted too.
   */
  runtimeBug?: Partial<Record<"deno" | "bun" | "node", RuntimeBug>>;
}

/** What a runtime's known parser bug makes of a case (see `runtimeBug`). */
export interface RuntimeBug {
  /** The row of docs/runtimes.md that states it (tests/readme.test.ts checks it is there). */
  readme: string;
  /** Further outcomes accepted (a `/smuggled` path among them, if so). */
  allow?: SeenLike[][];
  /** One stray error response after the app's answer. */
  strayResponse?: boolean;
}

/** Bun drops the body of a GET (docs/runtimes.md: "a body sent with GET or HEAD"). */
const BUN_DROPS_GET_BODY: RuntimeBug = {
  readme: "a body sent with GET or HEAD",
  allow: [[{ method: "GET", body: "", contentLength: "" }]],
};

/** Bun reads trailer fields as a second request and answers it 400. */
const BUN_TRAILER: RuntimeBug = {
  readme: "chunked request body with trailer fields",
  strayResponse: true,
};

/** A request the case's bytes must never be read as: it follows them. */
export const SMUGGLED = "GET /smuggled HTTP/1.1\r\nHost: test\r\n\r\n";

const CRLF = "\r\n";

/** A request head: request line, header lines, blank line; then `body`. */
function req(line: string, headers: string[], body = ""): string {
  return line + CRLF + headers.map((h) => h + CRLF).join("") + CRLF + body;
}
const post = (headers: string[], body = ""): string =>
  req("POST /c HTTP/1.1", ["Host: test", ...headers], body);

/** Acceptable: refused, or the app saw exactly one request like `seen`. */
const one = (seen: SeenLike): SeenLike[][] => [[seen]];
const POST_HELLO: SeenLike = { method: "POST", path: "/c", body: "hello" };
const CHUNKED_HELLO = "5\r\nhello\r\n0\r\n\r\n";

// ------------------------------------------------------- request lines

/** Malformed or unusual request lines. */
export const requestLines: HostileCase[] = [
  {
    name: "no version (HTTP/0.9 style)",
    send: "GET /c\r\nHost: test\r\n\r\n",
    allow: one({ path: "/c" }),
    why: "RFC 9112 §3: the version is required; 0.9 is not served",
  },
  {
    name: "HTTP/2.0 on an HTTP/1 connection",
    send: req("GET /c HTTP/2.0", ["Host: test"]),
    allow: one({ path: "/c" }),
    why: "RFC 9112 §2.3: major version mismatch (505) or served",
  },
  {
    name: "version HTTP/11",
    send: req("GET /c HTTP/11", ["Host: test"]),
    allow: "refuse",
    why: "RFC 9112 §2.3: HTTP-version is HTTP/DIGIT.DIGIT",
  },
  {
    name: "lower-case http/1.1",
    send: req("GET /c http/1.1", ["Host: test"]),
    allow: one({ path: "/c" }),
    why: "RFC 9112 §2.3: HTTP-name is case-sensitive",
  },
  {
    name: "two spaces after the method",
    send: req("GET  /c HTTP/1.1", ["Host: test"]),
    allow: one({ method: "GET", path: "/c" }),
    why: "RFC 9112 §3: single SP; lenient parsers may take more",
  },
  {
    name: "tabs as separators",
    send: req("GET\t/c\tHTTP/1.1", ["Host: test"]),
    allow: one({ method: "GET", path: "/c" }),
    why: "RFC 9112 §3: SP only; HTAB may be accepted",
  },
  {
    name: "no target",
    send: req("GET HTTP/1.1", ["Host: test"]),
    allow: "refuse",
    why: "RFC 9112 §3: method SP target SP version",
  },
  {
    name: "raw space inside the target",
    send: req("GET /a b HTTP/1.1", ["Host: test"]) + SMUGGLED,
    allow: "refuse",
    why: "RFC 9112 §3.2: no whitespace in the target",
  },
  {
    name: "NUL in the method",
    send: req("G\x00ET /c HTTP/1.1", ["Host: test"]),
    allow: "refuse",
    why: "RFC 9110 §9.1: method is a token",
  },
  {
    name: "non-token method",
    send: req("GE(T /c HTTP/1.1", ["Host: test"]),
    allow: "refuse",
    why: "RFC 9110 §9.1: method is a token",
  },
  {
    name: "unknown method",
    send: req("FROB /c HTTP/1.1", ["Host: test"]),
    allow: one({ method: "FROB", path: "/c" }),
    why: "RFC 9110 §9.1: any token is a method; the app decides",
  },
  {
    name: "NUL in the target",
    send: req("GET /a\x00b HTTP/1.1", ["Host: test"]),
    allow: "refuse",
    why: "RFC 9112 §3.2: CTLs are not in a request-target",
  },
  {
    name: "blank line before the request line",
    send: "\r\n" + req("GET /c HTTP/1.1", ["Host: test"]),
    allow: one({ method: "GET", path: "/c" }),
    why: "RFC 9112 §2.2: a server SHOULD ignore a leading empty line",
  },
  {
    name: "absolute-form target",
    send: req("GET http://evil/c?x=1 HTTP/1.1", ["Host: test"]),
    allow: [
      [{ path: "/c", query: "x=1" }],
      [{ path: "http://evil/c", query: "x=1" }],
    ],
    why: "RFC 9112 §3.2.2: absolute-form; wsgiref keeps it whole",
  },
  {
    name: "asterisk-form with GET",
    send: req("GET * HTTP/1.1", ["Host: test"]),
    allow: [[{ path: "*" }], [{ path: "/*" }]],
    why: "RFC 9112 §3.2.4: only OPTIONS (gunicorn 26 refuses)",
  },
  {
    name: "authority-form with GET",
    send: req("GET test:80 HTTP/1.1", ["Host: test"]),
    allow: [[{ path: "test:80" }], [{ path: "/" }]],
    why: "RFC 9112 §3.2.3: only CONNECT (gunicorn 26 refuses)",
  },
  {
    name: "fragment in the target",
    send: req("GET /c#frag HTTP/1.1", ["Host: test"]),
    allow: [[{ path: "/c" }], [{ path: "/c#frag" }]],
    why: "RFC 9112 §3.2: no fragment in a request-target",
  },
  {
    name: "64 KiB target",
    send: req(`GET /${"a".repeat(65536)} HTTP/1.1`, ["Host: test"]),
    allow: one({ path: `/${"a".repeat(65536)}` }),
    why: "gunicorn limits the line to 4094 B; refusing (414) is fine",
  },
];

// ------------------------------------------------------------- headers

/** Malformed or unusual header fields. */
export const headerFields: HostileCase[] = [
  {
    name: "header line without a colon",
    send: req("GET /c HTTP/1.1", ["Host: test", "Bad Header"]),
    allow: "refuse",
    why: 'RFC 9112 §5: field-name ":" OWS field-value',
  },
  {
    name: "empty field name",
    send: req("GET /c HTTP/1.1", ["Host: test", ": x"]),
    allow: "refuse",
    why: "RFC 9110 §5.1: field-name is a token",
  },
  {
    name: "space inside a field name",
    send: req("GET /c HTTP/1.1", ["Host: test", "X A: b"]),
    allow: "refuse",
    why: "RFC 9110 §5.1: field-name is a token",
  },
  {
    name: "non-token field name",
    send: req("GET /c HTTP/1.1", ["Host: test", "X(A): b"]),
    allow: "refuse",
    why: "RFC 9110 §5.1: field-name is a token",
  },
  {
    name: "space before the colon",
    send: req("GET /c HTTP/1.1", ["Host: test", "X-A : b"]),
    allow: "refuse",
    why: "RFC 9112 §5.1: MUST reject (Node CVE-2021-22959)",
  },
  {
    name: "NUL in a value",
    send: req("GET /c HTTP/1.1", ["Host: test", "X-A: a\x00b"]),
    allow: one({ headers: { HTTP_X_A: "a b" } }),
    why: "RFC 9110 §5.5: reject, or replace NUL with SP",
  },
  {
    name: "bare CR inside a value",
    send: req("GET /c HTTP/1.1", ["Host: test", "X-A: a\rb"]),
    allow: one({ headers: { HTTP_X_A: "a b" } }),
    why: "RFC 9110 §5.5: reject, or replace CR with SP (CVE-2023-30589)",
  },
  {
    name: "bare CR ending a header line",
    send: "GET /c HTTP/1.1\r\nHost: test\rX-A: b\r\n\r\n",
    allow: one({ headers: { HTTP_X_A: undefined } }),
    why: "RFC 9112 §2.2: a bare CR is not a line end (CVE-2023-30589)",
  },
  {
    name: "bare LF line ends throughout",
    send: "GET /c HTTP/1.1\nHost: test\nX-A: b\n\n",
    allow: one({ path: "/c", headers: { HTTP_X_A: "b" } }),
    why: "RFC 9112 §2.2: a recipient MAY take LF as a line end",
  },
  {
    name: "one bare LF line end",
    send: "GET /c HTTP/1.1\r\nHost: test\nX-A: b\r\n\r\n",
    allow: one({ path: "/c", headers: { HTTP_X_A: "b" } }),
    why: "RFC 9112 §2.2: a recipient MAY take LF as a line end",
  },
  {
    name: "\\r\\n\\rX ends the head early",
    send: "GET /c HTTP/1.1\r\nHost: test\r\n\r" + SMUGGLED,
    allow: "refuse",
    why: "Node CVE-2025-23167: \\r\\n\\r followed by a byte is not CRLFCRLF",
  },
  {
    name: "obs-fold continuation",
    send: req("GET /c HTTP/1.1", ["Host: test", "X-A: a", " b"]),
    allow: [
      [{ headers: { HTTP_X_A: "a b" } }],
      [{ headers: { HTTP_X_A: "a  b" } }],
    ],
    why: "RFC 9112 §5.2: reject, or replace obs-fold with SP",
  },
  {
    name: "first header line starts with a space",
    send: req("GET /c HTTP/1.1", [" X-A: b", "Host: test"]),
    allow: one({ path: "/c", headers: { HTTP_X_A: undefined } }),
    why: "RFC 9112 §2.2: reject, or ignore that line",
  },
  {
    name: "0xA0 around a value is not whitespace",
    send: req("GET /c HTTP/1.1", ["Host: test", "X-V: \xa0a\xa0b\xa0"]),
    allow: one({ headers: { HTTP_X_V: "\xa0a\xa0b\xa0" } }),
    why: "RFC 9110 §5.5: only SP and HTAB are trimmed (issue 9 #7)",
  },
  {
    name: "high bytes at the ends of a value",
    send: req("GET /c HTTP/1.1", ["Host: test", "X-V: \xffa\xff"]),
    allow: one({ headers: { HTTP_X_V: "\xffa\xff" } }),
    why: "obs-text is kept as latin-1 (Bun #8893 stripped it)",
  },
  {
    name: "SP and HTAB around a value are trimmed",
    send: req("GET /c HTTP/1.1", ["Host: test", "X-V:\t a \t"]),
    allow: one({ headers: { HTTP_X_V: "a" } }),
    why: "RFC 9110 §5.5: OWS is not part of the value",
  },
  {
    name: "64 KiB header value",
    send: req("GET /c HTTP/1.1", ["Host: test", `X-V: ${"v".repeat(65536)}`]),
    allow: one({ headers: { HTTP_X_V: "v".repeat(65536) } }),
    why: "refusing (431) is fine; accepting must keep it whole",
  },
  {
    name: "300 header fields",
    send: req(
      "GET /c HTTP/1.1",
      ["Host: test", ...Array.from({ length: 299 }, (_, i) => `X-${i}: ${i}`)],
    ),
    allow: one({ headers: { HTTP_X_0: "0", HTTP_X_298: "298" } }),
    why: "refusing (431) is fine; accepting must keep them",
  },
  {
    name: "__proto__, constructor and toString as header names",
    send: req("GET /c HTTP/1.1", [
      "Host: test",
      "__proto__: x",
      "Constructor: c",
      "toString: t",
      "Has-Own-Property: h",
    ]),
    allow: one({
      headers: {
        HTTP_CONSTRUCTOR: "c",
        HTTP_TOSTRING: "t",
        HTTP_HAS_OWN_PROPERTY: "h",
        HTTP___PROTO__: undefined,
      },
    }),
    why: "Node CVE-2026-21710: a __proto__ header crashed the server",
  },
  {
    name: "two Host fields",
    send: req("GET /c?x=1 HTTP/1.1", ["Host: test", "Host: evil/admin"]),
    allow: one({ path: "/c", query: "x=1" }),
    why: "RFC 9112 §3.2: MUST 400; a header never changes the path",
  },
];

// --------------------------------------------------------- Host tricks

const HOST_SEEN = one({ path: "/real/path", query: "x=1" });
const withHost = (host: string): string =>
  req("GET /real/path?x=1 HTTP/1.1", [`Host: ${host}`]);

/** Host values that must never change PATH_INFO (issue 9 #1, #2). */
export const hostTricks: HostileCase[] = [
  ...[
    "evil/admin",
    "evil/..",
    "evil/../..",
    "evil?q=x",
    "evil#x",
    "evil\\x",
    "user@evil",
    "evil%2Fadmin",
    "evil:99999",
    "evil:abc",
    "[::1",
    "a b",
    "",
    "h".repeat(4000),
  ].map((host): HostileCase => ({
    name: `Host: ${JSON.stringify(host.slice(0, 20))}`,
    send: withHost(host),
    allow: HOST_SEEN,
    why: "a header never changes which path the app sees (issue 9 #1, #2)",
  })),
  {
    name: "no Host (HTTP/1.1)",
    send: "GET /real/path?x=1 HTTP/1.1\r\n\r\n",
    allow: HOST_SEEN,
    why: "RFC 9112 §3.2 (400 is right); never a dropped segment (#2)",
  },
  {
    name: "no Host (HTTP/1.0), first segment kept",
    send: "GET /xx/internal/secret HTTP/1.0\r\n\r\n",
    allow: one({ path: "/xx/internal/secret" }),
    why: "issue 9 #2: Bun dropped the first path segment",
  },
  {
    name: "no Host (HTTP/1.0), one segment",
    send: "GET /ten HTTP/1.0\r\n\r\n",
    allow: one({ path: "/ten" }),
    why: "issue 9 #2: Bun gave /",
  },
];

// ---------------------------------------------------------- smuggling

/** Framing conflicts, each followed by a request that must not be read. */
export const smuggling: HostileCase[] = [
  {
    name: "CL.TE: Content-Length then Transfer-Encoding",
    send: post(["Content-Length: 6", "Transfer-Encoding: chunked"]) +
      "0\r\n\r\n" + SMUGGLED,
    allow: one({ method: "POST", body: "" }),
    why: "RFC 9112 §6.3: TE wins, then close (gunicorn CVE-2024-1135)",
  },
  {
    name: "TE.CL: Transfer-Encoding then Content-Length",
    send: post(["Transfer-Encoding: chunked", "Content-Length: 3"]) +
      CHUNKED_HELLO + SMUGGLED,
    allow: one(POST_HELLO),
    why: "RFC 9112 §6.3: TE wins, then close",
  },
  {
    name: "duplicate Content-Length, same value",
    send: post(["Content-Length: 5", "Content-Length: 5"], "hello"),
    allow: one({ ...POST_HELLO, contentLength: "5" }),
    why: 'RFC 9110 §8.6: refuse, or one value (issue 9 #6: "5, 5")',
  },
  {
    name: 'Content-Length list "5, 5"',
    send: post(["Content-Length: 5, 5"], "hello"),
    allow: one({ ...POST_HELLO, contentLength: "5" }),
    why: "RFC 9110 §8.6: refuse, or one value",
  },
  {
    name: "conflicting Content-Length",
    send: post(["Content-Length: 5", "Content-Length: 6"], "hello!") +
      SMUGGLED,
    allow: "refuse",
    why: "RFC 9112 §6.3: unrecoverable framing error",
  },
  {
    name: 'Content-Length list "5, 6"',
    send: post(["Content-Length: 5, 6"], "hello!") + SMUGGLED,
    allow: "refuse",
    why: "RFC 9112 §6.3: unrecoverable framing error",
  },
  ...["+5", "-5", "0x5", "5.0", "5 5", "", "abc", "5e0"].map((
    cl,
  ): HostileCase => ({
    name: `Content-Length: ${JSON.stringify(cl)}`,
    send: post([`Content-Length: ${cl}`], "hello") + SMUGGLED,
    allow: "refuse",
    why: 'RFC 9110 §8.6: 1*DIGIT (waitress CVE-2022-24761 "+10")',
  })),
  {
    name: "Content-Length beyond 2^64",
    send: post(["Content-Length: 99999999999999999999999"], "hello") +
      SMUGGLED,
    allow: "refuse",
    why: "overflow must not wrap to a small length",
  },
  {
    name: "Content-Length with leading zeros",
    send: post(["Content-Length: 005"], "hello"),
    allow: one(POST_HELLO),
    why: "RFC 9110 §8.6: 1*DIGIT allows leading zeros",
  },
  {
    name: "TE: chunked, identity (chunked not last)",
    send: post(["Transfer-Encoding: chunked, identity", "Content-Length: 5"]) +
      CHUNKED_HELLO + SMUGGLED,
    allow: "refuse",
    why: "RFC 9112 §6.3: chunked must be the final coding, else 400",
  },
  {
    name: "TE: identity, chunked",
    send: post(["Transfer-Encoding: identity, chunked", "Content-Length: 3"]) +
      CHUNKED_HELLO + SMUGGLED,
    allow: one(POST_HELLO),
    why: "RFC 9112 §6.1: refuse the unknown coding (501) or de-chunk",
  },
  {
    name: "TE: xchunked (unknown coding) with CL",
    send: post(["Transfer-Encoding: xchunked", "Content-Length: 5"], "hello") +
      SMUGGLED,
    allow: "refuse",
    why: "gunicorn CVE-2024-6827: unknown TE must not fall back to CL",
  },
  {
    name: "TE: chunkedx",
    send: post(["Transfer-Encoding: chunkedx", "Content-Length: 3"]) +
      CHUNKED_HELLO + SMUGGLED,
    allow: "refuse",
    why: "RFC 9112 §6.1: unknown coding (501)",
  },
  {
    name: "TE value with a leading space and tab",
    send: post(["Transfer-Encoding: \t chunked", "Content-Length: 3"]) +
      CHUNKED_HELLO + SMUGGLED,
    allow: one(POST_HELLO),
    why: "RFC 9110 §5.5: OWS; still chunked, then close",
  },
  {
    name: "TE: CHUNKED (upper case)",
    send: post(["Transfer-Encoding: CHUNKED"]) + CHUNKED_HELLO,
    allow: one(POST_HELLO),
    why: "RFC 9112 §7: coding names are case-insensitive",
  },
  {
    name: "TE line folded (obs-fold) with CL",
    send: post(["Transfer-Encoding:", " chunked", "Content-Length: 3"]) +
      CHUNKED_HELLO + SMUGGLED,
    allow: one(POST_HELLO),
    why: "RFC 9112 §5.2: reject, or unfold and de-chunk",
  },
  {
    name: "TE header line starting with a space, with CL",
    send: post(["X-A: a", " Transfer-Encoding: chunked", "Content-Length: 5"]) +
      "hello" + SMUGGLED,
    allow: "refuse",
    why: "obs-fold hides a TE from one parser and not another",
  },
  {
    name: "Transfer-Encoding : chunked (space before colon) with CL",
    send: post(["Transfer-Encoding : chunked", "Content-Length: 5"]) +
      "hello" + SMUGGLED,
    allow: "refuse",
    why: "RFC 9112 §5.1: MUST reject (Node CVE-2021-22959)",
  },
  {
    name: "Transfer-Encoding twice",
    send: post([
      "Transfer-Encoding: chunked",
      "Transfer-Encoding: chunked",
      "Content-Length: 3",
    ]) + CHUNKED_HELLO + SMUGGLED,
    allow: one(POST_HELLO),
    why: "Node CVE-2020-8287: duplicate TE; refuse or de-chunk once",
  },
  {
    name: "TE chunked then TE identity",
    send: post(["Transfer-Encoding: chunked", "Transfer-Encoding: identity"]) +
      CHUNKED_HELLO + SMUGGLED,
    allow: "refuse",
    why: "RFC 9112 §6.3: the final coding is not chunked",
  },
  {
    name: "TE in HTTP/1.0",
    send: req("POST /c HTTP/1.0", [
      "Host: test",
      "Transfer-Encoding: chunked",
      "Content-Length: 3",
    ]) + CHUNKED_HELLO + SMUGGLED,
    allow: one(POST_HELLO),
    why: "RFC 9112 §6.1: faulty framing; process, then close",
  },
  {
    name: "Transfer_Encoding (underscore) is not TE",
    send: post(["Transfer_Encoding: chunked", "Content-Length: 5"], "hello"),
    allow: one({
      ...POST_HELLO,
      headers: { HTTP_TRANSFER_ENCODING: undefined },
    }),
    why: "Django CVE-2015-0219: _ must not pose as -",
  },
  {
    name: "GET with a Content-Length body",
    send: req("GET /c HTTP/1.1", ["Host: test", "Content-Length: 5"], "hello"),
    allow: one({ method: "GET", body: "hello", contentLength: "5" }),
    why: "RFC 9110 §9.3.1: framed is framed (issue 9 #4)",
    runtimeBug: { bun: BUN_DROPS_GET_BODY },
  },
  {
    name: "GET with a chunked body",
    send: req("GET /c HTTP/1.1", ["Host: test", "Transfer-Encoding: chunked"]) +
      CHUNKED_HELLO,
    allow: one({ method: "GET", body: "hello" }),
    why: "RFC 9110 §9.3.1: framed is framed (issue 9 #4)",
    runtimeBug: { bun: BUN_DROPS_GET_BODY },
  },
];

// ------------------------------------------------------- chunk sizes

/**
 * A chunked POST. Where the body is invalid, a request follows it that
 * must never be read; where it may be accepted, nothing follows (what
 * follows a valid chunked body is a legitimate pipelined request).
 */
const chunked = (body: string, smuggle = true): string =>
  post(["Transfer-Encoding: chunked"]) + body + (smuggle ? SMUGGLED : "");

/** Chunked bodies: size tricks, extensions, line ends, trailers. */
export const chunks: HostileCase[] = [
  ...["0x5", "+5", "5_0", "-1", " 5", "5\x00"].map((size): HostileCase => ({
    name: `chunk size ${JSON.stringify(size)}`,
    send: chunked(`${size}\r\nhello\r\n0\r\n\r\n`),
    allow: "refuse",
    why: "RFC 9112 §7.1: chunk-size is 1*HEXDIG (gunicorn #3047)",
    ...(size === " 5"
      ? {
        runtimeBug: {
          deno: {
            readme: "chunk size with a leading space",
            // Read as 5: the body is framed, and what follows is then a
            // pipelined request of its own.
            allow: [[POST_HELLO, { path: "/smuggled" }]],
          },
        },
      }
      : {}),
  })),
  {
    name: "chunk size beyond 2^64",
    send: chunked("10000000000000005\r\nhello\r\n0\r\n\r\n"),
    allow: "refuse",
    why: "overflow must not wrap to a small size",
  },
  {
    name: "chunk size 2^32 + 5 (32-bit truncation)",
    send: chunked("100000005\r\nhello\r\n0\r\n\r\n"),
    allow: "refuse",
    why: "Bun PR #26931: sizes cut to 32 bits",
  },
  {
    name: "chunk size with leading zeros, upper-case hex",
    send: post(["Transfer-Encoding: chunked"]) +
      "000A\r\n0123456789\r\n0\r\n\r\n",
    allow: one({ method: "POST", body: "0123456789" }),
    why: "RFC 9112 §7.1: 1*HEXDIG",
  },
  {
    name: "chunk extensions",
    send: post(["Transfer-Encoding: chunked"]) +
      '5;a=b;c="d;e"\r\nhello\r\n0;z\r\n\r\n',
    allow: one(POST_HELLO),
    why: "RFC 9112 §7.1.1: extensions are ignored",
  },
  {
    name: "chunk extension with a control byte",
    send: chunked("5;a\x01b\r\nhello\r\n0\r\n\r\n", false),
    allow: one(POST_HELLO),
    why: "waitress CVE-2022-24761: bad extensions",
  },
  {
    name: "64 KiB of chunk extensions",
    send: chunked(`5;${"a=b;".repeat(16384)}x\r\nhello\r\n0\r\n\r\n`, false),
    allow: one(POST_HELLO),
    why: "Node CVE-2024-22019: unbounded extensions",
  },
  {
    name: "bare LF after the chunk size",
    send: chunked("5\nhello\r\n0\r\n\r\n", false),
    allow: one(POST_HELLO),
    why: "RFC 9112 §2.2: LF may be taken as a line end",
  },
  {
    name: "bare CR after the chunk size",
    send: chunked("5\rhello\r\n0\r\n\r\n"),
    allow: "refuse",
    why: "RFC 9112 §2.2: a bare CR is not a line end",
  },
  {
    name: "chunk data longer than its size",
    send: chunked("5\r\nhelloXX\r\n0\r\n\r\n"),
    allow: "refuse",
    why: "RFC 9112 §7.1: chunk-data CRLF",
  },
  {
    name: "no CRLF after the chunk data",
    send: chunked("5\r\nhello0\r\n\r\n"),
    allow: "refuse",
    why: "Bun #29732: bytes after a chunk unchecked",
  },
  {
    name: "last chunk with a trailer field",
    send: post(["Transfer-Encoding: chunked"]) +
      "5\r\nhello\r\n0\r\nX-Trailer: a\r\n\r\n",
    allow: one(POST_HELLO),
    why: "RFC 9112 §7.1.2 (issue 9 #5: Bun answered twice)",
    runtimeBug: { bun: BUN_TRAILER },
  },
  {
    name: "malformed trailer field",
    send: chunked("5\r\nhello\r\n0\r\nBad Trailer\r\n\r\n", false),
    allow: one(POST_HELLO),
    why: "RFC 9112 §7.1.2: trailer syntax is field syntax",
    runtimeBug: { bun: BUN_TRAILER },
  },
];

// ------------------------------------------------------ log injection

/**
 * Bun decodes the target as UTF-8 before the shim sees it, so a byte that
 * is not UTF-8 arrives as U+FFFD, which PATH_INFO holds as its three UTF-8
 * bytes: lossy, but a native string, and documented in docs/runtimes.md's
 * runtime table. Allowed on Bun only.
 */
function lossyOnBun(path: string): SeenLike[][] {
  if (typeof (globalThis as { Bun?: unknown }).Bun !== "object") return [];
  return [[{ path: path.replaceAll("\ufffd", "\xef\xbf\xbd") }]];
}

/** Bytes that must never reach the access log raw. */
export const logInjection: HostileCase[] = [
  {
    name: "raw CR LF in the target",
    send: "GET /a\r\nX: y HTTP/1.1\r\nHost: test\r\n\r\n",
    // CRLF ends the request line: "GET /a" then a header "X: y HTTP/1.1".
    allow: one({ path: "/a" }),
    why: "CPython gh-100001: a request must not forge a log line",
  },
  {
    name: "raw ESC in the target",
    send: req("GET /a\x1b[31mred HTTP/1.1", ["Host: test"]),
    allow: "refuse",
    why: "RFC 9112 §3.2: CTLs are not in a request-target",
  },
  {
    name: "raw DEL and C1 (0x85 NEL) in the target",
    send: req("GET /a\x7fb\x85c HTTP/1.1", ["Host: test"]),
    allow: [[{ path: "/a\x7fb\x85c" }], ...lossyOnBun("/a\x7fb\ufffdc")],
    why: "0x85 is NEL, a line break to some log viewers",
  },
  {
    name: "raw UTF-8 é in the target",
    send: req("GET /caf\xc3\xa9?q=\xc3\xa9 HTTP/1.1", ["Host: test"]),
    allow: [
      [{ path: "/caf\xc3\xa9", query: "q=\xc3\xa9" }],
      [{ path: "/caf\xc3\xa9", query: "q=%C3%A9" }],
    ],
    why: "PEP 3333 native strings: bytes as latin-1 (issue 9 #3)",
  },
  {
    name: "raw UTF-8 U+2028 in the target",
    send: req("GET /log_i\xe2\x80\xa8X HTTP/1.1", ["Host: test"]),
    allow: one({ path: "/log_i\xe2\x80\xa8X" }),
    why: "U+2028 is a line separator to log viewers (issue 9 #3)",
  },
  {
    name: "raw 0xFF in the target",
    send: req("GET /a\xffb HTTP/1.1", ["Host: test"]),
    allow: [[{ path: "/a\xffb" }], ...lossyOnBun("/a\ufffdb")],
    why: "not UTF-8 at all: bytes as latin-1",
  },
  {
    name: "percent-encoded CR LF ESC U+2028 in the target",
    send: req("GET /a%0d%0aX%1b%e2%80%a8 HTTP/1.1", ["Host: test"]),
    allow: one({ path: "/a\r\nX\x1b\xe2\x80\xa8" }),
    why: "decoded for PATH_INFO; the log shows the target as sent",
  },
  {
    name: "controls and separators in headers",
    send: req("GET /c HTTP/1.1", [
      "Host: test",
      "X-Forwarded-For: 1.2.3.4\x1b[2J, 5.6.7.8\xe2\x80\xa8",
      'Forwarded: for="1.2.3.4\x1b[2J"',
      "X-Real-IP: 1.2.3.4\x85",
      "User-Agent: a\xe2\x80\xa8b\x85c",
      "Referer: http://x/\x1b]0;title\x07",
    ]),
    allow: one({ path: "/c" }),
    why: "headers that proxies and log formats print (REMOTE_ADDR)",
  },
];
