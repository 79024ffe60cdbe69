/**
 * FitModel: the pure core of the nightly re-clustering. Sample in, model version out:
 * drift against the active model → scaler (kept, or refitted on drift) → vectors → warm start from the active
 * centroids (dropping segments that no longer hold together) → k searched on the subsample → a fresh k-means++ fit
 * only when continuity or drift calls for one, adopted only when clearly better → id alignment (descent for the warm
 * start, Hungarian for a fresh fit, both with the distance cap) → τ → profiles and names → quality → gate.
 * Deterministic for a given settings.seed; no I/O.
 */
import type { Settings } from '../config/settings';
import type { ModelQuality } from '../contracts/outbound';
import { softAssign } from '../domain/assign';
import { BEHAVIOUR_FEATURES, buildVector } from '../domain/vector';
import { createRng } from '../util/rng';
import { DEFAULT_CONTINUITY, DEFAULT_DRIFT } from '../config/settings';
import { alignByDescent, alignSegmentIds, type PreviousCentroids } from './align';
import { buildDriftReference, measureDrift, type DriftReport } from './drift';
import { MIN_SEGMENTS, qualityGate, type GateResult } from './gate';
import { assignNearest, distinctRowCount, kmeans, lloyd } from './kmeans';
import {
  adjustedRandIndex,
  daviesBouldin,
  pairwiseDistances,
  silhouetteByCluster,
  silhouetteFromDistances,
} from './metrics';
import type { RenamedSegment } from '../contracts/catalogue';
import type { RobustScaler, SegmentationModel, StoredValueModel } from './model';
import { keepNameIfStable, namingPopulation, describeSegment, ruleName, uniqueNames } from './naming';
import { buildProfiles } from './profiles';
import { sampleIndices } from './sample';
import { fitRobustScaler } from './scaler';

export interface SampleRow {
  customerId: string;
  /** behaviourRow output, in BEHAVIOUR_FEATURES order. */
  behaviour: number[];
  /** L2-normalised interest vector, or null when the customer has none yet. */
  interest: number[] | null;
  /** Natural-unit features for profiles (see PROFILE_FEATURES). */
  natural: Record<string, number>;
  topCategories: string[];
  channelShares: Record<string, number>;
  traits: { clv: number; churnRisk: number } | null;
}

export interface FitInput {
  sample: SampleRow[];
  previous: SegmentationModel | null;
  settings: Settings['recluster'];
  weights: { behaviour: number; interest: number };
  embeddingDim: number;
  version: number;
  runId: string;
  createdAt: string;
  /** Instant the sample's features were evaluated at (the run's asOf); defaults to createdAt. Drift ages clocks from it. */
  asOf?: string;
  value: StoredValueModel;
}

export interface FitDiagnostics {
  /** Silhouette (on the subsample) and inertia of the k-means fit on the subsample, for each candidate k. */
  kScores: { k: number; silhouette: number; inertia: number }[];
  /** How many small segments were merged into a neighbour. */
  merged: number;
  /**
   * Pairs merged because customers could not be told apart in them (`mergeAmbiguousSegments`), in the chosen
   * partition: the share of their members within the hysteresis margin of both centroids.
   */
  ambiguousMerges: { share: number }[];
  /** Which candidate won (warm start or fresh fit) and by how much; null when the fit was refused. */
  continuity: ContinuityDecision | null;
  /** Tonight's sample against the active model's training sample; null without a comparable active model. */
  drift: DriftReport | null;
}

/**
 * The continuity decision: `warm` (the active centroids refined on tonight's sample) or `fresh` (k chosen again,
 * k-means++), why, and the silhouettes (on the same subsample) that decided it. `gain` = fresh − warm.
 */
export interface ContinuityDecision {
  /** `kept`: the night kept the active model as it is (shared/segmentation/keep.ts); nothing was fitted. */
  chosen: 'warm' | 'fresh' | 'kept';
  reason:
    | 'no_previous'
    | 'incomparable'
    | 'warm_kept'
    | 'silhouette_gain'
    | 'segment_broke'
    | 'drift'
    /** A kept night: "no drift, refit in 3 nights". */
    | `no drift, ${string}`;
  /** Warm-started segments dropped because they no longer held together (their ids retire; the warm start goes on). */
  droppedSegments: string[];
  gain: number | null;
  /** Whether a fresh fit was made on the whole sample (k itself is searched on the subsample every night). */
  searched: boolean;
  warmSilhouette: number | null;
  freshSilhouette: number | null;
  freshK: number | null;
  /**
   * Warm-started segments that no longer hold together (share under the minimum, or silhouette under the floor) and
   * could not be dropped (fewer than 2 would remain): the fresh fit then wins.
   */
  brokenSegments: string[];
}

