/**
 * Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV";
 * Fader & Hardie, "The Gamma-Gamma model of monetary value", 2013).
 *
 * A customer's transaction values are Gamma(p, ν) with ν ~ Gamma(q, v) across customers, so the
 * customer's mean spend is p/ν. It is fitted on repeat customers only (x > 0 repeat transactions),
 * with m = z̄, the mean value of the repeat transactions (the first purchase is excluded).
 * Assumes spend is independent of the purchase process.
 */
import { bfgs, minimizeMultiStart } from './optimize';
import { digamma, gammaln } from './special';
import { createRng } from '../util/rng';

// Local bindings: global lookups of Math are slow inside vm contexts (jest), and this is hot code.
const { abs, exp, log } = Math;

export interface GammaGammaParams {
  p: number;
  q: number;
  v: number;
}

export interface SpendRow {
  /** Number of repeat transactions (> 0). */
  x: number;
  /** Mean value of those repeat transactions (> 0). */
  meanSpend: number;
}

export function assertGammaGammaParams(g: GammaGammaParams): void {
  for (const k of ['p', 'q', 'v'] as const) {
    if (!(Number.isFinite(g[k]) && g[k] > 0))
      throw new RangeError(`Gamma-Gamma parameter ${k} must be finite and > 0, got ${g[k]}`);
  }
  if (!(g.q > 1)) throw new RangeError(`Gamma-Gamma q must be > 1 for a finite mean spend, got ${g.q}`);
}

/** True for rows the spend model can use: x > 0 repeat transactions with a positive mean spend. */
export function isSpendRow<R extends { x: number; meanSpend?: number }>(row: R): row is R & SpendRow {
  return row.x > 0 && row.meanSpend !== undefined && Number.isFinite(row.meanSpend) && row.meanSpend > 0;
}

/** Log-likelihood of one customer's mean spend m over x transactions. */
export function gammaGammaLogLikelihoodOne(g: GammaGammaParams, x: number, m: number): number {
  const { p, q, v } = g;
  const px = p * x;
  return (
    gammaln(px + q) -
    gammaln(px) -
    gammaln(q) +
    q * log(v) +
    (px - 1) * log(m) +
    px * log(x) -
    (px + q) * log(x * m + v)
  );
}

interface CompressedSpend {
  xs: number[];
  offsets: number[];
  logM: Float64Array;
  m: Float64Array;
  n: number;
}

function compress(rows: readonly SpendRow[]): CompressedSpend {
  const byX = new Map<number, number[]>();
  for (const r of rows as readonly { x: number; meanSpend?: number }[]) {
    if (!isSpendRow(r)) {
      throw new RangeError(`Gamma-Gamma rows need x > 0 and meanSpend > 0, got x=${r.x}, meanSpend=${r.meanSpend}`);
    }
    const list = byX.get(r.x);
    if (list) list.push(r.meanSpend);
    else byX.set(r.x, [r.meanSpend]);
  }
  const xs = [...byX.keys()].sort((a, b) => a - b);
  const m = new Float64Array(rows.length);
  const logM = new Float64Array(rows.length);
  const offsets: number[] = [];
  let k = 0;
  for (const x of xs) {
    offsets.push(k);
    for (const value of byX.get(x) as number[]) {
      m[k] = value;
      logM[k] = log(value);
      k++;
    }
  }
  offsets.push(k);
  return { xs, offsets, logM, m, n: rows.length };
}

function logLikelihoodCompressed(g: GammaGammaParams, d: CompressedSpend): number {
  const { p, q, v } = g;
  const logV = log(v);
  const lgq = gammaln(q);
  let total = 0;
  for (let k = 0; k < d.xs.length; k++) {
    const x = d.xs[k] as number;
    const px = p * x;
    const cst = gammaln(px + q) - gammaln(px) - lgq + q * logV + px * log(x);
    for (let i = d.offsets[k] as number; i < (d.offsets[k + 1] as number); i++) {
      total += cst + (px - 1) * (d.logM[i] as number) - (px + q) * log(x * (d.m[i] as number) + v);
    }
  }
  return total;
}

/**
 * Log-likelihood and gradient with respect to (ln p, ln q, ln v):
 *   ∂/∂p = x [ψ(px+q) − ψ(px) + ln m + ln x − ln(xm+v)]
 *   ∂/∂q = ψ(px+q) − ψ(q) + ln v − ln(xm+v)
 *   ∂/∂v = q/v − (px+q)/(xm+v)
 */
function logLikelihoodGradient(g: GammaGammaParams, d: CompressedSpend): [number, number[]] {
  const { p, q, v } = g;
  const logV = log(v);
  const lgq = gammaln(q);
  const psiQ = digamma(q);
  let total = 0;
  let gp = 0;
  let gq = 0;
  let gv = 0;
  for (let k = 0; k < d.xs.length; k++) {
    const x = d.xs[k] as number;
    const px = p * x;
    const logX = log(x);
    const cst = gammaln(px + q) - gammaln(px) - lgq + q * logV + px * logX;
    const psiSum = digamma(px + q);
    const psiPx = digamma(px);
    let count = 0;
    let sumLogM = 0;
    let sumLogD = 0;
    let sumInvD = 0;
    for (let i = d.offsets[k] as number; i < (d.offsets[k + 1] as number); i++) {
      const dm = x * (d.m[i] as number) + v;
      const ld = log(dm);
      count++;
      sumLogM += d.logM[i] as number;
      sumLogD += ld;
      sumInvD += 1 / dm;
    }
    total += count * cst + (px - 1) * sumLogM - (px + q) * sumLogD;
    gp += x * (count * (psiSum - psiPx + logX) + sumLogM - sumLogD);
    gq += count * (psiSum - psiQ + logV) - sumLogD;
    gv += (count * q) / v - (px + q) * sumInvD;
  }
  return [total, [gp * p, gq * q, gv * v]];
}

