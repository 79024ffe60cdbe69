/** QualityGate: a model that fails any floor is not published and the active model stays. */
import type { Settings } from '../config/settings';
import type { ModelQuality } from '../contracts/outbound';

export interface GateResult {
  passed: boolean;
  /** Machine-readable, one per failed check, e.g. "silhouette 0.02 < 0.05". */
  reasons: string[];
}

/** Rounds for messages: 4 significant digits, no trailing zeros. */
export function formatMetric(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return String(Number(x.toPrecision(4)));
}

/** A segmentation needs at least two segments: one segment says nothing about anybody. */
export const MIN_SEGMENTS = 2;

/**
 * Checks k ≥ MIN_SEGMENTS (reason `k 1 < 2`), silhouette ≥ minSilhouette, Davies–Bouldin ≤ maxDaviesBouldin and, only when there was a previous
 * model, stability ≥ minStability. A non-finite metric fails its check; a missing stability with a previous
 * model fails too.
 *
 * An unstable model must earn its churn: below the stability floor it still passes when its silhouette beats the
 * previous model's by at least `STABILITY_WAIVER_GAIN` (early in a store's life, when the population is still
 * forming, every new model moves many customers; without the waiver the first, weakest model would stay forever).
 */
export const STABILITY_WAIVER_GAIN = 0.02;

export function qualityGate(
  quality: ModelQuality,
  floors: Settings['recluster']['quality'],
  hasPrevious: boolean,
  previousQuality: ModelQuality | null,
  k: number,
): GateResult {
  const reasons: string[] = [];
  if (!(k >= MIN_SEGMENTS)) reasons.push(`k ${k} < ${MIN_SEGMENTS}`);
  const { silhouette, daviesBouldin, stability } = quality;
  if (!Number.isFinite(silhouette)) reasons.push(`silhouette ${formatMetric(silhouette)} is not finite`);
  else if (silhouette < floors.minSilhouette)
    reasons.push(`silhouette ${formatMetric(silhouette)} < ${formatMetric(floors.minSilhouette)}`);
  if (!Number.isFinite(daviesBouldin)) reasons.push(`daviesBouldin ${formatMetric(daviesBouldin)} is not finite`);
  else if (daviesBouldin > floors.maxDaviesBouldin) {
    reasons.push(`daviesBouldin ${formatMetric(daviesBouldin)} > ${formatMetric(floors.maxDaviesBouldin)}`);
  }
  if (hasPrevious) {
    if (stability === null) reasons.push('stability missing with a previous model');
    else if (!Number.isFinite(stability)) reasons.push(`stability ${formatMetric(stability)} is not finite`);
    else if (stability < floors.minStability) {
      const better =
        previousQuality !== null &&
        Number.isFinite(silhouette) &&
        silhouette >= previousQuality.silhouette + STABILITY_WAIVER_GAIN;
      if (!better) reasons.push(`stability ${formatMetric(stability)} < ${formatMetric(floors.minStability)}`);
    }
  }
  return { passed: reasons.length === 0, reasons };
}
