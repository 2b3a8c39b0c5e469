/**
 * A Python WSGI application (Flask, Django, any PEP 3333 callable) served
 * through Pyodide: `pythonApp(pyodide, "package.module:callable")` returns
 * a {@linkcode WSGIApplication} every server of this library runs.
 *
 * @module
 */
import type {
  InputStream,
  StartResponse,
  WSGIApplication,
  WSGIBody,
  WSGIEnvironment,
} from "../core/types.ts";
import { BRIDGE_PY } from "./_bridge_py.ts";
import type { PyodideLike, PyProxy } from "./pyodide.ts";
import { prepare } from "./_python_path.ts";
import type { PythonAppOptions } from "./options.ts";

export type { PyodideLike } from "./pyodide.ts";
export type { PythonAppOptions } from "./options.ts";

// Above U+00FF: never inside a native string, so it separates them safely.
const SEP = "\u0100";

interface Bridge {
  call: PyProxy;
  next: PyProxy;
  take: PyProxy;
  load: PyProxy;
  /** The Python OUT buffer, as a view of the Wasm memory. */
  out: PyProxy & { getBuffer(type: string): { data: Uint8Array } };
  view: Uint8Array;
}

/** `n` bytes out of OUT (a copy), or the chunk take() holds (n === -1). */
function chunkOf(bridge: Bridge, n: number): Uint8Array {
  if (n === -1) {
    const extra = bridge.take() as PyProxy;
    const chunk = (extra.toJs({ depth: 1 }) as unknown[])[1] as Uint8Array;
    extra.destroy();
    return chunk;
  }
  // The Wasm memory grew: the old view is detached (length 0).
  if (bridge.view.length === 0) {
    bridge.view = bridge.out.getBuffer("u8").data;
  }
  return bridge.view.slice(0, n);
}

/** What take() holds: the Call of a streamed body, and a traceback. */
function takeExtra(
  bridge: Bridge,
): [PyProxy | undefined, Uint8Array | undefined, string | undefined] {
  const extra = bridge.take() as PyProxy | undefined;
  if (extra === undefined) return [undefined, undefined, undefined];
  const out = extra.toJs({ depth: 1 }) as [
    PyProxy | undefined,
    Uint8Array | undefined,
    string | undefined,
  ];
  extra.destroy();
  return out;
}

const bridges = new WeakMap<PyodideLike, Bridge>();

/** The bridge module, made once per interpreter. */
function bridgeFor(py: PyodideLike): Bridge {
  let bridge = bridges.get(py);
  if (bridge === undefined) {
    const mod = py.runPython(
      `import sys, types\n` +
        `m = types.ModuleType("_wsgi_bridge")\n` +
        `sys.modules["_wsgi_bridge"] = m\n` +
        `exec(compile(_src, "<wsgi bridge>", "exec"), m.__dict__)\n` +
        `del _src\n` +
        `m`,
      { globals: globalsWith(py, { _src: BRIDGE_PY }) },
    ) as Record<string, PyProxy>;
    const out = mod.OUT as Bridge["out"];
    bridge = {
      call: mod.call,
      next: mod.next_chunk,
      take: mod.take,
      load: mod.load,
      out,
      view: out.getBuffer("u8").data,
    };
    bridges.set(py, bridge);
  }
  return bridge;
}

/** A fresh globals dict holding `values`. */
function globalsWith(
  py: PyodideLike,
  values: Record<string, unknown>,
): unknown {
  const dict = py.runPython("dict") as PyProxy;
  const globals = dict();
  for (const [k, v] of Object.entries(values)) {
    (globals as { set(k: string, v: unknown): void }).set(k, v);
  }
  dict.destroy();
  return globals;
}

/** A Python exception, its traceback as the stack (what wsgi.errors gets). */
function pythonError(traceback: string): Error {
  const lines = traceback.trimEnd().split("\n");
  const error = new Error(lines[lines.length - 1]);
  error.name = "PythonError";
  error.stack = traceback;
  return error;
}

/** `"200 OK\u0100Name\u0100value..."` to startResponse's arguments. */
function startFrom(head: string, startResponse: StartResponse): void {
  const parts = head.split(SEP);
  const headers: [string, string][] = [];
  for (let i = 1; i < parts.length; i += 2) {
    headers.push([parts[i], parts[i + 1]]);
  }
  startResponse(parts[0], headers);
}

