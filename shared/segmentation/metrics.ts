/**
 * Clustering quality metrics on flat row-major data (n × d), matching scikit-learn's definitions:
 * `silhouette_score`, `davies_bouldin_score` and `adjusted_rand_score`.
 */
import { createRng, type Rng } from '../util/rng';
import { sampleIndices } from './sample';

type Data = ArrayLike<number>;

export interface SilhouetteOptions {
  /** Compute on a uniform subsample of this many rows (all pairwise distances within it), like sklearn's sample_size. */
  subsample?: number;
  /** Draws the subsample; default createRng(1), so the result is deterministic. */
  rng?: Rng;
}

/**
 * Mean silhouette coefficient with Euclidean distances. A point alone in its cluster scores 0.
 * Costs O(s² · d) for s = min(n, subsample) rows; returns 0 when fewer than 2 clusters are present
 * in the (sub)sample, where the coefficient is undefined.
 */
export function silhouette(
  data: Data,
  n: number,
  d: number,
  labels: ArrayLike<number>,
  k: number,
  opts: SilhouetteOptions = {},
): number {
  const s = opts.subsample !== undefined ? Math.min(n, Math.max(0, Math.floor(opts.subsample))) : n;
  const rows = s < n ? sampleIndices(n, s, opts.rng ?? createRng(1)) : Array.from({ length: n }, (_, i) => i);
  const dist = pairwiseDistances(data, d, rows);
  return silhouetteFromDistances(
    dist,
    rows.length,
    Int32Array.from(rows, (i) => labels[i]!),
    k,
  );
}

/**
 * Condensed upper-triangle Euclidean distance matrix of the given rows: entry (i < j) lives at
 * index i·m − i·(i+1)/2 + (j − i − 1), m = rows.length. Reusable across several labellings.
 */
export function pairwiseDistances(data: Data, d: number, rows: readonly number[]): Float64Array {
  const m = rows.length;
  const out = new Float64Array((m * (m - 1)) / 2);
  let p = 0;
  for (let a = 0; a < m; a++) {
    const ba = rows[a]! * d;
    for (let b = a + 1; b < m; b++) {
      const bb = rows[b]! * d;
      let sum = 0;
      for (let j = 0; j < d; j++) {
        const diff = data[ba + j]! - data[bb + j]!;
        sum += diff * diff;
      }
      out[p++] = Math.sqrt(sum);
    }
  }
  return out;
}

/** Mean silhouette from a condensed distance matrix (see `pairwiseDistances`) and labels in [0, k). */
export function silhouetteFromDistances(dist: Float64Array, m: number, labels: ArrayLike<number>, k: number): number {
  if (m < 2) return 0;
  const sizes = new Float64Array(k);
  for (let i = 0; i < m; i++) sizes[labels[i]!]! += 1;
  let present = 0;
  for (let c = 0; c < k; c++) if (sizes[c]! > 0) present += 1;
  if (present < 2) return 0;

  // sums[i*k + c] = Σ distance from i to the members of cluster c.
  const sums = new Float64Array(m * k);
  let p = 0;
  for (let a = 0; a < m; a++) {
    const la = labels[a]!;
    const rowA = a * k;
    for (let b = a + 1; b < m; b++) {
      const v = dist[p++]!;
      sums[rowA + labels[b]!]! += v;
      sums[b * k + la]! += v;
    }
  }
  let total = 0;
  for (let i = 0; i < m; i++) {
    const own = labels[i]!;
    const ownSize = sizes[own]!;
    if (ownSize <= 1) continue; // a singleton scores 0
    const a = sums[i * k + own]! / (ownSize - 1);
    let b = Number.POSITIVE_INFINITY;
    for (let c = 0; c < k; c++) {
      if (c === own || sizes[c] === 0) continue;
      const mean = sums[i * k + c]! / sizes[c]!;
      if (mean < b) b = mean;
    }
    const denom = Math.max(a, b);
    if (denom > 0) total += (b - a) / denom;
  }
  return total / m;
}

/**
 * Mean silhouette of each cluster's members (Rousseeuw 1987), from a condensed distance matrix and labels in [0, k):
 * the per-cluster means whose overall mean `silhouetteFromDistances` returns. An empty cluster scores NaN, a
 * singleton 0. Tells whether one segment still holds together when the overall figure hides it.
 */
