// werkzeug's rule syntax compiled to one RegExp per rule: static text and
// `<converter(args):name>` parts (routing/rules.py, converters.py).

/** A converter: what it matches, how it turns text to a value and back. */
interface Converter {
  regex: string;
  weight: number;
  toValue(text: string): string | number;
  toUrl(value: unknown, name: string): string;
}

type Args = { positional: unknown[]; named: Record<string, unknown> };

const q = JSON.stringify;

// werkzeug's converter arguments: Python literals, positional or key=value.
function parseArgs(text: string | undefined, rule: string): Args {
  const args: Args = { positional: [], named: {} };
  if (!text) return args;
  for (const item of text.split(",")) {
    const m = /^\s*(?:([A-Za-z_]\w*)\s*=\s*)?(.*?)\s*$/.exec(item)!;
    const raw = m[2];
    let value: unknown;
    if (raw === "True") value = true;
    else if (raw === "False") value = false;
    else if (raw === "None") value = null;
    else if (/^-?\d+(\.\d+)?$/.test(raw)) value = Number(raw);
    else if (/^(['"]).*\1$/.test(raw)) value = raw.slice(1, -1);
    else if (/^[\w-]+$/.test(raw)) value = raw;
    else {throw new TypeError(
        `rule ${q(rule)}: converter argument ${q(item)} is not understood`,
      );}
    if (m[1]) args.named[m[1]] = value;
    else args.positional.push(value);
  }
  return args;
}

const escapeRegex = (s: string): string =>
  s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

// What a built URL keeps of a value, as werkzeug's quoting (its safe set
// minus "/" for one segment, so that a value never becomes two).
function quoteSegment(text: string, keepSlash: boolean): string {
  return encodeURIComponent(text).replace(
    /%(21|24|26|27|28|29|2A|2B|2C|3A|3B|3D|40|2F)/gi,
    (all, hex: string) =>
      hex.toUpperCase() === "2F" && !keepSlash
        ? all
        : String.fromCharCode(parseInt(hex, 16)),
  );
}

function integer(args: Args, float: boolean): Converter {
  const signed = args.named.signed === true;
  const min = args.named.min as number | undefined;
  const max = args.named.max as number | undefined;
  const digits = (args.named.fixed_digits ?? args.positional[0]) as
    | number
    | undefined;
  const sign = signed ? "-?" : "";
  return {
    regex: float ? `${sign}\\d+\\.\\d+` : `${sign}\\d+`,
    weight: 50,
    toValue(text) {
      const n = Number(text);
      if (
        !float && digits !== undefined &&
        text.replace("-", "").length !== digits
      ) {
        throw new RangeError("digits");
      }
      if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
        throw new RangeError("range");
      }
      if (!Number.isSafeInteger(n) && !float) throw new RangeError("size");
      return n;
    },
    toUrl(value, name) {
      const n = typeof value === "string" && value.trim() !== ""
        ? Number(value)
        : value;
      const ok = typeof n === "number" && Number.isFinite(n) &&
        (float || Number.isInteger(n)) && (signed || n >= 0);
      if (!ok) {
        throw new TypeError(
          `url for <${name}>: ${q(value)} is not ${float ? "a" : "an"} ${
            signed ? "" : "unsigned "
          }${float ? "float" : "integer"}`,
        );
      }
      if (float) {
        return Number.isInteger(n) ? (n as number).toFixed(1) : String(n);
      }
      const text = String(Math.abs(n as number)).padStart(digits ?? 0, "0");
      return (n as number) < 0 ? "-" + text : text;
    },
  };
}

function stringConverter(args: Args): Converter {
  const length = args.named.length as number | undefined;
  const minlength = (args.named.minlength ?? args.positional[0] ?? 1) as number;
  const maxlength = args.named.maxlength as number | undefined;
  const count = length !== undefined
    ? `{${length}}`
    : `{${minlength},${maxlength ?? ""}}`;
  return {
    regex: `[^/]${count}`,
    weight: 100,
    toValue: (text) => text,
    toUrl: (value) => quoteSegment(String(value), false),
  };
}

const CONVERTERS: Record<string, (args: Args, rule: string) => Converter> = {
  default: stringConverter,
  string: stringConverter,
  int: (args) => integer(args, false),
  float: (args) => integer(args, true),
  path: () => ({
    // werkzeug's PathConverter: anything, slashes included, not starting
    // with one.
    regex: "[^/].*?",
    weight: 200,
    toValue: (text) => text,
    toUrl: (value) => quoteSegment(String(value), true),
  }),
  uuid: () => ({
    regex:
      "[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}",
    weight: 100,
    toValue: (text) => text.toLowerCase(),
    toUrl(value, name) {
      const text = String(value);
      if (
        !/^[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$/
          .test(text)
      ) {
        throw new TypeError(`url for <${name}>: ${q(value)} is not a UUID`);
      }
      return text.toLowerCase();
    },
  }),
  any: (args, rule) => {
    const items = args.positional.map(String);
    if (items.length === 0) {
      throw new TypeError(`rule ${q(rule)}: any() needs at least one item`);
    }
    return {
      regex: `(?:${items.map(escapeRegex).join("|")})`,
      weight: 100,
      toValue: (text) => text,
      toUrl(value, name) {
        if (!items.includes(String(value))) {
          throw new TypeError(
            `url for <${name}>: ${q(value)} is not one of ${q(items)}`,
          );
        }
        return quoteSegment(String(value), false);
      },
    };
  },
};

/** A compiled rule. */
export interface CompiledRule {
  rule: string;
  regex: RegExp;
  /** Null for a rule without converters (matched by a Map lookup). */
  names: string[];
  converters: Converter[];
  /** The static text between converters: parts.length === names.length + 1. */
  parts: string[];
  /** werkzeug's (pre-2.2) match order key. */
  key: [number, number, number[]];
  /** The first path segment when it is static, for bucketing. */
  first: string | null;
}

const PART = /<(?:([A-Za-z_]\w*)(?:\((.*?)\))?:)?([A-Za-z_]\w*)>/g;

/** Compiles a rule string; a TypeError naming what is wrong with it. */
export function compileRule(rule: string): CompiledRule {
  if (typeof rule !== "string" || !rule.startsWith("/")) {
    throw new TypeError(`rule ${q(rule)} must start with "/"`);
  }
  const names: string[] = [];
  const converters: Converter[] = [];
  const parts: string[] = [];
  const weights: number[] = [];
  let source = "^";
  let at = 0;
  const addStatic = (text: string) => {
    if (/[<>]/.test(text)) {
      throw new TypeError(
        `rule ${q(rule)}: malformed converter near ${q(text)}`,
      );
    }
    source += escapeRegex(text);
    parts.push(text);
    for (const piece of text.split("/")) {
      if (piece) weights.push(0, -piece.length);
    }
  };
  for (const m of rule.matchAll(PART)) {
    addStatic(rule.slice(at, m.index));
    const [, type = "default", argText, name] = m;
    const make = CONVERTERS[type];
    if (!make) {
      throw new TypeError(
        `rule ${q(rule)}: unknown converter ${
          q(type)
        } (int, float, string, path, uuid, any)`,
      );
    }
    if (names.includes(name)) {
      throw new TypeError(`rule ${q(rule)}: the name ${q(name)} is used twice`);
    }
    const converter = make(parseArgs(argText, rule), rule);
    names.push(name);
    converters.push(converter);
    weights.push(1, converter.weight);
    source += `(${converter.regex})`;
    at = m.index + m[0].length;
  }
  addStatic(rule.slice(at));
  const firstSegment = /^\/([^/<]*)(\/|$)/.exec(rule);
  return {
    rule,
    regex: new RegExp(source + "$", "s"),
    names,
    converters,
    parts,
    key: [names.length ? 1 : 0, -weights.length, weights],
    first: firstSegment ? firstSegment[1] : null,
  };
}

/** Orders rules as werkzeug (before 2.2) did: static ones, then longer, then by weights. */
export function compareRules(a: CompiledRule, b: CompiledRule): number {
  if (a.key[0] !== b.key[0]) return a.key[0] - b.key[0];
  if (a.key[1] !== b.key[1]) return a.key[1] - b.key[1];
  const [x, y] = [a.key[2], b.key[2]];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

/** The values of a match; null when a converter refuses one (a 404, as werkzeug's ValidationError). */
export function valuesOf(
  compiled: CompiledRule,
  m: RegExpExecArray,
): Record<string, string | number> | null {
  const values: Record<string, string | number> = {};
  try {
    for (let i = 0; i < compiled.names.length; i++) {
      values[compiled.names[i]] = compiled.converters[i].toValue(m[i + 1]);
    }
  } catch {
    return null;
  }
  return values;
}

/** The path of a rule for `values` (text, percent-encoded); the rest of the values in `spare`. */
export function buildPath(
  compiled: CompiledRule,
  values: Record<string, unknown>,
  spare: URLSearchParams,
): string {
  let path = quoteSegment(compiled.parts[0], true);
  for (let i = 0; i < compiled.names.length; i++) {
    const name = compiled.names[i];
    const value = values[name];
    if (value === undefined || value === null) {
      throw new TypeError(
        `url for ${q(compiled.rule)}: no value for <${name}>`,
      );
    }
    path += compiled.converters[i].toUrl(value, name) +
      quoteSegment(compiled.parts[i + 1], true);
  }
  for (const [key, value] of Object.entries(values)) {
    if (compiled.names.includes(key) || value === undefined || value === null) {
      continue;
    }
    for (const v of Array.isArray(value) ? value : [value]) {
      spare.append(key, String(v));
    }
  }
  return path;
}
