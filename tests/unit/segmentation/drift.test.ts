import fc from 'fast-check';
import {
  binOf,
  binShares,
  buildDriftReference,
  chiSquare999,
  featureReference,
  measureDrift,
  populationStabilityIndex,
  psiNoiseFloor,
  quantileSorted,
} from '../../../shared/segmentation/drift';
import { createRng } from '../../../shared/util/rng';

describe('populationStabilityIndex', () => {
  test.each([
    { name: 'identical distributions', expected: [0.5, 0.5], actual: [0.5, 0.5], psi: 0 },
    // (0.7 − 0.5)·ln(0.7/0.5) + (0.3 − 0.5)·ln(0.3/0.5) = 0.0673 + 0.1022
    { name: 'a 20-point shift between two bins', expected: [0.5, 0.5], actual: [0.7, 0.3], psi: 0.16946 },
    // An empty bin counts as the 1e-4 floor: (1e-4 − 0.5)·ln(1e-4/0.5) + (1 − 0.5)·ln(1/0.5)
    { name: 'an emptied bin is floored, not infinite', expected: [0.5, 0.5], actual: [0, 1], psi: 4.60432 },
  ])('$name', ({ expected, actual, psi }) => {
    expect(populationStabilityIndex(expected, actual)).toBeCloseTo(psi, 4);
  });

  test('property: PSI is non-negative and zero only for equal shares', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.01, max: 1, noNaN: true }), { minLength: 2, maxLength: 10 }), (w) => {
        const total = w.reduce((a, b) => a + b, 0);
        const e = w.map((x) => x / total);
        const a = [...e].reverse();
        expect(populationStabilityIndex(e, a)).toBeGreaterThanOrEqual(-1e-12);
        expect(populationStabilityIndex(e, e)).toBeCloseTo(0, 12);
      }),
    );
  });

  test('a length mismatch throws', () => {
    expect(() => populationStabilityIndex([1], [0.5, 0.5])).toThrow(RangeError);
  });
});

describe('bins', () => {
  test.each([
    { name: 'below the first edge', x: -1, bin: 0 },
    { name: 'equal to an edge falls in the bin below it', x: 1, bin: 0 },
    { name: 'between edges', x: 1.5, bin: 1 },
    { name: 'beyond the last edge', x: 9, bin: 3 },
  ])('binOf: $name', ({ x, bin }) => {
    expect(binOf(x, [1, 2, 3])).toBe(bin);
  });

  test('a feature that is 0 for most customers collapses tied edges and keeps the training shares', () => {
    const values = [...new Array<number>(80).fill(0), ...Array.from({ length: 20 }, (_, i) => i + 1)];
    const ref = featureReference('orders', values, 10);
    expect(ref.edges[0]).toBe(0);
    expect(new Set(ref.edges).size).toBe(ref.edges.length);
    expect(ref.expected[0]).toBeCloseTo(0.8, 12);
    expect(binShares(values, ref.edges)).toEqual(ref.expected);
  });

  test('quantileSorted interpolates like numpy (type 7)', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0.99)).toBeCloseTo(3.97, 12);
  });
});

describe('measureDrift', () => {
  const behaviour = Array.from({ length: 1_000 }, (_, i) => [i % 100, (i * 7) % 13]);
  const labels = Int32Array.from(behaviour, (_, i) => i % 2);
  const d2 = Float64Array.from(behaviour, (_, i) => 1 + (i % 10) / 10);
  const reference = buildDriftReference({
    featureNames: ['orders', 'views'],
    behaviour,
    labels,
    d2,
    k: 2,
    bins: 10,
    farQuantile: 0.99,
  });
  const thresholds = { featurePsi: 0.25, sharePsi: 0.25, distanceInflation: 1.5 };

  test('the training sample against itself: no drift, inflation 1', () => {
    const r = measureDrift({ reference, referenceVersion: 3, behaviour, labels, d2, thresholds });
    expect(r.detected).toBe(false);
    expect(r.features.every((f) => f.psi < 1e-12)).toBe(true);
    expect(r.distanceInflation).toBeCloseTo(1, 12);
    expect(r.referenceVersion).toBe(3);
  });

  test.each([
    {
      name: 'one feature shifted: that feature drifts',
      shift: (row: number[]) => [row[0]! + 50, row[1]!],
      labels,
      d2Scale: 1,
      reasons: ['features'],
      drifting: ['orders'],
    },
    {
      name: 'every customer nearest one segment: the shares drift',
      shift: (row: number[]) => row,
      labels: new Int32Array(1_000),
      d2Scale: 1,
      reasons: ['shares'],
      drifting: [],
    },
    {
      name: 'distances to the centroids doubled: distance inflation',
      shift: (row: number[]) => row,
      labels,
      d2Scale: 2,
      reasons: ['distance'],
      drifting: [],
    },
  ])('$name', (c) => {
    const r = measureDrift({
      reference,
      referenceVersion: 3,
      behaviour: behaviour.map(c.shift),
      labels: c.labels,
      d2: d2.map((x) => x * c.d2Scale),
      thresholds,
    });
    expect(r.detected).toBe(true);
    expect(r.reasons).toEqual(c.reasons);
    expect(r.drifting.map((f) => f.feature)).toEqual(c.drifting);
  });
});

