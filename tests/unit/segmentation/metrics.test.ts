import fc from 'fast-check';
import { adjustedRandIndex, daviesBouldin, silhouette } from '../../../shared/segmentation/metrics';
import { createRng } from '../../../shared/util/rng';

/**
 * Reference values from scikit-learn 1.2.1 (Debian python3-sklearn), computed once:
 *   from sklearn.metrics import silhouette_score, davies_bouldin_score, adjusted_rand_score
 *   silhouette_score(X, labels); davies_bouldin_score(X, labels); adjusted_rand_score(a, b)
 */
const A = [
  [0, 0],
  [0.5, 0.2],
  [0.1, 0.9],
  [5, 5],
  [5.5, 4.8],
  [4.7, 5.3],
  [9, 0],
  [8.5, 0.4],
  [9.2, -0.3],
  [4, 2],
];
const B = [
  [1, 2, 3],
  [1.5, 1.8, 3.2],
  [0.8, 2.2, 2.9],
  [-3, 0, 1],
  [-2.5, 0.5, 1.2],
  [-3.2, -0.4, 0.8],
  [-2.9, 0.1, 1.1],
  [4, -4, 0],
  [4.4, -3.6, 0.3],
];

const clusteringCases = [
  {
    name: 'A, well separated',
    X: A,
    labels: [0, 0, 0, 1, 1, 1, 2, 2, 2, 1],
    silhouette: 0.7798168159397513,
    daviesBouldin: 0.28018629741823026,
  },
  {
    name: 'A, interleaved (bad) labels',
    X: A,
    labels: [0, 1, 2, 0, 1, 2, 0, 1, 2, 0],
    silhouette: -0.2732437316312831,
    daviesBouldin: 32.73377936473794,
  },
  {
    name: 'A, with a singleton cluster',
    X: A,
    labels: [0, 0, 0, 1, 1, 1, 1, 1, 1, 2],
    silhouette: 0.25644263053515665,
    daviesBouldin: 0.8613456898552846,
  },
  {
    name: 'B, 3-d',
    X: B,
    labels: [0, 0, 0, 1, 1, 1, 1, 2, 2],
    silhouette: 0.8822069737951845,
    daviesBouldin: 0.12223362614267093,
  },
];

function flat(X: number[][]): Float64Array {
  return Float64Array.from(X.flat());
}

/** Cluster means, as sklearn's davies_bouldin_score uses. */
function means(X: number[][], labels: number[], k: number): Float64Array {
  const d = X[0]!.length;
  const sums = new Float64Array(k * d);
  const counts = new Array<number>(k).fill(0);
  X.forEach((row, i) => {
    const c = labels[i]!;
    counts[c]! += 1;
    row.forEach((v, j) => (sums[c * d + j]! += v));
  });
  return sums.map((s, idx) => s / counts[Math.floor(idx / d)]!);
}