export interface FitResult {
  model: SegmentationModel;
  /** Per sample row, the index into model.segmentIds (−1 for every row when the fit was refused). */
  labels: Int32Array;
  gate: GateResult;
  diagnostics: FitDiagnostics;
}

const SCALER_CLIP = 5;

/**
 * Fits a new segmentation model on the sample.
 *
 * - Drift (shared/segmentation/drift.ts) of tonight's sample against the active model's `driftReference`: PSI of each
 *   behaviour feature and of the segment shares, inflation of the mean d² to the nearest centroid.
 * - The active model's scaler is kept (the space is part of a segment's meaning) unless there is no comparable active
 *   model or drift was detected; then it is refitted on the sample.
 * - Warm start: the active centroids (carried into tonight's space) refined by Lloyd. A warm segment under
 *   `minSegmentShare` or with a mean silhouette under `continuity.minSegmentSilhouette` is dropped and Lloyd runs
 *   again from the others (its id retires), as long as 2 segments remain.
 * - k is searched every night in [kMin, kMax] by the mean silhouette of a k-means fit on one uniform subsample of
 *   `silhouetteSubsample` rows (pairwise distances computed once and reused for every k and every candidate). A fresh
 *   fit on the whole sample (`nInit` k-means++ initialisations) is made only without a warm start, on drift, after a
 *   dropped or unrepairable segment, when the warm silhouette fell by more than `continuity.minSilhouetteGain`, or
 *   when the subsample's best k beats the warm start by that gain. See `chooseCandidate` for which one wins;
 *   `diagnostics.continuity` says which did, why and by how much.
 * - Segments holding less than `minSegmentShare` of the sample are merged, smallest first, into the segment
 *   with the nearest centroid (size-weighted mean centroid); k may then end below kMin, never below 2.
 *   Labels are finally the nearest-centroid assignment, exactly what AssignShard will compute.
 * - A fresh fit's segments are ordered by size (largest first) before ids are aligned, so fresh ids are numbered by
 *   size; it is aligned by the Hungarian algorithm. A warm start keeps each centroid's ancestor id unless it moved
 *   beyond the alignment cap (`alignByDescent`): then the id retires and the segment gets a fresh one.
 * - Alignment compares centroids in the new vector space: the previous centroids are carried over through the
 *   inverse of the previous scaler and weights, then the new ones. A different feature list or embedding
 *   dimension means a different space: nothing matches and every previous id is retired.
 * - The model keeps a `driftReference` of its training sample and `farDistance2` (the `drift.farQuantile` quantile of
 *   d² to the nearest centroid), and lists `renamedSegments` (kept ids whose name changed).
 * - τ (the soft-assignment temperature) is the median over the sample of the squared distance to the nearest
 *   centroid, so a typical member's runner-up probability reflects how much farther the runner-up is in units
 *   of a typical within-segment spread. It falls back to the mean, then to 1, so it is always > 0.
 * - Quality: silhouette on the subsample, Davies–Bouldin on the whole sample, stability = ARI between the
 *   previous model's nearest-centroid assignment of the sample (its own scaler and centroids) and the new labels.
 * - A sample smaller than 2·kMin, or with malformed behaviour rows, yields an empty model (k = 0) and a failed
 *   gate with the reason; it does not throw.
 */
