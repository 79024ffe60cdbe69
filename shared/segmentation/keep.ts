/**
 * A night that keeps the model: the cheap checks FitModel makes before it fits anything. Tonight's sample is placed
 * with the active model (its own scaler and centroids), drift is measured against the model's training sample, and
 * each active segment must still hold together on tonight's sample: at least `minSegmentShare` of it, more than one
 * member, and a mean silhouette (on the same subsample fitSegmentation would draw) of at least
 * `continuity.minSegmentSilhouette`; the mean silhouette must not have fallen by more than
 * `continuity.minSilhouetteGain` below the model's own; the sample must be within `MAX_SAMPLE_CHANGE` of the size the
 * model was fitted on, and tonight's Lloyd step would move no centroid by more than `MAX_CENTROID_SHIFT` of the
 * median centroid spacing. When all of that holds and the model was fitted fewer than
 * `refitEveryNights` nights ago, the night keeps it: a new version identical in everything a customer's placement
 * depends on (centroids, ids, names, scaler, τ, value parameters, RFM breakpoints), so the model clocks do not move
 * and only customers due by time are re-evaluated. Otherwise fitSegmentation runs as before. Pure.
 */
import type { Settings } from '../config/settings';
import { DEFAULT_CONTINUITY, DEFAULT_DRIFT } from '../config/settings';
import { BEHAVIOUR_FEATURES } from '../domain/vector';
import { createRng } from '../util/rng';
import { measureDrift, type DriftReport } from './drift';
import { previousNearest, sameFeatureSpace, vectorOf, type SampleRow } from './fit';
import { pairwiseDistances, silhouetteByCluster, silhouetteFromDistances } from './metrics';
import type { SegmentationModel } from './model';
import { sampleIndices } from './sample';

const DAY_MS = 86_400_000;
/**
 * The largest relative change of the placeable sample since the fit that a kept night allows (10 %). In the default
 * simulated store (300 × 21) the placeable customers grow from 0 to ~260 in the week after the placement gate opens;
 * keeping the first model, fitted on the first few of them, for a week took planted-persona ARI from 0.915 to 0.62.
 */
export const MAX_SAMPLE_CHANGE = 0.1;
/**
 * The default of `recluster.keepMaxCentroidShift`: the largest move of a centroid that tonight's Lloyd step would make
 * (the mean of the customers the active model places in it, against the centroid), in units of the median distance
 * between the active centroids, that a kept night allows (5 %). In the default simulated store (300 × 21, a young store whose customers are still forming) it
 * was 0.12–0.23 every night, and keeping the model there for a week took planted-persona ARI from 0.915 to 0.62 and
 * the non-switcher moves from 0.008 to 0.049 per customer-night. The step itself would have re-placed 0–3 of ~230
 * customers a night; the harm came from the refits after kept nights: drift, measured against an older reference,
 * fired and refitted the scaler, and warm centroids that had fallen several steps behind retired their ids. On the
 * Online Retail replay with the dev stage's defaults (3-day half-lives, a gate of 8 events, ~100 placeable customers
 * in its first months) the step moves a centroid by 7–13 % of the spacing each night as well.
 */
export const MAX_CENTROID_SHIFT = 0.05;

export type KeepAssessment =
  | {
      keep: true;
      /** "no drift, refit in 3 nights". */
      reason: `no drift, ${string}`;
      drift: DriftReport;
      /** Mean silhouette of the active segments on tonight's subsample. */
      silhouette: number;
      nightsSinceFit: number;
    }
  | {
      keep: false;
      /** Why the night fits (for the log): "no active model", "refit due (7 nights since the fit)", "drift", … */
      why: string;
    };

export interface KeepInput {
  sample: readonly Pick<SampleRow, 'behaviour' | 'interest'>[];
  previous: SegmentationModel | null;
  settings: Settings['recluster'];
  embeddingDim: number;
  /** Tonight's asOf (ISO). */
  asOf: string;
}

