// The Python half of the bridge, run once per interpreter as a module
// (`_wsgi_bridge`). Each request is one call of `call()`: it builds the
// environ dict, calls the application, checks start_response's arguments
// and the chunks, and answers in one tuple of values Pyodide converts
// without proxies (str, bytes made Uint8Array), so that the per-request
// cost stays a few microseconds (issue 16: ≤ 0.05 ms over Pyodide's own).

/** The module's Python source. */
export const BRIDGE_PY: string = String.raw`
import io, sys, traceback
from wsgiref.util import FileWrapper
from pyodide.ffi import to_js

_SEP = "\u0100"  # above U+00FF: never inside a native string (PEP 3333)
_EMPTY = b""


class Errors:
    """wsgi.errors: a text stream over the server's ErrorStream (PEP 3333)."""

    __slots__ = ("_js",)

    def __init__(self, js):
        self._js = js

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError("wsgi.errors.write() takes a str, got %s" % type(s).__name__)
        self._js.write(s)

    def writelines(self, seq):
        for s in seq:
            self.write(s)

    def flush(self):
        self._js.flush()


def _check_headers(status, headers):
    # PEP 3333, "The start_response() Callable": native strings only; a
    # value must be latin-1 to go out as one byte per character.
    if type(status) is not str:
        raise TypeError("start_response(): status must be a str like '200 OK', got %r" % (status,))
    if type(headers) is not list:
        raise TypeError("start_response(): headers must be a list of (name, value) tuples, got %s" % type(headers).__name__)
    for h in headers:
        if type(h) is not tuple or len(h) != 2:
            raise TypeError("start_response(): each header must be a (name, value) tuple, got %r" % (h,))
        name, value = h
        if type(name) is not str or type(value) is not str:
            raise TypeError("start_response(): header name and value must be str, got %r" % (h,))
        if not value.isascii():
            try:
                value.encode("latin-1")
            except UnicodeEncodeError:
                raise ValueError(
                    "start_response(): header %r has a value with a character above U+00FF: %r "
                    "(PEP 3333: native strings; encode it, e.g. RFC 8187 or percent-encoding)" % (name, value)
                ) from None


def _bad_chunk(chunk):
    return TypeError(
        "the application's body yielded %s; each chunk must be bytes (PEP 3333: "
        "encode text, e.g. 'text'.encode('utf-8'))" % (type(chunk).__name__,)
    )


class Call:
    """One request: start_response, write() and the body iterator."""

    __slots__ = ("status", "headers", "sent", "out", "it", "result", "closed")

    def __init__(self):
        self.status = None
        self.headers = None
        self.sent = False
        self.out = None
        self.it = None
        self.result = None
        self.closed = False

    def start_response(self, status, headers, exc_info=None):
        if exc_info:
            try:
                if self.sent:
                    # PEP 3333: too late to change the headers: re-raise.
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError("start_response() called a second time without exc_info (PEP 3333)")
        _check_headers(status, headers)
        self.status = status
        self.headers = headers
        return self.write

    def write(self, data):
        if self.status is None:
            raise AssertionError("write() before start_response()")
        if type(data) is not bytes:
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise TypeError("write() takes bytes, got %s" % type(data).__name__)
            data = bytes(data)
        if self.out is None:
            self.out = []
        self.out.append(data)
        self.sent = True

    def head(self):
        return self.status + _SEP + _SEP.join([n + _SEP + v for n, v in self.headers]) if self.headers else self.status

    def close(self):
        if self.closed:
            return
        self.closed = True
        close = getattr(self.result, "close", None)
        self.result = self.it = None
        if close is not None:
            close()

    def pull(self):
        """The next non-empty chunk, or None at the end (closing the body)."""
        it = self.it
        if it is None:
            return None
        for chunk in it:
            if type(chunk) is not bytes:
                if not isinstance(chunk, (bytearray, memoryview)):
                    raise _bad_chunk(chunk)
                chunk = bytes(chunk)
            if chunk:
                if self.status is None:
                    raise AssertionError("the application yielded a chunk before calling start_response()")
                self.sent = True
                return chunk
        self.it = None
        self.close()
        return None


def _traceback(e, skip):
    tb = e.__traceback__
    for _ in range(skip):
        if tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
    return "".join(traceback.format_exception(type(e), e, tb))


# The bytes going out are copied into this buffer, which JavaScript views
# in the Wasm memory (one memcpy each way instead of a Uint8Array made per
# chunk through the FFI); a larger chunk goes by to_js().
OUT_SIZE = 1 << 16
OUT = bytearray(OUT_SIZE)
_out = memoryview(OUT)
# What a request answers beyond one str: (call, big chunk, traceback),
# taken by JavaScript with take() on the paths that need it.
_extra = None


def _put(data):
    global _extra
    n = len(data)
    if n <= OUT_SIZE:
        _out[:n] = data
        return str(n)
    _extra = (None, to_js(data), None)
    return "-1"


def take():
    global _extra
    extra, _extra = _extra, None
    return extra


def call(app, env, body, errors, flags):
    """One request, answered as one str (no proxy to make or free):
    "0LEN" SEP head: done, the whole body (LEN bytes) is in OUT;
    "1LEN" SEP head: the first chunk is in OUT, take() has the Call for
    next_chunk(); "2" traceback: failed before any output; "3LEN" SEP head:
    failed after write(), take() has the traceback. LEN -1: take() has the
    chunk, too big for OUT. head is status SEP name SEP value..."""
    global _extra
    parts = env.split(_SEP)
    environ = dict(zip(parts[::2], parts[1::2]))
    environ["wsgi.version"] = (1, 0)
    environ["wsgi.input"] = io.BytesIO(body.to_bytes() if body is not None else _EMPTY)
    environ["wsgi.errors"] = Errors(errors)
    environ["wsgi.multithread"] = False
    environ["wsgi.multiprocess"] = bool(flags & 1)
    environ["wsgi.run_once"] = bool(flags & 2)
    environ["wsgi.input_terminated"] = True
    environ["wsgi.file_wrapper"] = FileWrapper
    c = Call()
    try:
        result = app(environ, c.start_response)
        c.result = result
        if type(result) is list and c.status is not None:
            # The common answer: a list, settled now in one go.
            for i, chunk in enumerate(result):
                if type(chunk) is not bytes:
                    if not isinstance(chunk, (bytearray, memoryview)):
                        raise _bad_chunk(chunk)
                    result[i] = bytes(chunk)
            data = b"".join(c.out + result if c.out else result)
            c.close()
            return "0" + _put(data) + _SEP + c.head()
        c.it = iter(result)
        if c.out:
            first = b"".join(c.out)
            c.out = None
        else:
            first = c.pull()
            if first is None:
                if c.status is None:
                    raise AssertionError("the application returned without calling start_response()")
                return "00" + _SEP + c.head()
        n = _put(first)
        _extra = (c, _extra[1] if _extra else None, None)
        return "1" + n + _SEP + c.head()
    except BaseException as e:
        try:
            c.close()
        except BaseException as e2:
            errors.write(_traceback(e2, 1))
        if c.sent:
            n = _put(b"".join(c.out or ()))
            _extra = (None, _extra[1] if _extra else None, _traceback(e, 1))
            return "3" + n + _SEP + c.head()
        return "2" + _traceback(e, 1)


def setup(paths, cwd, env, pycache):
    """sys.path, the working directory, os.environ and the .pyc cache."""
    import os
    for p in reversed(list(paths)):
        if p not in sys.path:
            sys.path.insert(0, p)
    if cwd:
        os.chdir(cwd)
        # gunicorn puts the working directory first on sys.path.
        if cwd not in sys.path:
            sys.path.insert(0, cwd)
    if env is not None:
        os.environ.update(env.to_py())
        if "TZ" in os.environ:
            import time
            time.tzset()
    if pycache:
        # Compiled once by this very CPython, kept outside the source tree
        # (which may be read-only, such as /usr/lib/python3/dist-packages).
        sys.pycache_prefix = pycache
        sys.dont_write_bytecode = False


def load(module, name):
    """The callable named name of module (a dotted name or a .py file)."""
    import importlib, os
    if module.endswith(".py"):
        folder, base = os.path.split(os.path.abspath(module))
        if folder not in sys.path:
            sys.path.insert(0, folder)
        module = base[:-3]
    obj = importlib.import_module(module)
    factory = name.endswith("()")
    where = module
    for part in (name[:-2] if factory else name).split("."):
        if not hasattr(obj, part):
            raise AttributeError("%s has no attribute %r (wanted %s:%s)" % (where, part, module, name))
        obj = getattr(obj, part)
        where += "." + part
    if factory:
        obj = obj()
    if not callable(obj):
        raise TypeError("%s:%s is not callable (found %s)" % (module, name, type(obj).__name__))
    return obj


def next_chunk(c):
    """The next chunk: its length (the bytes in OUT, or -1: take() has it);
    -2 at the end; a str (the traceback) when the body raised."""
    try:
        chunk = c.pull()
        return -2 if chunk is None else int(_put(chunk))
    except BaseException as e:
        text = _traceback(e, 1)
        try:
            c.close()
        except BaseException as e2:
            text += _traceback(e2, 1)
        return text
`;
