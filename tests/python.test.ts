// pythonApp: PEP 3333 on the Python side, byte for byte, through a real
// server (raw TCP where fetch would hide the bytes). One Pyodide for the
// whole file: its cold start is seconds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeServer, type WSGIApplication } from "../mod.ts";
import { pythonApp } from "../src/python/python_app.ts";
import { bytes, connect, exchange, get, header } from "./_raw_http.ts";
import { collectingErrors, latin1 } from "./_util.ts";
import { loadTestPyodide } from "./_python.ts";

const loaded = await loadTestPyodide();
const skip = loaded.skip;
const dir = mkdtempSync(join(tmpdir(), "wsgi-python-test-"));
writeFileSync(
  join(dir, "apps.py"),
  String.raw`
import sys
CLOSED = []

class Body:
    def __init__(self, name, chunks, fail=None):
        self.name, self.chunks, self.fail = name, chunks, fail
    def __iter__(self):
        for c in self.chunks:
            yield c
        if self.fail:
            raise RuntimeError(self.fail)
    def close(self):
        CLOSED.append(self.name)

def closed(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [",".join(CLOSED).encode()]

def path(environ, start_response):
    # PATH_INFO is a native str: %FF is U+00FF, one byte back in latin-1.
    p = environ["PATH_INFO"]
    assert type(p) is str
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("X-Path", p), ("X-Latin", "caf\xe9")])
    return [ascii(p).encode("ascii"), b"|", p.encode("latin-1")]

def wide(environ, start_response):
    start_response("200 OK", [("X-Bad", "\u20ac")])
    return [b"never"]

def reads(environ, start_response):
    i = environ["wsgi.input"]
    out = [repr(i.read(3)), repr(i.readline()), repr(i.readline(2)),
           repr(i.readlines()), repr(i.read())]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return ["\n".join(out).encode()]

def lines(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [repr(list(environ["wsgi.input"])).encode()]

def keys(environ, start_response):
    e = environ
    info = [repr(e["wsgi.version"]), e["wsgi.url_scheme"], repr(e["wsgi.multithread"]),
            repr(e["wsgi.run_once"]), repr(callable(e["wsgi.file_wrapper"])),
            repr(all(type(k) is str and (type(v) is str or k.startswith("wsgi.")) for k, v in e.items())),
            e["REQUEST_METHOD"], e["QUERY_STRING"], e.get("HTTP_X_THING", "-")]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [" ".join(info).encode("latin-1")]

def writes(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"one ")
    write(b"two ")
    return [b"three"]

def not_bytes(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return ["a str"]

def boom(environ, start_response):
    environ["wsgi.errors"].write("about to fail\n")
    raise ValueError("boom at the app")

def exc_before(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    try:
        raise KeyError("missing")
    except KeyError:
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")], sys.exc_info())
    return [b"sorry"]

def exc_after(environ, start_response):
    def body():
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"partial "
        try:
            raise KeyError("late")
        except KeyError:
            start_response("500 Oops", [("Content-Type", "text/plain")], sys.exc_info())
        yield b"never"
    return body()

def ok_close(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return Body("ok", [b"a", b"", b"b"])

def err_close(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return Body("err", [], fail="body failed")

def wrapper(environ, start_response):
    import io
    start_response("200 OK", [("Content-Type", "text/plain")])
    return environ["wsgi.file_wrapper"](io.BytesIO(b"x" * 20000), 8192)

def endless(environ, start_response):
    def chunks():
        while True:
            yield b"y" * 1024
    start_response("200 OK", [("Content-Type", "text/plain")])
    class Endless(Body):
        def __iter__(self):
            return chunks()
    return Endless("abort", [])
`,
);

const errors = collectingErrors();
const apps = new Map<string, WSGIApplication>();
function app(name: string): WSGIApplication {
  let a = apps.get(name);
  if (!a) {
    a = pythonApp(loaded.pyodide!, `apps:${name}`, {
      cwd: dir,
      pycache: false,
    });
    apps.set(name, a);
  }
  return a;
}

async function serve(
  name: string,
  run: (port: number) => Promise<void>,
): Promise<void> {
  const server = makeServer("127.0.0.1", 0, app(name), { errors, log: false });
  await server.ready;
  try {
    await run(server.serverPort);
  } finally {
    await server.shutdown();
  }
}

test(
  "python: %FF in the path is U+00FF in PATH_INFO; a latin-1 header value goes out as one byte",
  {
    skip,
  },
  async () => {
    await serve("path", async (port) => {
      const [r] = await exchange(port, get("/caf%C3%A9/%FF"));
      assert.equal(r.status, 200);
      assert.equal(latin1(r.body), "'/caf\\xc3\\xa9/\\xff'|/caf\xC3\xA9/\xFF");
      // One byte 0xE9 on the wire for "é" (the raw client reads latin-1).
      assert.equal(header(r, "X-Latin"), "caf\xE9");
      assert.equal(header(r, "X-Path"), "/caf\xC3\xA9/\xFF");
    });
  },
);

test(
  "python: a header value above U+00FF is refused with a Python message, a 500 page",
  {
    skip,
  },
  async () => {
    await serve("wide", async (port) => {
      const [r] = await exchange(port, get("/"));
      assert.equal(r.status, 500);
      assert.equal(
        latin1(r.body),
        "A server error occurred.  Please contact the administrator.",
      );
      assert.match(
        errors.text(),
        /ValueError: start_response\(\): header 'X-Bad' has a value with a character above U\+00FF: '€'/,
      );
      assert.match(errors.text(), /File ".*apps\.py", line \d+, in wide/);
    });
  },
);