/** The body of a Python result still being iterated. */
function streamed(
  bridge: Bridge,
  call: PyProxy,
  first: Uint8Array,
  errors: { write(s: string): void; flush(): void },
): WSGIBody & { close(): void } {
  let live = true;
  let pending: Uint8Array | null = first;
  const end = () => {
    if (live) {
      live = false;
      call.destroy();
    }
  };
  return {
    [Symbol.iterator]() {
      return {
        next(): IteratorResult<Uint8Array> {
          if (pending !== null) {
            const value = pending;
            pending = null;
            return { done: false, value };
          }
          if (!live) return { done: true, value: undefined };
          const n = bridge.next(call) as number | string;
          if (n === -2) {
            end();
            return { done: true, value: undefined };
          }
          if (typeof n === "string") {
            end();
            throw pythonError(n);
          }
          return { done: false, value: chunkOf(bridge, n) };
        },
      };
    },
    // PEP 3333: close() once, also when the client went away mid-body.
    close(): void {
      if (!live) return;
      try {
        (call as unknown as { close(): void }).close();
      } catch (error) {
        errors.write(String((error as Error).message ?? error) + "\n");
        errors.flush();
      } finally {
        end();
      }
    },
  };
}

/**
 * Serves a Python WSGI application through Pyodide: imports
 * `"package.module:callable"` (or `"path/to/file.py:callable"`; the
 * callable defaults to `application`, as in gunicorn) and returns a
 * {@linkcode WSGIApplication}. The Python side sees PEP 3333's environ: a
 * `dict` of native `str` (latin-1, byte for byte), `wsgi.input` and
 * `wsgi.errors` as file objects, `wsgi.version` `(1, 0)`,
 * `wsgi.file_wrapper`, `start_response` with `exc_info` and `write()`;
 * the result's `close()` is called exactly once. A Python exception
 * becomes wsgiref's 500 page with its traceback on `wsgi.errors`.
 *
 * Pyodide cannot wait for a Promise without JSPI, so `wsgi.input` must be
 * buffered (the default): `bufferInput: false` is refused. Pass the
 * folders or zips holding the code with `path` (a virtualenv's
 * `site-packages`, Debian's `/usr/lib/python3/dist-packages`).
 *
 * @example Usage
 * ```ts ignore
 * import { loadPyodide } from "pyodide";
 * import { makeServer } from "@wsgi/wsgi";
 * import { pythonApp } from "@wsgi/wsgi/python";
 * const pyodide = await loadPyodide();
 * const app = pythonApp(pyodide, "hello:app", { path: ["./src"] });
 * await makeServer("127.0.0.1", 8000, app).serveForever();
 * ```
 *
 * @param pyodide A loaded Pyodide (`await loadPyodide()`).
 * @param spec `"module:callable"`, `"file.py:callable"`, or `"module"`.
 * @param options Where the code is, and the process's view of Python.
 * @returns The application.
 */
export function pythonApp(
  pyodide: PyodideLike,
  spec: string,
  options: PythonAppOptions = {},
): WSGIApplication {
  const bridge = bridgeFor(pyodide);
  const [module, name] = prepare(pyodide, spec, options);
  const pyApp = bridge.load(module, name) as PyProxy;
  const app: WSGIApplication = (
    environ: WSGIEnvironment,
    startResponse: StartResponse,
  ) => {
    let env = "";
    for (const key in environ) {
      const value = environ[key];
      if (typeof value === "string") env += key + SEP + value + SEP;
    }
    let body = (environ["wsgi.input"] as InputStream).read() as unknown;
    if (body instanceof Promise) {
      body.catch(() => {});
      throw new TypeError(
        "pythonApp needs a buffered wsgi.input: Pyodide cannot wait for a " +
          "Promise without JSPI, so bufferInput: false cannot work; leave " +
          "bufferInput at its default (true)",
      );
    }
    let data = body as Uint8Array | undefined;
    if (data !== undefined && data.length === 0) data = undefined;
    // A Node Buffer is a Uint8Array subclass Pyodide does not take as one.
    else if (data !== undefined && data.constructor !== Uint8Array) {
      data = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    }
    body = null;
    const errors = environ["wsgi.errors"];
    const flags = (environ["wsgi.multiprocess"] ? 1 : 0) |
      (environ["wsgi.run_once"] ? 2 : 0);
    const r = bridge.call(
      pyApp,
      env.slice(0, -1),
      data,
      errors,
      flags,
    ) as string;
    const kind = r.charCodeAt(0) - 48;
    if (kind === 2) throw pythonError(r.slice(1));
    const sep = r.indexOf(SEP);
    const n = Number(r.slice(1, sep));
    startFrom(r.slice(sep + 1), startResponse);
    if (kind === 0) return n === 0 ? [] : [chunkOf(bridge, n)];
    // The Call and a traceback (and a chunk too big for OUT) wait in take().
    const [call, big, traceback] = takeExtra(bridge);
    const chunk = n === -1 ? big : n === 0 ? undefined : chunkOf(bridge, n);
    if (kind === 3) {
      // Output went out through write(), then the app raised: send it,
      // then fail, as wsgiref does.
      const error = pythonError(traceback!);
      return (function* () {
        if (chunk !== undefined) yield chunk;
        throw error;
      })();
    }
    return streamed(
      bridge,
      call!,
      chunk!,
      errors as { write(s: string): void; flush(): void },
    );
  };
  return app;
}