describe('clock features age with the reference', () => {
  // 1,000 customers with tenure 1..100 days and recency 0..49 days, in behaviourRow units.
  const raw = Array.from({ length: 1_000 }, (_, i) => ({ tenure: 1 + (i % 100), recency: i % 50 }));
  const row = (c: { tenure: number; recency: number }, days: number) => [
    Math.log1p(c.tenure + days),
    Math.min(c.recency + days, 365),
  ];
  const labels = new Int32Array(1_000);
  const d2 = new Float64Array(1_000).fill(1);
  const reference = buildDriftReference({
    featureNames: ['tenureDays', 'recencyDays'],
    behaviour: raw.map((c) => row(c, 0)),
    labels,
    d2,
    k: 1,
    bins: 10,
    farQuantile: 0.99,
    asOf: '2026-01-01T03:00:00.000Z',
  });
  const thresholds = { featurePsi: 0.25, sharePsi: 0.25, distanceInflation: 1.5 };

  test.each([
    { name: 'the same customers 20 nights older: no drift', asOf: '2026-01-21T03:00:00.000Z', detected: false },
    { name: 'without the reference instant the ageing is unseen and reads as drift', asOf: undefined, detected: true },
  ])('$name', ({ asOf, detected }) => {
    const r = measureDrift({
      reference,
      referenceVersion: 1,
      behaviour: raw.map((c) => row(c, 20)),
      labels,
      d2,
      thresholds,
      ...(asOf ? { asOf } : {}),
    });
    expect(r.detected).toBe(detected);
    if (!detected) expect(Math.max(...r.features.map((f) => f.psi))).toBeLessThan(0.01);
  });
});

describe('PSI on small samples: sampling noise is not drift', () => {
  test.each([
    // Exact χ²(ν) 0.999 quantiles (scipy.stats.chi2.ppf(0.999, ν)).
    { nu: 3, exact: 16.266 },
    { nu: 9, exact: 27.877 },
    { nu: 30, exact: 59.703 },
  ])('chiSquare999($nu) is within 2 % of $exact', ({ nu, exact }) => {
    expect(Math.abs(chiSquare999(nu) / exact - 1)).toBeLessThan(0.02);
  });

  test('the noise floor falls with the sample sizes: 0.56 at 100 against 100 over 10 bins, 0.056 at 1,000 each', () => {
    expect(psiNoiseFloor(10, 100, 100)).toBeCloseTo(0.557, 2);
    expect(psiNoiseFloor(10, 1_000, 1_000)).toBeCloseTo(0.0557, 3);
    expect(psiNoiseFloor(10, 100, undefined)).toBeCloseTo(0.279, 2);
  });

  // Two samples of 60 customers from one and the same population (a store's first nights): the PSI of some feature
  // is above Siddiqi's 0.25 on most such nights, by chance alone.
  const draw = (seed: number, n: number) => {
    const rng = createRng(seed);
    return Array.from({ length: n }, () => [Math.exp(rng.normal()), rng.normal(), rng.next()]);
  };
  const thresholds = { featurePsi: 0.25, sharePsi: 0.25, distanceInflation: 1.5 };
  const referenceOf = (behaviour: number[][]) =>
    buildDriftReference({
      featureNames: ['spend', 'views', 'share'],
      behaviour,
      labels: new Int32Array(behaviour.length),
      d2: new Float64Array(behaviour.length).fill(1),
      k: 1,
      bins: 10,
      farQuantile: 0.99,
    });

  /** Tonight's sample against a reference, every customer in the one segment at d² 1 (only the features vary). */
  const driftOf = (reference: ReturnType<typeof referenceOf>, behaviour: number[][]) =>
    measureDrift({
      reference,
      referenceVersion: 1,
      behaviour,
      labels: new Int32Array(behaviour.length),
      d2: new Float64Array(behaviour.length).fill(1),
      thresholds,
    });

  test('same population, 60 against 60, over 40 nights: PSI above 0.25 most nights, drift on at most 2', () => {
    let above = 0;
    let detected = 0;
    for (let night = 0; night < 40; night++) {
      const reference = referenceOf(draw(1_000 + night, 60));
      const tonight = draw(2_000 + night, 60);
      const r = driftOf(reference, tonight);
      if (r.features.some((f) => f.psi > 0.25)) above += 1;
      if (r.detected) detected += 1;
    }
    expect(above).toBeGreaterThan(20);
    expect(detected).toBeLessThanOrEqual(2);
  });

  test('a real shift on the same small samples is still drift', () => {
    const reference = referenceOf(draw(7, 60));
    const shifted = draw(8, 60).map(([spend, views, share]) => [spend! * 3, views!, share!]);
    const r = driftOf(reference, shifted);
    expect(r.drifting.map((f) => f.feature)).toEqual(['spend']);
  });
});
