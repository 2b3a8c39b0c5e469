// A small, strict reader of Prometheus' text format (0.0.4) and OpenMetrics
// 1.0 for the metrics tests: it throws on any line it cannot read, on a
// sample without its family's TYPE, on a histogram whose buckets are not
// cumulative or whose +Inf bucket is not its count, and (OpenMetrics) on a
// missing `# EOF`.

/** One sample: its name, labels and value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE =
  /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/g;

function value(text: string, line: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  const n = Number(text);
  if (!/^-?\d+(?:\.\d+)?(?:e[-+]?\d+)?$/i.test(text) || Number.isNaN(n)) {
    throw new Error(`bad value in ${JSON.stringify(line)}`);
  }
  return n;
}

/** Parses an exposition; every sample, in order. */
export function parseExposition(text: string, open = false): Sample[] {
  if (!text.endsWith("\n")) throw new Error("must end with a newline");
  const lines = text.slice(0, -1).split("\n");
  if (open) {
    if (lines.pop() !== "# EOF") throw new Error("OpenMetrics: no # EOF");
  }
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of lines) {
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE|UNIT) (\S+) (.*)$/.exec(line);
      if (!m || !NAME.test(m[2])) throw new Error(`bad comment ${line}`);
      if (m[1] === "TYPE") {
        if (!/^(counter|gauge|histogram|summary|untyped)$/.test(m[3])) {
          throw new Error(`bad type ${line}`);
        }
        if (types.has(m[2])) throw new Error(`TYPE twice: ${line}`);
        types.set(m[2], m[3]);
      }
      if (m[1] === "UNIT" && (!open || !m[2].endsWith(`_${m[3]}`))) {
        throw new Error(`bad UNIT ${line}`);
      }
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`bad sample line ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(LABEL)) labels[l[1]] = l[2];
    const name = m[1];
    const family = name.replace(/_(bucket|sum|count|total)$/, "");
    const type = types.get(name) ?? types.get(family);
    if (type === undefined) throw new Error(`no TYPE for ${name}`);
    if (type === "counter" && !name.endsWith("_total")) {
      throw new Error(`counter without _total: ${name}`);
    }
    samples.push({ name, labels, value: value(m[3], line) });
  }
  // Histograms: cumulative buckets, +Inf equal to _count.
  const groups = new Map<string, number[]>();
  for (const s of samples) {
    if (!s.name.endsWith("_bucket")) continue;
    const { le, ...rest } = s.labels;
    const key = s.name + JSON.stringify(rest);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(s.value);
    if (le === "+Inf") {
      const count = samples.find((c) =>
        c.name === s.name.replace(/_bucket$/, "_count") &&
        JSON.stringify(c.labels) === JSON.stringify(rest)
      );
      if (count?.value !== s.value) throw new Error(`+Inf != count: ${key}`);
    }
  }
  for (const [key, values] of groups) {
    for (let i = 1; i < values.length; i++) {
      if (values[i] < values[i - 1]) throw new Error(`not cumulative: ${key}`);
    }
  }
  return samples;
}

/** The sum of the samples named `name` whose labels include `labels`. */
export function total(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number {
  return samples.filter((s) =>
    s.name === name &&
    Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  ).reduce((n, s) => n + s.value, 0);
}
