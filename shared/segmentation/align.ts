/**
 * Segment-id alignment across model versions: an optimal one-to-one matching (Hungarian algorithm)
 * of the new centroids to the previous model's, so that a segment that persists keeps its id.
 */
import { segmentIdFor } from './model';

/**
 * Minimum-cost assignment (Hungarian / Kuhn–Munkres, O(r²·c) shortest augmenting paths).
 * `cost` is r × c, rectangular allowed. Returns, for each row, the column it is assigned to, or −1 when
 * there are more rows than columns and the row is left out. Every row (or every column, if fewer) is
 * assigned and the total cost is minimal. Throws on ragged or non-finite input.
 */
export function hungarian(cost: readonly (readonly number[])[]): number[] {
  const rows = cost.length;
  if (rows === 0) return [];
  const cols = cost[0]!.length;
  for (const row of cost) {
    if (row.length !== cols) throw new RangeError('hungarian: cost matrix is ragged');
    for (const v of row) if (!Number.isFinite(v)) throw new RangeError('hungarian: costs must be finite');
  }
  if (cols === 0) return new Array<number>(rows).fill(-1);
  if (rows > cols) {
    // Solve the transpose (rows ≤ cols), then invert.
    const transposed = Array.from({ length: cols }, (_, j) => Array.from({ length: rows }, (_, i) => cost[i]![j]!));
    const colToRow = solve(transposed);
    const out = new Array<number>(rows).fill(-1);
    colToRow.forEach((i, j) => {
      out[i] = j;
    });
    return out;
  }
  return solve(cost);
}

/** rows ≤ cols. 1-indexed potentials formulation (e-maxx). */
function solve(a: readonly (readonly number[])[]): number[] {
  const n = a.length;
  const m = a[0]!.length;
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1); // p[j]: row matched to column j (1-indexed), 0 = none
  const way = new Int32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(m + 1).fill(Number.POSITIVE_INFINITY);
    const used = new Uint8Array(m + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = Number.POSITIVE_INFINITY;
      let j1 = 0;
      const row = a[i0 - 1]!;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = row[j - 1]! - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]!]! += delta;
          v[j]! -= delta;
        } else {
          minv[j]! -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const out = new Array<number>(n).fill(-1);
  for (let j = 1; j <= m; j++) if (p[j]! > 0) out[p[j]! - 1] = j - 1;
  return out;
}

export interface PreviousCentroids {
  /** Row-major k × dim, in the same vector space as the new centroids. */
  centroids: ArrayLike<number>;
  segmentIds: readonly string[];
  k: number;
  dim: number;
}

export interface AlignmentInput {
  newCentroids: ArrayLike<number>;
  k: number;
  dim: number;
  previous: PreviousCentroids | null;
  /**
   * Largest distance at which a new centroid may inherit an old id, in multiples of the previous model's
   * median nearest-centroid spacing (median over old centroids of the Euclidean distance to the nearest
   * other old centroid). 1.0 means "no farther than a typical neighbour is".
   */
  distanceCap: number;
  /** First number for brand-new ids (ids are never reused). */
  nextSegmentNumber: number;
}

export interface AlignmentMatch {
  newIndex: number;
  oldId: string;
  /** Euclidean distance between the new and the old centroid. */
  distance: number;
}

export interface AlignmentResult {
  /** Id of each new centroid, by new index. */
  segmentIds: string[];
  /** Previous ids with no successor in this model. */
  retiredSegmentIds: string[];
  nextSegmentNumber: number;
  matches: AlignmentMatch[];
}

/**
 * Gives each new centroid an id: the optimal one-to-one matching to the previous centroids, minimising the
 * total Euclidean distance, where a pair farther apart than the cap is not a match. This is solved exactly
 * by the Hungarian algorithm on cost min(distance, cap): leaving a pair unmatched costs the cap, so a
 * beyond-cap pair never displaces a within-cap one. Unmatched new centroids get fresh ids in new-index
 * order; unmatched old ids are retired. Without a previous model, or when the dimensions differ (e.g. the
 * embedding dimension changed), nothing matches. With a single previous centroid there is no spacing and
 * no cap applies.
 */
