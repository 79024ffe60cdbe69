/** Nearest-centroid assignment with soft probabilities, and the hysteresis rule that stops flapping. */

export interface Centroids {
  k: number;
  dim: number;
  /** Row-major k × dim. */
  centroids: ArrayLike<number>;
  segmentIds: readonly string[];
  tau: number;
}

export interface SoftAssignment {
  /** Index of the nearest centroid. */
  nearest: number;
  /** Squared distance to every centroid. */
  d2: number[];
  /** softmax(-d²/τ), summing to 1. */
  probabilities: number[];
}

export function squaredDistances(vector: ArrayLike<number>, model: Centroids): number[] {
  const out: number[] = [];
  for (let c = 0; c < model.k; c++) {
    let s = 0;
    const base = c * model.dim;
    for (let j = 0; j < model.dim; j++) {
      const diff = (vector[j] ?? 0) - (model.centroids[base + j] ?? 0);
      s += diff * diff;
    }
    out.push(s);
  }
  return out;
}

export function softAssign(vector: ArrayLike<number>, model: Centroids): SoftAssignment {
  const d2 = squaredDistances(vector, model);
  let nearest = 0;
  for (let c = 1; c < d2.length; c++) if (d2[c]! < d2[nearest]!) nearest = c;
  const tau = model.tau > 0 ? model.tau : 1;
  const min = d2[nearest]!;
  // Shift by the minimum so exp() cannot underflow to all zeros.
  const weights = d2.map((d) => Math.exp(-(d - min) / tau));
  const total = weights.reduce((s, w) => s + w, 0);
  return { nearest, d2, probabilities: weights.map((w) => w / total) };
}

export interface CurrentAssignment {
  segmentId: string;
  modelVersion: number;
  since: string;
}

export interface HysteresisSettings {
  margin: number;
  minDwellHours: number;
  /** The margin when a new model version decides (the nightly re-cluster); absent: `margin`. */
  reclusterMargin?: number;
}

/** The margin a nightly re-cluster places customers with (`reclusterMargin`, else `margin`). */
export function reclusterMarginOf(settings: HysteresisSettings): number {
  return settings.reclusterMargin ?? settings.margin;
}

export type AssignmentDecision =
  | { move: false; segmentId: string; why: 'same_segment' | 'within_margin' | 'dwell' }
  | {
      move: true;
      segmentId: string;
      from: string | null;
      why: 'first_assignment' | 'closer' | 'new_model' | 'retired';
    };

/**
 * Decides whether a customer moves. Within one model version: only if d²(new) < (1 − margin)·d²(current)
 * and the customer has dwelt at least minDwellHours. A customer whose segment was retired always moves.
 *
 * When the nightly run places a customer with a new model version (`newModelDecides`), the customer keeps its
 * aligned segment unless the new model's nearest segment is closer by the re-cluster margin (`reclusterMargin`,
 * default `settings.reclusterMargin`, then `margin`): d²(nearest) < (1 − margin)·d²(aligned). The dwell time does not apply (a re-cluster is not a
 * burst of events), and the move is reported as `new_model`. Without this, every night's small centroid shifts
 * would move every customer near a boundary back and forth.
 * The real-time path applies hysteresis across versions too: a profile still carrying an older version is one the
 * nightly run left in the same (aligned) segment, or one it has not reached yet.
 */
export function assignWithHysteresis(input: {
  current: CurrentAssignment | null;
  soft: SoftAssignment;
  model: Centroids & { version: number };
  now: Date;
  settings: HysteresisSettings;
  newModelDecides?: boolean;
  /** Margin at re-cluster (0 ≤ m < 1); defaults to settings.reclusterMargin, then settings.margin. */
  reclusterMargin?: number;
}): AssignmentDecision {
  const { current, soft, model, now, settings } = input;
  const nearestId = model.segmentIds[soft.nearest]!;
  if (!current) return { move: true, segmentId: nearestId, from: null, why: 'first_assignment' };
  if (current.segmentId === nearestId) return { move: false, segmentId: nearestId, why: 'same_segment' };
  const currentIndex = model.segmentIds.indexOf(current.segmentId);
  if (currentIndex < 0) return { move: true, segmentId: nearestId, from: current.segmentId, why: 'retired' };
  const dNew = soft.d2[soft.nearest]!;
  const dCur = soft.d2[currentIndex]!;
  if (input.newModelDecides && current.modelVersion !== model.version) {
    const margin = input.reclusterMargin ?? reclusterMarginOf(settings);
    if (!(dNew < (1 - margin) * dCur)) return { move: false, segmentId: current.segmentId, why: 'within_margin' };
    return { move: true, segmentId: nearestId, from: current.segmentId, why: 'new_model' };
  }
  const dwellHours = (now.getTime() - Date.parse(current.since)) / 3_600_000;
  if (!(dNew < (1 - settings.margin) * dCur)) {
    return { move: false, segmentId: current.segmentId, why: 'within_margin' };
  }
  if (dwellHours < settings.minDwellHours) return { move: false, segmentId: current.segmentId, why: 'dwell' };
  return { move: true, segmentId: nearestId, from: current.segmentId, why: 'closer' };
}

/** The top-n segment probabilities, highest first. */
export function topProbabilities(
  soft: SoftAssignment,
  segmentIds: readonly string[],
  n = 3,
): { segmentId: string; p: number }[] {
  return soft.probabilities
    .map((p, i) => ({ segmentId: segmentIds[i]!, p }))
    .sort((a, b) => b.p - a.p || (a.segmentId < b.segmentId ? -1 : 1))
    .slice(0, n);
}
