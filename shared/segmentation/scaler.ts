import type { RobustScaler } from './model';

/**
 * Quantile of an ascending-sorted array with linear interpolation between order statistics
 * (numpy's default, "type 7"). NaN for an empty array.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const pos = Math.min(1, Math.max(0, q)) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  const frac = pos - lo;
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return frac === 0 ? a : a + (b - a) * frac;
}

/** The finite values of an array, sorted ascending. */
export function sortedFinite(values: Iterable<number>): Float64Array {
  const out: number[] = [];
  for (const v of values) if (Number.isFinite(v)) out.push(v);
  return Float64Array.from(out).sort();
}

/**
 * Fits the robust scaler on behaviour rows (behaviourRow output, already log1p'd where heavy-tailed):
 * center = median, scale = interquartile range, per column. Non-finite values are ignored.
 *
 * A column whose IQR is 0 (mostly-constant features such as refund rate, where most customers sit at 0)
 * falls back to its standard deviation, and a column that is constant altogether to 1, so a scale is
 * always finite and positive. The fallback can make rare values large; the ±clip bounds them.
 */
export function fitRobustScaler(rows: readonly (readonly number[])[], clip = 5): RobustScaler {
  const width = rows.reduce((w, r) => Math.max(w, r.length), 0);
  const center: number[] = [];
  const scale: number[] = [];
  for (let j = 0; j < width; j++) {
    const col = sortedFinite(rows.map((r) => r[j] ?? Number.NaN));
    if (col.length === 0) {
      center.push(0);
      scale.push(1);
      continue;
    }
    const median = quantileSorted(col, 0.5);
    const iqr = quantileSorted(col, 0.75) - quantileSorted(col, 0.25);
    center.push(median);
    scale.push(positiveScale(iqr, col));
  }
  return { center, scale, clip };
}

function positiveScale(iqr: number, col: Float64Array): number {
  if (Number.isFinite(iqr) && iqr > 1e-12) return iqr;
  let mean = 0;
  for (const v of col) mean += v;
  mean /= col.length;
  let ss = 0;
  for (const v of col) ss += (v - mean) ** 2;
  const std = Math.sqrt(ss / col.length);
  return Number.isFinite(std) && std > 1e-12 ? std : 1;
}