export function fitSegmentation(input: FitInput): FitResult {
  const { sample, previous, settings, weights, embeddingDim } = input;
  const n = sample.length;
  const b = BEHAVIOUR_FEATURES.length;
  const dim = b + embeddingDim;

  const refusal = validateInput(input);
  if (refusal) return refused(input, refusal);

  const rng = createRng(settings.seed);
  const continuity = settings.continuity ?? DEFAULT_CONTINUITY;
  const warmIterations = continuity.warmIterations ?? DEFAULT_CONTINUITY.warmIterations ?? 1;
  const driftSettings = settings.drift ?? DEFAULT_DRIFT;
  // Drift: tonight's sample against the active model's training sample, in the active model's own space.
  const hasPrevious = previous !== null && previous.k > 0;
  const previousNearestOfSample = hasPrevious ? previousNearest(sample, previous) : null;
  const drift =
    hasPrevious && previous.driftReference && sameFeatureSpace(previous, embeddingDim) && previousNearestOfSample
      ? measureDrift({
          reference: previous.driftReference,
          referenceVersion: previous.version,
          behaviour: sample.map((r) => r.behaviour),
          labels: previousNearestOfSample.labels,
          d2: previousNearestOfSample.d2,
          thresholds: driftSettings,
          asOf: input.asOf ?? input.createdAt,
        })
      : null;

  // The space is part of a model's meaning: a warm start keeps the active model's scaler, so a quartile that flips on
  // a near-binary feature (a channel share) cannot redraw every segment overnight. The scaler is refitted on tonight's
  // sample when there is no comparable active model, or when drift says tonight's population is another one.
  const keepScaler =
    hasPrevious &&
    sameFeatureSpace(previous, embeddingDim) &&
    previous.scaler.center.length === BEHAVIOUR_FEATURES.length &&
    drift?.detected !== true;
  const scaler = keepScaler
    ? previous.scaler
    : fitRobustScaler(
        sample.map((r) => r.behaviour),
        SCALER_CLIP,
      );
  const space = { scaler, weights, embeddingDim };
  const data = new Float64Array(n * dim);
  sample.forEach((row, i) => data.set(vectorOf(row, space), i * dim));

  // One subsample and its distance matrix serve every silhouette: the warm start, each candidate k, the final model.
  const s = Math.min(n, settings.silhouetteSubsample);
  const subRows = sampleIndices(n, s, rng).sort((x, y) => x - y);
  const subData = new Float64Array(s * dim);
  subRows.forEach((row, i) => subData.set(data.subarray(row * dim, row * dim + dim), i * dim));
  const dist = pairwiseDistances(
    subData,
    dim,
    Array.from({ length: s }, (_, i) => i),
  );
  // k never exceeds the distinct points: k-means cannot make more distinct segments than that (issue #9 D13).
  const distinct = distinctRowCount(subData, s, dim, settings.kMax);
  if (distinct < MIN_SEGMENTS) return refused(input, `${distinct} distinct customer vector(s) < ${MIN_SEGMENTS}`);
  const silhouetteOf = (labels: Int32Array, k: number) =>
    silhouetteFromDistances(
      dist,
      s,
      Int32Array.from(subRows, (row) => labels[row]!),
      k,
    );

  // Warm start: the active centroids carried into tonight's space, refined by `warmIterations` Lloyd steps (default 1)
  // on tonight's sample. A segment that no longer holds together (under the minimum share, or a mean silhouette under
  // the floor) is dropped and Lloyd runs again from the others: its id retires, its members move, and every other
  // segment keeps its id.
  const carried = hasPrevious ? previousInSpace(previous, space) : null;
  let warm = carried && carried.k > 0 && carried.k <= n ? warmStart(data, n, dim, carried, warmIterations) : null;
  let warmSilhouette: number | null = null;
  let brokenSegments: string[] = [];
  let droppedSegments: string[] = [];
  let warmMerges: { share: number }[] = [];
  let freshMerges: { share: number }[] = [];
  const margin = continuity.ambiguityMargin ?? DEFAULT_CONTINUITY.ambiguityMargin ?? 0.15;
  const maxAmbiguousShare = continuity.maxAmbiguousShare ?? DEFAULT_CONTINUITY.maxAmbiguousShare ?? 1;
  if (warm && carried) {
    const broken = brokenOf(warm);
    brokenSegments = broken.map((c) => carried.segmentIds[warm!.descent[c]!]!);
    if (broken.length > 0 && warm.k - broken.length >= 2) {
      droppedSegments = brokenSegments;
      const keep = Array.from({ length: warm.k }, (_, c) => c).filter((c) => !broken.includes(c));
      warm = warmStart(data, n, dim, carried, warmIterations, keep);
      brokenSegments = [];
    }
    const unambiguous = mergeAmbiguousSegments(data, n, dim, warm, margin, maxAmbiguousShare);
    if (unambiguous.partition.d2) {
      droppedSegments = [...droppedSegments, ...unambiguous.removedDescent.map((c) => carried.segmentIds[c]!)];
      warm = { ...unambiguous.partition, d2: unambiguous.partition.d2, descent: unambiguous.descent };
      warmMerges = unambiguous.merges;
    }
    warmSilhouette = silhouetteOf(warm.labels, warm.k);
  }
  function brokenOf(p: Partition): number[] {
    const bySegment = silhouetteByCluster(
      dist,
      s,
      Int32Array.from(subRows, (row) => p.labels[row]!),
      p.k,
    );
    const sizes = new Array<number>(p.k).fill(0);
    for (const l of p.labels) sizes[l]! += 1;
    return Array.from({ length: p.k }, (_, c) => c).filter(
      (c) =>
        sizes[c]! / n < settings.minSegmentShare ||
        !(bySegment[c]! >= continuity.minSegmentSilhouette) ||
        (p.k > 1 && sizes[c]! <= 1),
    );
  }

  // k is searched every night on the subsample alone (its cost is bounded by silhouetteSubsample, not the sample);
  // a fresh fit on the whole sample is made only when continuity or drift calls for one: no warm start, a warm
  // segment that no longer holds together, drift, a warm silhouette that fell by more than the gain threshold, or a
  // subsample fit of another k that beats the warm start by more than the gain threshold.
  const kScores: FitDiagnostics['kScores'] = [];
  const kHigh = Math.min(Math.max(settings.kMin, Math.min(settings.kMax, Math.floor(s / 2))), distinct);
  const kLow = Math.min(settings.kMin, kHigh);
  let bestK = kLow;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (let k = kLow; k <= kHigh; k++) {
    const fit = kmeans(subData, s, dim, { k, seed: settings.seed + k, nInit: settings.nInit });
    // Scored as it would be kept: segments customers cannot be told apart in merged first (a k-means that splits one
    // broad group in two, then merged, often beats k − 1 fitted directly, which joins two groups instead).
    const kept = mergeAmbiguousSegments(subData, s, dim, fit, margin, maxAmbiguousShare).partition;
    const score = silhouetteFromDistances(dist, s, kept.labels, kept.k);
    kScores.push({ k, silhouette: score, inertia: fit.inertia });
    if (score > bestScore) {
      bestScore = score;
      bestK = k;
    }
  }
  const degraded =
    warmSilhouette !== null &&
    previous !== null &&
    warmSilhouette < previous.quality.silhouette - continuity.minSilhouetteGain;
  const promising = warmSilhouette !== null && bestScore - warmSilhouette > continuity.minSilhouetteGain;
  const search =
    !warm ||
    brokenSegments.length > 0 ||
    droppedSegments.length > 0 ||
    drift?.detected === true ||
    degraded ||
    promising;
  let freshFit: Partition | null = null;
  let freshSilhouette: number | null = null;
  if (search) {
    const final = kmeans(data, n, dim, { k: bestK, seed: settings.seed, nInit: settings.nInit });
    const small = mergeSmallSegments(data, n, dim, final.centroids, final.labels, bestK, settings.minSegmentShare);
    const unambiguous = mergeAmbiguousSegments(data, n, dim, small, margin, maxAmbiguousShare);
    freshMerges = unambiguous.merges;
    const { d2: mergedD2 } = unambiguous.partition;
    freshFit = orderBySize(
      mergedD2 ? { ...unambiguous.partition, d2: mergedD2, merged: small.merged + freshMerges.length } : small,
      dim,
    );
    freshSilhouette = silhouetteOf(freshFit.labels, freshFit.k);
  }

  const decision = chooseCandidate({
    warm: warm !== null,
    warmSilhouette,
    freshSilhouette,
    brokenSegments,
    drift: drift?.detected === true,
    incomparable: hasPrevious && (carried === null || carried.k === 0),
    minSilhouetteGain: continuity.minSilhouetteGain,
  });
  const chosen: Partition = decision.chosen === 'warm' ? warm! : freshFit!;
  const { centroids, labels, d2, k } = chosen;

  const alignment =
    decision.chosen === 'warm' && carried
      ? alignByDescent({
          newCentroids: centroids,
          k,
          dim,
          previous: carried,
          descent: warm!.descent,
          distanceCap: settings.alignmentDistanceCap,
          nextSegmentNumber: previous?.nextSegmentNumber ?? 1,
        })
      : alignSegmentIds({
          newCentroids: centroids,
          k,
          dim,
          previous: carried,
          distanceCap: settings.alignmentDistanceCap,
          nextSegmentNumber: previous?.nextSegmentNumber ?? 1,
        });
  const segmentIds = alignment.segmentIds;
  const merged = { merged: decision.chosen === 'warm' ? 0 : (freshFit?.merged ?? 0) };

  const tau = temperature(d2);
  const driftReference = buildDriftReference({
    featureNames: BEHAVIOUR_FEATURES,
    behaviour: sample.map((r) => r.behaviour),
    labels,
    d2,
    k,
    bins: driftSettings.bins,
    farQuantile: driftSettings.farQuantile,
    asOf: input.asOf ?? input.createdAt,
  });

  // Profiles and names; an aligned segment that barely changed keeps its previous name.
  const profiles = buildProfiles(sample, labels, segmentIds);
  const population = namingPopulation(sample);
  const kept = new Array<string | null>(k).fill(null);
  if (previous) {
    for (const m of alignment.matches) {
      const at = previous.segmentIds.indexOf(m.oldId);
      const previousName = previous.names[at];
      const previousProfile = previous.profiles.find((p) => p.segmentId === m.oldId);
      const profile = profiles[m.newIndex];
      if (
        previousName !== undefined &&
        previousProfile &&
        profile &&
        keepNameIfStable(previousName, previousProfile, profile)
      ) {
        kept[m.newIndex] = previousName;
      }
    }
  }
  const fresh = profiles.flatMap((p, i) =>
    kept[i] === null
      ? [{ i, name: ruleName(describeSegment(p, population)), size: p.size, segmentId: p.segmentId }]
      : [],
  );
  const freshNames = uniqueNames(
    fresh,
    kept.filter((x): x is string => x !== null),
  );
  fresh.forEach((f, j) => {
    kept[f.i] = freshNames[j]!;
  });
  const names = kept.map((x) => x ?? '');
  profiles.forEach((p, i) => {
    p.name = names[i]!;
  });

  const subLabels = Int32Array.from(subRows, (row) => labels[row]!);
  const quality: ModelQuality = {
    silhouette: silhouetteFromDistances(dist, s, subLabels, k),
    daviesBouldin: daviesBouldin(data, n, dim, labels, centroids, k),
    stability: previousNearestOfSample ? adjustedRandIndex(previousNearestOfSample.labels, labels) : null,
  };
  const gate = qualityGate(quality, settings.quality, hasPrevious, hasPrevious ? previous.quality : null, k);

  const model: SegmentationModel = {
    version: input.version,
    runId: input.runId,
    createdAt: input.createdAt,
    featureNames: [...BEHAVIOUR_FEATURES],
    scaler,
    weights: { ...weights },
    embeddingDim,
    dim,
    k,
    centroids: Array.from(centroids),
    segmentIds,
    names,
    tau,
    profiles,
    quality,
    retiredSegmentIds: alignment.retiredSegmentIds,
    renamedSegments: renamedSegments(previous, segmentIds, names),
    farDistance2: driftReference.farDistance2,
    driftReference,
    nextSegmentNumber: alignment.nextSegmentNumber,
    value: input.value,
  };
  return {
    model,
    labels,
    gate,
    diagnostics: {
      kScores,
      merged: merged.merged,
      ambiguousMerges: decision.chosen === 'warm' ? warmMerges : freshMerges,
      continuity: {
        ...decision,
        searched: search,
        warmSilhouette,
        freshSilhouette,
        freshK: freshFit?.k ?? null,
        brokenSegments,
        droppedSegments,
      },
      drift,
    },
  };
}

