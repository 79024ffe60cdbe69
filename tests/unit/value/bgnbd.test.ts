import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import {
  bgnbdConditionalExpectedPurchases,
  bgnbdExpectedPurchases,
  bgnbdExpectedPurchasesIfAlive,
  bgnbdLogLikelihood,
  bgnbdLogLikelihoodGradient,
  bgnbdLogLikelihoodOne,
  bgnbdPAlive,
  CDNOW_BGNBD_PARAMS,
  compressRfm,
  fitBgNbd,
  hyp2f1,
  parseSummaryCsv,
  simulateBgNbd,
  type BgNbdParams,
} from '../../../shared/value';
import { aliveQuadrature, aliveSeries } from '../../../shared/value/bgnbd';
import { createRng } from '../../../shared/util/rng';

const DATA_DIR = process.env.SHOAL_DATA_DIR ?? path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'data');
const SUMMARY = path.join(DATA_DIR, 'cdnow_customers_summary.csv');
const haveSummary = existsSync(SUMMARY);
if (!haveSummary) console.warn(`[value tests] ${SUMMARY} not found: SKIPPING the CDNOW BG/NBD fit checks`);

const CDNOW = CDNOW_BGNBD_PARAMS;

const params = fc.record({
  r: fc.double({ min: 0.02, max: 10, noNaN: true }),
  alpha: fc.double({ min: 0.1, max: 100, noNaN: true }),
  a: fc.double({ min: 0.05, max: 10, noNaN: true }),
  b: fc.double({ min: 0.05, max: 50, noNaN: true }),
});

(haveSummary ? describe : describe.skip)('BG/NBD on the CDNOW summary (FHL 2005)', () => {
  test('maximum likelihood reproduces the published estimates and log-likelihood', () => {
    const rows = parseSummaryCsv(readFileSync(SUMMARY, 'utf8'));
    expect(rows).toHaveLength(2357);
    const fit = fitBgNbd(rows);
    expect(fit.converged).toBe(true);
    expect(fit.dropoutIdentified).toBe(true);
    const published: BgNbdParams = { r: 0.2426, alpha: 4.4135, a: 0.7929, b: 2.4258 };
    for (const k of ['r', 'alpha', 'a', 'b'] as const) {
      expect(Math.abs(fit.params[k] / published[k] - 1)).toBeLessThan(0.005);
    }
    expect(Math.abs(fit.logLikelihood - -9582.43)).toBeLessThan(0.01);
    // Summing the per-customer form gives the same total.
    const direct = rows.reduce((s, r) => s + bgnbdLogLikelihoodOne(fit.params, r.x, r.tx, r.T), 0);
    expect(direct).toBeCloseTo(fit.logLikelihood, 6);
  });
});

