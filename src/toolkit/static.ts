/**
 * Static files at whitenoise's level: {@linkcode serveStatic} (a WSGI app
 * serving a directory) and {@linkcode staticFiles} (a middleware: files
 * under a URL prefix first, else the wrapped app).
 *
 * The HTTP logic here is runtime-free. The disk is reached through the
 * `fs` option, a {@linkcode StaticFileSystem}; the default is node:fs on
 * Node and Bun (`_static_fs_node.ts`) and Deno's own calls on Deno
 * (`_static_fs_deno.ts`): the two per-runtime files, whose names the
 * layout rule accepts. Bodies go out through `environ["wsgi.file_wrapper"]`
 * as a file-backed `Blob` (Node reads it as the socket drains, Bun sends
 * it from the file), or on Deno the bytes of a small file, a stream of a
 * large one.
 *
 * @module
 */
export type { StaticFileInfo, StaticFileSystem } from "./static_fs.ts";
import { fileWrapper } from "../core/file_wrapper.ts";
import type {
  HeaderPair,
  StartResponse,
  WSGIApplication,
  WSGIBody,
  WSGIEnvironment,
} from "../core/types.ts";
import { chooseEncoding } from "./_accept_encoding.ts";
import {
  byteRange,
  evaluate,
  rangeStillValid,
  type Validators,
} from "./_conditional.ts";
import { contentTypeFor } from "./_mime.ts";
import { isInside, locationName, pathNames } from "./_static_path.ts";
import type { StaticFileInfo, StaticFileSystem } from "./static_fs.ts";
import { nodeFileSystem } from "./_static_fs_node.ts";
import { denoFileSystem } from "./_static_fs_deno.ts";

/**
 * Options of {@linkcode serveStatic} and {@linkcode staticFiles}.
 *
 * @example Usage
 * ```ts
 * import type { StaticOptions } from "@wsgi/wsgi/toolkit";
 * const options: StaticOptions = { maxAge: 3600, dotfiles: false };
 * ```
 */
export interface StaticOptions {
  /** `Cache-Control: max-age` in seconds for files not immutable. @default {60} */
  maxAge?: number;
  /**
   * Which files never change under their name, so they are cached for a
   * year with `immutable` (RFC 8246): a test of the path under the root.
   * @default {HASHED_NAME} (a hex hash of 8+ digits before the extension)
   */
  immutable?: RegExp | ((path: string) => boolean);
  /** The file answering for a directory (`/dir/`); null for none. @default {"index.html"} */
  index?: string | null;
  /**
   * How long, in milliseconds, what a URL resolved to on disk (its real
   * path under the root, its .br/.gz siblings) is reused before the disk
   * is asked again; 0 asks on every request. The file itself is stat'ed
   * on every request, and a change to it resolves the URL again, so its
   * size and validators are never stale. whitenoise indexes once at
   * start-up; this keeps most of that speed and still sees changes.
   * @default {1000}
   */
  recheck?: number;
  /** Serve names starting with `.`. @default {false} */
  dotfiles?: boolean;
  /** Send a `.br` or `.gz` sibling to clients that accept it. @default {true} */
  precompressed?: boolean;
  /** Extra Content-Types by extension (no dot): `{ "glb": "model/gltf-binary" }`. */
  types?: Readonly<Record<string, string>>;
  /** Where the files are read from. @default {node:fs; Deno's own calls on Deno} */
  fs?: StaticFileSystem;
}

/**
 * Options of {@linkcode staticFiles}: those of {@linkcode serveStatic}
 * and the URL prefix the files answer under.
 *
 * @example Usage
 * ```ts
 * import type { StaticFilesOptions } from "@wsgi/wsgi/toolkit";
 * const options: StaticFilesOptions = { prefix: "/assets/" };
 * ```
 */
export interface StaticFilesOptions extends StaticOptions {
  /** The PATH_INFO prefix of the files. @default {"/static/"} */
  prefix?: string;
}

/**
 * The default immutable test: a name with a hex hash of 8 or more digits
 * before its extension, as bundlers and Django's manifest storage write
 * them (`app.3f2a9c1b.js`, `style-0123abcd.css`).
 *
 * @example Usage
 * ```ts
 * import { HASHED_NAME } from "@wsgi/wsgi/toolkit";
 * import assert from "node:assert/strict";
 * assert.ok(HASHED_NAME.test("js/app.3f2a9c1b.js"));
 * assert.ok(!HASHED_NAME.test("js/app.js"));
 * ```
 */
