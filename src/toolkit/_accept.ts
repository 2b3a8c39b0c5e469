// Accept header negotiation (RFC 9110 §12.5.1): media ranges with
// q-values; the most specific range that matches a type gives its q.

const SHORT: Record<string, string> = {
  json: "application/json",
  html: "text/html",
  text: "text/plain",
  xml: "application/xml",
  css: "text/css",
  js: "text/javascript",
};

interface Range {
  type: string;
  subtype: string;
  q: number;
}

function parse(header: string): Range[] {
  const ranges: Range[] = [];
  for (const item of header.split(",")) {
    const [media, ...params] = item.split(";");
    const [type, subtype] = media.trim().toLowerCase().split("/");
    if (!type || !subtype) continue;
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
      if (m) q = Math.min(1, Math.max(0, Number(m[1]) || 0));
    }
    ranges.push({ type, subtype, q });
  }
  return ranges;
}

function qualityOf(ranges: Range[], full: string): number {
  const [type, subtype] = full.toLowerCase().split("/");
  let best = -1;
  let q = 0;
  for (const r of ranges) {
    let specificity: number;
    if (r.type === type && r.subtype === subtype) specificity = 2;
    else if (r.type === type && r.subtype === "*") specificity = 1;
    else if (r.type === "*" && r.subtype === "*") specificity = 0;
    else continue;
    if (specificity > best) {
      best = specificity;
      q = r.q;
    }
  }
  return q;
}

/** The offered type the Accept header likes best; null when none. */
export function negotiate(
  header: string | undefined,
  offered: string[],
): string | null {
  if (offered.length === 0) return null;
  if (!header || !header.trim()) return offered[0];
  const ranges = parse(header);
  let chosen: string | null = null;
  let best = 0;
  for (const offer of offered) {
    const q = qualityOf(ranges, SHORT[offer] ?? offer);
    if (q > best) {
      best = q;
      chosen = offer;
    }
  }
  return chosen;
}