describe('BG/NBD formulas', () => {
  test('the worked example of FHL (2005): x = 2, t_x = 30.43, T = 38.86 expects 1.226 purchases in 39 weeks', () => {
    expect(bgnbdConditionalExpectedPurchases(CDNOW, 39, 2, 30.43, 38.86)).toBeCloseTo(1.226, 3);
  });

  test('matches the textbook hypergeometric expression', () => {
    const { r, alpha, a, b } = CDNOW;
    for (const [t, x, T] of [
      [1, 0, 0],
      [39, 0, 0],
      [78, 0, 0],
      [39, 2, 38.86],
      [52, 10, 30],
      [13, 1, 5],
    ] as const) {
      const z = t / (alpha + T + t);
      const F = hyp2f1(r + x, b + x, a + b + x - 1, z);
      expect(F.converged).toBe(true);
      const textbook = ((a + b + x - 1) / (a - 1)) * (1 - Math.pow((alpha + T) / (alpha + T + t), r + x) * F.value);
      expect(bgnbdExpectedPurchasesIfAlive(CDNOW, t, x, T)).toBeCloseTo(textbook, 10);
    }
  });

  test('a = 1 (where the published formula divides by zero) is continuous', () => {
    const p = { r: 0.5, alpha: 3, a: 1, b: 2 };
    const at = bgnbdExpectedPurchases(p, 20);
    expect(Number.isFinite(at)).toBe(true);
    expect(bgnbdExpectedPurchases({ ...p, a: 1 + 1e-7 }, 20)).toBeCloseTo(at, 6);
    expect(bgnbdExpectedPurchases({ ...p, a: 1 - 1e-7 }, 20)).toBeCloseTo(at, 6);
  });

  test('series and quadrature agree where both apply', () => {
    fc.assert(
      fc.property(
        params,
        fc.integer({ min: 0, max: 60 }),
        fc.double({ min: 1e-3, max: 30, noNaN: true }),
        (p, x, w) => {
          const s = aliveSeries(p, x, w, 100_000);
          fc.pre(s !== undefined);
          const q = aliveQuadrature(p, x, w);
          expect(Math.abs(q - (s as number))).toBeLessThanOrEqual(1e-9 * (s as number));
        },
      ),
      { numRuns: 150 },
    );
  });

  test('the slow region (t ≫ α + T) uses quadrature and stays consistent with the series', () => {
    // w = 1e3: the series still converges (slowly), quadrature must agree.
    const s = aliveSeries(CDNOW, 0, 1e3, 1e6) as number;
    expect(aliveQuadrature(CDNOW, 0, 1e3)).toBeCloseTo(s, 8);
    // Far beyond: finite, increasing.
    const vals = [1e4, 1e6, 1e8, 1e12].map((t) => bgnbdExpectedPurchases(CDNOW, t));
    vals.forEach((v) => expect(Number.isFinite(v)).toBe(true));
    for (let i = 1; i < vals.length; i++) expect(vals[i]).toBeGreaterThan(vals[i - 1] as number);
  });

  test('conditional expectation with x = 0, T = 0 is the unconditional E[X(t)]; near t = 0 it is r·t/α', () => {
    expect(bgnbdConditionalExpectedPurchases(CDNOW, 26, 0, 0, 0)).toBe(bgnbdExpectedPurchases(CDNOW, 26));
    expect(bgnbdExpectedPurchases(CDNOW, 0)).toBe(0);
    const t = 1e-6;
    expect(bgnbdExpectedPurchases(CDNOW, t) / ((CDNOW.r * t) / CDNOW.alpha)).toBeCloseTo(1, 5);
  });

  test('analytic gradient matches finite differences', () => {
    const rows = simulateBgNbd(CDNOW, 500, createRng(3));
    const d = compressRfm(rows);
    const p = { r: 0.3, alpha: 5, a: 0.9, b: 2.1 };
    const [ll, g] = bgnbdLogLikelihoodGradient(p, d);
    expect(ll).toBeCloseTo(bgnbdLogLikelihood(p, d), 8);
    (['r', 'alpha', 'a', 'b'] as const).forEach((k, i) => {
      const h = 1e-5;
      const up = bgnbdLogLikelihood({ ...p, [k]: p[k] * Math.exp(h) }, d);
      const down = bgnbdLogLikelihood({ ...p, [k]: p[k] * Math.exp(-h) }, d);
      expect(g[i]).toBeCloseTo((up - down) / (2 * h), 4);
    });
  });

  test('recovers known parameters from simulated customers', () => {
    const truth = { r: 0.6, alpha: 5, a: 0.8, b: 2.5 };
    const fit = fitBgNbd(simulateBgNbd(truth, 8000, createRng(11)));
    expect(fit.converged).toBe(true);
    expect(fit.params.r / truth.r).toBeCloseTo(1, 1);
    expect(fit.params.alpha / truth.alpha).toBeCloseTo(1, 1);
    expect(Math.abs(fit.params.a / truth.a - 1)).toBeLessThan(0.25);
    expect(Math.abs(fit.params.b / truth.b - 1)).toBeLessThan(0.25);
  });

  test('rejects invalid inputs clearly', () => {
    expect(() => bgnbdLogLikelihood({ ...CDNOW, r: -1 }, [{ x: 0, tx: 0, T: 1 }])).toThrow(RangeError);
    expect(() => compressRfm([{ x: 1.5, tx: 0, T: 1 }])).toThrow(/non-negative integer/);
    expect(() => compressRfm([{ x: 1, tx: 5, T: 1 }])).toThrow(/t_x/);
  });
});

