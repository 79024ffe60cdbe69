import fc from 'fast-check';
import { fitRobustScaler, quantileSorted } from '../../../shared/segmentation/scaler';

describe('quantileSorted (linear interpolation, numpy default)', () => {
  const cases = [
    { name: 'median of odd count', input: [1, 2, 3, 4, 5], q: 0.5, expected: 3 },
    { name: 'median of even count', input: [1, 2, 3, 4], q: 0.5, expected: 2.5 },
    // numpy.percentile([1, 2, 3, 4], 25) == 1.75
    { name: 'first quartile interpolates', input: [1, 2, 3, 4], q: 0.25, expected: 1.75 },
    { name: 'q = 1 is the maximum', input: [1, 7, 9], q: 1, expected: 9 },
    { name: 'single value', input: [4], q: 0.75, expected: 4 },
  ];
  test.each(cases)('$name', ({ input, q, expected }) => {
    expect(quantileSorted(input, q)).toBeCloseTo(expected, 12);
  });

  test('empty is NaN', () => {
    expect(quantileSorted([], 0.5)).toBeNaN();
  });
});

describe('fitRobustScaler', () => {
  const cases = [
    {
      name: 'median and IQR per column',
      rows: [
        [1, 10],
        [2, 20],
        [3, 30],
        [4, 40],
        [5, 50],
      ],
      expected: { center: [3, 30], scale: [2, 20], clip: 5 },
    },
    {
      // numpy: np.std([0, 0, 0, 0, 10]) == 4.0
      name: 'IQR 0 falls back to the standard deviation',
      rows: [[0], [0], [0], [0], [10]],
      expected: { center: [0], scale: [4], clip: 5 },
    },
    { name: 'a constant column gets scale 1', rows: [[7], [7], [7]], expected: { center: [7], scale: [1], clip: 5 } },
    {
      name: 'non-finite values are ignored',
      rows: [[1], [Number.NaN], [3], [Number.POSITIVE_INFINITY], [5]],
      expected: { center: [3], scale: [2], clip: 5 },
    },
    { name: 'no rows', rows: [] as number[][], expected: { center: [], scale: [], clip: 5 } },
  ];
  test.each(cases)('$name', ({ rows, expected }) => {
    const s = fitRobustScaler(rows);
    expect(s.clip).toBe(expected.clip);
    expect(s.center).toHaveLength(expected.center.length);
    s.center.forEach((c, j) => expect(c).toBeCloseTo(expected.center[j]!, 12));
    s.scale.forEach((c, j) => expect(c).toBeCloseTo(expected.scale[j]!, 12));
  });

  test('the clip is configurable', () => {
    expect(fitRobustScaler([[1], [2]], 3).clip).toBe(3);
  });

  test('property: scale is finite and positive, center lies within the column range', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }).chain((w) =>
          fc.array(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: w, maxLength: w }), {
            minLength: 1,
            maxLength: 40,
          }),
        ),
        (rows) => {
          const s = fitRobustScaler(rows);
          s.scale.forEach((x) => {
            expect(Number.isFinite(x)).toBe(true);
            expect(x).toBeGreaterThan(0);
          });
          s.center.forEach((c, j) => {
            const col = rows.map((r) => r[j]!);
            expect(c).toBeGreaterThanOrEqual(Math.min(...col));
            expect(c).toBeLessThanOrEqual(Math.max(...col));
          });
        },
      ),
    );
  });
});