export function alignSegmentIds(input: AlignmentInput): AlignmentResult {
  const { newCentroids, k, dim, previous } = input;
  let next = Math.max(1, Math.floor(input.nextSegmentNumber));
  const ids: (string | null)[] = new Array<string | null>(k).fill(null);
  const matches: AlignmentMatch[] = [];
  const comparable = previous !== null && previous.dim === dim && previous.k > 0 && k > 0;

  if (comparable) {
    const old = previous.centroids;
    const spacing = medianNearestSpacing(old, previous.k, dim);
    const cap = Number.isFinite(spacing) && spacing > 0 ? input.distanceCap * spacing : Number.POSITIVE_INFINITY;
    const dist: number[][] = [];
    for (let a = 0; a < k; a++) {
      const row: number[] = [];
      for (let b = 0; b < previous.k; b++) row.push(euclidean(newCentroids, a, old, b, dim));
      dist.push(row);
    }
    const finiteCap = Number.isFinite(cap) ? cap : Math.max(1, ...dist.flat()) * 2;
    const assignment = hungarian(dist.map((row) => row.map((x) => Math.min(x, finiteCap))));
    assignment.forEach((b, a) => {
      if (b < 0) return;
      const distance = dist[a]![b]!;
      if (distance > cap) return;
      const oldId = previous.segmentIds[b]!;
      ids[a] = oldId;
      matches.push({ newIndex: a, oldId, distance });
    });
  }

  const segmentIds = ids.map((id) => id ?? segmentIdFor(next++));
  const kept = new Set(matches.map((m) => m.oldId));
  const retiredSegmentIds = previous ? previous.segmentIds.filter((id) => !kept.has(id)) : [];
  return { segmentIds, retiredSegmentIds, nextSegmentNumber: next, matches };
}

/**
 * Ids for centroids that descend from the previous ones (a warm-started fit: new centroid c was refined from previous
 * centroid `descent[c]`, both in the same space). A centroid keeps its ancestor's id while it stayed within the cap
 * (`distanceCap` × the previous centroids' median nearest spacing, as in `alignSegmentIds`); one that moved farther
 * has changed meaning: its ancestor's id is retired and it gets a fresh id, so an id never drifts to another group.
 * `descent[c] = -1` marks a centroid with no ancestor (fresh id). Previous ids no centroid kept are retired.
 */
export function alignByDescent(input: {
  newCentroids: ArrayLike<number>;
  k: number;
  dim: number;
  previous: PreviousCentroids;
  descent: readonly number[];
  distanceCap: number;
  nextSegmentNumber: number;
}): AlignmentResult {
  const { newCentroids, k, dim, previous, descent } = input;
  let next = Math.max(1, Math.floor(input.nextSegmentNumber));
  const spacing = medianNearestSpacing(previous.centroids, previous.k, dim);
  const cap = Number.isFinite(spacing) && spacing > 0 ? input.distanceCap * spacing : Number.POSITIVE_INFINITY;
  const ids: string[] = [];
  const matches: AlignmentMatch[] = [];
  const used = new Set<number>();
  for (let c = 0; c < k; c++) {
    const b = descent[c] ?? -1;
    const ok = b >= 0 && b < previous.k && previous.dim === dim && !used.has(b);
    const distance = ok ? euclidean(newCentroids, c, previous.centroids, b, dim) : Number.POSITIVE_INFINITY;
    if (ok && distance <= cap) {
      used.add(b);
      const oldId = previous.segmentIds[b]!;
      ids.push(oldId);
      matches.push({ newIndex: c, oldId, distance });
    } else {
      ids.push(segmentIdFor(next++));
    }
  }
  const kept = new Set(matches.map((m) => m.oldId));
  return {
    segmentIds: ids,
    retiredSegmentIds: previous.segmentIds.filter((id) => !kept.has(id)),
    nextSegmentNumber: next,
    matches,
  };
}

/** Median over centroids of the Euclidean distance to the nearest other centroid; NaN with fewer than 2. */
export function medianNearestSpacing(centroids: ArrayLike<number>, k: number, dim: number): number {
  if (k < 2) return Number.NaN;
  const nearest: number[] = [];
  for (let a = 0; a < k; a++) {
    let best = Number.POSITIVE_INFINITY;
    for (let b = 0; b < k; b++) if (b !== a) best = Math.min(best, euclidean(centroids, a, centroids, b, dim));
    nearest.push(best);
  }
  nearest.sort((x, y) => x - y);
  const mid = Math.floor(k / 2);
  return k % 2 === 1 ? nearest[mid]! : (nearest[mid - 1]! + nearest[mid]!) / 2;
}

function euclidean(x: ArrayLike<number>, a: number, y: ArrayLike<number>, b: number, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) {
    const diff = (x[a * dim + j] ?? 0) - (y[b * dim + j] ?? 0);
    s += diff * diff;
  }
  return Math.sqrt(s);
}