export function silhouetteByCluster(dist: Float64Array, m: number, labels: ArrayLike<number>, k: number): number[] {
  const sizes = new Float64Array(k);
  for (let i = 0; i < m; i++) sizes[labels[i]!]! += 1;
  const sums = new Float64Array(m * k);
  let p = 0;
  for (let a = 0; a < m; a++) {
    const la = labels[a]!;
    for (let b = a + 1; b < m; b++) {
      const v = dist[p++]!;
      sums[a * k + labels[b]!]! += v;
      sums[b * k + la]! += v;
    }
  }
  const totals = new Float64Array(k);
  for (let i = 0; i < m; i++) {
    const own = labels[i]!;
    const ownSize = sizes[own]!;
    if (ownSize <= 1) continue;
    const a = sums[i * k + own]! / (ownSize - 1);
    let b = Number.POSITIVE_INFINITY;
    for (let c = 0; c < k; c++) {
      if (c === own || sizes[c] === 0) continue;
      b = Math.min(b, sums[i * k + c]! / sizes[c]!);
    }
    const denom = Math.max(a, b);
    if (Number.isFinite(b) && denom > 0) totals[own]! += (b - a) / denom;
  }
  return Array.from(totals, (t, c) => (sizes[c]! > 0 ? t / sizes[c]! : Number.NaN));
}

/**
 * Davies–Bouldin index (lower is better): mean over non-empty clusters of max_j (S_i + S_j) / ‖c_i − c_j‖,
 * with S_i the mean Euclidean distance of cluster i's members to its centroid. Coincident centroids
 * contribute 0, as in scikit-learn. 0 with fewer than 2 non-empty clusters.
 */
export function daviesBouldin(
  data: Data,
  n: number,
  d: number,
  labels: ArrayLike<number>,
  centroids: ArrayLike<number>,
  k: number,
): number {
  const sizes = new Float64Array(k);
  const scatter = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    let s = 0;
    for (let j = 0; j < d; j++) {
      const diff = data[i * d + j]! - centroids[c * d + j]!;
      s += diff * diff;
    }
    scatter[c]! += Math.sqrt(s);
    sizes[c]! += 1;
  }
  const live: number[] = [];
  for (let c = 0; c < k; c++) if (sizes[c]! > 0) live.push(c);
  if (live.length < 2) return 0;
  for (const c of live) scatter[c]! /= sizes[c]!;
  let total = 0;
  for (const a of live) {
    let worst = 0;
    for (const b of live) {
      if (a === b) continue;
      let s = 0;
      for (let j = 0; j < d; j++) {
        const diff = centroids[a * d + j]! - centroids[b * d + j]!;
        s += diff * diff;
      }
      const sep = Math.sqrt(s);
      if (sep === 0) continue;
      const r = (scatter[a]! + scatter[b]!) / sep;
      if (r > worst) worst = r;
    }
    total += worst;
  }
  return total / live.length;
}

/**
 * Adjusted Rand index between two labellings of the same items (any integer labels; only equality matters).
 * 1 for identical partitions up to relabelling, about 0 for independent ones, and can be negative.
 * Uses scikit-learn's pair-confusion form; two trivial partitions that agree score 1.
 */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`label arrays differ in length: ${a.length} vs ${b.length}`);
  const n = a.length;
  const rowSums = new Map<number, number>();
  const colSums = new Map<number, number>();
  const cells = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    rowSums.set(x, (rowSums.get(x) ?? 0) + 1);
    colSums.set(y, (colSums.get(y) ?? 0) + 1);
    const key = `${x}|${y}`;
    cells.set(key, (cells.get(key) ?? 0) + 1);
  }
  let sumSquares = 0;
  for (const v of cells.values()) sumSquares += v * v;
  let rowSquares = 0;
  for (const v of rowSums.values()) rowSquares += v * v;
  let colSquares = 0;
  for (const v of colSums.values()) colSquares += v * v;
  const tp = sumSquares - n;
  const fp = colSquares - sumSquares; // same cluster in b, different in a
  const fn = rowSquares - sumSquares; // same cluster in a, different in b
  const tn = n * n - fp - fn - sumSquares;
  if (fn === 0 && fp === 0) return 1;
  return (2 * (tp * tn - fn * fp)) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn));
}
