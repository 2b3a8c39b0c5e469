/**
 * werkzeug-style routing: {@linkcode Router}, rules with converters
 * (`/users/<int:id>`), methods, 404/405/OPTIONS answered, URL building by
 * name, the trailing-slash redirect.
 *
 * @module
 */
import type {
  AsyncInputStream,
  InputStream,
  StartResponse,
  WSGIApplication,
  WSGIBody,
} from "../core/types.ts";
import { HTTPError } from "./http_error.ts";
import {
  type AnyEnvironment,
  WSGIRequest,
  type WSGIRequestOptions,
} from "./request.ts";
import { WSGIResponse } from "./response.ts";
import {
  buildPath,
  compareRules,
  type CompiledRule,
  compileRule,
  valuesOf,
} from "./_rule.ts";
import { quotePath, textNative } from "./_native.ts";

/**
 * What a converter gives a handler: `number` for `int` and `float` (with
 * or without arguments), `string` for the others.
 *
 * @example Usage
 * ```ts
 * import type { ConverterValue } from "@wsgi/wsgi/toolkit";
 * const id: ConverterValue<"int(signed=True)"> = -3;
 * const name: ConverterValue<"string"> = "ana";
 * ```
 */
export type ConverterValue<C extends string> = C extends
  `${infer Base}(${string})` ? ConverterValue<Base>
  : C extends "int" | "float" ? number
  : string;

/**
 * The parameters a rule string declares, typed by converter: `int` and
 * `float` give numbers, the others strings.
 * `RouteParams<"/users/<int:id>/<name>">` is `{ id: number } & { name:
 * string }`.
 *
 * @example Usage
 * ```ts
 * import type { RouteParams } from "@wsgi/wsgi/toolkit";
 * const params: RouteParams<"/users/<int:id>/<path:rest>"> = { id: 7, rest: "a/b" };
 * ```
 */
export type RouteParams<R extends string> = string extends R
  ? Record<string, string | number>
  : R extends `${string}<${infer Spec}>${infer Rest}` ?
      & (Spec extends `${infer C}:${infer N}` ? { [K in N]: ConverterValue<C> }
        : { [K in Spec]: string })
      & RouteParams<Rest>
  : Record<never, never>;

/**
 * A route's handler: the request and the converted parameters in, a
 * {@linkcode WSGIResponse} out. Throw an {@linkcode HTTPError} (or call
 * `abort()`) to answer with an error.
 *
 * @example Usage
 * ```ts
 * import { type RouteHandler, WSGIResponse } from "@wsgi/wsgi/toolkit";
 * const show: RouteHandler<{ id: number }> = (_request, { id }) =>
 *   WSGIResponse.json({ id });
 * ```
 */
export type RouteHandler<P = Record<string, string | number>> = (
  request: WSGIRequest,
  params: P,
) => WSGIResponse | Promise<WSGIResponse>;

/**
 * Options of one route: its methods (GET also answers HEAD; all methods
 * when omitted) and its name for {@linkcode Router.urlFor}.
 *
 * @example Usage
 * ```ts
 * import type { RouteOptions } from "@wsgi/wsgi/toolkit";
 * const options: RouteOptions = { methods: ["GET", "POST"], name: "users" };
 * ```
 */
export interface RouteOptions {
  /** The methods it answers; every method when omitted. */
  methods?: string[];
  /** Its name for URL building; the rule string itself is always a name too. */
  name?: string;
}

/**
 * Options of a {@linkcode Router}.
 *
 * @example Usage
 * ```ts
 * import { Router } from "@wsgi/wsgi/toolkit";
 * const router = new Router({ request: { maxContentLength: 1 << 20 } });
 * ```
 */
export interface RouterOptions {
  /** Limits for each request's body ({@linkcode WSGIRequestOptions}). */
  request?: WSGIRequestOptions;
}

/**
 * Options of {@linkcode Router.urlFor}.
 *
 * @example Usage
 * ```ts
 * import type { UrlForOptions } from "@wsgi/wsgi/toolkit";
 * const options: UrlForOptions = { external: true };
 * ```
 */