export const HASHED_NAME: RegExp = /[.-][0-9a-f]{8,}\.[^./]+$/i;

const YEAR = 365 * 24 * 3600;
const ENCODINGS = [["br", ".br"], ["gzip", ".gz"]] as const;

/** A file found under the root, ready to answer for. */
interface Found {
  path: string;
  info: StaticFileInfo;
}

/** What a relative path resolves to on disk: a file, or a redirect. */
type Resolved =
  | { file: Found; name: string; variants: (Found | null)[] }
  | { location: string };

/** The static files' answer to one request, or null: not a file here. */
type Lookup = (
  environ: WSGIEnvironment,
  startResponse: StartResponse,
  relative: string,
) => Promise<WSGIBody | null>;

/** Bounds the lookup cache: a flood of distinct URLs empties it. */
const CACHE_ENTRIES = 4096;

function lookupFiles(root: string, options: StaticOptions): Lookup {
  const fs = options.fs ?? denoFileSystem ?? nodeFileSystem;
  const index = options.index === undefined ? "index.html" : options.index;
  const dotfiles = options.dotfiles ?? false;
  const precompressed = options.precompressed ?? true;
  const maxAge = options.maxAge ?? 60;
  const recheck = options.recheck ?? 1000;
  for (const [key, value] of [["maxAge", maxAge], ["recheck", recheck]]) {
    if (!(Number.isInteger(value) && (value as number) >= 0)) {
      throw new RangeError(
        `static files: ${key} must be a whole number >= 0, got ${value}`,
      );
    }
  }
  const immutableOption = options.immutable ?? HASHED_NAME;
  const immutable = typeof immutableOption === "function"
    ? immutableOption
    : (path: string) => immutableOption.test(path);
  const cache = new Map<string, { at: number; resolved: Resolved }>();
  let realRoot: Promise<string | null> | null = null;

  /** The file or directory at `path` if its real path stays under root. */
  async function find(path: string): Promise<Found | null> {
    realRoot ??= fs.realPath(root);
    const base = await realRoot;
    if (base === null) {
      realRoot = null; // the root may appear later
      return null;
    }
    // stat first: a missing file (most .br/.gz siblings) costs one call.
    const info = await fs.stat(path);
    if (info === null) return null;
    const real = await fs.realPath(path);
    // Symlinks are followed only when they land under the root.
    if (real === null || !isInside(real, base)) return null;
    return { path: real, info };
  }

  async function resolve(names: string[]): Promise<Resolved | null> {
    const last = names[names.length - 1];
    const dirPath = [root.replace(/\/+$/, ""), ...names.slice(0, -1)]
      .join("/");
    let file = await find(last === "" ? dirPath : `${dirPath}/${last}`);
    if (file === null) return null;
    let name = names.join("/");
    if (file.info.isDirectory) {
      if (index === null) return null;
      const page = await find(`${file.path}/${index}`);
      if (page === null || !page.info.isFile) return null;
      // `/dir` → `/dir/`, relative so SCRIPT_NAME and prefixes hold.
      if (last !== "") return { location: `${locationName(last)}/` };
      file = page;
      name += index;
    } else if (!file.info.isFile || last === "") {
      return null;
    } else if (index !== null && last === index) {
      // `dir/index.html` → `dir/`: one URL per page, as whitenoise does.
      return { location: "./" };
    }
    const variants = precompressed
      ? await Promise.all(ENCODINGS.map(([, ext]) => find(file.path + ext)))
      : [];
    return { file, name, variants };
  }

  /** What `relative` resolves to: from the cache while it is recent. */
  async function resolveCached(
    relative: string,
  ): Promise<[Resolved | null, boolean]> {
    const now = Date.now();
    const hit = recheck > 0 ? cache.get(relative) : undefined;
    if (hit !== undefined && now - hit.at < recheck) {
      return [hit.resolved, true];
    }
    const names = pathNames(relative, dotfiles);
    const found = names === null ? null : await resolve(names);
    if (found === null) cache.delete(relative);
    else if (recheck > 0) {
      if (cache.size >= CACHE_ENTRIES) cache.clear();
      cache.set(relative, { at: now, resolved: found });
    }
    return [found, false];
  }

  return async (environ, startResponse, relative) => {
    let [r, cached] = await resolveCached(relative);
    if (r === null) return null;
    if ("location" in r) return redirect(startResponse, environ, r.location);
    const method = environ.REQUEST_METHOD;
    if (method !== "GET" && method !== "HEAD") {
      startResponse("405 Method Not Allowed", [
        ["Allow", "GET, HEAD"],
        ["Content-Type", "text/plain; charset=utf-8"],
        ["Content-Length", "18"],
      ]);
      return [new TextEncoder().encode("Method Not Allowed")];
    }
    const accept = environ.HTTP_ACCEPT_ENCODING as string | undefined;
    let [file, coding, offered] = choose(r, accept);
    if (cached) {
      // The file sent is stat'ed on every request, so its size and
      // validators are never stale; a change resolves the URL again.
      const info = await fs.stat(file.path);
      if (
        info === null || info.size !== file.info.size ||
        info.mtimeMs !== file.info.mtimeMs
      ) {
        cache.delete(relative);
        [r, cached] = await resolveCached(relative);
        if (r === null || "location" in r) return null;
        [file, coding, offered] = choose(r, accept);
      }
    }
    const headers: HeaderPair[] = [
      ["Content-Type", contentTypeFor(r.name, options.types)],
      [
        "Cache-Control",
        immutable(r.name)
          ? `max-age=${YEAR}, public, immutable`
          : `max-age=${maxAge}, public`,
      ],
    ];
    // The answer depends on Accept-Encoding (RFC 9110 §12.5.5).
    if (offered) headers.push(["Vary", "Accept-Encoding"]);
    if (coding !== null) headers.push(["Content-Encoding", coding]);
    return answer(environ, startResponse, fs, file, headers);
  };
}