function validateInput(input: FitInput): string | null {
  const { sample, settings, embeddingDim } = input;
  const b = BEHAVIOUR_FEATURES.length;
  if (!Number.isInteger(embeddingDim) || embeddingDim < 0)
    return `embeddingDim must be a non-negative integer, got ${embeddingDim}`;
  if (sample.length < 2 * settings.kMin)
    return `sample too small: ${sample.length} placeable customers < 2·kMin = ${2 * settings.kMin}`;
  const bad = sample.findIndex((r) => r.behaviour.length !== b);
  if (bad >= 0) return `behaviour row ${bad} has ${sample[bad]!.behaviour.length} values, expected ${b}`;
  return null;
}

function refused(input: FitInput, reason: string): FitResult {
  const model: SegmentationModel = {
    version: input.version,
    runId: input.runId,
    createdAt: input.createdAt,
    featureNames: [...BEHAVIOUR_FEATURES],
    scaler: { center: [], scale: [], clip: SCALER_CLIP },
    weights: { ...input.weights },
    embeddingDim: input.embeddingDim,
    dim: BEHAVIOUR_FEATURES.length + input.embeddingDim,
    k: 0,
    centroids: [],
    segmentIds: [],
    names: [],
    tau: 1,
    profiles: [],
    quality: { silhouette: 0, daviesBouldin: 0, stability: null },
    retiredSegmentIds: [],
    nextSegmentNumber: input.previous?.nextSegmentNumber ?? 1,
    value: input.value,
  };
  return {
    model,
    labels: new Int32Array(input.sample.length).fill(-1),
    gate: { passed: false, reasons: [reason] },
    diagnostics: { kScores: [], merged: 0, ambiguousMerges: [], continuity: null, drift: null },
  };
}

