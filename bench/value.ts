/**
 * Benchmark of the customer value models (npm run bench:value).
 *
 * 1. CDNOW (if ../shared/data is present): BG/NBD and Gamma-Gamma fits — target: BG/NBD fit < 1 s.
 * 2. Synthetic: 1,000,000 customers drawn from a BG/NBD + Gamma-Gamma with known parameters (seeded),
 *    fitted, then P(alive) + E[Y(90 days)] + expected spend + 52-week discounted CLV predicted for all
 *    of them on one core — target: < 2 s. The batch predictor memoises the terms that depend only on
 *    (x, T) (T is in whole days, as in real data); the per-customer rate without that memo is printed
 *    too, measured on a subsample.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRng } from '../shared/util/rng';
import {
  compressRfm,
  createValuePredictor,
  customerValue,
  fitBgNbd,
  fitGammaGamma,
  fitValueModel,
  isSpendRow,
  parseSummaryCsv,
  simulateBgNbd,
  type BgNbdParams,
  type GammaGammaParams,
  type ValueModel,
} from '../shared/value';

const DATA_DIR = process.env.SHOAL_DATA_DIR ?? path.resolve(__dirname, '..', '..', 'shared', 'data');
const seconds = (t0: number): number => (performance.now() - t0) / 1000;
const fmt = (v: number, d = 4): string => v.toFixed(d);
const verdict = (ok: boolean): string => (ok ? 'MET' : 'NOT MET');
const results: string[] = [];

console.log(
  `value bench — node ${process.version}, cores (os.availableParallelism): ${os.availableParallelism()}, predictions on one core (single thread)`,
);

// --- 1. CDNOW ------------------------------------------------------------------------------
const cdnowFile = path.join(DATA_DIR, 'cdnow_customers_summary_with_transactions.csv');
if (!existsSync(cdnowFile)) {
  console.log(`CDNOW: SKIPPED — ${cdnowFile} not found`);
  results.push('CDNOW fit < 1 s: SKIPPED (data absent)');
} else {
  const rows = parseSummaryCsv(readFileSync(cdnowFile, 'utf8'));
  let t0 = performance.now();
  const bg = fitBgNbd(rows);
  const bgSeconds = seconds(t0);
  t0 = performance.now();
  const gg = fitGammaGamma(rows.filter(isSpendRow));
  const ggSeconds = seconds(t0);
  const p = bg.params;
  console.log(
    `CDNOW BG/NBD: ${rows.length} customers, fit ${fmt(bgSeconds, 3)} s (${bg.evaluations} evaluations, converged ${bg.converged}): ` +
      `r=${fmt(p.r)} alpha=${fmt(p.alpha)} a=${fmt(p.a)} b=${fmt(p.b)} LL=${fmt(bg.logLikelihood, 2)} (published 0.2426 4.4135 0.7929 2.4258, LL -9582.43)`,
  );
  console.log(
    `CDNOW Gamma-Gamma: ${gg.customers} repeat customers, fit ${fmt(ggSeconds, 3)} s (converged ${gg.converged}): ` +
      `p=${fmt(gg.params.p)} q=${fmt(gg.params.q)} v=${fmt(gg.params.v)} (published 6.25 3.74 15.45)`,
  );
  results.push(`CDNOW BG/NBD fit < 1 s: ${verdict(bgSeconds < 1)} (${fmt(bgSeconds, 3)} s)`);
}

// --- 2. Synthetic 1,000,000 ----------------------------------------------------------------
const N = 1_000_000;
const truth: BgNbdParams = { r: 0.5, alpha: 6, a: 0.7, b: 3 };
const spendTruth: GammaGammaParams = { p: 6, q: 4, v: 15 };
let t0 = performance.now();
const population = simulateBgNbd(truth, N, createRng(20240601), { spend: spendTruth });
console.log(
  `synthetic: drew ${N.toLocaleString('en-US')} customers (seed 20240601) in ${fmt(seconds(t0), 2)} s; true BG/NBD r=0.5 alpha=6 a=0.7 b=3, Gamma-Gamma p=6 q=4 v=15`,
);

t0 = performance.now();
const compressed = compressRfm(population);
const bgFit = fitBgNbd(compressed);
const bgSeconds = seconds(t0);
const q = bgFit.params;
const rel = (v: number, t: number): string => `${(((v - t) / t) * 100).toFixed(2)}%`;
console.log(
  `synthetic BG/NBD fit: ${fmt(bgSeconds, 2)} s (${compressed.w.length.toLocaleString('en-US')} distinct rows, ${bgFit.evaluations} evaluations, converged ${bgFit.converged}): ` +
    `r=${fmt(q.r)} (${rel(q.r, truth.r)}) alpha=${fmt(q.alpha)} (${rel(q.alpha, truth.alpha)}) a=${fmt(q.a)} (${rel(q.a, truth.a)}) b=${fmt(q.b)} (${rel(q.b, truth.b)})`,
);
t0 = performance.now();
const spendRows = population.filter(isSpendRow);
const ggFit = fitGammaGamma(spendRows);
const ggSeconds = seconds(t0);
console.log(
  `synthetic Gamma-Gamma fit: ${fmt(ggSeconds, 2)} s on ${spendRows.length.toLocaleString('en-US')} repeat customers (converged ${ggFit.converged}): ` +
    `p=${fmt(ggFit.params.p)} (${rel(ggFit.params.p, spendTruth.p)}) q=${fmt(ggFit.params.q)} (${rel(ggFit.params.q, spendTruth.q)}) v=${fmt(ggFit.params.v)} (${rel(ggFit.params.v, spendTruth.v)})`,
);

const model: ValueModel = {
  bgnbd: { ...bgFit.params, source: 'fit', logLikelihood: bgFit.logLikelihood, converged: bgFit.converged },
  gammaGamma: { ...ggFit.params, source: 'fit', logLikelihood: ggFit.logLikelihood, converged: ggFit.converged },
  timeUnit: 'weeks',
};
const opts = { horizonWeeks: 52, discountRatePerWeek: 0.0018 };

// Warm up the JIT on a different slice, then time the full population.
const warm = createValuePredictor(model, opts);
for (let i = 0; i < 20_000; i++) warm(population[i] as (typeof population)[number]);
const predict = createValuePredictor(model, opts);
let checksum = 0;
t0 = performance.now();
for (let i = 0; i < N; i++) {
  const v = predict(population[i] as (typeof population)[number]);
  checksum += v.pAlive + v.expectedOrders90d + v.expectedSpend + v.clv;
}
const predSeconds = seconds(t0);
console.log(
  `predictions (P(alive) + E[Y(90 d)] + spend + 52-week CLV at 0.18%/week) for ${N.toLocaleString('en-US')} customers: ${fmt(predSeconds, 3)} s = ` +
    `${Math.round(N / predSeconds).toLocaleString('en-US')} customers/s (checksum ${checksum.toExponential(6)})`,
);
results.push(`1,000,000 predictions < 2 s on one core: ${verdict(predSeconds < 2)} (${fmt(predSeconds, 3)} s)`);

const M = 20_000;
t0 = performance.now();
for (let i = 0; i < M; i++) customerValue(model, population[N - 1 - i] as (typeof population)[number], opts);
const single = seconds(t0);
console.log(
  `without the (x, T) memo (customerValue, one at a time): ${Math.round(M / single).toLocaleString('en-US')} customers/s on ${M.toLocaleString('en-US')} customers`,
);

// Small store: falls back to priors instead of throwing.
const small = fitValueModel(population.slice(0, 12));
console.log(
  `small store (12 customers): BG/NBD source=${small.bgnbd.source} (${small.bgnbd.reason}); Gamma-Gamma source=${small.gammaGamma.source}`,
);

console.log(`targets: ${results.join('; ')}`);