/**
 * The file to send for an Accept-Encoding: a .br or .gz sibling or the
 * file itself, the coding, and whether any sibling exists (then Vary).
 */
function choose(
  r: { file: Found; variants: (Found | null)[] },
  accept: string | undefined,
): [Found, string | null, boolean] {
  const offered = ENCODINGS.filter((_, i) => r.variants[i]?.info.isFile)
    .map(([coding]) => coding);
  if (offered.length === 0) return [r.file, null, false];
  const coding = chooseEncoding(accept, offered);
  if (coding === null) return [r.file, null, true];
  return [
    r.variants[ENCODINGS.findIndex(([c]) => c === coding)]!,
    coding,
    true,
  ];
}

function redirect(
  startResponse: StartResponse,
  environ: WSGIEnvironment,
  location: string,
): WSGIBody {
  const query = environ.QUERY_STRING ? `?${environ.QUERY_STRING}` : "";
  startResponse("302 Found", [
    ["Location", location + query],
    ["Content-Type", "text/plain; charset=utf-8"],
    ["Content-Length", "0"],
  ]);
  return [];
}

/** The 200, 206, 304, 412 or 416 for a file and its Accept-Encoding choice. */
function answer(
  environ: WSGIEnvironment,
  startResponse: StartResponse,
  fs: StaticFileSystem,
  file: Found,
  headers: HeaderPair[],
): Promise<WSGIBody> | WSGIBody {
  const { size, mtimeMs } = file.info;
  const modified = Math.floor(mtimeMs / 1000);
  const v: Validators = {
    etag: `"${Math.floor(mtimeMs).toString(16)}-${size.toString(16)}"`,
    modified,
  };
  const h = (name: string) => (environ[name] as string | undefined) ?? null;
  const method = environ.REQUEST_METHOD as string;
  const status = evaluate(
    {
      ifMatch: h("HTTP_IF_MATCH"),
      ifNoneMatch: h("HTTP_IF_NONE_MATCH"),
      ifModifiedSince: h("HTTP_IF_MODIFIED_SINCE"),
      ifUnmodifiedSince: h("HTTP_IF_UNMODIFIED_SINCE"),
    },
    v,
    method,
  );
  const vary = headers.filter(([n]) => n === "Vary");
  if (status === 304) {
    // RFC 9110 §15.4.5: the validators and caching fields, no content ones.
    startResponse("304 Not Modified", [
      ["ETag", v.etag],
      ...headers.filter(([n]) => n === "Cache-Control" || n === "Vary"),
    ]);
    return [];
  }
  if (status === 412) {
    startResponse("412 Precondition Failed", [
      ...vary,
      ["Content-Type", "text/plain; charset=utf-8"],
      ["Content-Length", "0"],
    ]);
    return [];
  }
  headers.push(["ETag", v.etag]);
  if (modified > 0) {
    headers.push(["Last-Modified", new Date(modified * 1000).toUTCString()]);
  }
  headers.push(["Accept-Ranges", "bytes"]);
  let start = 0;
  let end = size;
  let code = "200 OK";
  // RFC 9110 §14.2: range requests are defined for GET only.
  const rangeHeader = method === "GET" ? h("HTTP_RANGE") : null;
  const ifRange = h("HTTP_IF_RANGE");
  if (
    rangeHeader !== null && (ifRange === null || rangeStillValid(ifRange, v))
  ) {
    const range = byteRange(rangeHeader, size);
    if (range === "unsatisfiable") {
      startResponse("416 Range Not Satisfiable", [
        ["Content-Range", `bytes */${size}`],
        ...vary,
        ["Content-Type", "text/plain; charset=utf-8"],
        ["Content-Length", "0"],
      ]);
      return [];
    }
    if (range !== null) {
      ({ start, end } = range);
      code = "206 Partial Content";
      headers.push(["Content-Range", `bytes ${start}-${end - 1}/${size}`]);
    }
  }
  headers.push(["Content-Length", String(end - start)]);
  startResponse(code, headers);
  if (method === "HEAD" || end === start) return [];
  // 64 KiB blocks where a server copies the file rather than sending it.
  const wrap = environ["wsgi.file_wrapper"] ?? fileWrapper;
  return fs.open(file.path, file.info, start, end).then((src) =>
    wrap(src, 65536)
  );
}

