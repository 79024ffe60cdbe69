import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import {
  CDNOW_GAMMA_GAMMA_PARAMS,
  fitGammaGamma,
  gammaGammaExpectedSpend,
  gammaGammaLogLikelihood,
  gammaGammaLogLikelihoodGradient,
  gammaGammaPopulationMean,
  isSpendRow,
  parseSummaryCsv,
  sampleGamma,
} from '../../../shared/value';
import { createRng } from '../../../shared/util/rng';

const DATA_DIR = process.env.SHOAL_DATA_DIR ?? path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'data');
const FILE = path.join(DATA_DIR, 'cdnow_customers_summary_with_transactions.csv');
const haveFile = existsSync(FILE);
if (!haveFile) console.warn(`[value tests] ${FILE} not found: SKIPPING the CDNOW Gamma-Gamma fit check`);

(haveFile ? describe : describe.skip)('Gamma-Gamma on the 946 CDNOW repeat customers', () => {
  test('reproduces p = 6.25, q = 3.74, v = 15.45 within 1%', () => {
    const rows = parseSummaryCsv(readFileSync(FILE, 'utf8')).filter(isSpendRow);
    expect(rows).toHaveLength(946);
    const mean = rows.reduce((s, r) => s + r.meanSpend, 0) / rows.length;
    expect(mean).toBeCloseTo(35.0786, 3);
    const fit = fitGammaGamma(rows);
    expect(fit.converged).toBe(true);
    expect(Math.abs(fit.params.p / 6.25 - 1)).toBeLessThan(0.01);
    expect(Math.abs(fit.params.q / 3.74 - 1)).toBeLessThan(0.01);
    expect(Math.abs(fit.params.v / 15.45 - 1)).toBeLessThan(0.01);
    expect(Math.abs(fit.params.v - 15.4477)).toBeLessThan(0.01);
  });
});

describe('Gamma-Gamma', () => {
  const g = CDNOW_GAMMA_GAMMA_PARAMS;

  test('conditional spend is the credibility-weighted mean of population mean and own mean', () => {
    const pop = gammaGammaPopulationMean(g);
    expect(pop).toBeCloseTo((6.25 * 15.45) / 2.74, 10);
    expect(gammaGammaExpectedSpend(g, 0, 100)).toBe(pop);
    expect(gammaGammaExpectedSpend(g, 3)).toBe(pop);
    const x = 4;
    const m = 50;
    const w = (g.p * x) / (g.p * x + g.q - 1);
    expect(gammaGammaExpectedSpend(g, x, m)).toBeCloseTo(w * m + (1 - w) * pop, 10);
  });

  test('property: expected spend lies between the population mean and the own mean, closer to it with more orders', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.double({ min: 0.01, max: 1e4, noNaN: true }), (x, m) => {
        const pop = gammaGammaPopulationMean(g);
        const e = gammaGammaExpectedSpend(g, x, m);
        expect(e).toBeGreaterThanOrEqual(Math.min(pop, m) * (1 - 1e-12));
        expect(e).toBeLessThanOrEqual(Math.max(pop, m) * (1 + 1e-12));
        expect(Math.abs(gammaGammaExpectedSpend(g, x + 1, m) - m)).toBeLessThanOrEqual(Math.abs(e - m) + 1e-9);
      }),
    );
  });

  test('analytic gradient matches finite differences', () => {
    const rng = createRng(5);
    const rows = Array.from({ length: 300 }, () => {
      const x = 1 + Math.floor(rng.next() * 8);
      return { x, meanSpend: 5 + 60 * rng.next() };
    });
    const p = { p: 4, q: 3, v: 20 };
    const [ll, grad] = gammaGammaLogLikelihoodGradient(p, rows);
    expect(ll).toBeCloseTo(gammaGammaLogLikelihood(p, rows), 8);
    (['p', 'q', 'v'] as const).forEach((k, i) => {
      const h = 1e-5;
      const up = gammaGammaLogLikelihood({ ...p, [k]: p[k] * Math.exp(h) }, rows);
      const down = gammaGammaLogLikelihood({ ...p, [k]: p[k] * Math.exp(-h) }, rows);
      expect(grad[i]).toBeCloseTo((up - down) / (2 * h), 4);
    });
  });

  test('recovers known parameters from simulated spend', () => {
    const truth = { p: 5, q: 4, v: 20 };
    const rng = createRng(9);
    const rows = Array.from({ length: 4000 }, () => {
      const x = 1 + Math.floor(rng.next() * 6);
      const nu = sampleGamma(rng, truth.q, truth.v);
      let total = 0;
      for (let k = 0; k < x; k++) total += sampleGamma(rng, truth.p, nu);
      return { x, meanSpend: total / x };
    });
    const fit = fitGammaGamma(rows);
    expect(fit.converged).toBe(true);
    expect(gammaGammaPopulationMean(fit.params) / gammaGammaPopulationMean(truth)).toBeCloseTo(1, 1);
    expect(Math.abs(fit.params.p / truth.p - 1)).toBeLessThan(0.25);
  });

  test('rejects rows without a repeat purchase or spend', () => {
    expect(() => fitGammaGamma([{ x: 0, meanSpend: 10 }])).toThrow(RangeError);
    expect(() => gammaGammaLogLikelihood(g, [{ x: 2, meanSpend: 0 }])).toThrow(RangeError);
  });
});
