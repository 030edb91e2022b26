/**
 * What the config reader suggests for a field it does not know: the known field a misspelt one most
 * likely meant, and the one phrasing of an unknown field.
 */

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}

/** The known field a misspelt one most likely meant. */
export function closest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = name.toLowerCase() === lower ? 0 : editDistance(lower, name.toLowerCase());
    // A shortened name ("allowAllRepos", "maxSessionDuration") is too far by edit distance alone.
    const shortened = lower.length >= 4 && name.toLowerCase().startsWith(lower);
    if ((distance <= Math.max(2, Math.floor(name.length / 4)) || shortened) && (best === undefined || distance < best.distance)) {
      best = { name, distance };
    }
  }
  return best?.name;
}

/** The one phrasing of an unknown field: a guess at what was meant, and the known fields. */
export function unknownField(key: string, known: readonly string[]): string {
  const guess = closest(key, known);
  const suggestion = guess === undefined ? '' : `; did you mean "${guess}"?`;
  return `unknown field${suggestion} (known fields: ${known.join(', ')}; a misspelt field would silently drop a setting)`;
}
