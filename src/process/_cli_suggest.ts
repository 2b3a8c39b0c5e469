// What the command line says about a word it does not know: the option it
// was most likely meant to be ("did you mean --workers?"), and a --bind
// that is a port alone.

/** Edit distance between two short words (Levenshtein). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        prev[j] + 1,
        row[j - 1] + 1,
        prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = row;
  }
  return prev[b.length];
}

/**
 * The known option closest to `word` (from the `--name` words of `usage`),
 * or null when none is close: a typo of a few letters, a missing or extra
 * dash, or the start of a longer option.
 */
export function closestOption(word: string, usage: string): string | null {
  const known = [...new Set(usage.match(/--[a-z][a-z-]*/g) ?? [])];
  const bare = word.replace(/^-+/, "").toLowerCase();
  let best: string | null = null;
  let bestScore = Infinity;
  for (const option of known) {
    const name = option.slice(2);
    const score = name.startsWith(bare) && bare.length >= 3
      ? 0
      : distance(bare, name);
    if (score < bestScore) [best, bestScore] = [option, score];
  }
  const limit = Math.max(1, Math.min(3, Math.floor(bare.length / 3)));
  return bestScore <= limit ? best : null;
}

/**
 * Why a `--bind` value that is only digits is refused: gunicorn reads
 * `8100` as a host name (and the resolver as the address 0.0.31.164) on
 * port 8000; nobody means that.
 */
export function barePortBind(text: string): string | null {
  if (!/^\d+$/.test(text)) return null;
  return `--bind ${text} is a port without a host: say --bind 127.0.0.1:${text} ` +
    `(this machine only), --bind 0.0.0.0:${text} (every interface) or --port ${text}`;
}