export interface UrlForOptions {
  /** The current request: its `SCRIPT_NAME` prefixes the path. */
  request?: WSGIRequest;
  /** A full URL (scheme and host of `request`) instead of a path. */
  external?: boolean;
}

/** What {@linkcode Router.match} found. */
export interface RouteMatch {
  /** The rule string that matched. */
  rule: string;
  /** The converted parameters. */
  params: Record<string, string | number>;
  /** The handler. */
  handler: RouteHandler<never>;
}

interface Route {
  compiled: CompiledRule;
  methods: Set<string> | null;
  handler: RouteHandler<never>;
  order: number;
}

type Outcome =
  | { kind: "match"; route: Route; params: Record<string, string | number> }
  | { kind: "methods"; allowed: Set<string>; first: Route }
  | { kind: "none" };

const q = JSON.stringify;

/**
 * A URL map and a WSGI application, in werkzeug's `Map`/`Rule` spirit.
 * Rules are werkzeug's: `/users/<int:id>`, `<path:rest>`, `<string(length=2):code>`,
 * `<uuid:key>`, `<float:x>`, `<any(a, b):kind>`; static rules win over
 * dynamic ones, then more specific converters, as werkzeug orders them.
 * Matching is on `PATH_INFO` decoded as UTF-8 (so `%2F` is already a `/`
 * there, as PEP 3333 has it: a `<string>` never holds one).
 *
 * The application ({@linkcode Router.asApp}) answers what the rules do
 * not: 404; 405 with `Allow` when the path matched for other methods;
 * `OPTIONS` with `Allow`; HEAD wherever GET is; a 308 to the URL with a
 * slash when a rule ending in `/` matches that and comes first in
 * werkzeug's order (the query kept). An
 * {@linkcode HTTPError} thrown by a handler becomes its response; other
 * errors go to the server (a 500).
 *
 * Matching is hand-written (a Map for static rules, one RegExp per dynamic
 * rule, bucketed by first segment): about 1 µs per match over a 50-route
 * table, where a loop over `URLPattern`s took 60–230 µs on Deno, Bun and
 * Node (scripts/_route_match_bench.ts; docs/toolkit.md).
 *
 * @example Usage
 * ```ts
 * import { testClient } from "@wsgi/wsgi";
 * import { Router, WSGIResponse } from "@wsgi/wsgi/toolkit";
 * import assert from "node:assert/strict";
 *
 * const router = new Router()
 *   .get("/users/<int:id>", (_request, { id }) => WSGIResponse.json({ id }), {
 *     name: "user",
 *   });
 * const client = testClient(router.asApp());
 * assert.deepEqual(await (await client.get("/users/7")).json(), { id: 7 });
 * assert.equal((await client.get("/users/x")).status, 404);
 * assert.equal((await client.post("/users/7")).headers.get("allow"), "GET, HEAD, OPTIONS");
 * assert.equal(router.urlFor("user", { id: 7, tab: "posts" }), "/users/7?tab=posts");
 * ```
 */
export class Router {
  #static = new Map<string, Route[]>();
  #buckets = new Map<string, Route[]>();
  #wild: Route[] = [];
  #named = new Map<string, CompiledRule>();
  #count = 0;
  #options: RouterOptions;

  /**
   * An empty router.
   *
   * @param options Request body limits.
   */
  constructor(options: RouterOptions = {}) {
    this.#options = options;
  }

