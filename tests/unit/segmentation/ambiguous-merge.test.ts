/**
 * Segments customers cannot be told apart in are merged (issue #10, 3,000 × 45: a k = 9 fit split the window shoppers
 * in two, and ~1,700 of 2,750 moves were customers crossing between the halves on noise). Distinct segments are not.
 */
import { mergeAmbiguousSegments } from '../../../shared/segmentation/fit';
import { createRng } from '../../../shared/util/rng';

const DIM = 6;

/** Three tight, distant blobs and one broad one; returns the rows and each row's blob. */
function blobs(perBlob: number) {
  const rng = createRng(3);
  const centres = [
    [0, 0, 0, 0, 0, 0],
    [12, 0, 0, 0, 0, 0],
    [0, 12, 0, 0, 0, 0],
    [0, 0, 12, 0, 0, 0],
  ];
  const spread = [0.4, 0.4, 0.4, 1.2];
  const data = new Float64Array(perBlob * centres.length * DIM);
  const blob: number[] = [];
  centres.forEach((c, b) => {
    for (let i = 0; i < perBlob; i++) {
      const row = blob.length;
      for (let j = 0; j < DIM; j++) data[row * DIM + j] = c[j]! + spread[b]! * rng.normal();
      blob.push(b);
    }
  });
  return { data, blob, n: blob.length };
}

/** The broad blob split in two along its first axis (as k-means with one segment too many does), as k = 5. */
function splitPartition(data: Float64Array, blob: number[], n: number) {
  const labels = Int32Array.from(blob, (b, i) => (b < 3 ? b : data[i * DIM + 1]! < 0 ? 3 : 4));
  const centroids = new Float64Array(5 * DIM);
  const counts = new Array<number>(5).fill(0);
  for (let i = 0; i < n; i++) {
    counts[labels[i]!]! += 1;
    for (let j = 0; j < DIM; j++) centroids[labels[i]! * DIM + j]! += data[i * DIM + j]!;
  }
  for (let c = 0; c < 5; c++) for (let j = 0; j < DIM; j++) centroids[c * DIM + j]! /= counts[c]!;
  return { k: 5, centroids, labels, descent: [10, 11, 12, 13, 14] };
}

describe('mergeAmbiguousSegments', () => {
  const { data, blob, n } = blobs(300);
  const split = splitPartition(data, blob, n);

  it('merges the two halves of one broad group, and nothing else', () => {
    const out = mergeAmbiguousSegments(data, n, DIM, split, 0.15, 0.2);
    expect(out.merges).toHaveLength(1);
    expect(out.merges[0]!.share).toBeGreaterThan(0.2);
    expect(out.partition.k).toBe(4);
    // Every blob is one segment again, and no two blobs share one.
    const segmentOf = new Map<number, Set<number>>();
    blob.forEach((b, i) => segmentOf.set(b, (segmentOf.get(b) ?? new Set()).add(out.partition.labels[i]!)));
    expect([...segmentOf.values()].map((s) => s.size)).toEqual([1, 1, 1, 1]);
    expect(new Set([...segmentOf.values()].map((s) => [...s][0])).size).toBe(4);
  });

  it('keeps the larger half in place with its descent; the other half is the one merged away', () => {
    const sizes = [3, 4].map((c) => split.labels.filter((l) => l === c).length);
    const [kept, gone] = sizes[0]! >= sizes[1]! ? [13, 14] : [14, 13];
    const out = mergeAmbiguousSegments(data, n, DIM, split, 0.15, 0.2);
    expect(out.descent).toEqual([10, 11, 12, kept]);
    expect(out.removedDescent).toEqual([gone]);
  });

  it('leaves distinct segments alone: the three tight blobs and the broad one fitted whole', () => {
    const whole = { k: 4, centroids: new Float64Array(4 * DIM), labels: Int32Array.from(blob) };
    const counts = [0, 0, 0, 0];
    blob.forEach((b, i) => {
      counts[b]! += 1;
      for (let j = 0; j < DIM; j++) whole.centroids[b * DIM + j]! += data[i * DIM + j]!;
    });
    for (let c = 0; c < 4; c++) for (let j = 0; j < DIM; j++) whole.centroids[c * DIM + j]! /= counts[c]!;
    const out = mergeAmbiguousSegments(data, n, DIM, whole, 0.15, 0.2);
    expect(out.merges).toEqual([]);
    expect(out.partition.d2).toBeNull();
    expect(out.partition.k).toBe(4);
  });

  it('merges nothing with maxAmbiguousShare 1 (off)', () => {
    expect(mergeAmbiguousSegments(data, n, DIM, split, 0.15, 1).merges).toEqual([]);
  });

  it('never goes below 2 segments', () => {
    const two = { k: 2, centroids: split.centroids.slice(3 * DIM, 5 * DIM), labels: new Int32Array(n) };
    expect(mergeAmbiguousSegments(data, n, DIM, two, 0.15, 0).partition.k).toBe(2);
  });
});
