import fc from 'fast-check';
import {
  alignByDescent,
  alignSegmentIds,
  hungarian,
  medianNearestSpacing,
  type PreviousCentroids,
} from '../../../shared/segmentation/align';

function totalCost(cost: number[][], assignment: number[]): number {
  return assignment.reduce((s, j, i) => (j >= 0 ? s + cost[i]![j]! : s), 0);
}

/** Minimum total cost over all injective assignments of min(r, c) pairs, by brute force. */
function bruteForce(cost: number[][]): number {
  const r = cost.length;
  const c = cost[0]?.length ?? 0;
  const pairs = Math.min(r, c);
  let best = Number.POSITIVE_INFINITY;
  const usedCols = new Set<number>();
  const go = (i: number, matched: number, acc: number) => {
    if (matched === pairs) {
      best = Math.min(best, acc);
      return;
    }
    if (i === r || r - i < pairs - matched) return;
    if (r > c) go(i + 1, matched, acc); // row i left out
    for (let j = 0; j < c; j++) {
      if (usedCols.has(j)) continue;
      usedCols.add(j);
      go(i + 1, matched + 1, acc + cost[i]![j]!);
      usedCols.delete(j);
    }
  };
  go(0, 0, 0);
  return best;
}

describe('hungarian', () => {
  const cases = [
    { name: 'empty', cost: [] as number[][], expected: [] as number[] },
    { name: '1×1', cost: [[4]], expected: [0] },
    {
      name: 'classic 3×3',
      cost: [
        [4, 1, 3],
        [2, 0, 5],
        [3, 2, 2],
      ],
      expected: [1, 0, 2],
    },
    {
      name: 'identity is optimal',
      cost: [
        [0, 9, 9],
        [9, 0, 9],
        [9, 9, 0],
      ],
      expected: [0, 1, 2],
    },
    {
      name: 'anti-diagonal',
      cost: [
        [9, 9, 0],
        [9, 0, 9],
        [0, 9, 9],
      ],
      expected: [2, 1, 0],
    },
    {
      name: 'wide (2×3): one column left over',
      cost: [
        [5, 1, 9],
        [1, 5, 9],
      ],
      expected: [1, 0],
    },
    {
      name: 'tall (3×2): one row left out',
      cost: [
        [5, 1],
        [9, 9],
        [1, 5],
      ],
      expected: [1, -1, 0],
    },
    {
      name: 'negative costs',
      cost: [
        [-1, -5],
        [-5, -1],
      ],
      expected: [1, 0],
    },
  ];
  test.each(cases)('$name', ({ cost, expected }) => {
    expect(hungarian(cost)).toEqual(expected);
  });

  test('rejects ragged and non-finite input', () => {
    expect(() => hungarian([[1, 2], [3]])).toThrow(RangeError);
    expect(() => hungarian([[1, Number.NaN]])).toThrow(RangeError);
  });

  test('property: optimal (matches brute force) and one-to-one, rectangular included', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((r) =>
          fc.integer({ min: 1, max: 6 }).chain((c) =>
            fc.array(fc.array(fc.integer({ min: -20, max: 50 }), { minLength: c, maxLength: c }), {
              minLength: r,
              maxLength: r,
            }),
          ),
        ),
        (cost) => {
          const a = hungarian(cost);
          const used = a.filter((j) => j >= 0);
          expect(new Set(used).size).toBe(used.length);
          expect(used.length).toBe(Math.min(cost.length, cost[0]!.length));
          expect(totalCost(cost, a)).toBe(bruteForce(cost));
        },
      ),
    );
  });
});

const previous: PreviousCentroids = {
  // 4 centroids in 2-d on a 10×10 square: nearest spacing 10 for each, so the median spacing is 10.
  centroids: [0, 0, 10, 0, 0, 10, 10, 10],
  segmentIds: ['seg-001', 'seg-002', 'seg-003', 'seg-004'],
  k: 4,
  dim: 2,
};

