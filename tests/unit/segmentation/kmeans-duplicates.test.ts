import fc from 'fast-check';
import { distinctRowCount, kmeans, setKMeansBackend } from '../../../shared/segmentation/kmeans';

/** Issue #9 D13: 12 two-dimensional rows with only 5 distinct points. */
const POINTS = [
  [0, 0],
  [0, 0],
  [0, 0],
  [5, 5],
  [5, 5],
  [10, 0],
  [10, 0],
  [10, 0],
  [0, 10],
  [0, 10],
  [3, 7],
  [3, 7],
];
const TWELVE = Float64Array.from(POINTS.flat());

function labelsOfIdenticalRowsAgree(data: Float64Array, n: number, d: number, labels: Int32Array): boolean {
  const byRow = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const key = Array.from(data.subarray(i * d, i * d + d)).join(',');
    const seen = byRow.get(key);
    if (seen === undefined) byRow.set(key, labels[i]!);
    else if (seen !== labels[i]) return false;
  }
  return true;
}

describe.each(['wasm', 'js'] as const)('k-means with fewer distinct points than k (%s distances)', (backend) => {
  beforeAll(() => setKMeansBackend(backend));
  afterAll(() => setKMeansBackend('auto'));

  test.each([1, 2, 3, 4, 5])(
    'D13: 12 rows, 5 distinct, k = 8, seed %i: identical rows share a label, 5 labels used',
    (seed) => {
      const result = kmeans(TWELVE, 12, 2, { k: 8, seed, nInit: 2 });
      expect(labelsOfIdenticalRowsAgree(TWELVE, 12, 2, result.labels)).toBe(true);
      expect(new Set(result.labels).size).toBe(5);
      expect(result.inertia).toBe(0);
    },
  );

  test('property: rows drawn from a few points, any k ≤ n: identical rows always share a label', () => {
    const row = fc.tuple(fc.integer({ min: -3, max: 3 }), fc.integer({ min: -3, max: 3 }));
    fc.assert(
      fc.property(
        fc.array(row, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { minLength: 2, maxLength: 40 }),
        fc.integer({ min: 1, max: 12 }),
        fc.nat(1000),
        (points, picks, kWanted, seed) => {
          const n = picks.length;
          const data = Float64Array.from(picks.flatMap((p) => points[p % points.length]!));
          const k = Math.min(kWanted, n);
          const result = kmeans(data, n, 2, { k, seed, nInit: 1 });
          return (
            labelsOfIdenticalRowsAgree(data, n, 2, result.labels) &&
            new Set(result.labels).size <= distinctRowCount(data, n, 2)
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('distinctRowCount', () => {
  const cases: { name: string; data: number[]; n: number; d: number; stopAt?: number; expected: number }[] = [
    { name: 'the issue’s 12 rows have 5 distinct points', data: Array.from(TWELVE), n: 12, d: 2, expected: 5 },
    { name: 'no rows', data: [], n: 0, d: 3, expected: 0 },
    { name: '-0 equals 0', data: [0, -0, -0, 0], n: 2, d: 2, expected: 1 },
    { name: 'rows differing in the last column', data: [1, 2, 1, 3], n: 2, d: 2, expected: 2 },
    { name: 'stops counting at stopAt', data: [1, 2, 3, 4, 5], n: 5, d: 1, stopAt: 3, expected: 3 },
    { name: '300 identical customers are one point', data: new Array(300 * 4).fill(0.5), n: 300, d: 4, expected: 1 },
  ];
  test.each(cases)('$name', ({ data, n, d, stopAt, expected }) => {
    expect(distinctRowCount(Float64Array.from(data), n, d, stopAt)).toBe(expected);
  });
});
