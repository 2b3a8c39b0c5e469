// The lazy environ: a Proxy over the plain environ object that fills the
// keys made from the request headers and the peer on first use, and, behind
// trusted proxies, settles what their forwarded headers say. makeEnviron
// (environ.ts) builds the object it wraps.
import type { ErrorStream, WSGIEnvironment } from "./types.ts";
import type { RequestFacts } from "./request_facts.ts";
import { show, trimOws } from "./_field_values.ts";
import { addHeader, getHeader } from "./request_headers.ts";
import {
  forwardedHeaders,
  type Forwarding,
  resolveForwarded,
} from "./_forwarded/forwarded.ts";
import {
  peerTrusted,
  type ProxyTrust,
  trustsNobody,
} from "./_forwarded/proxy_trust.ts";

// The keys of the forwarded headers, removed when an untrusted peer sent
// them (see LazyKeys.resolve).
const FORWARDED_KEYS = [
  "HTTP_FORWARDED",
  "HTTP_X_FORWARDED_FOR",
  "HTTP_X_FORWARDED_PROTO",
  "HTTP_X_FORWARDED_HOST",
  "HTTP_X_FORWARDED_PORT",
];

function fillLazy(
  env: WSGIEnvironment,
  facts: RequestFacts,
  underscores: boolean,
  fwd: Forwarding | typeof UNTRUSTED | null,
): void {
  if (fwd !== null && fwd !== UNTRUSTED && fwd.remoteAddr !== undefined) {
    env.REMOTE_ADDR = fwd.remoteAddr;
    if (fwd.remotePort === undefined) delete env.REMOTE_PORT;
    else env.REMOTE_PORT = String(fwd.remotePort);
  } else {
    env.REMOTE_ADDR = facts.remoteAddr ?? "";
    if ("REMOTE_PORT" in env) {
      const port = facts.remotePort;
      if (port === undefined) delete env.REMOTE_PORT;
      else env.REMOTE_PORT = String(port);
    }
  }
  const headers = facts.headers;
  // wsgiref's defaults: text/plain (the email package's default), and ""
  // for a body without Content-Length.
  env.CONTENT_TYPE = getHeader(headers, "content-type") ?? "text/plain";
  const length = getHeader(headers, "content-length");
  env.CONTENT_LENGTH = length === null || (facts.bodyDropped && length !== "0")
    ? ""
    : length;
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      addHeader(env, headers[i], trimOws(headers[i + 1]), underscores);
    }
  } else {
    for (const [name, value] of headers as Headers) {
      // Fetch already joins repeats, except Set-Cookie (not a request header).
      addHeader(env, name, value, underscores);
    }
  }
  if (fwd === UNTRUSTED) {
    // Not believed, and not passed on either (as waitress does): an app or
    // middleware reading HTTP_X_FORWARDED_FOR itself would otherwise be
    // fooled by any client. Only a trusted proxy's headers reach the app.
    for (const key of FORWARDED_KEYS) delete env[key];
  } else if (fwd !== null && fwd.host !== undefined) {
    env.HTTP_HOST = fwd.host;
  }
}

/** True for the keys filled lazily: from the headers and the peer. */
function isLazyKey(key: string | symbol): boolean {
  if (typeof key !== "string") return false;
  switch (key.charCodeAt(0)) {
    case 72: // "H"
      return key.startsWith("HTTP_");
    case 67: // "C"
      return key === "CONTENT_TYPE" || key === "CONTENT_LENGTH";
    case 82: // "R"
      return key === "REMOTE_ADDR" || key === "REMOTE_PORT";
    default:
      return false;
  }
}

/** True for the keys a trusted proxy's headers may change besides those. */
function isServerKey(key: string | symbol): boolean {
  return key === "wsgi.url_scheme" || key === "SERVER_NAME" ||
    key === "SERVER_PORT";
}

/** The peer is not trusted: forwarded headers are ignored and removed. */
const UNTRUSTED = Symbol("untrusted");

/**
 * Wraps the environ so that the keys made from request headers (`HTTP_*`,
 * `CONTENT_TYPE`, `CONTENT_LENGTH`) and from the peer (`REMOTE_ADDR`,
 * `REMOTE_PORT`) are filled only when first needed: reading, testing,
 * setting or deleting such a key, or listing the keys. Until then neither
 * is asked of the runtime. On Deno, merely touching `Request.headers` cost
 * 6% of a whole request (Deno then copies every header when the response
 * ends), reading `info.remoteAddr` 8%, and iterating the headers more than
 * everything else together. Once filled, the environ behaves exactly as the
 * plain object it wraps. Behind trusted proxies, `wsgi.url_scheme`,
 * `SERVER_NAME` and `SERVER_PORT` are settled on first use too.
 */
