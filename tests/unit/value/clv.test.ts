import fc from 'fast-check';
import {
  CDNOW_BGNBD_PARAMS,
  CDNOW_GAMMA_GAMMA_PARAMS,
  bgnbdConditionalExpectedPurchases,
  bgnbdPAlive,
  createValuePredictor,
  customerValue,
  fitBgNbd,
  fitValueModel,
  gammaGammaExpectedSpend,
  NINETY_DAYS_IN_WEEKS,
  simulateBgNbd,
  type ValueModel,
} from '../../../shared/value';
import { createRng } from '../../../shared/util/rng';

const model: ValueModel = {
  bgnbd: { ...CDNOW_BGNBD_PARAMS, source: 'prior' },
  gammaGamma: { ...CDNOW_GAMMA_GAMMA_PARAMS, source: 'prior' },
  timeUnit: 'weeks',
};

const customer = fc
  .record({
    x: fc.integer({ min: 0, max: 60 }),
    T: fc.double({ min: 0, max: 200, noNaN: true }),
    frac: fc.double({ min: 0, max: 1, noNaN: true }),
    meanSpend: fc.double({ min: 0, max: 500, noNaN: true }),
  })
  .map(({ x, T, frac, meanSpend }) => ({ x, T, tx: x === 0 ? 0 : T * frac, meanSpend: x === 0 ? 0 : meanSpend }));