test("python: wsgi.input read(n), readline, readline(n), readlines, read", {
  skip,
}, async () => {
  await serve("reads", async (port) => {
    const body = "abcdef\nxy\nlast\nend";
    const [r] = await exchange(
      port,
      `POST / HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    assert.equal(
      latin1(r.body),
      "b'abc'\nb'def\\n'\nb'xy'\n[b'\\n', b'last\\n', b'end']\nb''",
    );
  });
  await serve("lines", async (port) => {
    const body = "a\nb\xFF\nc";
    const [r] = await exchange(
      port,
      bytes(
        `POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n${
          body.length.toString(16)
        }\r\n${body}\r\n0\r\n\r\n`,
      ),
    );
    assert.equal(latin1(r.body), "[b'a\\n', b'b\\xff\\n', b'c']");
  });
});

test(
  "python: environ keys: wsgi.version (1, 0), native str values, file_wrapper",
  {
    skip,
  },
  async () => {
    await serve("keys", async (port) => {
      const [r] = await exchange(
        port,
        get("/k?x=%FF&y", "X-Thing: \xE9t\xE9\r\n"),
      );
      assert.equal(
        latin1(r.body),
        "(1, 0) http False False True True GET x=%FF&y \xE9t\xE9",
      );
    });
  },
);

test(
  "python: write() output goes before the returned chunks",
  { skip },
  async () => {
    await serve("writes", async (port) => {
      const [r] = await exchange(port, get("/"));
      assert.equal(latin1(r.body), "one two three");
    });
  },
);

test(
  "python: a str chunk is refused with a Python-side message",
  { skip },
  async () => {
    await serve("not_bytes", async (port) => {
      const [r] = await exchange(port, get("/"));
      assert.equal(r.status, 500);
      assert.match(
        errors.text(),
        /TypeError: the application's body yielded str; each chunk must be bytes/,
      );
    });
  },
);

test(
  "python: an exception is wsgiref's 500 page, its traceback on wsgi.errors",
  {
    skip,
  },
  async () => {
    await serve("boom", async (port) => {
      const [r] = await exchange(port, get("/"));
      assert.equal(r.status, 500);
      assert.equal(r.reason, "Internal Server Error");
      assert.equal(
        latin1(r.body),
        "A server error occurred.  Please contact the administrator.",
      );
      const text = errors.text();
      assert.match(text, /about to fail\n/);
      assert.match(
        text,
        /Traceback \(most recent call last\):\n {2}File ".*apps\.py", line \d+, in boom\n {4}raise ValueError\("boom at the app"\)\nValueError: boom at the app\n/,
      );
      // The bridge's own frame is not shown.
      assert.doesNotMatch(text, /wsgi bridge.*\n.*boom/);
    });
  },
);

test(
  "python: exc_info before the headers replaces them; after them it re-raises",
  {
    skip,
  },
  async () => {
    await serve("exc_before", async (port) => {
      const [r] = await exchange(port, get("/"));
      assert.equal(r.statusLine, "HTTP/1.1 503 Service Unavailable");
      assert.equal(latin1(r.body), "sorry");
    });
    await serve("exc_after", async (port) => {
      const conn = await connect(port);
      try {
        await conn.write(get("/"));
        // The status is out: the connection is cut after what was sent.
        await assert.rejects(conn.readResponse());
      } finally {
        conn.destroy();
      }
      assert.match(errors.text(), /KeyError: 'late'/);
    });
  },
);

test("python: close() exactly once on success, error and client abort", {
  skip,
}, async () => {
  await serve("ok_close", async (port) => {
    const [r] = await exchange(port, get("/"));
    assert.equal(latin1(r.body), "ab");
  });
  await serve("err_close", async (port) => {
    const [r] = await exchange(port, get("/"));
    assert.equal(r.status, 500);
  });
  await serve("endless", async (port) => {
    const conn = await connect(port);
    await conn.write(get("/"));
    await new Promise((resolve) => setTimeout(resolve, 100));
    conn.destroy();
  });
  await serve("closed", async (port) => {
    let seen = "";
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const [r] = await exchange(port, get("/"));
      seen = latin1(r.body);
      if (seen.includes("abort")) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(seen, "ok,err,abort");
  });
});

test("python: wsgi.file_wrapper streams a Python file", { skip }, async () => {
  await serve("wrapper", async (port) => {
    const [r] = await exchange(port, get("/"));
    assert.equal(r.body.length, 20000);
  });
});

test(
  "python: bufferInput false is refused, naming the option",
  { skip },
  async () => {
    const server = makeServer(
      "127.0.0.1",
      0,
      app("keys"),
      {
        errors,
        log: false,
        bufferInput: false,
      } as Parameters<typeof makeServer>[3],
    );
    await server.ready;
    try {
      const [r] = await exchange(server.serverPort, get("/"));
      assert.equal(r.status, 500);
      assert.match(errors.text(), /bufferInput: false cannot work/);
    } finally {
      await server.shutdown();
    }
  },
);

test("python: cleanup", () => {
  rmSync(dir, { recursive: true, force: true });
});