describe('silhouette and Davies–Bouldin against scikit-learn', () => {
  test.each(clusteringCases)('$name', ({ X, labels, silhouette: sil, daviesBouldin: db }) => {
    const k = Math.max(...labels) + 1;
    const d = X[0]!.length;
    expect(silhouette(flat(X), X.length, d, labels, k)).toBeCloseTo(sil, 10);
    expect(daviesBouldin(flat(X), X.length, d, labels, means(X, labels, k), k)).toBeCloseTo(db, 10);
  });

  test('a subsample covering every row equals the full silhouette', () => {
    const labels = [0, 0, 0, 1, 1, 1, 2, 2, 2, 1];
    expect(silhouette(flat(A), 10, 2, labels, 3, { subsample: 50, rng: createRng(3) })).toBeCloseTo(
      0.7798168159397513,
      12,
    );
  });

  test('a subsample is deterministic and close to the full value on clustered data', () => {
    const rng = createRng(9);
    const n = 600;
    const data = new Float64Array(n * 2);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i % 3;
      data[2 * i] = (i % 3) * 6 + rng.normal();
      data[2 * i + 1] = rng.normal();
    }
    const full = silhouette(data, n, 2, labels, 3);
    const a = silhouette(data, n, 2, labels, 3, { subsample: 200, rng: createRng(1) });
    const b = silhouette(data, n, 2, labels, 3, { subsample: 200, rng: createRng(1) });
    expect(a).toBe(b);
    expect(Math.abs(a - full)).toBeLessThan(0.05);
  });

  test('one cluster: both are 0 (undefined in sklearn, which raises)', () => {
    const X = [
      [0, 0],
      [0, 1],
      [5, 5],
      [5, 6],
    ];
    expect(silhouette(flat(X), 4, 2, [0, 0, 0, 0], 1)).toBe(0);
    expect(daviesBouldin(flat(X), 4, 2, [0, 0, 0, 0], means(X, [0, 0, 0, 0], 1), 1)).toBe(0);
  });

  test('empty clusters are ignored (sklearn: labels [0, 0, 3, 3])', () => {
    const X = [
      [0, 0],
      [0, 1],
      [5, 5],
      [5, 6],
    ];
    const labels = [0, 0, 3, 3];
    const centroids = Float64Array.from([0, 0.5, 99, 99, 99, 99, 5, 5.5]);
    expect(silhouette(flat(X), 4, 2, labels, 4)).toBeCloseTo(0.8585856960087929, 12);
    expect(daviesBouldin(flat(X), 4, 2, labels, centroids, 4)).toBeCloseTo(0.1414213562373095, 12);
  });

  test('property: silhouette lies in [-1, 1] and ignores label names', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.double({ min: -10, max: 10, noNaN: true }),
            fc.double({ min: -10, max: 10, noNaN: true }),
            fc.integer({ min: 0, max: 3 }),
          ),
          { minLength: 2, maxLength: 30 },
        ),
        (points) => {
          const data = Float64Array.from(points.flatMap(([x, y]) => [x, y]));
          const labels = points.map(([, , l]) => l);
          const s = silhouette(data, points.length, 2, labels, 4);
          expect(s).toBeGreaterThanOrEqual(-1 - 1e-12);
          expect(s).toBeLessThanOrEqual(1 + 1e-12);
          const renamed = labels.map((l) => 3 - l);
          expect(silhouette(data, points.length, 2, renamed, 4)).toBeCloseTo(s, 10);
        },
      ),
    );
  });
});

describe('adjustedRandIndex against scikit-learn', () => {
  const cases = [
    { name: 'same partition, swapped labels', a: [0, 0, 1, 1], b: [1, 1, 0, 0], expected: 1.0 },
    { name: 'one cluster split in two', a: [0, 0, 1, 2], b: [0, 0, 1, 1], expected: 0.5714285714285714 },
    { name: 'all together vs all apart', a: [0, 0, 0, 0], b: [0, 1, 2, 3], expected: 0.0 },
    { name: 'worse than chance', a: [0, 0, 1, 1], b: [0, 1, 0, 1], expected: -0.5 },
    {
      name: 'rotated members',
      a: [0, 0, 0, 1, 1, 1, 2, 2, 2],
      b: [0, 0, 1, 1, 1, 2, 2, 2, 0],
      expected: 0.1111111111111111,
    },
    { name: 'mixed sizes', a: [0, 1, 2, 0, 1, 2, 3, 3], b: [1, 1, 2, 2, 0, 0, 3, 3], expected: 0.125 },
    { name: 'arbitrary label values', a: [5, 5, 5, 7, 7, 9], b: [1, 1, 2, 2, 3, 3], expected: 0.07407407407407407 },
    { name: 'empty', a: [], b: [], expected: 1.0 },
  ];
  test.each(cases)('$name', ({ a, b, expected }) => {
    expect(adjustedRandIndex(a, b)).toBeCloseTo(expected, 12);
  });

  test('different lengths throw', () => {
    expect(() => adjustedRandIndex([0, 1], [0])).toThrow(RangeError);
  });

  const labelling = fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 60 });

  test('property: a relabelled clustering has ARI 1', () => {
    fc.assert(
      fc.property(labelling, fc.shuffledSubarray([0, 1, 2, 3, 4, 5], { minLength: 6, maxLength: 6 }), (a, perm) => {
        expect(
          adjustedRandIndex(
            a,
            a.map((l) => perm[l]! + 10),
          ),
        ).toBe(1);
      }),
    );
  });

  test('property: ARI is symmetric and at most 1', () => {
    fc.assert(
      fc.property(
        labelling.chain((a) =>
          fc.tuple(
            fc.constant(a),
            fc.array(fc.integer({ min: 0, max: 5 }), { minLength: a.length, maxLength: a.length }),
          ),
        ),
        ([a, b]) => {
          const ab = adjustedRandIndex(a, b);
          expect(ab).toBeCloseTo(adjustedRandIndex(b, a), 12);
          expect(ab).toBeLessThanOrEqual(1 + 1e-12);
        },
      ),
    );
  });
});