/**
 * A WSGI app serving the files under `root`, by PATH_INFO: 404 for what
 * is not a file there (hostile paths included), 405 with `Allow` for
 * methods other than GET and HEAD. See {@linkcode StaticOptions}.
 *
 * @example Serve ./public on a port
 * ```ts
 * import { serveStatic } from "@wsgi/wsgi/toolkit";
 * import { testClient } from "@wsgi/wsgi";
 * import assert from "node:assert/strict";
 * const app = serveStatic("./public");
 * const response = await testClient(app).get("/missing.txt");
 * assert.equal(response.status, 404);
 * ```
 *
 * @param root The directory to serve (relative to the working directory or absolute).
 * @param options Caching, index, dotfiles, precompressed siblings, types, file system.
 * @returns The WSGI application.
 */
export function serveStatic(
  root: string,
  options: StaticOptions = {},
): WSGIApplication {
  const lookup = lookupFiles(root, options);
  return async (environ, startResponse) => {
    const body = await lookup(
      environ,
      startResponse,
      String(environ.PATH_INFO ?? "").replace(/^\//, ""),
    );
    if (body !== null) return body;
    startResponse("404 Not Found", [
      ["Content-Type", "text/plain; charset=utf-8"],
      ["Content-Length", "9"],
    ]);
    return [new TextEncoder().encode("Not Found")];
  };
}

/**
 * whitenoise's middleware: requests whose PATH_INFO starts with `prefix`
 * and names a file under `root` get the file (as {@linkcode serveStatic}
 * serves it); every other request goes to `app`, untouched.
 *
 * @example Files under /static/, the app for the rest
 * ```ts
 * import { staticFiles } from "@wsgi/wsgi/toolkit";
 * import { testClient, type WSGIApplication } from "@wsgi/wsgi";
 * import assert from "node:assert/strict";
 * const app: WSGIApplication = (_environ, startResponse) => {
 *   startResponse("200 OK", [["Content-Type", "text/plain"]]);
 *   return [new TextEncoder().encode("from the app")];
 * };
 * const site = staticFiles(app, "./static", { prefix: "/static/" });
 * const response = await testClient(site).get("/hello");
 * assert.equal(await response.text(), "from the app");
 * ```
 *
 * @param app The application for everything that is not a file.
 * @param root The directory to serve.
 * @param options The URL prefix, and {@linkcode StaticOptions}.
 * @returns The wrapped application.
 */
export function staticFiles(
  app: WSGIApplication,
  root: string,
  options: StaticFilesOptions = {},
): WSGIApplication {
  let prefix = options.prefix ?? "/static/";
  if (!prefix.startsWith("/")) prefix = `/${prefix}`;
  if (!prefix.endsWith("/")) prefix += "/";
  const lookup = lookupFiles(root, options);
  return async (environ, startResponse) => {
    const path = String(environ.PATH_INFO ?? "");
    if (path.startsWith(prefix)) {
      const body = await lookup(
        environ,
        startResponse,
        path.slice(prefix.length),
      );
      if (body !== null) return body;
    }
    return app(environ, startResponse);
  };
}
