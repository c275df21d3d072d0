// "Did you mean": the known name a typo is closest to, for flags, config keys and annotations.

export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * The known name `word` is probably a typo of, if any: a couple of edits away, more for long names
 * (a third of the part after `prefix`, which every candidate shares). Callers bound `word`'s length:
 * the cost is the product of the two lengths.
 */
export function nearestName(word: string, known: Iterable<string>, prefix = ""): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of known) {
    const d = editDistance(word, name);
    if (!best || d < best.d) best = { name, d };
  }
  const allowed = Math.max(2, Math.floor((word.length - prefix.length) / 3));
  return best && best.d <= allowed ? best.name : undefined;
}
