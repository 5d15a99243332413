/** "did you mean …?" suggestions by edit distance. */

export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(
        prev[j]! + 1,
        prev[j - 1]! + 1,
        diag + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1),
      );
      diag = up;
    }
  }
  return prev[b.length]!;
}

/**
 * The closest candidate within a third of the name's length, if any; failing that, one the name
 * starts with or abbreviates (`integer` → `int`, `Conv` → `Conv2D`).
 */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  const list = [...candidates];
  return closestByEdits(name, list) ?? closestByPrefix(name, list);
}

function closestByPrefix(name: string, candidates: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  if (lower.length < 3) return undefined;
  return candidates.find((c) => {
    const other = c.toLowerCase();
    return other.length >= 3 && (lower.startsWith(other) || other.startsWith(lower));
  });
}

function closestByEdits(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.ceil(name.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** ` (did you mean `Dense`?)`, or nothing. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const c = closest(name, candidates);
  return c === undefined ? '' : `; did you mean \`${c}\`?`;
}