export type VectorSpace = {
  scaler: RobustScaler;
  weights: { behaviour: number; interest: number };
  embeddingDim: number;
};

/** buildVector, robust to a non-finite behaviour value (taken as the median) or a malformed interest (ignored). */
export function vectorOf(row: Pick<SampleRow, 'behaviour' | 'interest'>, space: VectorSpace): Float64Array {
  const behaviour = row.behaviour.map((v, j) => (Number.isFinite(v) ? v : (space.scaler.center[j] ?? 0)));
  const interest = row.interest && row.interest.every(Number.isFinite) ? row.interest : null;
  return buildVector(behaviour, interest, space);
}

interface Partition {
  k: number;
  centroids: Float64Array;
  labels: Int32Array;
  d2: Float64Array;
  merged: number;
}

/**
 * Merges, smallest first, every segment under minShare of the rows into the segment with the nearest
 * centroid (the merged centroid is the size-weighted mean, i.e. the mean of the union), keeping k ≥ 2.
 * Then relabels by nearest centroid, dropping any segment that ends up empty.
 */
function mergeSmallSegments(
  data: Float64Array,
  n: number,
  dim: number,
  initialCentroids: Float64Array,
  initialLabels: Int32Array,
  initialK: number,
  minShare: number,
): Partition {
  const cents: Float64Array[] = Array.from({ length: initialK }, (_, c) =>
    initialCentroids.slice(c * dim, c * dim + dim),
  );
  const sizes = new Array<number>(initialK).fill(0);
  for (const l of initialLabels) sizes[l]! += 1;
  let merged = 0;
  while (cents.length > 2) {
    let small = -1;
    for (let c = 0; c < cents.length; c++) {
      if (sizes[c]! / n < minShare && (small < 0 || sizes[c]! < sizes[small]!)) small = c;
    }
    if (small < 0) break;
    let target = -1;
    let best = Number.POSITIVE_INFINITY;
    for (let c = 0; c < cents.length; c++) {
      if (c === small) continue;
      const dd = sq(cents[small]!, cents[c]!);
      if (dd < best) {
        best = dd;
        target = c;
      }
    }
    const ws = sizes[small]!;
    const wt = sizes[target]!;
    const into = cents[target]!;
    const from = cents[small]!;
    if (ws + wt > 0) for (let j = 0; j < dim; j++) into[j] = (wt * into[j]! + ws * from[j]!) / (wt + ws);
    sizes[target] = wt + ws;
    cents.splice(small, 1);
    sizes.splice(small, 1);
    merged += 1;
  }

  for (;;) {
    const k = cents.length;
    const flat = new Float64Array(k * dim);
    cents.forEach((c, i) => flat.set(c, i * dim));
    const { labels, d2 } = assignNearest(data, n, dim, flat, k);
    const counts = new Array<number>(k).fill(0);
    for (const l of labels) counts[l]! += 1;
    const empty = counts.findIndex((x) => x === 0);
    if (empty < 0 || k <= 1) return { k, centroids: flat, labels, d2, merged };
    cents.splice(empty, 1);
  }
}