/** Whether tonight can keep the active model (see the file header); cheapest checks first. */
export function assessKeep(input: KeepInput): KeepAssessment {
  const { sample, previous, settings, embeddingDim } = input;
  const refitEvery = settings.refitEveryNights ?? 1;
  if (!previous || previous.k < 2) return { keep: false, why: 'no active model' };
  if (refitEvery <= 1) return { keep: false, why: 'refit every night' };
  const reference = previous.driftReference;
  if (!reference?.asOf || !sameFeatureSpace(previous, embeddingDim) || !previous.placement)
    return { keep: false, why: 'active model not comparable' };
  const nightsSinceFit = Math.round((Date.parse(input.asOf) - Date.parse(reference.asOf)) / DAY_MS);
  if (!(nightsSinceFit < refitEvery)) return { keep: false, why: `refit due (${nightsSinceFit} nights since the fit)` };
  const n = sample.length;
  if (n < 2 * settings.kMin || sample.some((r) => r.behaviour.length !== BEHAVIOUR_FEATURES.length))
    return { keep: false, why: 'sample too small or malformed' };
  // A model fitted on a much smaller (or larger) sample than tonight's was fitted on another population, even when
  // the feature distributions agree: a young store's first model is fitted on the first few placeable customers.
  const fittedOn = reference.sampleSize;
  if (fittedOn === undefined || Math.abs(n / fittedOn - 1) > MAX_SAMPLE_CHANGE)
    return { keep: false, why: `sample ${n} against ${fittedOn ?? 'unknown'} at the fit` };

  const nearest = previousNearest(sample, previous);
  const drift = measureDrift({
    reference,
    referenceVersion: previous.version,
    behaviour: sample.map((r) => r.behaviour),
    labels: nearest.labels,
    d2: nearest.d2,
    thresholds: settings.drift ?? DEFAULT_DRIFT,
    asOf: input.asOf,
  });
  if (drift.detected) return { keep: false, why: 'drift' };

  const continuity = settings.continuity ?? DEFAULT_CONTINUITY;
  const k = previous.k;
  const sizes = new Array<number>(k).fill(0);
  for (const l of nearest.labels) sizes[l]! += 1;
  const small = sizes.findIndex((size) => size / n < settings.minSegmentShare || size <= 1);
  if (small >= 0) return { keep: false, why: `segment ${previous.segmentIds[small]} under the minimum share` };

  // How far tonight's Lloyd step would move the centroids, in units of the median distance between centroids.
  const dim = previous.dim;
  const sums = new Float64Array(k * dim);
  sample.forEach((row, i) => {
    const v = vectorOf(row, previous);
    const c = nearest.labels[i]!;
    for (let j = 0; j < dim; j++) sums[c * dim + j]! += v[j]!;
  });
  let shift = 0;
  for (let c = 0; c < k; c++) {
    let d = 0;
    for (let j = 0; j < dim; j++) d += (sums[c * dim + j]! / sizes[c]! - (previous.centroids[c * dim + j] ?? 0)) ** 2;
    shift = Math.max(shift, Math.sqrt(d));
  }
  const spacing: number[] = [];
  for (let a = 0; a < k; a++)
    for (let b = a + 1; b < k; b++) {
      let d = 0;
      for (let j = 0; j < dim; j++)
        d += ((previous.centroids[a * dim + j] ?? 0) - (previous.centroids[b * dim + j] ?? 0)) ** 2;
      spacing.push(Math.sqrt(d));
    }
  spacing.sort((x, y) => x - y);
  const relativeShift = shift / (spacing[Math.floor(spacing.length / 2)] || 1);
  if (relativeShift > (settings.keepMaxCentroidShift ?? MAX_CENTROID_SHIFT))
    return {
      keep: false,
      why: `tonight's Lloyd step would move a centroid ${relativeShift.toFixed(3)} of the spacing`,
    };

  // The same subsample fitSegmentation draws (its rng's first use), in the active model's space.
  const s = Math.min(n, settings.silhouetteSubsample);
  const subRows = sampleIndices(n, s, createRng(settings.seed)).sort((x, y) => x - y);
  const subData = new Float64Array(s * dim);
  subRows.forEach((row, i) => subData.set(vectorOf(sample[row]!, previous), i * dim));
  const dist = pairwiseDistances(
    subData,
    dim,
    Array.from({ length: s }, (_, i) => i),
  );
  const subLabels = Int32Array.from(subRows, (row) => nearest.labels[row]!);
  const bySegment = silhouetteByCluster(dist, s, subLabels, k);
  const loose = bySegment.findIndex((v) => !(v >= continuity.minSegmentSilhouette));
  if (loose >= 0) return { keep: false, why: `segment ${previous.segmentIds[loose]} no longer holds together` };
  const silhouette = silhouetteFromDistances(dist, s, subLabels, k);
  if (silhouette < previous.quality.silhouette - continuity.minSilhouetteGain)
    return { keep: false, why: `silhouette fell to ${silhouette.toFixed(3)}` };

  const left = refitEvery - nightsSinceFit;
  return {
    keep: true,
    reason: `no drift, refit in ${left} night${left === 1 ? '' : 's'}`,
    drift,
    silhouette,
    nightsSinceFit,
  };
}

/**
 * The kept model as tonight's version: the active model with tonight's version, run and creation time, nothing
 * retired or renamed, its fitted quality (stability 1: it assigns exactly as the active model), its catalogue reused
 * (`provenance.cached`). Its placement (clocks) is set by the caller with placementOf, which finds nothing moved.
 */
export function keptModel(
  previous: SegmentationModel,
  tonight: { version: number; runId: string; createdAt: string },
): SegmentationModel {
  const { placement: _placement, ...rest } = previous;
  return {
    ...rest,
    ...tonight,
    retiredSegmentIds: [],
    renamedSegments: [],
    // The quality it was fitted with; its stability against the active model is 1 (the same assignment).
    quality: { ...previous.quality, stability: 1 },
    // Every narration is the previous model's, reused as it is.
    ...(previous.catalogue && {
      catalogue: previous.catalogue.map((e) => ({ ...e, provenance: { ...e.provenance, cached: true } })),
    }),
  };
}
