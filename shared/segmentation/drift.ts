/**
 * Drift monitoring of the nightly sample against the active model's training sample. Pure; no I/O.
 *
 * - Population stability index (PSI) of a distribution against a reference, over the reference's bins:
 *   PSI = Σ_b (a_b − e_b) · ln(a_b / e_b), a_b and e_b the actual and expected shares of bin b, each floored at
 *   PSI_FLOOR so an empty bin does not make it infinite. Siddiqi, "Credit Risk Scorecards" (2006), ch. 8:
 *   < 0.1 no significant shift, 0.1–0.25 moderate, > 0.25 significant.
 * - Behaviour features are binned at the reference's quantiles (deciles by default). Ties collapse edges, so a feature
 *   that is 0 for most customers has fewer, wider bins; values equal to an edge fall in the bin below it.
 * - Segment shares: the sample assigned to the active model's nearest centroid, against the shares the model was
 *   trained with.
 * - Distance inflation: mean squared distance to the nearest centroid tonight / the same on the training sample.
 */

import { NEVER_ORDERED_RECENCY_DAYS } from '../domain/vector';

/**
 * Behaviour features that every customer's clock moves, night after night, without any change in behaviour (in
 * behaviourRow's units): tenure (log1p of days) and recency (days, capped). The reference's bin edges are aged by
 * the nights elapsed since it was taken, so that a population that only grew one night older shows no drift.
 */
export const CLOCK_FEATURES: Readonly<Record<string, (value: number, days: number) => number>> = {
  tenureDays: (v, days) => Math.log1p(Math.expm1(v) + days),
  recencyDays: (v, days) => Math.min(v + days, NEVER_ORDERED_RECENCY_DAYS),
};

/** Share floor in the PSI sum (a bin with no member counts as this share). */
export const PSI_FLOOR = 1e-4;

/** One behaviour feature's reference distribution: `edges` are the upper bounds of every bin but the last. */
export interface FeatureReference {
  feature: string;
  edges: number[];
  /** Share of the training sample in each of the edges.length + 1 bins; sums to 1. */
  expected: number[];
}

/**
 * What a model keeps of its training sample to measure drift against (a few hundred numbers, not the sample).
 * Distances are squared Euclidean distances in the model's own vector space.
 */
export interface DriftReference {
  features: FeatureReference[];
  /** Share of the training sample nearest each centroid, by segment index. */
  shares: number[];
  /** Mean over the training sample of d² to the nearest centroid. */
  meanDistance2: number;
  /** The `farQuantile` quantile of d² to the nearest centroid on the training sample. */
  farDistance2: number;
  farQuantile: number;
  /** Instant the training sample's features were evaluated at (ISO); CLOCK_FEATURES are aged from it. */
  asOf?: string;
  /** Rows of the training sample (absent on older models): a night whose sample grew or shrank materially refits. */
  sampleSize?: number;
}

export interface DriftThresholds {
  featurePsi: number;
  sharePsi: number;
  distanceInflation: number;
}

export interface DriftReport {
  /** Version of the model whose training sample is the reference. */
  referenceVersion: number;
  /** PSI of every behaviour feature, in feature order. */
  features: { feature: string; psi: number }[];
  /** Features with PSI above the threshold, highest first. */
  drifting: { feature: string; psi: number }[];
  sharePsi: number;
  /** Tonight's mean d² to the nearest active centroid divided by the training sample's (1 = no change). */
  distanceInflation: number;
  /** Share of tonight's sample farther than the model's farDistance2 from every centroid (expected 1 − farQuantile). */
  farShare: number;
  detected: boolean;
  /** Which thresholds were crossed: 'features', 'shares', 'distance'. */
  reasons: ('features' | 'shares' | 'distance')[];
}

/** PSI of `actual` against `expected` shares (same length, each summing to ~1). Throws on a length mismatch. */
export function populationStabilityIndex(expected: readonly number[], actual: readonly number[]): number {
  if (expected.length !== actual.length) throw new RangeError('psi: expected and actual differ in length');
  let psi = 0;
  for (let b = 0; b < expected.length; b++) {
    const e = Math.max(PSI_FLOOR, expected[b]!);
    const a = Math.max(PSI_FLOOR, actual[b]!);
    psi += (a - e) * Math.log(a / e);
  }
  return psi;
}