describe('alignSegmentIds', () => {
  test('median nearest-centroid spacing', () => {
    expect(medianNearestSpacing(previous.centroids, 4, 2)).toBe(10);
    expect(medianNearestSpacing([0, 0, 1, 0, 5, 0], 3, 2)).toBe(1); // nearest: 1, 1, 4
    expect(medianNearestSpacing([0, 0], 1, 2)).toBeNaN();
  });

  const cases = [
    {
      name: 'no previous model: fresh ids from nextSegmentNumber',
      input: { newCentroids: [0, 0, 5, 5], k: 2, dim: 2, previous: null, distanceCap: 1, nextSegmentNumber: 7 },
      expected: { segmentIds: ['seg-007', 'seg-008'], retiredSegmentIds: [], nextSegmentNumber: 9 },
    },
    {
      name: 'slightly moved centroids keep their ids',
      input: {
        newCentroids: [0.5, 0, 10, 0.5, 0, 9.5, 9.5, 10],
        k: 4,
        dim: 2,
        previous,
        distanceCap: 1,
        nextSegmentNumber: 5,
      },
      expected: {
        segmentIds: ['seg-001', 'seg-002', 'seg-003', 'seg-004'],
        retiredSegmentIds: [],
        nextSegmentNumber: 5,
      },
    },
    {
      name: 'a centroid moved beyond the cap (cap × spacing = 10) gets a new id; the old one retires',
      input: {
        newCentroids: [0, 0, 10, 0, 0, 10, 30, 30],
        k: 4,
        dim: 2,
        previous,
        distanceCap: 1,
        nextSegmentNumber: 5,
      },
      expected: {
        segmentIds: ['seg-001', 'seg-002', 'seg-003', 'seg-005'],
        retiredSegmentIds: ['seg-004'],
        nextSegmentNumber: 6,
      },
    },
    {
      name: 'a larger cap lets the same move keep its id',
      input: {
        newCentroids: [0, 0, 10, 0, 0, 10, 30, 30],
        k: 4,
        dim: 2,
        previous,
        distanceCap: 3,
        nextSegmentNumber: 5,
      },
      expected: {
        segmentIds: ['seg-001', 'seg-002', 'seg-003', 'seg-004'],
        retiredSegmentIds: [],
        nextSegmentNumber: 5,
      },
    },
    {
      name: 'k grows: the extra centroid gets a new id',
      input: {
        newCentroids: [0, 0, 10, 0, 0, 10, 10, 10, 5, 5],
        k: 5,
        dim: 2,
        previous,
        distanceCap: 0.5,
        nextSegmentNumber: 5,
      },
      expected: {
        segmentIds: ['seg-001', 'seg-002', 'seg-003', 'seg-004', 'seg-005'],
        retiredSegmentIds: [],
        nextSegmentNumber: 6,
      },
    },
    {
      name: 'k shrinks: the unmatched previous id retires',
      input: { newCentroids: [10, 10, 0, 0.2], k: 2, dim: 2, previous, distanceCap: 1, nextSegmentNumber: 5 },
      expected: { segmentIds: ['seg-004', 'seg-001'], retiredSegmentIds: ['seg-002', 'seg-003'], nextSegmentNumber: 5 },
    },
    {
      name: 'dimension changed (embedding dimension): nothing matches, everything retires',
      input: { newCentroids: [0, 0, 0, 10, 0, 0], k: 2, dim: 3, previous, distanceCap: 100, nextSegmentNumber: 5 },
      expected: {
        segmentIds: ['seg-005', 'seg-006'],
        retiredSegmentIds: ['seg-001', 'seg-002', 'seg-003', 'seg-004'],
        nextSegmentNumber: 7,
      },
    },
    {
      name: 'a within-cap match is not displaced by a cheaper-looking beyond-cap pairing',
      // New A at (4, 0) is within the cap (5) of seg-001 only; new B at (-5.5, 0) is beyond the cap of everything.
      input: { newCentroids: [4, 0, -5.5, 0], k: 2, dim: 2, previous, distanceCap: 0.5, nextSegmentNumber: 5 },
      expected: {
        segmentIds: ['seg-001', 'seg-005'],
        retiredSegmentIds: ['seg-002', 'seg-003', 'seg-004'],
        nextSegmentNumber: 6,
      },
    },
  ];
  test.each(cases)('$name', ({ input, expected }) => {
    const result = alignSegmentIds(input);
    expect(result).toMatchObject(expected);
    for (const m of result.matches) expect(result.segmentIds[m.newIndex]).toBe(m.oldId);
  });

  test('matches report the distance', () => {
    const result = alignSegmentIds({
      newCentroids: [3, 4],
      k: 1,
      dim: 2,
      previous,
      distanceCap: 1,
      nextSegmentNumber: 5,
    });
    expect(result.matches).toEqual([{ newIndex: 0, oldId: 'seg-001', distance: 5 }]);
  });

  test('a single previous centroid has no spacing: no cap applies', () => {
    const one: PreviousCentroids = { centroids: [0, 0], segmentIds: ['seg-003'], k: 1, dim: 2 };
    const result = alignSegmentIds({
      newCentroids: [1000, 1000],
      k: 1,
      dim: 2,
      previous: one,
      distanceCap: 1,
      nextSegmentNumber: 4,
    });
    expect(result.segmentIds).toEqual(['seg-003']);
  });

  test('property: invariant to the order of the new centroids', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true })), {
          minLength: 4,
          maxLength: 4,
        }),
        fc.shuffledSubarray([0, 1, 2, 3], { minLength: 4, maxLength: 4 }),
        (jitter, perm) => {
          // Each previous centroid, moved by less than the cap, in a shuffled order.
          const moved = [0, 1, 2, 3].map((c) => [
            previous.centroids[2 * c]! + jitter[c]![0],
            previous.centroids[2 * c + 1]! + jitter[c]![1],
          ]);
          const shuffled = perm.flatMap((c) => moved[c]!);
          const result = alignSegmentIds({
            newCentroids: shuffled,
            k: 4,
            dim: 2,
            previous,
            distanceCap: 1,
            nextSegmentNumber: 5,
          });
          expect(result.segmentIds).toEqual(perm.map((c) => previous.segmentIds[c]!));
          expect(result.retiredSegmentIds).toEqual([]);
          expect(result.nextSegmentNumber).toBe(5);
        },
      ),
    );
  });

  test('property: ids are unique, and every previous id is either kept or retired', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 7 })
          .chain((k) =>
            fc.tuple(
              fc.constant(k),
              fc.array(fc.double({ min: -20, max: 30, noNaN: true }), { minLength: 2 * k, maxLength: 2 * k }),
            ),
          ),
        fc.double({ min: 0.1, max: 3, noNaN: true }),
        ([k, centroids], cap) => {
          const result = alignSegmentIds({
            newCentroids: centroids,
            k,
            dim: 2,
            previous,
            distanceCap: cap,
            nextSegmentNumber: 5,
          });
          expect(new Set(result.segmentIds).size).toBe(k);
          const kept = previous.segmentIds.filter((id) => result.segmentIds.includes(id));
          expect([...kept, ...result.retiredSegmentIds].sort()).toEqual([...previous.segmentIds].sort());
          for (const m of result.matches) expect(m.distance).toBeLessThanOrEqual(cap * 10 + 1e-9);
        },
      ),
    );
  });
});

