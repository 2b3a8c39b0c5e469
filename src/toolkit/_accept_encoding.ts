// Accept-Encoding negotiation (RFC 9110 §12.5.3, q-values §12.4.2), shared
// by the static files (which precompressed sibling to send) and the
// compression middleware (which coding to compress with).

/** The q-value of each coding the header names, lower-cased; `*` included. */
function qualities(header: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of header.split(",")) {
    const [rawName, ...params] = item.split(";");
    const name = rawName.trim().toLowerCase();
    if (name === "") continue;
    let q = 1;
    for (const param of params) {
      const [key, value] = param.split("=");
      if (key?.trim().toLowerCase() !== "q") continue;
      // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] );
      // anything else is junk, and junk must not turn a coding on.
      const text = value?.trim() ?? "";
      q = /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(text) ? Number(text) : 0;
    }
    // A coding listed twice keeps its first weight.
    if (!out.has(name)) out.set(name, q);
  }
  return out;
}

/**
 * The best of `offered` (most preferred first) that the client accepts,
 * or null when identity is best. No header means identity: RFC 9110 lets a
 * server assume any coding, but a client that did not ask may not decode.
 * Identity not listed counts as acceptable but least preferred, so a
 * client naming a coding with q > 0 gets it; `identity;q=1` with
 * `gzip;q=0.5` keeps identity.
 */
export function chooseEncoding(
  header: string | undefined,
  offered: readonly string[],
): string | null {
  if (!header) return null;
  const q = qualities(header);
  const star = q.get("*");
  const identity = q.get("identity") ?? 0.0001;
  let best: string | null = null;
  let bestQ = 0;
  for (const coding of offered) {
    const weight = q.get(coding) ?? star ?? 0;
    if (weight > bestQ) {
      best = coding;
      bestQ = weight;
    }
  }
  return best !== null && bestQ >= identity ? best : null;
}

/** Adds `Accept-Encoding` to a Vary value, keeping what is there. */
export function varyWithAcceptEncoding(vary: string | null): string {
  if (vary === null || vary.trim() === "") return "Accept-Encoding";
  const names = vary.split(",").map((v) => v.trim().toLowerCase());
  if (names.includes("*") || names.includes("accept-encoding")) return vary;
  return `${vary}, Accept-Encoding`;
}
