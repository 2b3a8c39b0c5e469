#!/usr/bin/env python3
"""Regenerates scripts/util_cases.json, the case table of tests/util.test.ts,
from CPython's wsgiref.util.

Run from the repository root:

    python3 scripts/gen_util_cases.py && deno fmt scripts/util_cases.json

Every expected value in the table is what CPython answers for the same
input, so the TypeScript port (src/wsgiref/util.ts) is checked against the real
thing without needing Python at test time. The table is JSON, one case per
line, written beside this script; tests/util.test.ts reads it. A Python
exception becomes {"throws": "<ExceptionName>"} (the port throws a TypeError
there).

JS adaptation of setup_testing_defaults: Python's `(1, 0)` and `0` become
`[1, 0]` and `false`; the two stream objects are left out of the table.
"""

import json
import pathlib
import sys
import wsgiref.util as util

TARGET = pathlib.Path(__file__).resolve().parent / "util_cases.json"
if len(sys.argv) > 1:  # another file (tests/util.test.ts compares the two)
    TARGET = pathlib.Path(sys.argv[1])


def attempt(fn):
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - any failure is a case outcome
        return {"throws": type(e).__name__}


SCHEMES = [None, "", "on", "yes", "1", "ON", "Yes", "true", "off", "0", "2"]

BASE = {"wsgi.url_scheme": "http", "SERVER_NAME": "example.com", "SERVER_PORT": "80"}


def env(**kw):
    e = dict(BASE)
    for k, v in kw.items():
        k = {"url_scheme": "wsgi.url_scheme"}.get(k, k)
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    return e


URI_ENVIRONS = [
    env(),
    env(SCRIPT_NAME="", PATH_INFO="/"),
    env(SCRIPT_NAME="", PATH_INFO=""),
    env(SCRIPT_NAME="/app", PATH_INFO=""),
    env(SCRIPT_NAME="/app", PATH_INFO="/"),
    env(SCRIPT_NAME="/app/", PATH_INFO="/x/"),
    env(SCRIPT_NAME="/app", PATH_INFO="/a/b", QUERY_STRING="x=1&y=2"),
    env(PATH_INFO="/a b", QUERY_STRING="q=a b"),
    env(PATH_INFO="/caf\u00e9"),
    env(PATH_INFO="/caf\u00c3\u00a9"),
    env(SCRIPT_NAME="/caf\u00e9 app", PATH_INFO="/\u00ff"),
    env(PATH_INFO="/100%/%2F"),
    env(PATH_INFO="/a;b=c,d/e:f@g!h$i&j'k(l)m*n+o"),
    env(SCRIPT_NAME="/s;p=1,2", PATH_INFO="/p"),
    env(PATH_INFO="/~user/_x.y-z"),
    env(PATH_INFO="/q?x#frag"),
    env(PATH_INFO="/\x00\x1f\x7f\x80\x9f\xa0"),
    env(PATH_INFO='/"<>\\^`{|}[]'),
    env(SCRIPT_NAME="", PATH_INFO="nolead"),
    env(SCRIPT_NAME="/app", PATH_INFO="nolead"),
    env(PATH_INFO="/", QUERY_STRING=""),
    env(PATH_INFO="/", QUERY_STRING="a=%20&b=\u00e9"),
    env(SERVER_PORT="8080", PATH_INFO="/"),
    env(SERVER_PORT="443", PATH_INFO="/"),
    env(url_scheme="https", SERVER_PORT="443", PATH_INFO="/"),
    env(url_scheme="https", SERVER_PORT="80", PATH_INFO="/"),
    env(url_scheme="https", SERVER_PORT="8443", PATH_INFO="/"),
    env(url_scheme="ftp", SERVER_PORT="80", PATH_INFO="/"),
    env(HTTP_HOST="host.example:8000", SERVER_PORT="9999", PATH_INFO="/p"),
    env(HTTP_HOST="", SERVER_PORT="8000", PATH_INFO="/p"),
    env(HTTP_HOST="h\u00e9 st", PATH_INFO="/"),
    env(SERVER_NAME="[::1]", SERVER_PORT="8000", PATH_INFO="/"),
    env(PATH_INFO="/\u20ac"),
    env(SCRIPT_NAME="/\u0100"),
    env(SERVER_NAME=None, PATH_INFO="/"),
    env(SERVER_PORT=None, PATH_INFO="/"),
    env(SERVER_NAME=None, HTTP_HOST="h", PATH_INFO="/"),
    env(url_scheme=None, PATH_INFO="/"),
]