describe('alignByDescent (warm-started centroids keep their ancestor id within the cap)', () => {
  // Previous centroids on a line at 0, 10, 20: median nearest spacing 10, cap 1 → 10.
  const previous: PreviousCentroids = {
    centroids: [0, 10, 20],
    segmentIds: ['seg-001', 'seg-002', 'seg-003'],
    k: 3,
    dim: 1,
  };
  test.each([
    {
      name: 'every centroid moved a little: every id kept',
      centroids: [1, 11, 19],
      expected: { segmentIds: ['seg-001', 'seg-002', 'seg-003'], retiredSegmentIds: [], nextSegmentNumber: 4 },
    },
    {
      name: 'a centroid that moved beyond the cap changed meaning: its id retires and it gets a fresh one',
      centroids: [1, 11, 45],
      expected: { segmentIds: ['seg-001', 'seg-002', 'seg-004'], retiredSegmentIds: ['seg-003'], nextSegmentNumber: 5 },
    },
    {
      name: 'two centroids that crossed keep their own lineage, not the nearest id',
      centroids: [1, 16, 14],
      expected: { segmentIds: ['seg-001', 'seg-002', 'seg-003'], retiredSegmentIds: [], nextSegmentNumber: 4 },
    },
  ])('$name', ({ centroids, expected }) => {
    const r = alignByDescent({
      newCentroids: centroids,
      k: 3,
      dim: 1,
      previous,
      descent: [0, 1, 2],
      distanceCap: 1,
      nextSegmentNumber: 4,
    });
    expect(r).toMatchObject(expected);
  });
});
