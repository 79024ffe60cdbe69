import { formatMetric, qualityGate } from '../../../shared/segmentation/gate';

const floors = { minSilhouette: 0.05, maxDaviesBouldin: 3, minStability: 0.5 };

describe('qualityGate', () => {
  const cases = [
    {
      name: 'all good without a previous model',
      quality: { silhouette: 0.4, daviesBouldin: 1.1, stability: null },
      hasPrevious: false,
      expected: { passed: true, reasons: [] },
    },
    {
      name: 'all good with a previous model',
      quality: { silhouette: 0.4, daviesBouldin: 1.1, stability: 0.9 },
      hasPrevious: true,
      expected: { passed: true, reasons: [] },
    },
    {
      name: 'silhouette below the floor',
      quality: { silhouette: 0.02, daviesBouldin: 1.1, stability: null },
      hasPrevious: false,
      expected: { passed: false, reasons: ['silhouette 0.02 < 0.05'] },
    },
    {
      name: 'Davies–Bouldin above the ceiling',
      quality: { silhouette: 0.3, daviesBouldin: 3.456789, stability: null },
      hasPrevious: false,
      expected: { passed: false, reasons: ['daviesBouldin 3.457 > 3'] },
    },
    {
      name: 'unstable against the previous model',
      quality: { silhouette: 0.3, daviesBouldin: 1, stability: 0.31 },
      hasPrevious: true,
      expected: { passed: false, reasons: ['stability 0.31 < 0.5'] },
    },
    {
      name: 'stability is not checked without a previous model',
      quality: { silhouette: 0.3, daviesBouldin: 1, stability: 0.1 },
      hasPrevious: false,
      expected: { passed: true, reasons: [] },
    },
    {
      name: 'missing stability with a previous model fails',
      quality: { silhouette: 0.3, daviesBouldin: 1, stability: null },
      hasPrevious: true,
      expected: { passed: false, reasons: ['stability missing with a previous model'] },
    },
    {
      name: 'every failure is listed, in a fixed order',
      quality: { silhouette: -0.1, daviesBouldin: 7, stability: 0 },
      hasPrevious: true,
      expected: { passed: false, reasons: ['silhouette -0.1 < 0.05', 'daviesBouldin 7 > 3', 'stability 0 < 0.5'] },
    },
    {
      name: 'boundaries pass',
      quality: { silhouette: 0.05, daviesBouldin: 3, stability: 0.5 },
      hasPrevious: true,
      expected: { passed: true, reasons: [] },
    },
    {
      name: 'NaN fails',
      quality: { silhouette: Number.NaN, daviesBouldin: 1, stability: null },
      hasPrevious: false,
      expected: { passed: false, reasons: ['silhouette NaN is not finite'] },
    },
  ];
  test.each(cases)('$name', ({ quality, hasPrevious, expected }) => {
    expect(qualityGate(quality, floors, hasPrevious, null, 5)).toEqual(expected);
  });

  const waiver = [
    {
      name: 'unstable but clearly better separated than the previous model: passes',
      silhouette: 0.3,
      expected: { passed: true, reasons: [] },
    },
    {
      name: 'unstable and not better enough: refused',
      silhouette: 0.21,
      expected: { passed: false, reasons: ['stability 0.2 < 0.5'] },
    },
  ];
  test.each(waiver)('$name', ({ silhouette, expected }) => {
    const previous = { silhouette: 0.2, daviesBouldin: 1, stability: 0.9 };
    expect(qualityGate({ silhouette, daviesBouldin: 1, stability: 0.2 }, floors, true, previous, 5)).toEqual(expected);
  });

  test.each([
    { name: 'D14: one segment is refused, even with perfect metrics', k: 1, reasons: ['k 1 < 2'] },
    { name: 'no segment at all is refused', k: 0, reasons: ['k 0 < 2'] },
    { name: 'two segments pass', k: 2, reasons: [] },
  ])('$name', ({ k, reasons }) => {
    const result = qualityGate({ silhouette: 0.9, daviesBouldin: 0.1, stability: null }, floors, false, null, k);
    expect(result).toEqual({ passed: reasons.length === 0, reasons });
  });

  test('formatMetric keeps 4 significant digits', () => {
    expect(formatMetric(0.123456)).toBe('0.1235');
    expect(formatMetric(12)).toBe('12');
    expect(formatMetric(Number.POSITIVE_INFINITY)).toBe('Infinity');
  });
});