  /**
   * Adds a rule.
   *
   * @example Usage
   * ```ts
   * import { Router, WSGIResponse } from "@wsgi/wsgi/toolkit";
   * const router = new Router().route(
   *   "/files/<path:name>",
   *   (_request, { name }) => new WSGIResponse(name),
   *   { methods: ["GET", "PUT"] },
   * );
   * ```
   *
   * @param rule The rule string, starting with `/`.
   * @param handler What answers it.
   * @param options Its methods and name.
   * @returns This router.
   * @throws {TypeError} For a malformed rule or a name already taken.
   */
  route<R extends string>(
    rule: R,
    handler: RouteHandler<RouteParams<R>>,
    options: RouteOptions = {},
  ): this {
    const compiled = compileRule(rule);
    let methods: Set<string> | null = null;
    if (options.methods) {
      methods = new Set(options.methods.map((m) => m.toUpperCase()));
      // werkzeug: a rule for GET also answers HEAD.
      if (methods.has("GET")) methods.add("HEAD");
    }
    for (const name of [options.name, rule]) {
      if (name === undefined) continue;
      const taken = this.#named.get(name);
      if (taken && name === options.name) {
        throw new TypeError(
          `route name ${q(name)} is taken by ${q(taken.rule)}`,
        );
      }
      if (!taken) this.#named.set(name, compiled);
    }
    const route: Route = {
      compiled,
      methods,
      handler: handler as RouteHandler<never>,
      order: this.#count++,
    };
    if (compiled.names.length === 0) {
      const list = this.#static.get(rule) ?? [];
      list.push(route);
      this.#static.set(rule, list);
    } else {
      const list = compiled.first !== null
        ? this.#buckets.get(compiled.first) ?? []
        : this.#wild;
      list.push(route);
      list.sort((a, b) =>
        compareRules(a.compiled, b.compiled) || a.order - b.order
      );
      if (compiled.first !== null) this.#buckets.set(compiled.first, list);
    }
    return this;
  }

  /**
   * Adds a GET (and HEAD) rule.
   *
   * @example Usage
   * ```ts
   * import { Router, WSGIResponse } from "@wsgi/wsgi/toolkit";
   * const router = new Router().get("/", () => new WSGIResponse("home"));
   * ```
   *
   * @param rule The rule string.
   * @param handler What answers it.
   * @param options Its name.
   * @returns This router.
   */
  get<R extends string>(
    rule: R,
    handler: RouteHandler<RouteParams<R>>,
    options: Omit<RouteOptions, "methods"> = {},
  ): this {
    return this.route(rule, handler, { ...options, methods: ["GET"] });
  }

  /**
   * Adds a POST rule.
   *
   * @example Usage
   * ```ts
   * import { Router, WSGIResponse } from "@wsgi/wsgi/toolkit";
   * const router = new Router().post("/items", async (request) =>
   *   WSGIResponse.json(await request.json(), { status: 201 }));
   * ```
   *
   * @param rule The rule string.
   * @param handler What answers it.
   * @param options Its name.
   * @returns This router.
   */
  post<R extends string>(
    rule: R,
    handler: RouteHandler<RouteParams<R>>,
    options: Omit<RouteOptions, "methods"> = {},
  ): this {
    return this.route(rule, handler, { ...options, methods: ["POST"] });
  }

  /**
   * Adds a PUT rule.
   *
   * @example Usage
   * ```ts
   * import { Router, WSGIResponse } from "@wsgi/wsgi/toolkit";
   * const router = new Router().put("/items/<int:id>", (_r, { id }) =>
   *   WSGIResponse.json({ id }));
   * ```
   *
   * @param rule The rule string.
   * @param handler What answers it.
   * @param options Its name.
   * @returns This router.
   */
  put<R extends string>(
    rule: R,
    handler: RouteHandler<RouteParams<R>>,
    options: Omit<RouteOptions, "methods"> = {},
  ): this {
    return this.route(rule, handler, { ...options, methods: ["PUT"] });
  }

  /**
   * Adds a DELETE rule.
   *
   * @example Usage
   * ```ts
   * import { Router, WSGIResponse } from "@wsgi/wsgi/toolkit";
   * const router = new Router().delete("/items/<int:id>", () =>
   *   new WSGIResponse(null, { status: 204 }));
   * ```
   *
   * @param rule The rule string.
   * @param handler What answers it.
   * @param options Its name.
   * @returns This router.
   */
  delete<R extends string>(
    rule: R,
    handler: RouteHandler<RouteParams<R>>,
    options: Omit<RouteOptions, "methods"> = {},
  ): this {
    return this.route(rule, handler, { ...options, methods: ["DELETE"] });
  }