SHIFTS = [
    # test_wsgiref.py testSimpleShifts / testNormalizedShifts
    ("", "/", ),
    ("", "/x"),
    ("/a", "/x/y"),
    ("/a", "/x/"),
    ("/a", "/x"),
    ("/a", "/"),
    ("/a", ""),
    ("/a/b", "/../y"),
    ("/a/b", "//y"),
    ("/a/b", "//y/"),
    ("/a/b", "/./y"),
    ("/a/b", "/./y/"),
    ("/a/b", "///./..//y/.//"),
    ("/a/b", "///"),
    ("/a/b", "/.//"),
    ("/a/b", "/x//"),
    ("/a/b", "/."),
    # more edges
    (None, "/x/y"),
    ("", None),
    (None, None),
    ("", "/.."),
    ("", "/../x"),
    ("/a", "/.."),
    ("/a", "/../.."),
    ("/a/b/c", "/.."),
    ("/", "/x"),
    ("/", "/"),
    ("//", "/x"),
    ("//a", "/x"),
    ("///a", "/x"),
    ("/a/", "/x"),
    ("/a/./b", "/x"),
    ("a", "/x"),
    ("a/b", "/.."),
    ("..", "/x"),
    ("", "/a//b"),
    ("", "/a/./b"),
    ("", "/a/../b"),
    ("", "/a/b/"),
    ("", "//"),
    ("", "/x/."),
    ("", "/x/.."),
    ("", "/.x/y"),
    ("", "/..x/y"),
    ("", "/caf\u00e9/d\u00e9j\u00e0"),
    ("", "/%2E%2E/x"),
    ("", "/a b/c"),
    ("", "nolead"),
    ("", "no/lead"),
    ("/s", "x/y/z"),
]

HOP = [
    "Connection", "connection", "KEEP-ALIVE", "Keep-Alive", "Proxy-Authenticate",
    "proxy-authorization", "TE", "te", "Trailers", "trailer", "Trailer",
    "Transfer-Encoding", "upgrade", "Upgrade", "Proxy-Connection", "Content-Type",
    "content-length", "Host", "", " connection", "connection ", "keep_alive",
]

SETUPS = [
    {},
    {"HTTPS": "on"},
    {"HTTPS": "1", "SERVER_NAME": "example.org"},
    {"wsgi.url_scheme": "https"},
    {"wsgi.url_scheme": "ftp"},
    {"SERVER_NAME": "s", "HTTP_HOST": "h:1"},
    {"PATH_INFO": "/p"},
    {"SCRIPT_NAME": "/s"},
    {"SCRIPT_NAME": "", "PATH_INFO": ""},
    {"REQUEST_METHOD": "POST", "SERVER_PROTOCOL": "HTTP/1.1", "SERVER_PORT": "8000"},
]


def shift(script, path):
    e = {}
    if script is not None:
        e["SCRIPT_NAME"] = script
    if path is not None:
        e["PATH_INFO"] = path

    def run():
        name = util.shift_path_info(e)
        return [name, e.get("SCRIPT_NAME"), e.get("PATH_INFO")]

    return {"script": script, "path": path, "result": attempt(run)}


def setup(environ):
    e = dict(environ)
    util.setup_testing_defaults(e)
    out = {}
    for k, v in e.items():
        if k in ("wsgi.input", "wsgi.errors"):
            continue
        if k == "wsgi.version":
            v = list(v)
        elif k in ("wsgi.run_once", "wsgi.multithread", "wsgi.multiprocess"):
            v = bool(v)
        out[k] = v
    return {"environ": environ, "result": out}


def main():
    cases = {
        "scheme": [
            {"https": h, "result": util.guess_scheme({} if h is None else {"HTTPS": h})}
            for h in SCHEMES
        ],
        "uri": [
            {
                "environ": e,
                "applicationUri": attempt(lambda: util.application_uri(dict(e))),
                "requestUri": attempt(lambda: util.request_uri(dict(e))),
                "requestUriNoQuery": attempt(lambda: util.request_uri(dict(e), False)),
            }
            for e in URI_ENVIRONS
        ],
        "shift": [shift(s, p) for s, p in SHIFTS],
        "hop": [{"name": n, "result": util.is_hop_by_hop(n)} for n in HOP],
        "setup": [setup(e) for e in SETUPS],
    }
    # One case per line; `deno fmt` then wraps the long ones.
    head = {"generated": f"by scripts/gen_util_cases.py from CPython {sys.version.split()[0]}; do not edit"}
    body = "{\n" + f"  {json.dumps('_')}: {json.dumps(head)},\n" + ",\n".join(
        f"  {json.dumps(k)}: [\n"
        + ",\n".join(f"    {json.dumps(c, ensure_ascii=True)}" for c in v)
        + "\n  ]"
        for k, v in cases.items()
    ) + "\n}\n"
    TARGET.write_text(body, encoding="utf-8")
    print(f"wrote {TARGET}: " + ", ".join(f"{len(v)} {k}" for k, v in cases.items()))


if __name__ == "__main__":
    main()