export function lazy(
  env: WSGIEnvironment,
  facts: RequestFacts,
  underscores: boolean,
  trust: ProxyTrust | null,
): WSGIEnvironment {
  return new Proxy(env, new LazyKeys(facts, underscores, trust));
}

/**
 * The Proxy handler behind {@linkcode lazy}: a class, so that its traps are
 * shared by every request instead of made anew as closures for each.
 */
class LazyKeys implements ProxyHandler<WSGIEnvironment> {
  facts: RequestFacts | null;
  underscores: boolean;
  trust: ProxyTrust | null;
  /** Whether a proxy may change the server keys (not with an empty list). */
  serverKeys: boolean;
  /** What the forwarded headers say; undefined until asked. */
  fwd: Forwarding | typeof UNTRUSTED | null | undefined = undefined;

  constructor(
    facts: RequestFacts,
    underscores: boolean,
    trust: ProxyTrust | null,
  ) {
    this.facts = facts;
    this.underscores = underscores;
    this.trust = trust;
    this.serverKeys = trust !== null && !trustsNobody(trust);
  }

  load(target: WSGIEnvironment, key: string | symbol | null): void {
    const facts = this.facts;
    if (facts === null) return;
    if (key === null || isLazyKey(key)) {
      this.facts = null;
      const fwd = this.trust === null ? null : this.resolve(target, facts);
      fillLazy(target, facts, this.underscores, fwd);
    } else if (this.serverKeys && this.fwd === undefined && isServerKey(key)) {
      this.resolve(target, facts);
    }
  }

  /**
   * Settles what the forwarded headers say, once: nothing when there are
   * none (one check: the common case pays no more), ignored when the peer
   * is not trusted, else applied to the server keys (the others are set
   * by fillLazy).
   */
  resolve(
    target: WSGIEnvironment,
    facts: RequestFacts,
  ): Forwarding | typeof UNTRUSTED | null {
    if (this.fwd !== undefined) return this.fwd;
    const trust = this.trust!;
    const h = forwardedHeaders(facts.headers);
    if (h === null) return this.fwd = null;
    if (!peerTrusted(trust, facts.remoteAddr ?? "")) {
      return this.fwd = UNTRUSTED;
    }
    const errors = target["wsgi.errors"] as ErrorStream;
    const peer = facts.remoteAddr || "a unix socket";
    const fwd = resolveForwarded(
      h,
      trust,
      target["wsgi.url_scheme"] === "https" ? "https" : "http",
      (message) => {
        // Bad input is named, and the request still served (the value is
        // ignored): see the README, "Behind a proxy".
        try {
          errors.write(`wsgi: from ${show(peer)}: ${message}\n`);
          errors.flush();
        } catch {
          // A broken error stream must not fail the request.
        }
      },
    );
    if (fwd.scheme !== undefined) target["wsgi.url_scheme"] = fwd.scheme;
    if (fwd.serverName !== undefined) target.SERVER_NAME = fwd.serverName;
    if (fwd.serverPort !== undefined) target.SERVER_PORT = fwd.serverPort;
    return this.fwd = fwd;
  }

  get(target: WSGIEnvironment, key: string | symbol): unknown {
    if (this.facts !== null) this.load(target, key);
    return target[key as string];
  }

  has(target: WSGIEnvironment, key: string | symbol): boolean {
    if (this.facts !== null) this.load(target, key);
    return key in target;
  }

  set(target: WSGIEnvironment, key: string | symbol, value: unknown): boolean {
    if (this.facts !== null) this.load(target, key);
    target[key as string] = value;
    return true;
  }

  deleteProperty(target: WSGIEnvironment, key: string | symbol): boolean {
    if (this.facts !== null) this.load(target, key);
    return delete target[key as string];
  }

  defineProperty(
    target: WSGIEnvironment,
    key: string | symbol,
    descriptor: PropertyDescriptor,
  ): boolean {
    if (this.facts !== null) this.load(target, key);
    return Reflect.defineProperty(target, key, descriptor);
  }

  getOwnPropertyDescriptor(
    target: WSGIEnvironment,
    key: string | symbol,
  ): PropertyDescriptor | undefined {
    if (this.facts !== null) this.load(target, key);
    return Reflect.getOwnPropertyDescriptor(target, key);
  }

  ownKeys(target: WSGIEnvironment): (string | symbol)[] {
    if (this.facts !== null) this.load(target, null);
    return Reflect.ownKeys(target);
  }
}