describe('BG/NBD properties', () => {
  test('P(alive) = 1 when x = 0 and in (0, 1] otherwise', () => {
    fc.assert(
      fc.property(
        params,
        fc.integer({ min: 0, max: 50 }),
        fc.double({ min: 0, max: 200, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (p, x, T, frac) => {
          const pa = bgnbdPAlive({ ...p, alpha: Math.max(p.alpha, 1) }, x, x === 0 ? 0 : T * frac, T);
          if (x === 0) expect(pa).toBe(1);
          else {
            expect(pa).toBeGreaterThan(0);
            expect(pa).toBeLessThanOrEqual(1);
          }
        },
      ),
    );
  });

  test('E[X(t)] increases with t', () => {
    fc.assert(
      fc.property(
        params,
        fc.double({ min: 1e-4, max: 1e4, noNaN: true }),
        fc.double({ min: 1e-3, max: 10, noNaN: true }),
        (p, t, grow) => {
          const e1 = bgnbdExpectedPurchases(p, t);
          const e2 = bgnbdExpectedPurchases(p, t * (1 + grow));
          expect(Number.isFinite(e1)).toBe(true);
          expect(e1).toBeGreaterThan(0);
          // Non-decreasing everywhere; strictly increasing while the increment is resolvable in double
          // precision (E[X(t)] tends to a finite limit when everyone eventually drops out).
          expect(e2).toBeGreaterThanOrEqual(e1 * (1 - 1e-12)); // up to rounding at the plateau
          if (t <= 1e3 && (p.r * t * (1 + grow)) / p.alpha < 5) expect(e2).toBeGreaterThan(e1);
          // Dropout only lowers the count below the Poisson mean r·t/α.
          expect(e1).toBeLessThanOrEqual(((p.r * t) / p.alpha) * (1 + 1e-9));
        },
      ),
      { numRuns: 200 },
    );
  });

  test('for fixed x and t_x, P(alive) decreases as T grows', () => {
    fc.assert(
      fc.property(
        params,
        fc.integer({ min: 1, max: 100 }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.double({ min: 1e-6, max: 100, noNaN: true }),
        (p, x, tx, gap, more) => {
          const T1 = tx + gap;
          expect(bgnbdPAlive(p, x, tx, T1 + more)).toBeLessThanOrEqual(bgnbdPAlive(p, x, tx, T1));
        },
      ),
    );
  });

  test('finite output on extreme inputs (x up to 1e5, T from 1e-9 to 1e6, t up to 1e6)', () => {
    const xs = fc.oneof(fc.constantFrom(0, 1, 2, 1000, 100_000), fc.integer({ min: 0, max: 100_000 }));
    const Ts = fc.oneof(fc.constantFrom(1e-9, 1e-3, 1e6), fc.double({ min: 0, max: 1e6, noNaN: true }));
    fc.assert(
      fc.property(
        params,
        xs,
        Ts,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom(1e-6, 1, 13, 52, 1e3, 1e6),
        (p, x, T, frac, t) => {
          const tx = x === 0 ? 0 : T * frac;
          const pa = bgnbdPAlive(p, x, tx, T);
          expect(pa).toBeGreaterThanOrEqual(0);
          expect(pa).toBeLessThanOrEqual(1);
          const h = bgnbdExpectedPurchasesIfAlive(p, t, x, T);
          expect(Number.isFinite(h)).toBe(true);
          expect(h).toBeGreaterThanOrEqual(0);
          const ey = bgnbdConditionalExpectedPurchases(p, t, x, tx, T);
          expect(Number.isFinite(ey)).toBe(true);
          expect(ey).toBeGreaterThanOrEqual(0);
          expect(Number.isFinite(bgnbdLogLikelihoodOne(p, x, tx, T))).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});
