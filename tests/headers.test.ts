// wsgiref.headers.Headers as WSGIHeaders. Expected values were produced by
// CPython 3.11.7's wsgiref.headers (the Python snippet is quoted above each
// assertion that mirrors it); validation follows gh-143916/gh-144118 and
// the core's checkHeaders.
import { test } from "node:test";
import assert from "node:assert/strict";
import { WSGIHeaders } from "../src/wsgiref/headers.ts";
import type { HeaderPair } from "../src/core/types.ts";

function sample(): HeaderPair[] {
  return [["Content-Type", "text/plain"], ["X-A", "1"], ["x-a", "2"]];
}

test("the list is used in place, not copied", () => {
  const list = sample();
  const h = new WSGIHeaders(list);
  h.set("X-A", "3");
  // Python: [('Content-Type', 'text/plain'), ('X-A', '3')]
  assert.deepEqual(list, [["Content-Type", "text/plain"], ["X-A", "3"]]);
  list.push(["Later", "x"]);
  assert.equal(h.get("later"), "x");
  assert.equal(h.length, 3);
});

test("the constructor takes only an array, and no argument means empty", () => {
  // Python: TypeError Headers must be a list of name/value tuples
  assert.throws(
    () => new WSGIHeaders({ length: 0 } as unknown as HeaderPair[]),
    {
      name: "TypeError",
      message: /takes an array of \[name, value\] pairs, got object/,
    },
  );
  assert.throws(
    () => new WSGIHeaders("a: b" as unknown as HeaderPair[]),
    TypeError,
  );
  const h = new WSGIHeaders();
  h.set("A", "1");
  // Python: Headers()['A'] = '1' -> [('A', '1')]
  assert.deepEqual(h.items(), [["A", "1"]]);
  assert.equal(new WSGIHeaders(null).length, 0);
});

test("the constructor checks every pair", () => {
  assert.throws(() => new WSGIHeaders([["A"]] as unknown as HeaderPair[]), {
    name: "TypeError",
    message:
      "Each header must be a [name, value] pair, got an array of length 1",
  });
  assert.throws(() => new WSGIHeaders([["A", 1]] as unknown as HeaderPair[]), {
    name: "TypeError",
    message: 'The value of header "A" must be a string, got number',
  });
  assert.throws(() => new WSGIHeaders([["X Bad", "v"]]), {
    name: "TypeError",
    message: 'Header name "X Bad" is not an HTTP token (RFC 9110 §5.6.2)',
  });
  assert.throws(() => new WSGIHeaders([["X", "a\r\nSet-Cookie: x"]]), {
    name: "TypeError",
    message:
      /^Value "a\\r\\nSet-Cookie: x" of header "X" contains the control character "\\r"/,
  });
});

test("length counts duplicates", () => {
  // Python: len(Headers(sample)) == 3
  assert.equal(new WSGIHeaders(sample()).length, 3);
  assert.equal(new WSGIHeaders([]).length, 0);
});

test("get returns the first match case-insensitively, or the default", () => {
  const h = new WSGIHeaders(sample());
  // Python: h.get("x-A") == '1'; h.get("nope") is None; h.get("nope", "d") == 'd'
  assert.equal(h.get("x-A"), "1");
  assert.equal(h.get("nope"), null);
  assert.equal(h.get("nope", "d"), "d");
  assert.equal(h.get("nope", 0), 0);
  assert.equal(h.get("CONTENT-TYPE", "d"), "text/plain");
  assert.throws(() => h.get(1 as unknown as string), TypeError);
});

test("getAll returns every value in order, or an empty list", () => {
  const h = new WSGIHeaders(sample());
  // Python: h.get_all("X-A") == ['1', '2']
  assert.deepEqual(h.getAll("X-A"), ["1", "2"]);
  assert.deepEqual(h.getAll("nope"), []);
});

test("set removes every match, then appends", () => {
  const list = sample();
  const h = new WSGIHeaders(list);
  h.set("x-A", "3");
  assert.deepEqual(list, [["Content-Type", "text/plain"], ["x-A", "3"]]);
  h.set("New", "n");
  assert.deepEqual(h.keys(), ["Content-Type", "x-A", "New"]);
});

test("set refuses bad names and values without touching the list", () => {
  const list = sample();
  const h = new WSGIHeaders(list);
  assert.throws(() => h.set("X-A", "a\nb"), {
    name: "TypeError",
    message:
      /Value "a\\nb" of header "X-A" contains the control character "\\n"/,
  });
  assert.throws(() => h.set("X-A", "nul\0"), /control character "\\u0000"/);
  assert.throws(() => h.set("X-A", "del\x7f"), /control character "\x7f"/);
  assert.throws(
    () => h.set("X:A", "v"),
    /Header name "X:A" is not an HTTP token/,
  );
  assert.throws(() => h.set("", "v"), /Header name "" is not an HTTP token/);
  assert.throws(() => h.set("X-A", null as unknown as string), TypeError);
  assert.deepEqual(list, sample());
  h.set("X-Tab", "a\tb");
  h.set("X-Latin", "caf\u00e9");
  h.set("Connection", "close"); // wsgiref's Headers allows hop-by-hop names
  assert.equal(h.get("x-tab"), "a\tb");
});

