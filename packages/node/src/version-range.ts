/**
 * Whether `version` (`major.minor.patch`, prerelease ignored) satisfies `range`, a list of
 * space-separated comparators such as `>=5 <8` or `>=0.50 <2` — the form the instrumentation
 * packages export their supported ranges in. Missing parts of a bound count as 0.
 */
export function satisfiesRange(version: string, range: string): boolean {
  const actual = parts(version);
  if (!actual) return false;
  return range
    .trim()
    .split(/\s+/)
    .every((comparator) => {
      const match = /^(>=|<=|>|<|=)?(\d+(?:\.\d+){0,2})$/.exec(comparator);
      if (!match) return false;
      const order = compare(actual, parts(match[2]!)!);
      switch (match[1]) {
        case '>=':
          return order >= 0;
        case '<=':
          return order <= 0;
        case '>':
          return order > 0;
        case '<':
          return order < 0;
        default:
          return order === 0;
      }
    });
}

function parts(version: string): [number, number, number] | undefined {
  const match = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(version);
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)];
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let index = 0; index < 3; index++) {
    const difference = a[index]! - b[index]!;
    if (difference !== 0) return difference;
  }
  return 0;
}