describe('customerValue', () => {
  test('combines P(alive), E[Y(90 days)], Gamma-Gamma spend and a discounted CLV', () => {
    const c = { x: 2, tx: 30.43, T: 38.86, meanSpend: 22.35 };
    const v = customerValue(model, c, { horizonWeeks: 52, discountRatePerWeek: 0 });
    expect(v.pAlive).toBe(bgnbdPAlive(model.bgnbd, 2, 30.43, 38.86));
    expect(v.expectedOrders90d).toBeCloseTo(
      bgnbdConditionalExpectedPurchases(model.bgnbd, NINETY_DAYS_IN_WEEKS, 2, 30.43, 38.86),
      12,
    );
    expect(v.expectedSpend).toBe(gammaGammaExpectedSpend(model.gammaGamma, 2, 22.35));
    // Undiscounted CLV = E[Y(52)] · spend exactly.
    expect(v.clv).toBeCloseTo(bgnbdConditionalExpectedPurchases(model.bgnbd, 52, 2, 30.43, 38.86) * v.expectedSpend, 9);
    const d = customerValue(model, c, { horizonWeeks: 52, discountRatePerWeek: 0.01 });
    expect(d.clv).toBeLessThan(v.clv);
    expect(d.clv).toBeGreaterThan(v.clv / 1.01 ** 52);
  });

  test('a customer with no repeat purchase gets the population mean spend and P(alive) = 1', () => {
    const v = customerValue(model, { x: 0, tx: 0, T: 10 }, { horizonWeeks: 26, discountRatePerWeek: 0.002 });
    expect(v.pAlive).toBe(1);
    expect(v.expectedSpend).toBeCloseTo((6.25 * 15.45) / 2.74, 10);
    expect(v.clv).toBeGreaterThan(0);
  });

  test('fractional horizons, zero horizon, and invalid options', () => {
    const c = { x: 3, tx: 20, T: 30, meanSpend: 40 };
    expect(customerValue(model, c, { horizonWeeks: 0, discountRatePerWeek: 0.01 }).clv).toBe(0);
    const a = customerValue(model, c, { horizonWeeks: 10.5, discountRatePerWeek: 0 }).clv;
    const b = customerValue(model, c, { horizonWeeks: 10.5, discountRatePerWeek: 0 });
    expect(a).toBeCloseTo(bgnbdConditionalExpectedPurchases(model.bgnbd, 10.5, 3, 20, 30) * b.expectedSpend, 9);
    expect(() => customerValue(model, c, { horizonWeeks: -1, discountRatePerWeek: 0 })).toThrow(RangeError);
    expect(() => customerValue(model, c, { horizonWeeks: 5, discountRatePerWeek: NaN })).toThrow(RangeError);
    expect(() => customerValue(model, { x: 1, tx: 40, T: 30 }, { horizonWeeks: 5, discountRatePerWeek: 0 })).toThrow(
      RangeError,
    );
  });

  test('property: CLV increases with the horizon and decreases with the discount rate', () => {
    fc.assert(
      fc.property(
        customer,
        fc.double({ min: 1, max: 104, noNaN: true }),
        fc.double({ min: 1, max: 52, noNaN: true }),
        fc.double({ min: 0, max: 0.05, noNaN: true }),
        fc.double({ min: 1e-4, max: 0.05, noNaN: true }),
        (c, H, extra, d, dd) => {
          const base = customerValue(model, c, { horizonWeeks: H, discountRatePerWeek: d });
          const longer = customerValue(model, c, { horizonWeeks: H + extra, discountRatePerWeek: d });
          const dearer = customerValue(model, c, { horizonWeeks: H, discountRatePerWeek: d + dd });
          expect(Number.isFinite(base.clv)).toBe(true);
          expect(longer.clv).toBeGreaterThan(base.clv);
          expect(dearer.clv).toBeLessThan(base.clv);
          expect(base.pAlive).toBeGreaterThan(0);
          expect(base.pAlive).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 60 },
    );
  });

  test('property: the memoising batch predictor gives exactly customerValue', () => {
    const opts = { horizonWeeks: 39, discountRatePerWeek: 0.002 };
    const predict = createValuePredictor(model, opts, 5);
    fc.assert(
      fc.property(customer, (c) => {
        expect(predict(c)).toEqual(customerValue(model, c, opts));
      }),
      { numRuns: 60 },
    );
  });

  test('finite values for extreme customers', () => {
    const opts = { horizonWeeks: 52, discountRatePerWeek: 0.001 };
    for (const c of [
      { x: 100_000, tx: 1e6, T: 1e6, meanSpend: 1e6 },
      { x: 100_000, tx: 1, T: 1e6, meanSpend: 10 },
      { x: 0, tx: 0, T: 0 },
      { x: 0, tx: 0, T: 1e-9 },
      { x: 5, tx: 1e-9, T: 1e-9, meanSpend: 1e-6 },
    ]) {
      const v = customerValue(model, c, opts);
      for (const k of ['pAlive', 'expectedOrders90d', 'expectedSpend', 'clv'] as const)
        expect(Number.isFinite(v[k])).toBe(true);
    }
  });
});

describe('fitValueModel', () => {
  const rows = simulateBgNbd(CDNOW_BGNBD_PARAMS, 3000, createRng(7), { spend: { p: 6, q: 4, v: 15 } });

  test('fits both models when there is enough data', () => {
    const m = fitValueModel(rows);
    expect(m.timeUnit).toBe('weeks');
    expect(m.bgnbd.source).toBe('fit');
    expect(m.bgnbd.converged).toBe(true);
    expect(Number.isFinite(m.bgnbd.logLikelihood)).toBe(true);
    expect(m.gammaGamma.source).toBe('fit');
    expect(m.counts?.customers).toBe(3000);
  });

  test('small stores fall back to the documented priors with a reason, never throwing', () => {
    const tiny = fitValueModel(rows.slice(0, 10));
    expect(tiny.bgnbd).toMatchObject({ ...CDNOW_BGNBD_PARAMS, source: 'prior' });
    expect(tiny.bgnbd.reason).toMatch(/10 customers < minCustomers 30/);
    expect(tiny.gammaGamma.source).toBe('prior');
    expect(tiny.gammaGamma.p).toBe(6.25);
    // v rescaled so the prior mean spend is the store's mean spend.
    const spenders = rows.slice(0, 10).filter((r) => r.x > 0 && (r.meanSpend ?? 0) > 0);
    const mean = spenders.reduce((s, r) => s + (r.meanSpend as number), 0) / spenders.length;
    expect((tiny.gammaGamma.p * tiny.gammaGamma.v) / (tiny.gammaGamma.q - 1)).toBeCloseTo(mean, 9);

    const empty = fitValueModel([]);
    expect(empty.bgnbd.source).toBe('prior');
    expect(empty.gammaGamma).toMatchObject({ ...CDNOW_GAMMA_GAMMA_PARAMS, source: 'prior' });

    const noRepeat = fitValueModel(Array.from({ length: 100 }, (_, i) => ({ x: 0, tx: 0, T: 10 + (i % 5) })));
    expect(noRepeat.bgnbd.source).toBe('prior');
    expect(noRepeat.bgnbd.reason).toMatch(/repeat customers/);
    // Predictions still work on a prior model.
    const v = customerValue(noRepeat, { x: 0, tx: 0, T: 12 }, { horizonWeeks: 52, discountRatePerWeek: 0 });
    expect(v.clv).toBeGreaterThan(0);
  });

  test('a store too young to show dropout gets the prior, not a fit on the flat ridge toward a = 0', () => {
    // Frequent buyers seen for 3 weeks: these samples converge to an interior point of a ridge on which a store where
    // nobody drops out fits as well. On the default simulated store such a fit (a ≈ 0.004) alternated with the
    // prior from night to night, so the same customers' CLV went 10× up and down.
    const young = [
      { params: { r: 2, alpha: 4, a: 0.1, b: 10 }, seed: 2 },
      { params: { r: 3, alpha: 3, a: 0.5, b: 20 }, seed: 6 },
      { params: { r: 3, alpha: 3, a: 0.5, b: 20 }, seed: 12 },
    ].map(({ params, seed }) => simulateBgNbd(params, 300, createRng(seed), { cohortDays: 14, calibrationDays: 21 }));
    for (const sample of young) {
      const fit = fitBgNbd(sample);
      expect(fit).toMatchObject({ converged: true, atBoundary: false, dropoutIdentified: false });
      const m = fitValueModel(sample);
      expect(m.bgnbd).toMatchObject({ ...CDNOW_BGNBD_PARAMS, source: 'prior' });
      expect(m.bgnbd.reason).toMatch(/do not identify dropout/);
    }
    // A year of such customers identifies it, and so does the CDNOW-like sample above.
    const established = simulateBgNbd({ r: 2, alpha: 4, a: 0.1, b: 10 }, 300, createRng(2), {
      cohortDays: 84,
      calibrationDays: 365,
    });
    expect(fitBgNbd(established).dropoutIdentified).toBe(true);
    expect(fitBgNbd(rows).dropoutIdentified).toBe(true);
  });

  test('thresholds and priors are parameters', () => {
    const forced = fitValueModel(rows.slice(0, 200), { minCustomers: 1000 });
    expect(forced.bgnbd.source).toBe('prior');
    const priors = { bgnbd: { r: 1, alpha: 2, a: 3, b: 4 }, gammaGamma: { p: 2, q: 3, v: 4 } };
    const custom = fitValueModel(rows.slice(0, 5), { priors, rescaleSpendPrior: false });
    expect(custom.bgnbd).toMatchObject({ ...priors.bgnbd, source: 'prior' });
    expect(custom.gammaGamma).toMatchObject({ ...priors.gammaGamma, source: 'prior' });
    const relaxed = fitValueModel(rows.slice(0, 200), {
      minCustomers: 50,
      minRepeatCustomers: 5,
      minSpendCustomers: 5,
    });
    expect(relaxed.bgnbd.source).toBe('fit');
  });
});
