/**
 * wsgiref's `headers.Headers`: a mapping-like view of a WSGI response
 * header list.
 *
 * @module
 */
import type { HeaderPair } from "../core/types.ts";
import { firstNonLatin1, nativeToBytes } from "../core/_latin1.ts";
import { TOKEN } from "../core/_response/state.ts";

// The same rules as `checkHeaders` in core/_response/state.ts, minus its
// hop-by-hop ban (wsgiref's Headers lets an app build any list; the server
// refuses hop-by-hop names at start_response). RFC 9110 §5.6.2: names are
// tokens. RFC 9110 §5.5: no CR, LF, NUL, other C0 controls or DEL in a
// value, HTAB allowed; CPython has refused those since gh-143916/gh-144118.
// Code units above 0xFF may be stored, as in Python, where only bytes()
// fails on them.
const BAD_VALUE = /[\x00-\x08\x0A-\x1F\x7F]/;

const q = JSON.stringify;

function str(value: unknown, what: string): string {
  if (typeof value !== "string") {
    throw new TypeError(
      `${what} must be a string, got ${
        value === null
          ? "null"
          : Array.isArray(value)
          ? "an array"
          : typeof value
      }`,
    );
  }
  return value;
}

function checkName(name: unknown): string {
  if (!TOKEN.test(str(name, "A header name"))) {
    throw new TypeError(
      `Header name ${q(name)} is not an HTTP token (RFC 9110 §5.6.2)`,
    );
  }
  return name as string;
}

function checkValue(value: unknown, name: string): string {
  const bad = BAD_VALUE.exec(str(value, `The value of header ${q(name)}`));
  if (bad) {
    throw new TypeError(
      `Value ${q(value)} of header ${q(name)} contains the control character ${
        q(bad[0])
      } (RFC 9110 §5.5: no CR, LF, NUL or other controls; HTAB is allowed)`,
    );
  }
  return value as string;
}

function checkPair(pair: unknown): void {
  if (!Array.isArray(pair) || pair.length !== 2) {
    throw new TypeError(
      `Each header must be a [name, value] pair, got ${
        Array.isArray(pair) ? `an array of length ${pair.length}` : typeof pair
      }`,
    );
  }
  checkValue(pair[1], checkName(pair[0]));
}