  #find(method: string, path: string): Outcome {
    const allowed = new Set<string>();
    let pathMatch: Route | null = null;
    const consider = (
      route: Route,
      params: Record<string, string | number>,
    ): Outcome | null => {
      if (!route.methods || route.methods.has(method)) {
        return { kind: "match", route, params };
      }
      pathMatch ??= route;
      for (const m of route.methods) allowed.add(m);
      return null;
    };
    for (const route of this.#static.get(path) ?? []) {
      const found = consider(route, {});
      if (found) return found;
    }
    const slash = path.indexOf("/", 1);
    const first = path.slice(1, slash === -1 ? undefined : slash);
    const bucket = this.#buckets.get(first) ?? [];
    const wild = this.#wild;
    // The bucket's rules and the wildcard-first ones, merged in werkzeug's order.
    let i = 0;
    let j = 0;
    while (i < bucket.length || j < wild.length) {
      const take = j >= wild.length ||
          (i < bucket.length &&
            (compareRules(bucket[i].compiled, wild[j].compiled) ||
                bucket[i].order - wild[j].order) < 0)
        ? bucket[i++]
        : wild[j++];
      const m = take.compiled.regex.exec(path);
      if (!m) continue;
      const params = valuesOf(take.compiled, m);
      if (!params) continue;
      const found = consider(take, params);
      if (found) return found;
    }
    return pathMatch
      ? { kind: "methods", allowed, first: pathMatch }
      : { kind: "none" };
  }

  /**
   * The rule that answers `method` on `path` (text, as
   * `WSGIRequest.path`), or null; for tests and tools.
   *
   * @example Usage
   * ```ts
   * import { Router, WSGIResponse } from "@wsgi/wsgi/toolkit";
   * import assert from "node:assert/strict";
   * const router = new Router().get("/a/<int:n>", () => new WSGIResponse("a"));
   * assert.deepEqual(router.match("GET", "/a/3")?.params, { n: 3 });
   * assert.equal(router.match("POST", "/a/3"), null);
   * ```
   *
   * @param method The method.
   * @param path The path.
   * @returns The match, or null.
   */
  match(method: string, path: string): RouteMatch | null {
    const found = this.#find(method.toUpperCase(), path);
    if (found.kind !== "match") return null;
    return {
      rule: found.route.compiled.rule,
      params: found.params,
      handler: found.route.handler,
    };
  }

  /**
   * Builds the URL of a named rule (werkzeug's `url_for`/`build`): values
   * fill its converters (checked and percent-encoded), the rest become the
   * query string; prefixed with the request's `SCRIPT_NAME`.
   *
   * @example Usage
   * ```ts
   * import { Router, WSGIResponse } from "@wsgi/wsgi/toolkit";
   * import assert from "node:assert/strict";
   * const router = new Router()
   *   .get("/files/<path:name>", () => new WSGIResponse(""), { name: "file" });
   * assert.equal(router.urlFor("file", { name: "a b/ç.txt" }), "/files/a%20b/%C3%A7.txt");
   * assert.throws(() => router.urlFor("nope"), /no route named "nope"/);
   * ```
   *
   * @param name A rule's name (or the rule string).
   * @param values Its parameters and query arguments.
   * @param options The request (for `SCRIPT_NAME`, the host) and whether a full URL is wanted.
   * @returns The URL.
   * @throws {TypeError} For an unknown name or a missing or invalid value.
   */
  urlFor(
    name: string,
    values: Record<string, unknown> = {},
    options: UrlForOptions = {},
  ): string {
    const compiled = this.#named.get(name);
    if (!compiled) throw new TypeError(`urlFor(): no route named ${q(name)}`);
    const spare = new URLSearchParams();
    let url = buildPath(compiled, values, spare);
    const request = options.request;
    if (request) {
      const script = (request.environ.SCRIPT_NAME ?? "").replace(/\/+$/, "");
      url = quotePath(script) + url;
      if (options.external) url = `${request.scheme}://${request.host}${url}`;
    } else if (options.external) {
      throw new TypeError("urlFor(): external URLs need the request");
    }
    const query = spare.toString();
    return query ? `${url}?${query}` : url;
  }

  /**
   * The router as a WSGI application.
   *
   * @example Usage
   * ```ts
   * import { makeServer } from "@wsgi/wsgi";
   * import { Router, WSGIResponse } from "@wsgi/wsgi/toolkit";
   * const app = new Router().get("/", () => new WSGIResponse("hi")).asApp();
   * const server = makeServer("127.0.0.1", 0, app, { log: false });
   * await server.ready;
   * await server.shutdown();
   * ```
   *
   * @returns The application.
   */
  asApp<
    I extends InputStream | AsyncInputStream = InputStream,
  >(): WSGIApplication<I> {
    return (environ, startResponse) => this.#handle(environ, startResponse);
  }

  async #handle(
    environ: AnyEnvironment,
    startResponse: StartResponse,
  ): Promise<WSGIBody> {
    const request = new WSGIRequest(environ, this.#options.request);
    let response: WSGIResponse;
    try {
      response = await this.#dispatch(request);
    } catch (error) {
      if (!(error instanceof HTTPError)) throw error;
      response = WSGIResponse.fromError(error);
    }
    return response.respond(environ, startResponse);
  }

  async #dispatch(request: WSGIRequest): Promise<WSGIResponse> {
    const method = request.method;
    const path = request.path;
    const found = this.#find(method, path);
    if (!path.endsWith("/") && this.#slashFirst(method, path, found)) {
      return this.#slashRedirect(request);
    }
    if (found.kind === "match") {
      return await found.route.handler(request, found.params as never);
    }
    if (found.kind === "methods" || method === "OPTIONS") {
      const allowed = found.kind === "methods"
        ? found.allowed
        : this.#allowed(path);
      if (allowed.size) {
        allowed.add("OPTIONS");
        const allow = [...allowed].sort().join(", ");
        if (method === "OPTIONS") {
          return new WSGIResponse(null, {
            status: 200,
            headers: { Allow: allow },
          });
        }
        return WSGIResponse.error(405, `${method} is not allowed here`, {
          Allow: allow,
        });
      }
    }
    return WSGIResponse.error(404, `nothing at ${JSON.stringify(path)}`);
  }

  // werkzeug's strict_slashes: a rule ending in "/" that the path matches
  // with a slash added wins over what matched without it when it comes
  // first in werkzeug's order (a static match is always first).
  #slashFirst(method: string, path: string, found: Outcome): boolean {
    if (found.kind === "match" && found.route.compiled.names.length === 0) {
      return false;
    }
    const slashed = this.#find(method, path + "/");
    if (slashed.kind === "none") return false;
    if (found.kind === "none") return true;
    const a = slashed.kind === "match" ? slashed.route : slashed.first;
    const b = found.kind === "match" ? found.route : found.first;
    return (compareRules(a.compiled, b.compiled) || a.order - b.order) < 0;
  }

  // The 308 to the slashed URL (RFC 9110 §15.4.9 keeps the method and
  // body), query kept. The target is built from the raw bytes; leading
  // slashes become one so that it never reads as "//host", another site
  // (RFC 3986 §4.2).
  #slashRedirect(request: WSGIRequest): WSGIResponse {
    const environ = request.environ;
    const target = quotePath(
      ((environ.SCRIPT_NAME ?? "") + textNative(request.path) + "/").replace(
        /^\/+/,
        "/",
      ),
    );
    const query = (environ.QUERY_STRING ?? "").replace(
      /[^\x21-\x7e]/g,
      (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0"),
    );
    return WSGIResponse.redirect(query ? `${target}?${query}` : target, 308);
  }

  #allowed(path: string): Set<string> {
    const found = this.#find("\0", path);
    if (found.kind === "methods") return found.allowed;
    // A rule without methods matched: it takes any.
    return found.kind === "match"
      ? new Set(["DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"])
      : new Set();
  }
}