/** z of the standard normal at 0.999: one night in a thousand per feature, about one in a hundred over ~15 features. */
const Z_999 = 3.090_232_306;

/**
 * The 0.999 quantile of χ² with ν degrees of freedom, by the Wilson–Hilferty approximation
 * ν·(1 − 2/(9ν) + z·√(2/(9ν)))³ (Wilson & Hilferty 1931; within 2 % of the exact value for ν ≥ 3).
 */
export function chiSquare999(nu: number): number {
  if (!(nu > 0)) return 0;
  const c = 2 / (9 * nu);
  return nu * (1 - c + Z_999 * Math.sqrt(c)) ** 3;
}

/**
 * The PSI that sampling alone exceeds once in a thousand nights: with no drift at all, the PSI of a sample of n
 * against a reference of m over B bins is about χ²(B − 1)·(1/n + 1/m) (PSI ≈ Σ (a − e)²/e for small differences,
 * Pearson's statistic over the effective sample size). On a store's first nights, with a few dozen placeable
 * customers, that alone is above the 0.25 of Siddiqi's table: a feature drifts only when its PSI exceeds both. `m`
 * absent (a reference from before sample sizes were kept): the reference counts as exact.
 */
export function psiNoiseFloor(bins: number, n: number, m: number | undefined): number {
  if (!(n > 0) || bins < 2) return Number.POSITIVE_INFINITY;
  return chiSquare999(bins - 1) * (1 / n + (m && m > 0 ? 1 / m : 0));
}

/**
 * Shares with add-½ smoothing of the counts ((c + ½)/(n + ½B), Jeffreys' prior): an empty bin of a small sample
 * then weighs what its count can tell, instead of the 1e-4 floor's ln(1e-4/e), which alone exceeds 0.25. A sample of
 * thousands is unchanged to within 1e-3.
 */
function smoothedShares(shares: readonly number[], n: number): number[] {
  const b = shares.length;
  return shares.map((s) => (s * n + 0.5) / (n + 0.5 * b));
}

/** PSI of tonight's shares (a sample of n) against the reference's (a sample of m, or exact), both smoothed. */
function samplePsi(expected: readonly number[], m: number | undefined, actual: readonly number[], n: number): number {
  const e = m && m > 0 ? smoothedShares(expected, m) : expected;
  return populationStabilityIndex(e, n > 0 ? smoothedShares(actual, n) : actual);
}

/** Bin index of x under upper-bound edges (x ≤ edges[b] → bin b; beyond the last edge → edges.length). */
export function binOf(x: number, edges: readonly number[]): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x <= edges[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Shares of `values` in the bins of `edges` (non-finite values are left out). */
export function binShares(values: readonly number[], edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  let n = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    counts[binOf(v, edges)]! += 1;
    n += 1;
  }
  return counts.map((c) => (n > 0 ? c / n : 0));
}

/** Quantile by linear interpolation between order statistics (type 7, as numpy's default) of sorted values. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** A feature's reference: interior quantile edges (deduplicated) and the training shares in the resulting bins. */
export function featureReference(feature: string, values: readonly number[], bins: number): FeatureReference {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  const edges: number[] = [];
  for (let b = 1; b < bins; b++) {
    const e = quantileSorted(finite, b / bins);
    if (Number.isFinite(e) && (edges.length === 0 || e > edges[edges.length - 1]!)) edges.push(e);
  }
  return { feature, edges, expected: binShares(finite, edges) };
}

/**
 * The reference a freshly fitted model keeps: per-feature bins of the raw behaviour rows, segment shares, and the
 * mean and `farQuantile` quantile of d² to the nearest centroid (`d2` and `labels` over the same rows).
 */