// Python's `email` `_formatparam` as wsgiref calls it (quote=1): an empty
// or missing value gives the bare key.
function formatParam(key: string, value: string | null | undefined): string {
  if (value == null || value === "") return key;
  return `${key}="${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/**
 * wsgiref's `Headers` class (named `WSGIHeaders` here, since the Web
 * platform already has a global `Headers`): a view of a list of
 * `[name, value]` pairs with case-insensitive lookup. The list is used in
 * place, not copied, so changes show in the caller's list, which can then
 * go to `startResponse`. Names must be HTTP tokens and values free of
 * control characters (HTAB allowed); a bad one is a `TypeError` naming it.
 *
 * @example Usage
 * ```ts
 * import { WSGIHeaders } from "@wsgi/wsgi";
 * import assert from "node:assert/strict";
 * const list: [string, string][] = [["Content-Type", "text/plain"]];
 * const headers = new WSGIHeaders(list);
 * headers.set("content-type", "text/html");
 * headers.addHeader("Content-Disposition", "attachment", { filename: "a.txt" });
 * assert.deepEqual(list, [
 *   ["content-type", "text/html"],
 *   ["Content-Disposition", 'attachment; filename="a.txt"'],
 * ]);
 * assert.equal(headers.get("CONTENT-TYPE"), "text/html");
 * ```
 */
export class WSGIHeaders {
  #headers: HeaderPair[];

  /**
   * Wraps a header list.
   *
   * @param headers The list to manage, used in place (a new empty list
   *   when omitted or null).
   * @throws {TypeError} When `headers` is not an array, or holds a bad pair.
   */
  constructor(headers?: HeaderPair[] | null) {
    const list = headers ?? [];
    if (!Array.isArray(list)) {
      throw new TypeError(
        `WSGIHeaders takes an array of [name, value] pairs, got ${typeof list}`,
      );
    }
    for (const pair of list) checkPair(pair);
    this.#headers = list;
  }

  /** The number of headers, duplicates included (Python's `len()`). */
  get length(): number {
    return this.#headers.length;
  }

  /**
   * The first value of a header (case-insensitive), or `defaultValue`
   * (null unless given) when there is none.
   *
   * @param name The header name.
   * @param defaultValue What to return when the header is absent.
   * @returns The value, or the default.
   */
  get(name: string): string | null;
  /**
   * The first value of a header (case-insensitive), or `defaultValue`.
   *
   * @param name The header name.
   * @param defaultValue What to return when the header is absent.
   * @returns The value, or the default.
   */
  get<T>(name: string, defaultValue: T): string | T;
  get<T>(name: string, defaultValue: T | null = null): string | T | null {
    const lower = str(name, "A header name").toLowerCase();
    for (const [k, v] of this.#headers) if (k.toLowerCase() === lower) return v;
    return defaultValue;
  }

  /**
   * Every value of a header, in order (empty when absent).
   *
   * @param name The header name.
   * @returns A new array of values.
   */
  getAll(name: string): string[] {
    const lower = str(name, "A header name").toLowerCase();
    return this.#headers.filter(([k]) => k.toLowerCase() === lower).map((
      [, v],
    ) => v);
  }

  /**
   * Python's `h[name] = value`: removes every header called `name`, then
   * appends `[name, value]`.
   *
   * @param name The header name.
   * @param value The value.
   */
  set(name: string, value: string): void {
    checkValue(value, checkName(name));
    this.delete(name);
    this.#headers.push([name, value]);
  }

  /**
   * Python's `del h[name]`: removes every header called `name`; does
   * nothing when there is none.
   *
   * @param name The header name.
   */
  delete(name: string): void {
    const lower = str(name, "A header name").toLowerCase();
    const list = this.#headers;
    let kept = 0;
    for (const pair of list) {
      if (pair[0].toLowerCase() !== lower) list[kept++] = pair;
    }
    list.length = kept;
  }

  /**
   * Python's `name in h`: whether a header called `name` is present.
   *
   * @param name The header name.
   * @returns True when present.
   */
  has(name: string): boolean {
    return this.get(name) !== null;
  }

  /**
   * The value of the first header called `name`; when there is none,
   * appends `[name, value]` and returns `value`.
   *
   * @param name The header name.
   * @param value The value to add when absent.
   * @returns The value now in effect.
   */
  setDefault(name: string, value: string): string {
    const found = this.get(name);
    if (found !== null) return found;
    checkValue(value, checkName(name));
    this.#headers.push([name, value]);
    return value;
  }

  /**
   * Python's `add_header(name, value, **params)`: appends a header whose
   * value is `value` followed by `; key="param"` for each parameter, in
   * order. Underscores in keys become `-`; a null (or empty) parameter
   * gives the bare key; `\` and `"` are escaped. A null `value` leaves just
   * the parameters.
   *
   * @param name The header name.
   * @param value The main value, or null.
   * @param params The parameters.
   */
  addHeader(
    name: string,
    value: string | null,
    params: Record<string, string | null> = {},
  ): void {
    const parts: string[] = [];
    if (value !== null) {
      parts.push(str(value, `The value of header ${q(name)}`));
    }
    for (const [key, param] of Object.entries(params)) {
      if (param != null) str(param, `Parameter ${q(key)}`);
      parts.push(formatParam(key.replace(/_/g, "-"), param));
    }
    const joined = parts.join("; ");
    checkValue(joined, checkName(name));
    this.#headers.push([name, joined]);
  }

  /** The header names, in order, duplicates included (a new array). */
  keys(): string[] {
    return this.#headers.map(([k]) => k);
  }

  /** The header values, in order (a new array). */
  values(): string[] {
    return this.#headers.map(([, v]) => v);
  }

  /**
   * The `[name, value]` pairs, in order.
   *
   * @returns A copy of the list (new pairs too).
   */
  items(): HeaderPair[] {
    return this.#headers.map(([k, v]) => [k, v]);
  }

  /**
   * Python's `str(h)`: the header block as sent on the wire.
   *
   * @returns `Name: value\r\n` for each header, then a final `\r\n`.
   */
  toString(): string {
    let out = "";
    for (const [k, v] of this.#headers) out += `${k}: ${v}\r\n`;
    return out + "\r\n";
  }

  /**
   * Python's `bytes(h)`: {@linkcode WSGIHeaders.toString} as latin-1.
   *
   * @returns The encoded header block.
   * @throws {TypeError} When a name or value has a character above U+00FF.
   */
  toBytes(): Uint8Array<ArrayBuffer> {
    for (const [k, v] of this.#headers) {
      for (const [what, s] of [["name", k], ["value", v]]) {
        const i = firstNonLatin1(s);
        if (i === -1) continue;
        const c = s.charCodeAt(i).toString(16).toUpperCase().padStart(4, "0");
        throw new TypeError(
          `Header ${q(k)} has a ${what} ${q(s)} with the character ${
            q(s[i])
          } (U+${c}) at index ${i}, above U+00FF: latin-1 cannot encode it (PEP 3333)`,
        );
      }
    }
    return nativeToBytes(this.toString(), "The header block");
  }
}