/**
 * Merges segments that customers cannot be told apart in. For each pair (a, b), the ambiguous share is the share of
 * their members (rows labelled a or b) that sit within `margin` (continuity.ambiguityMargin) of the other centroid:
 * d²(own) > (1 − margin)·d²(other). Such a customer crosses between a and b on noise alone (the hysteresis rule
 * of shared/domain/assign.ts cannot hold it), and the two segments' profiles are near copies. While the largest share
 * exceeds `maxShare` and more than 2 segments remain, that pair is merged: the larger keeps its place (and its
 * descent: a warm start's survivor keeps its ancestor's id), the centroid becomes the size-weighted mean, and every
 * row is relabelled by its nearest centroid. O(n·k·dim) a pass. Returns the partition, the descent of the kept
 * centroids, the descent indexes merged away, and each merge's share.
 */
export function mergeAmbiguousSegments(
  data: Float64Array,
  n: number,
  dim: number,
  start: Pick<Partition, 'k' | 'centroids' | 'labels'> & { merged?: number; descent?: readonly number[] },
  margin: number,
  maxShare: number,
): {
  /** The merged partition (`start` itself, with d² to the nearest centroid, when nothing was merged). */
  partition: Pick<Partition, 'k' | 'centroids' | 'labels'> & { d2: Float64Array | null; merged: number };
  descent: number[];
  removedDescent: number[];
  merges: { share: number }[];
} {
  let p: Pick<Partition, 'k' | 'centroids' | 'labels'> & { d2: Float64Array | null; merged: number } = {
    k: start.k,
    centroids: start.centroids,
    labels: start.labels,
    d2: null,
    merged: start.merged ?? 0,
  };
  let descent = start.descent ? [...start.descent] : Array.from({ length: start.k }, (_, c) => c);
  const removedDescent: number[] = [];
  const merges: { share: number }[] = [];
  const keepRatio = 1 - margin;
  while (p.k > 2 && maxShare < 1) {
    const k = p.k;
    const sizes = new Array<number>(k).fill(0);
    const ambiguous = new Float64Array(k * k);
    const d2 = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      const own = p.labels[i]!;
      sizes[own]! += 1;
      for (let c = 0; c < k; c++) {
        let s = 0;
        for (let j = 0; j < dim; j++) {
          const diff = data[i * dim + j]! - p.centroids[c * dim + j]!;
          s += diff * diff;
        }
        d2[c] = s;
      }
      for (let c = 0; c < k; c++) {
        if (c !== own && d2[own]! > keepRatio * d2[c]!) ambiguous[Math.min(own, c) * k + Math.max(own, c)]! += 1;
      }
    }
    let best = -1;
    let bestShare = maxShare;
    for (let a = 0; a < k; a++) {
      for (let b = a + 1; b < k; b++) {
        const members = sizes[a]! + sizes[b]!;
        const share = members > 0 ? ambiguous[a * k + b]! / members : 0;
        if (share > bestShare) {
          bestShare = share;
          best = a * k + b;
        }
      }
    }
    if (best < 0) break;
    const [a, b] = [Math.floor(best / k), best % k];
    const [keep, drop] = sizes[a]! >= sizes[b]! ? [a, b] : [b, a];
    const wk = sizes[keep]!;
    const wd = sizes[drop]!;
    const centroids = new Float64Array((k - 1) * dim);
    for (let c = 0, out = 0; c < k; c++) {
      if (c === drop) continue;
      for (let j = 0; j < dim; j++) {
        const v = p.centroids[c * dim + j]!;
        centroids[out * dim + j] =
          c === keep && wk + wd > 0 ? (wk * v + wd * p.centroids[drop * dim + j]!) / (wk + wd) : v;
      }
      out += 1;
    }
    removedDescent.push(descent[drop]!);
    descent = descent.filter((_, c) => c !== drop);
    const { labels, d2: nearest } = assignNearest(data, n, dim, centroids, k - 1);
    p = { k: k - 1, centroids, labels, d2: nearest, merged: p.merged };
    merges.push({ share: bestShare });
  }
  return { partition: p, descent, removedDescent, merges };
}