export function buildDriftReference(input: {
  featureNames: readonly string[];
  behaviour: readonly (readonly number[])[];
  labels: ArrayLike<number>;
  d2: ArrayLike<number>;
  k: number;
  bins: number;
  farQuantile: number;
  asOf?: string;
}): DriftReference {
  const { featureNames, behaviour, labels, d2, k } = input;
  const features = featureNames.map((name, j) =>
    featureReference(
      name,
      behaviour.map((row) => row[j] ?? Number.NaN),
      input.bins,
    ),
  );
  const n = labels.length;
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) counts[labels[i]!]! += 1;
  const sorted = Float64Array.from(d2).sort();
  const mean = n > 0 ? sorted.reduce((s, v) => s + v, 0) / n : 0;
  return {
    features,
    shares: counts.map((c) => (n > 0 ? c / n : 0)),
    meanDistance2: mean,
    farDistance2: n > 0 ? quantileSorted(sorted, input.farQuantile) : Number.POSITIVE_INFINITY,
    farQuantile: input.farQuantile,
    ...(input.asOf === undefined ? {} : { asOf: input.asOf }),
    sampleSize: n,
  };
}

/**
 * Measures tonight's sample against a reference. `behaviour` are tonight's raw behaviour rows (reference feature
 * order), `labels`/`d2` tonight's nearest-centroid assignment under the reference model (its own space).
 * Drift is detected when any feature's PSI exceeds `featurePsi`, the share PSI exceeds `sharePsi` (each PSI also
 * above what sampling alone gives at these sample sizes, `psiNoiseFloor`), or the distance inflation exceeds
 * `distanceInflation`.
 */
export function measureDrift(input: {
  reference: DriftReference;
  referenceVersion: number;
  behaviour: readonly (readonly number[])[];
  labels: ArrayLike<number>;
  d2: ArrayLike<number>;
  thresholds: DriftThresholds;
  /** Instant tonight's features were evaluated at (ISO); with the reference's asOf, it ages CLOCK_FEATURES. */
  asOf?: string;
}): DriftReport {
  const { reference, behaviour, labels, d2, thresholds } = input;
  const elapsedDays =
    input.asOf !== undefined && reference.asOf !== undefined
      ? Math.max(0, (Date.parse(input.asOf) - Date.parse(reference.asOf)) / 86_400_000)
      : 0;
  const bars: number[] = [];
  const features = reference.features.map((f, j) => {
    const age = CLOCK_FEATURES[f.feature];
    const edges = age && elapsedDays > 0 ? f.edges.map((e) => age(e, elapsedDays)) : f.edges;
    const values = behaviour.map((row) => row[j] ?? Number.NaN);
    const finite = values.filter(Number.isFinite).length;
    bars.push(Math.max(thresholds.featurePsi, psiNoiseFloor(edges.length + 1, finite, reference.sampleSize)));
    return { feature: f.feature, psi: samplePsi(f.expected, reference.sampleSize, binShares(values, edges), finite) };
  });
  const k = reference.shares.length;
  const counts = new Array<number>(k).fill(0);
  const n = labels.length;
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    if (l >= 0 && l < k) counts[l]! += 1;
  }
  const sharePsi =
    n > 0 && k > 0
      ? samplePsi(
          reference.shares,
          reference.sampleSize,
          counts.map((c) => c / n),
          n,
        )
      : 0;
  let sum = 0;
  let far = 0;
  for (let i = 0; i < n; i++) {
    sum += d2[i]!;
    if (d2[i]! > reference.farDistance2) far += 1;
  }
  const distanceInflation = reference.meanDistance2 > 0 && n > 0 ? sum / n / reference.meanDistance2 : 1;
  const drifting = features.filter((f, j) => f.psi > bars[j]!).sort((a, b) => b.psi - a.psi);
  const reasons: DriftReport['reasons'] = [];
  if (drifting.length) reasons.push('features');
  if (sharePsi > Math.max(thresholds.sharePsi, psiNoiseFloor(k, n, reference.sampleSize))) reasons.push('shares');
  if (distanceInflation > thresholds.distanceInflation) reasons.push('distance');
  return {
    referenceVersion: input.referenceVersion,
    features,
    drifting,
    sharePsi,
    distanceInflation,
    farShare: n > 0 ? far / n : 0,
    detected: reasons.length > 0,
    reasons,
  };
}
