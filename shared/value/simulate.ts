/**
 * Simulation of calibration summaries from the BG/NBD (and optionally Gamma-Gamma) model, for tests
 * and benchmarks. Pure: randomness comes from the injected Rng.
 */
import type { Rng } from '../util/rng';
import type { BgNbdParams } from './bgnbd';
import type { GammaGammaParams } from './gamma-gamma';

// Local bindings: global lookups of Math are slow inside vm contexts (jest), and this is hot code.
const { floor, log, log1p, pow, sqrt } = Math;

/** Gamma(shape, rate) variate (Marsaglia & Tsang 2000; shape < 1 via the u^{1/shape} boost). */
export function sampleGamma(rng: Rng, shape: number, rate: number): number {
  if (shape < 1) {
    let u = rng.next();
    while (u === 0) u = rng.next();
    return sampleGamma(rng, shape + 1, rate) * pow(u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / sqrt(9 * d);
  for (;;) {
    const x = rng.normal();
    const v0 = 1 + c * x;
    if (v0 <= 0) continue;
    const v = v0 * v0 * v0;
    const u = rng.next();
    if (u > 0 && log(u) < 0.5 * x * x + d - d * v + d * log(v)) return (d * v) / rate;
  }
}

export interface SimulatedCustomer {
  x: number;
  tx: number;
  T: number;
  /** Mean value of the repeat transactions (0 when x = 0); only with spend parameters. */
  meanSpend?: number;
}

export interface SimulateOptions {
  /** First purchases are spread uniformly over this many whole days (default 84 = 12 weeks). */
  cohortDays?: number;
  /** Days from the start of the cohort to the end of calibration (default 273 = 39 weeks). */
  calibrationDays?: number;
  /** Gamma-Gamma parameters to draw repeat transaction values from. */
  spend?: GammaGammaParams;
}

/**
 * Draws customers from the BG/NBD: λ ~ Gamma(r, α), p ~ Beta(a, b); purchases are Poisson(λ) while
 * alive, and after each repeat purchase the customer drops out with probability p. T is a whole
 * number of days (as in real data); purchase times are continuous.
 */
export function simulateBgNbd(
  params: BgNbdParams,
  n: number,
  rng: Rng,
  opts: SimulateOptions = {},
): SimulatedCustomer[] {
  const cohortDays = opts.cohortDays ?? 84;
  const calibrationDays = opts.calibrationDays ?? 273;
  const out: SimulatedCustomer[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const T = (calibrationDays - floor(rng.next() * cohortDays)) / 7;
    const lambda = sampleGamma(rng, params.r, params.alpha);
    const g1 = sampleGamma(rng, params.a, 1);
    const p = g1 / (g1 + sampleGamma(rng, params.b, 1));
    let t = 0;
    let x = 0;
    let tx = 0;
    for (;;) {
      t += -log1p(-rng.next()) / lambda;
      if (!(t <= T)) break;
      x++;
      tx = t;
      if (rng.next() < p) break;
    }
    const row: SimulatedCustomer = { x, tx, T };
    if (opts.spend) {
      let total = 0;
      if (x > 0) {
        const nu = sampleGamma(rng, opts.spend.q, opts.spend.v);
        for (let k = 0; k < x; k++) total += sampleGamma(rng, opts.spend.p, nu);
      }
      row.meanSpend = x > 0 ? total / x : 0;
    }
    out[i] = row;
  }
  return out;
}