/** Renumbers segments by size, largest first (ties by original index), so fresh ids follow size. */
function orderBySize(p: Partition, dim: number): Partition {
  const sizes = new Array<number>(p.k).fill(0);
  for (const l of p.labels) sizes[l]! += 1;
  const order = Array.from({ length: p.k }, (_, c) => c).sort((a, b) => sizes[b]! - sizes[a]! || a - b);
  const rank = new Int32Array(p.k);
  order.forEach((c, r) => {
    rank[c] = r;
  });
  const centroids = new Float64Array(p.k * dim);
  order.forEach((c, r) => centroids.set(p.centroids.subarray(c * dim, c * dim + dim), r * dim));
  return { ...p, centroids, labels: p.labels.map((l) => rank[l]!) };
}

/**
 * The previous centroids expressed in the new vector space: behaviour block unweighted, unscaled with the
 * previous scaler and rescaled with the new one; interest block reweighted. Not comparable (different
 * features or dimension) → no centroid, so nothing can match and all previous ids retire.
 */
function previousInSpace(previous: SegmentationModel, space: VectorSpace): PreviousCentroids {
  const b = BEHAVIOUR_FEATURES.length;
  const sameFeatures =
    previous.featureNames.length === b &&
    previous.featureNames.every((f, j) => f === BEHAVIOUR_FEATURES[j]) &&
    previous.embeddingDim === space.embeddingDim;
  if (!sameFeatures || previous.k === 0)
    return { centroids: [], segmentIds: previous.segmentIds, k: 0, dim: previous.dim };
  const dim = b + space.embeddingDim;
  const wbOld = previous.weights.behaviour / Math.sqrt(b);
  const wbNew = space.weights.behaviour / Math.sqrt(b);
  const wiRatio = previous.weights.interest !== 0 ? space.weights.interest / previous.weights.interest : 0;
  const out = new Array<number>(previous.k * dim).fill(0);
  for (let c = 0; c < previous.k; c++) {
    for (let j = 0; j < b; j++) {
      const z = wbOld !== 0 ? (previous.centroids[c * previous.dim + j] ?? 0) / wbOld : 0;
      const raw = z * positive(previous.scaler.scale[j]) + (previous.scaler.center[j] ?? 0);
      out[c * dim + j] = (wbNew * (raw - (space.scaler.center[j] ?? 0))) / positive(space.scaler.scale[j]);
    }
    for (let j = b; j < dim; j++) out[c * dim + j] = wiRatio * (previous.centroids[c * previous.dim + j] ?? 0);
  }
  return { centroids: out, segmentIds: previous.segmentIds, k: previous.k, dim };
}

function positive(x: number | undefined): number {
  return x !== undefined && x > 0 ? x : 1;
}

