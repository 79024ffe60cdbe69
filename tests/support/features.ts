import type { CustomerFeatures } from '../../shared/domain/features';

/**
 * Asserts two feature sets are equal: exactly for counts, strings and structure, to `tolerance` relative for floating
 * point (the incremental state sums in another order than the reference fold). Vectors compare element-wise with the
 * same tolerance against their largest element, so a component near zero is not held to a relative bound it cannot meet.
 */
export function expectSameFeatures(actual: CustomerFeatures, expected: CustomerFeatures, tolerance = 1e-9): void {
  const diffs: string[] = [];
  const walk = (a: unknown, b: unknown, path: string, scale: number) => {
    if (typeof a === 'number' && typeof b === 'number') {
      const bound = tolerance * Math.max(Math.abs(a), Math.abs(b), scale);
      if (!(Math.abs(a - b) <= bound) && !(a === b)) diffs.push(`${path}: ${a} vs ${b}`);
      return;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      if (a.length !== b.length) diffs.push(`${path}: length ${a.length} vs ${b.length}`);
      const s = b.every((x) => typeof x === 'number') ? Math.max(0, ...b.map((x) => Math.abs(x as number))) : 0;
      a.forEach((x, i) => walk(x, b[i], `${path}[${i}]`, s));
      return;
    }
    if (a && b && typeof a === 'object' && typeof b === 'object') {
      const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
      for (const k of keys)
        walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`, 0);
      return;
    }
    if (a !== b) diffs.push(`${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  };
  walk(actual, expected, 'features', 0);
  if (diffs.length) throw new Error(`features differ:\n${diffs.slice(0, 20).join('\n')}`);
}