function subsample(d: CompressedSpend, size: number): CompressedSpend {
  const rng = createRng(0x5eed);
  const keep = size / d.n;
  const xs: number[] = [];
  const offsets: number[] = [];
  const m: number[] = [];
  for (let k = 0; k < d.xs.length; k++) {
    const start = m.length;
    for (let i = d.offsets[k] as number; i < (d.offsets[k + 1] as number); i++)
      if (rng.next() < keep) m.push(d.m[i] as number);
    if (m.length > start) {
      xs.push(d.xs[k] as number);
      offsets.push(start);
    }
  }
  offsets.push(m.length);
  return { xs, offsets, m: Float64Array.from(m), logM: Float64Array.from(m, log), n: m.length };
}

/** Log-likelihood and its gradient with respect to (ln p, ln q, ln v). */
export function gammaGammaLogLikelihoodGradient(g: GammaGammaParams, rows: readonly SpendRow[]): [number, number[]] {
  return logLikelihoodGradient(g, compress(rows));
}

export function gammaGammaLogLikelihood(g: GammaGammaParams, rows: readonly SpendRow[]): number {
  return logLikelihoodCompressed(g, compress(rows));
}

export interface GammaGammaFit {
  params: GammaGammaParams;
  logLikelihood: number;
  converged: boolean;
  atBoundary: boolean;
  evaluations: number;
  customers: number;
}

/**
 * Maximum-likelihood fit on a log scale (ln p, ln q, ln v): multi-start Nelder–Mead with restarts,
 * then BFGS with the analytic gradient; `converged` means that gradient is below 1e-7 (per customer).
 */
export function fitGammaGamma(rows: readonly SpendRow[]): GammaGammaFit {
  const d = compress(rows);
  if (d.n === 0) throw new RangeError('fitGammaGamma needs at least one repeat customer');
  let mean = 0;
  for (const v of d.m) mean += v;
  mean /= d.n;
  // Nelder–Mead explores on a seeded subsample of large data; BFGS polishes on all of it.
  const e = d.n > 5000 ? subsample(d, 5000) : d;
  const objective = (theta: number[]): number => {
    for (const t of theta) if (!(abs(t) < 20)) return Infinity;
    return (
      -logLikelihoodCompressed(
        { p: exp(theta[0] as number), q: exp(theta[1] as number), v: exp(theta[2] as number) },
        e,
      ) / e.n
    );
  };
  // Starts: generic shapes with v set so that the implied mean p·v/(q−1) matches the data.
  const starts = [
    [1, 2],
    [5, 3],
    [2, 5],
    [10, 10],
  ].map(([p, q]) => [log(p as number), log(q as number), log((mean * ((q as number) - 1)) / (p as number))]);
  const res = minimizeMultiStart(objective, starts, { fTolAbs: 1e-10, fTolRel: 1e-10, xTol: 1e-6, maxRestarts: 2 });
  const polish = bfgs(
    (theta) => {
      for (const t of theta) if (!(abs(t) < 20)) return [Infinity, theta.map(() => 0)];
      const [ll, grad] = logLikelihoodGradient(
        { p: exp(theta[0] as number), q: exp(theta[1] as number), v: exp(theta[2] as number) },
        d,
      );
      return [-ll / d.n, grad.map((gi) => -gi / d.n)];
    },
    res.x,
    { gTol: 1e-7 },
  );
  const theta = Number.isFinite(polish.fx) ? polish.x : res.x;
  const params = { p: exp(theta[0] as number), q: exp(theta[1] as number), v: exp(theta[2] as number) };
  return {
    params,
    logLikelihood: logLikelihoodCompressed(params, d),
    converged: polish.converged,
    atBoundary: theta.some((t) => abs(t) > 19.5),
    evaluations: res.evaluations + polish.evaluations,
    customers: d.n,
  };
}

/** Population mean spend per transaction, E[Z] = p·v/(q−1). */
export function gammaGammaPopulationMean(g: GammaGammaParams): number {
  return (g.p * g.v) / (g.q - 1);
}

/**
 * Conditional expected average spend per transaction:
 *   E[Z | x, m] = p(v + x·m) / (p·x + q − 1),
 * a weighted average of the population mean and the customer's own mean m. For x = 0 (or no
 * spend observed) it is the population mean.
 */
export function gammaGammaExpectedSpend(g: GammaGammaParams, x: number, meanSpend?: number): number {
  if (!(x > 0) || meanSpend === undefined || !(meanSpend > 0) || !Number.isFinite(meanSpend))
    return gammaGammaPopulationMean(g);
  return (g.p * (g.v + x * meanSpend)) / (g.p * x + g.q - 1);
}

/** Published estimates on the 946 CDNOW repeat customers (dollars per transaction), the default prior. */
export const CDNOW_GAMMA_GAMMA_PARAMS: Readonly<GammaGammaParams> = Object.freeze({ p: 6.25, q: 3.74, v: 15.45 });