/** The previous model's nearest-centroid labels and squared distances for the sample, in its own space. */
export function previousNearest(
  sample: readonly Pick<SampleRow, 'behaviour' | 'interest'>[],
  previous: SegmentationModel,
): { labels: Int32Array; d2: Float64Array } {
  const centroids = {
    k: previous.k,
    dim: previous.dim,
    centroids: previous.centroids,
    segmentIds: previous.segmentIds,
    tau: previous.tau,
  };
  const labels = new Int32Array(sample.length);
  const d2 = new Float64Array(sample.length);
  sample.forEach((row, i) => {
    const soft = softAssign(vectorOf(row, previous), centroids);
    labels[i] = soft.nearest;
    d2[i] = soft.d2[soft.nearest]!;
  });
  return { labels, d2 };
}

export function sameFeatureSpace(previous: SegmentationModel, embeddingDim: number): boolean {
  const b = BEHAVIOUR_FEATURES.length;
  return (
    previous.featureNames.length === b &&
    previous.featureNames.every((f, j) => f === BEHAVIOUR_FEATURES[j]) &&
    previous.embeddingDim === embeddingDim
  );
}

/**
 * Lloyd from the carried centroids listed in `keep` (all by default; Hamerly-accelerated `lloyd`, k-means' own
 * convergence rule). Centroid i descends from carried centroid keep[i] (an emptied cluster is reseeded by the kernel
 * and will fail the alignment cap).
 */
function warmStart(
  data: Float64Array,
  n: number,
  dim: number,
  carried: PreviousCentroids,
  iterations: number,
  keep: readonly number[] = Array.from({ length: carried.k }, (_, c) => c),
): Partition & { descent: number[] } {
  const k = keep.length;
  const init = new Float64Array(k * dim);
  keep.forEach((c, i) => {
    for (let j = 0; j < dim; j++) init[i * dim + j] = carried.centroids[c * dim + j] ?? 0;
  });
  const fit = lloyd(data, n, dim, init, k, { maxIter: iterations });
  const { labels, d2 } = assignNearest(data, n, dim, fit.centroids, k);
  return { k, centroids: fit.centroids, labels, d2, merged: 0, descent: [...keep] };
}

/**
 * The continuity rule. No comparable active model → fresh. Otherwise the warm start is kept unless a fresh fit was
 * made and (a) a warm segment no longer holds together and cannot be dropped, or (b) its silhouette gain exceeds
 * `minSilhouetteGain` (reported as `drift` when drift called for the fresh fit). Drift makes the fresh fit happen;
 * it does not lower the bar.
 */
export function chooseCandidate(input: {
  warm: boolean;
  warmSilhouette: number | null;
  freshSilhouette: number | null;
  brokenSegments: readonly string[];
  drift: boolean;
  incomparable: boolean;
  minSilhouetteGain: number;
}): Pick<ContinuityDecision, 'chosen' | 'reason' | 'gain'> {
  const { warmSilhouette: w, freshSilhouette: f } = input;
  const gain = w !== null && f !== null ? f - w : null;
  if (!input.warm) return { chosen: 'fresh', reason: input.incomparable ? 'incomparable' : 'no_previous', gain };
  if (f === null || gain === null) return { chosen: 'warm', reason: 'warm_kept', gain };
  if (input.brokenSegments.length > 0) return { chosen: 'fresh', reason: 'segment_broke', gain };
  if (input.drift && gain > input.minSilhouetteGain) return { chosen: 'fresh', reason: 'drift', gain };
  if (gain > input.minSilhouetteGain) return { chosen: 'fresh', reason: 'silhouette_gain', gain };
  return { chosen: 'warm', reason: 'warm_kept', gain };
}

/**
 * Ids kept from the previous model whose name changed: {segmentId, oldName (the previous model's), newName}, in the
 * new model's segment order. Call again after renaming segments (e.g. LLM narration) so the published list is true.
 */
export function renamedSegments(
  previous: SegmentationModel | null,
  segmentIds: readonly string[],
  names: readonly string[],
): RenamedSegment[] {
  if (!previous) return [];
  const out: RenamedSegment[] = [];
  segmentIds.forEach((id, i) => {
    const at = previous.segmentIds.indexOf(id);
    const oldName = at >= 0 ? previous.names[at] : undefined;
    const newName = names[i]!;
    if (oldName !== undefined && oldName !== newName) out.push({ segmentId: id, oldName, newName });
  });
  return out;
}

/** Median squared distance to the nearest centroid; falls back to the mean, then 1, so τ > 0. */
function temperature(d2: Float64Array): number {
  const sorted = Float64Array.from(d2).sort();
  const n = sorted.length;
  if (n === 0) return 1;
  const median = n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  if (Number.isFinite(median) && median > 0) return median;
  const mean = sorted.reduce((s, v) => s + v, 0) / n;
  return Number.isFinite(mean) && mean > 0 ? mean : 1;
}

function sq(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += (a[j]! - b[j]!) ** 2;
  return s;
}