test("delete removes all matches and never throws", () => {
  const list = sample();
  const h = new WSGIHeaders(list);
  h.delete("nope");
  assert.equal(h.length, 3);
  h.delete("X-a");
  // Python: del h["X-a"] -> [('Content-Type', 'text/plain')]
  assert.deepEqual(list, [["Content-Type", "text/plain"]]);
});

test("has tests presence, including an empty value", () => {
  const h = new WSGIHeaders(sample());
  // Python: "x-a" in h is True; "Nope" in h is False
  assert.equal(h.has("x-a"), true);
  assert.equal(h.has("Nope"), false);
  // Python: "A" in Headers([("A", "")]) is True
  assert.equal(new WSGIHeaders([["A", ""]]).has("a"), true);
});

test("setDefault returns the existing value or appends the new one", () => {
  const list = sample();
  const h = new WSGIHeaders(list);
  // Python: h.setdefault("content-type", "x") == 'text/plain'
  assert.equal(h.setDefault("content-type", "x"), "text/plain");
  // Python: h.setdefault("X-New", "n") == 'n', appended
  assert.equal(h.setDefault("X-New", "n"), "n");
  assert.deepEqual(list.at(-1), ["X-New", "n"]);
  assert.equal(list.length, 4);
  assert.throws(() => h.setDefault("X-Other", "\r"), TypeError);
});

test("addHeader formats parameters exactly as Python's add_header", () => {
  const list: HeaderPair[] = [];
  const h = new WSGIHeaders(list);
  h.addHeader("content-disposition", "attachment", { filename: "bud.gif" });
  h.addHeader("X-B", null, { foo_bar: null });
  h.addHeader("X-C", null);
  h.addHeader("X-D", "", { a: "" });
  h.addHeader("X-E", "v", { a: 'x"y\\z', b: null, c_d: "q", e: "" });
  h.addHeader("X-F", "v", { under_score_key: "a b; c" });
  // Python: the values add_header stored for the same calls
  assert.deepEqual(list, [
    ["content-disposition", 'attachment; filename="bud.gif"'],
    ["X-B", "foo-bar"],
    ["X-C", ""],
    ["X-D", "; a"],
    ["X-E", 'v; a="x\\"y\\\\z"; b; c-d="q"; e'],
    ["X-F", 'v; under-score-key="a b; c"'],
  ]);
});

test("addHeader appends even when the name exists, and checks the result", () => {
  const list: HeaderPair[] = [["Set-Cookie", "a=1"]];
  const h = new WSGIHeaders(list);
  h.addHeader("Set-Cookie", "b=2", { Path: "/" });
  assert.deepEqual(h.getAll("set-cookie"), ["a=1", 'b=2; Path="/"']);
  assert.throws(
    () => h.addHeader("X", "v", { p: "a\r\nb" }),
    /control character "\\r"/,
  );
  assert.throws(() => h.addHeader("X Y", "v"), /not an HTTP token/);
  assert.throws(
    () => h.addHeader("X", "v", { p: 1 as unknown as string }),
    {
      name: "TypeError",
      message: 'Parameter "p" must be a string, got number',
    },
  );
  assert.equal(list.length, 2);
});

test("keys, values and items list every header; items is a copy", () => {
  const list = sample();
  const h = new WSGIHeaders(list);
  assert.deepEqual(h.keys(), ["Content-Type", "X-A", "x-a"]);
  assert.deepEqual(h.values(), ["text/plain", "1", "2"]);
  const items = h.items();
  assert.deepEqual(items, sample());
  items.push(["z", "z"]);
  items[0][1] = "changed";
  // Python: h.items().append(...) leaves len(h) unchanged
  assert.equal(h.length, 3);
  assert.equal(h.get("content-type"), "text/plain");
});

test("toString gives the header block with a final CRLF", () => {
  const h = new WSGIHeaders([
    ["Content-Type", "text/plain"],
    ["X-E", 'v; a="x\\"y\\\\z"'],
    ["X-C", ""],
  ]);
  // Python: str(h)
  assert.equal(
    h.toString(),
    'Content-Type: text/plain\r\nX-E: v; a="x\\"y\\\\z"\r\nX-C: \r\n\r\n',
  );
  assert.equal(String(h), h.toString());
  // Python: str(Headers([])) == '\r\n'
  assert.equal(new WSGIHeaders([]).toString(), "\r\n");
});

test("toBytes encodes latin-1 and names a character above U+00FF", () => {
  const h = new WSGIHeaders([["X", "caf\u00e9\u00ff"]]);
  assert.deepEqual(
    h.toBytes(),
    new Uint8Array([88, 58, 32, 99, 97, 102, 0xe9, 0xff, 13, 10, 13, 10]),
  );
  assert.deepEqual(new WSGIHeaders([]).toBytes(), new Uint8Array([13, 10]));
  // Python: str() works, bytes() raises UnicodeEncodeError
  const euro = new WSGIHeaders([["X", "\u20ac"]]);
  assert.equal(euro.toString(), "X: \u20ac\r\n\r\n");
  assert.throws(() => euro.toBytes(), {
    name: "TypeError",
    message:
      /^Header "X" has a value "€" with the character "€" \(U\+20AC\) at index 0, above U\+00FF/,
  });
});
