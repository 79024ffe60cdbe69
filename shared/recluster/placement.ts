import type { ModelPlacement, SegmentationModel } from '../segmentation/model';
import { bgnbdPAlive, clampValueRow, type ValueRow } from '../value';

const sameNumbers = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * How tonight's model places customers, against the ACTIVE model it was started from. Everyone is re-placed (`full`)
 * when there is no comparable active model, when the vector space changed (scaler, weights or features: a drift
 * refit), or when the segment ids changed (a fresh fit adopted, k changed, a segment retired or added). Otherwise two
 * clocks advance: the centroid clock by the largest centroid shift, the value clock by the largest P(alive) change
 * of the refitted value model over the sample's value rows. A customer whose `breakAt` and `valueBreakAt` the clocks
 * have not reached cannot change segment or stage (see `nightDecision`). Two clocks, not one: on Online Retail the
 * value model moves P(alive) by ~0.03 a night while the centroids move by ~0.005, and one clock advanced by the
 * larger would re-place boundary customers for a centroid shift that did not happen. The P(alive) shift is measured
 * on the sample (every customer while the store is smaller than `sampleSize`). Pure.
 */
export function placementOf(
  previous: SegmentationModel | null,
  model: SegmentationModel,
  valueRows: readonly ValueRow[],
): ModelPlacement {
  const clock = previous?.placement?.clock ?? 0;
  const valueClock = previous?.placement?.valueClock ?? 0;
  const full = (reason: string): ModelPlacement => ({
    clock,
    valueClock,
    full: reason,
    centroidShift: null,
    pAliveShift: null,
  });
  if (!previous) return full('no active model');
  if (!previous.placement || previous.placement.valueClock === undefined)
    return full('active model has no placement clock');
  if (
    previous.dim !== model.dim ||
    !sameNumbers(previous.scaler.center, model.scaler.center) ||
    !sameNumbers(previous.scaler.scale, model.scaler.scale) ||
    previous.weights.behaviour !== model.weights.behaviour ||
    previous.weights.interest !== model.weights.interest ||
    previous.featureNames.join() !== model.featureNames.join()
  )
    return full('vector space changed');
  if ([...previous.segmentIds].sort().join() !== [...model.segmentIds].sort().join()) return full('segments changed');
  let centroidShift = 0;
  model.segmentIds.forEach((id, c) => {
    const p = previous.segmentIds.indexOf(id);
    let s = 0;
    for (let j = 0; j < model.dim; j++) {
      const d = (model.centroids[c * model.dim + j] ?? 0) - (previous.centroids[p * model.dim + j] ?? 0);
      s += d * d;
    }
    centroidShift = Math.max(centroidShift, Math.sqrt(s));
  });
  let pAliveShift = 0;
  if (JSON.stringify(previous.value.bgnbd) !== JSON.stringify(model.value.bgnbd)) {
    for (const row of valueRows) {
      if (row.x === 0 && row.T === 0) continue;
      const r = clampValueRow(row);
      const shift = bgnbdPAlive(model.value.bgnbd, r.x, r.tx, r.T) - bgnbdPAlive(previous.value.bgnbd, r.x, r.tx, r.T);
      pAliveShift = Math.max(pAliveShift, Math.abs(shift));
    }
  }
  return {
    clock: clock + centroidShift,
    valueClock: valueClock + pAliveShift,
    full: null,
    centroidShift,
    pAliveShift,
  };
}
