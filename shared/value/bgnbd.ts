/**
 * BG/NBD ("beta-geometric / negative binomial distribution") model of repeat purchasing,
 * Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing Science 24(2).
 *
 * Per customer: x = number of repeat purchases in (0, T], t_x = time of the last one (0 if x = 0),
 * T = time since the first purchase — all in WEEKS. While alive, purchases are Poisson(λ) with
 * λ ~ Gamma(r, α) (α is a rate, in weeks); after each repeat purchase the customer drops out with
 * probability p ~ Beta(a, b).
 *
 * Numerics:
 * - log-gamma from `@stdlib/math-base-special-gammaln`; likelihood terms combined with log-sum-exp.
 * - The expectations need 2F1(r+x, b+x; a+b+x−1; z) with z = t/(α+T+t) (x = T = 0 gives E[X(t)]'s
 *   2F1(r, b; a+b−1; t/(α+t))). With the Euler transformation
 *     (1−z)^{r+x} 2F1(r+x, b+x; c; z) = (1−z)^{a−1} 2F1(a+b−1−r, a−1; c; z),   c = a+b+x−1,
 *   the numerator parameters no longer grow with x (no overflow at x = 1e5, and the series converges
 *   faster the larger x is), and writing 2F1(A, ε; c; z) = 1 + ε·G makes the (a−1) in the
 *   denominator of the published formula cancel analytically, so a = 1 needs no special case.
 *   The series has an explicit tail bound (see `aliveSeries`). Where it converges slowly
 *   (z close to 1, i.e. t ≫ α+T, with small x) or loses digits to cancellation, the same quantity is
 *   computed by tanh-sinh quadrature of its defining integral over p instead.
 */
import { bfgs, minimizeMultiStart } from './optimize';
import { createRng } from '../util/rng';
import { digamma, expm1OverX, gammaln, lbeta, logAddExp, tanhSinh } from './special';

// Local bindings: global lookups of Math are slow inside vm contexts (jest), and this is hot code.
const { abs, exp, expm1, log, log1p, max, min, pow } = Math;

export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

/** One customer's calibration summary (weeks). */
export interface RfmRow {
  x: number;
  tx: number;
  T: number;
}

export function assertBgNbdParams(p: BgNbdParams): void {
  for (const k of ['r', 'alpha', 'a', 'b'] as const) {
    if (!(Number.isFinite(p[k]) && p[k] > 0))
      throw new RangeError(`BG/NBD parameter ${k} must be finite and > 0, got ${p[k]}`);
  }
}

export function assertRfmRow(x: number, tx: number, T: number): void {
  if (!(Number.isInteger(x) && x >= 0)) throw new RangeError(`x must be a non-negative integer, got ${x}`);
  if (!(Number.isFinite(T) && T >= 0)) throw new RangeError(`T must be finite and >= 0, got ${T}`);
  if (!(Number.isFinite(tx) && tx >= 0 && tx <= T * (1 + 1e-9) + 1e-9))
    throw new RangeError(`t_x must be in [0, T], got t_x=${tx}, T=${T}`);
}

// ---------------------------------------------------------------------------------------------
// Likelihood

/** Log-likelihood of one customer (FHL 2005, eq. 6), in log space. */
export function bgnbdLogLikelihoodOne(p: BgNbdParams, x: number, tx: number, T: number): number {
  const { r, alpha, a, b } = p;
  const a1 = gammaln(r + x) - gammaln(r) + r * log(alpha);
  const a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x);
  const a3 = -(r + x) * log(alpha + T);
  if (x === 0) return a1 + a2 + a3;
  const a4 = log(a) - log(b + x - 1) - (r + x) * log(alpha + tx);
  return a1 + a2 + logAddExp(a3, a4);
}

/**
 * Customers compressed to distinct (x, t_x, T) with multiplicities, grouped by x so that the
 * log-gamma terms are computed once per distinct x.
 */
export interface CompressedRfm {
  xs: number[];
  /** Start offset of each x group in tx/T/w. */
  offsets: number[];
  tx: Float64Array;
  T: Float64Array;
  w: Float64Array;
  customers: number;
  repeatCustomers: number;
}

export function compressRfm(rows: readonly RfmRow[]): CompressedRfm {
  const byX = new Map<number, Map<number, Map<number, number>>>();
  let repeat = 0;
  for (const row of rows) {
    assertRfmRow(row.x, row.tx, row.T);
    if (row.x > 0) repeat++;
    let byT = byX.get(row.x);
    if (!byT) byX.set(row.x, (byT = new Map()));
    let byTx = byT.get(row.T);
    if (!byTx) byT.set(row.T, (byTx = new Map()));
    const tx = row.x === 0 ? 0 : row.tx; // t_x does not enter the likelihood when x = 0
    byTx.set(tx, (byTx.get(tx) ?? 0) + 1);
  }
  const xs = [...byX.keys()].sort((p, q) => p - q);
  let size = 0;
  for (const m of byX.values()) for (const inner of m.values()) size += inner.size;
  const tx = new Float64Array(size);
  const T = new Float64Array(size);
  const w = new Float64Array(size);
  const offsets: number[] = [];
  let k = 0;
  for (const x of xs) {
    offsets.push(k);
    for (const [tVal, inner] of byX.get(x) as Map<number, Map<number, number>>) {
      for (const [txVal, count] of inner) {
        tx[k] = txVal;
        T[k] = tVal;
        w[k] = count;
        k++;
      }
    }
  }
  offsets.push(k);
  return { xs, offsets, tx, T, w, customers: rows.length, repeatCustomers: repeat };
}

export function bgnbdLogLikelihoodCompressed(p: BgNbdParams, d: CompressedRfm): number {
  const { r, alpha, a, b } = p;
  const common = -gammaln(r) + r * log(alpha) + gammaln(a + b) - gammaln(b);
  const logA = log(a);
  let total = 0;
  for (let g = 0; g < d.xs.length; g++) {
    const x = d.xs[g] as number;
    const lo = d.offsets[g] as number;
    const hi = d.offsets[g + 1] as number;
    const rx = r + x;
    const gx = common + gammaln(rx) + gammaln(b + x) - gammaln(a + b + x);
    let sum = 0;
    let weight = 0;
    if (x === 0) {
      for (let i = lo; i < hi; i++) {
        const wi = d.w[i] as number;
        sum -= wi * rx * log(alpha + (d.T[i] as number));
        weight += wi;
      }
    } else {
      const la = logA - log(b + x - 1);
      for (let i = lo; i < hi; i++) {
        const wi = d.w[i] as number;
        const a3 = -rx * log(alpha + (d.T[i] as number));
        const a4 = la - rx * log(alpha + (d.tx[i] as number));
        sum += wi * (a3 > a4 ? a3 + log1p(exp(a4 - a3)) : a4 + log1p(exp(a3 - a4)));
        weight += wi;
      }
    }
    total += sum + weight * gx;
  }
  return total;
}

/**
 * Log-likelihood and its gradient with respect to (ln r, ln α, ln a, ln b). With d = A4 − A3 and
 * π = σ(d) the posterior weight of "dropped out after the last purchase":
 *   ∂/∂r = ψ(r+x) − ψ(r) + ln α − (1−π) ln(α+T) − π ln(α+t_x)
 *   ∂/∂α = r/α − (r+x) ((1−π)/(α+T) + π/(α+t_x))
 *   ∂/∂a = ψ(a+b) − ψ(a+b+x) + π/a
 *   ∂/∂b = ψ(a+b) + ψ(b+x) − ψ(b) − ψ(a+b+x) − π/(b+x−1)
 */
export function bgnbdLogLikelihoodGradient(p: BgNbdParams, d: CompressedRfm): [number, number[]] {
  const { r, alpha, a, b } = p;
  const common = -gammaln(r) + r * log(alpha) + gammaln(a + b) - gammaln(b);
  const logA = log(a);
  const psiR = digamma(r);
  const psiAB = digamma(a + b);
  const psiB = digamma(b);
  let total = 0;
  let gr = 0;
  let ga = 0;
  let gA = 0;
  let gB = 0;
  for (let g = 0; g < d.xs.length; g++) {
    const x = d.xs[g] as number;
    const lo = d.offsets[g] as number;
    const hi = d.offsets[g + 1] as number;
    const rx = r + x;
    const gx = common + gammaln(rx) + gammaln(b + x) - gammaln(a + b + x);
    let weight = 0;
    let sumL = 0;
    let sumDr = 0;
    let sumDalpha = 0;
    let sumPi = 0;
    if (x === 0) {
      for (let i = lo; i < hi; i++) {
        const wi = d.w[i] as number;
        const ti = alpha + (d.T[i] as number);
        const lt = log(ti);
        weight += wi;
        sumL -= wi * rx * lt;
        sumDr -= wi * lt;
        sumDalpha -= (wi * rx) / ti;
      }
    } else {
      const la = logA - log(b + x - 1);
      for (let i = lo; i < hi; i++) {
        const wi = d.w[i] as number;
        const ti = alpha + (d.T[i] as number);
        const txi = alpha + (d.tx[i] as number);
        const lt = log(ti);
        const ltx = log(txi);
        const dd = la + rx * (lt - ltx);
        const e = exp(-abs(dd));
        const pi = dd >= 0 ? 1 / (1 + e) : e / (1 + e);
        weight += wi;
        sumL += wi * (-rx * lt + max(dd, 0) + log1p(e));
        sumDr -= wi * ((1 - pi) * lt + pi * ltx);
        sumDalpha -= wi * rx * ((1 - pi) / ti + pi / txi);
        sumPi += wi * pi;
      }
      gA += sumPi / a;
      gB -= sumPi / (b + x - 1);
    }
    total += sumL + weight * gx;
    const psiBX = digamma(b + x);
    const psiABX = digamma(a + b + x);
    gr += sumDr + weight * (digamma(rx) - psiR + log(alpha));
    ga += sumDalpha + (weight * r) / alpha;
    gA += weight * (psiAB - psiABX);
    gB += weight * (psiAB + psiBX - psiB - psiABX);
  }
  return [total, [gr * r, ga * alpha, gA * a, gB * b]];
}

/** Total log-likelihood of a set of customers. */
export function bgnbdLogLikelihood(p: BgNbdParams, rows: readonly RfmRow[] | CompressedRfm): number {
  assertBgNbdParams(p);
  const d = Array.isArray(rows) ? compressRfm(rows as readonly RfmRow[]) : (rows as CompressedRfm);
  return bgnbdLogLikelihoodCompressed(p, d);
}

// ---------------------------------------------------------------------------------------------
// Fitting

export interface BgNbdFitOptions {
  /** Extra starting points (natural scale); a fixed set of generic starts is always used. */
  starts?: BgNbdParams[];
  /** Above this many distinct (x, t_x, T) rows the Nelder–Mead runs use a seeded subsample of about this size (default 3 000). */
  exploreSampleSize?: number;
  /** Budget of likelihood evaluations for each Nelder–Mead run (default 4 000). */
  maxEvals?: number;
  /** Largest gradient component (of the mean log-likelihood, log-parameters) accepted as converged (default 1e-7). */
  gradientTolerance?: number;
}

export interface BgNbdFit {
  params: BgNbdParams;
  logLikelihood: number;
  converged: boolean;
  /** True when a parameter ran into the search box (|ln θ| ≥ 20): the MLE is on the boundary. */
  atBoundary: boolean;
  /**
   * False when the data cannot tell the fit from a store where nobody drops out: moving a (the dropout Beta's first
   * shape) toward 0, every other parameter held, costs less than χ²₁ at 95 % (3.84) in twice the log-likelihood.
   * A store younger than its customers' purchase cycles shows no dropout yet, and its MLE then lies anywhere on a
   * flat ridge toward a = 0 (on a 3-week simulated store it landed at a ≈ 0.004 one night and on the boundary the
   * next, so the CLV of the same customers went 10× up and down night after night).
   */
  dropoutIdentified: boolean;
  evaluations: number;
  customers: number;
  repeatCustomers: number;
}

const LOG_BOUND = 20;
/** The 95 % quantile of χ² with one degree of freedom (the likelihood-ratio test of `dropoutIdentified`). */
const CHI2_1_95 = 3.841458820694124;

function toParams(theta: readonly number[]): BgNbdParams {
  return {
    r: exp(theta[0] as number),
    alpha: exp(theta[1] as number),
    a: exp(theta[2] as number),
    b: exp(theta[3] as number),
  };
}

function subsample(d: CompressedRfm, size: number, seed: number): CompressedRfm {
  const n = d.w.length;
  const rng = createRng(seed);
  const keep = size / n;
  const idx: number[] = [];
  const offsets: number[] = [];
  const xs: number[] = [];
  let customers = 0;
  let repeat = 0;
  for (let g = 0; g < d.xs.length; g++) {
    const start = idx.length;
    for (let i = d.offsets[g] as number; i < (d.offsets[g + 1] as number); i++) if (rng.next() < keep) idx.push(i);
    if (idx.length > start) {
      xs.push(d.xs[g] as number);
      offsets.push(start);
    }
  }
  offsets.push(idx.length);
  const tx = new Float64Array(idx.length);
  const T = new Float64Array(idx.length);
  const w = new Float64Array(idx.length);
  idx.forEach((i, k) => {
    tx[k] = d.tx[i] as number;
    T[k] = d.T[i] as number;
    w[k] = d.w[i] as number;
  });
  for (let g = 0; g < xs.length; g++) {
    for (let k = offsets[g] as number; k < (offsets[g + 1] as number); k++) {
      customers += w[k] as number;
      if ((xs[g] as number) > 0) repeat += w[k] as number;
    }
  }
  return { xs, offsets, tx, T, w, customers, repeatCustomers: repeat };
}

/**
 * Maximum-likelihood fit on a log scale (θ = ln r, ln α, ln a, ln b): multi-start Nelder–Mead with
 * restarts finds the basin, BFGS with the analytic gradient polishes on the full data. The objective
 * is the mean negative log-likelihood per customer; `converged` means its gradient is below
 * `gradientTolerance` at the returned point.
 */
export function fitBgNbd(rows: readonly RfmRow[] | CompressedRfm, opts: BgNbdFitOptions = {}): BgNbdFit {
  const d = Array.isArray(rows) ? compressRfm(rows as readonly RfmRow[]) : (rows as CompressedRfm);
  if (d.customers === 0) throw new RangeError('fitBgNbd needs at least one customer');
  const objectiveFor = (data: CompressedRfm) => {
    const n = data.customers;
    return (theta: number[]): number => {
      for (const t of theta) if (!(abs(t) < LOG_BOUND)) return Infinity;
      return -bgnbdLogLikelihoodCompressed(toParams(theta), data) / n;
    };
  };
  // Generic starts plus one scaled to the data's purchase rate (r/α ≈ repeat purchases per week).
  let sumX = 0;
  let sumT = 0;
  for (let g = 0; g < d.xs.length; g++) {
    for (let i = d.offsets[g] as number; i < (d.offsets[g + 1] as number); i++) {
      sumX += (d.xs[g] as number) * (d.w[i] as number);
      sumT += (d.T[i] as number) * (d.w[i] as number);
    }
  }
  const rate = max((sumX + 1) / (sumT + 1), 1e-6);
  const natural: BgNbdParams[] = [
    { r: 1, alpha: 1, a: 1, b: 1 },
    { r: 1, alpha: 1 / rate, a: 1, b: 3 },
    { r: 0.5, alpha: 0.5 / rate, a: 0.5, b: 2 },
    { r: 2, alpha: 2 / rate, a: 2, b: 8 },
    ...(opts.starts ?? []),
  ];
  const starts = natural.map((p) => [log(p.r), log(p.alpha), log(p.a), log(p.b)]);
  // 1. Multi-start Nelder–Mead with restarts (on a seeded subsample when the data are large).
  const exploreSize = opts.exploreSampleSize ?? 3000;
  const exploreData = d.w.length > exploreSize ? subsample(d, exploreSize, 0x5eed) : d;
  const explore = objectiveFor(exploreData);
  const nm = minimizeMultiStart(explore, starts, {
    maxEvals: opts.maxEvals ?? 4000,
    exploreFTol: 1e-6,
    exploreXTol: 1e-3,
    fTolAbs: 1e-9,
    fTolRel: 1e-9,
    xTol: 1e-5,
    maxRestarts: 1,
  });
  // 2. BFGS with the analytic gradient on all the data, to a gradient tolerance: this is the
  //    convergence that is reported.
  const n = d.customers;
  const polish = bfgs(
    (theta) => {
      for (const t of theta) if (!(abs(t) < LOG_BOUND)) return [Infinity, theta.map(() => 0)];
      const [ll, grad] = bgnbdLogLikelihoodGradient(toParams(theta), d);
      return [-ll / n, grad.map((gi) => -gi / n)];
    },
    nm.x,
    { gTol: opts.gradientTolerance ?? 1e-7 },
  );
  const theta = Number.isFinite(polish.fx) ? polish.x : nm.x;
  const params = toParams(theta);
  const logLikelihood = bgnbdLogLikelihoodCompressed(params, d);
  const noDropout = { ...params, a: max(exp(-(LOG_BOUND - 1)), params.a * 1e-6) };
  return {
    params,
    logLikelihood,
    converged: polish.converged,
    atBoundary: theta.some((t) => abs(t) > LOG_BOUND - 0.5),
    dropoutIdentified: 2 * (logLikelihood - bgnbdLogLikelihoodCompressed(noDropout, d)) >= CHI2_1_95,
    evaluations: nm.evaluations + polish.evaluations,
    customers: d.customers,
    repeatCustomers: d.repeatCustomers,
  };
}

// ---------------------------------------------------------------------------------------------
// Predictions

/**
 * P(alive at T | x, t_x, T) = 1 / (1 + [x>0]·a/(b+x−1)·((α+T)/(α+t_x))^{r+x}), computed from its
 * log-odds so it is exactly 1 for x = 0 and never NaN (it may underflow to 0 for absurd inputs).
 */
export function bgnbdPAlive(p: BgNbdParams, x: number, tx: number, T: number): number {
  if (x === 0) return 1;
  const logOdds = log(p.a) - log(p.b + x - 1) + (p.r + x) * log1p((T - tx) / (p.alpha + tx));
  if (logOdds > 745) return 0;
  return 1 / (1 + exp(logOdds));
}

/** Tail-bounded series for h (see `bgnbdExpectedPurchasesIfAlive`); undefined when it is not trustworthy. */
/** @internal Exported for tests: the series path of `bgnbdExpectedPurchasesIfAlive` (w = t/(α+T)). */
export function aliveSeries(p: BgNbdParams, x: number, w: number, maxTerms: number): number | undefined {
  const eps = p.a - 1;
  const c = p.a + p.b + x - 1;
  const A = p.a + p.b - 1 - p.r;
  const z = w / (1 + w);
  const L = -log1p(w); // ln(1 − z)
  const term1 = -c * L * expm1OverX(eps * L); // −c·expm1(εL)/ε
  const eL = exp(eps * L);
  // G' = Σ_{n≥1} u_n, u_1 = A z, u_{n+1} = u_n (A+n)(ε+n) z / ((c+n)(n+1)).
  let u = A * z;
  let sum = 0;
  let sumAbs = 0;
  const past = max(0, -A, -eps, -c);
  let converged = u === 0;
  for (let n = 1; n <= maxTerms && !converged; n++) {
    sum += u;
    sumAbs += abs(u);
    u *= ((A + n) * (eps + n) * z) / ((c + n) * (n + 1));
    if (u === 0) converged = true;
    else if (abs(u) <= 1e-16 * abs(sum) && n + 1 > past) {
      const m = n + 1;
      const rho = z * max(1, abs((A + m) / (c + m))) * max(1, abs((eps + m) / (m + 1)));
      if (rho < 1 && abs(u) / (1 - rho) <= 1e-15 * abs(sum)) {
        sum += u;
        converged = true;
      }
    }
  }
  if (!converged) return undefined;
  const h = term1 - eL * sum;
  // Reject when cancellation between the two parts would cost more than ~5 digits.
  if (!(h > 0) || !Number.isFinite(h) || abs(term1) + eL * sumAbs > 1e5 * h) return undefined;
  return h;
}

/**
 * h = E[1/p · (1 − (1 + p·w)^{−s})] for p ~ Beta(a, b'), by tanh-sinh quadrature on intervals
 * growing geometrically from the scale of the integrand's features near p = 0, with the endpoint
 * singularities p^{a−1} and (1−p)^{b'−1} removed by substitution.
 */
/** @internal Exported for tests: the quadrature path of `bgnbdExpectedPurchasesIfAlive`. */
export function aliveQuadrature(p: BgNbdParams, x: number, w: number): number {
  const s = p.r + x;
  const a = p.a;
  const bb = p.b + x;
  const lnB = lbeta(a, bb);
  // ψ(q) = (1 − (1+q·w)^{−s}) / q, smooth and bounded on [0, 1], ψ(0) = s·w.
  const psi = (q: number): number => (q === 0 ? s * w : -expm1(-s * log1p(q * w)) / q);
  const edges: number[] = [0];
  let e = min(0.5, 1 / w, a / (a + bb));
  while (e < 0.5) {
    edges.push(e);
    e *= 4;
  }
  edges.push(0.5, 1);
  let total = 0;
  for (let k = 0; k + 1 < edges.length; k++) {
    const lo = edges[k] as number;
    const hi = edges[k + 1] as number;
    if (k === 0) {
      // q = hi·y^{1/a}: ∫_0^hi q^{a−1} g(q) dq = (hi^a / a) ∫_0^1 g(hi·y^{1/a}) dy.
      const scale = exp(a * log(hi) - log(a) - lnB);
      total +=
        scale *
        tanhSinh(
          (y) => {
            const q = hi * pow(y, 1 / a);
            return exp((bb - 1) * log1p(-q)) * psi(q);
          },
          0,
          1,
        );
    } else if (k === edges.length - 2) {
      // 1 − q = (1−lo)·y^{1/b'}: ∫_lo^1 (1−q)^{b'−1} m(q) dq = ((1−lo)^{b'} / b') ∫_0^1 m(q(y)) dy.
      const span = 1 - lo;
      const scale = exp(bb * log(span) - log(bb) - lnB);
      if (scale > 0) {
        total +=
          scale *
          tanhSinh(
            (y) => {
              const q = 1 - span * pow(y, 1 / bb);
              return exp((a - 1) * log(q)) * psi(q);
            },
            0,
            1,
          );
      }
    } else {
      total += tanhSinh((q) => exp((a - 1) * log(q) + (bb - 1) * log1p(-q) - lnB) * psi(q), lo, hi);
    }
  }
  return total;
}

/**
 * Expected number of purchases in the next t weeks for a customer who is alive, with x repeat
 * purchases observed over T weeks:
 *   h = (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^{r+x} · 2F1(r+x, b+x; a+b+x−1; t/(α+T+t))].
 * (x = 0, T = 0 gives the unconditional E[X(t)].) Depends on (x, T) but not on t_x.
 */
export function bgnbdExpectedPurchasesIfAlive(p: BgNbdParams, t: number, x: number, T: number): number {
  if (!(t > 0)) return 0;
  const w = t / (p.alpha + T);
  if (w === Infinity) return Infinity;
  const viaSeries = aliveSeries(p, x, w, 600);
  return viaSeries ?? aliveQuadrature(p, x, w);
}

/** Unconditional E[X(t)] for a newly acquired customer: (a+b−1)/(a−1)·[1 − (α/(α+t))^r 2F1(r, b; a+b−1; t/(α+t))]. */
export function bgnbdExpectedPurchases(p: BgNbdParams, t: number): number {
  return bgnbdExpectedPurchasesIfAlive(p, t, 0, 0);
}

/** E[Y(t) | x, t_x, T] = P(alive) · h(t; x, T): expected purchases in the next t weeks. */
export function bgnbdConditionalExpectedPurchases(p: BgNbdParams, t: number, x: number, tx: number, T: number): number {
  const alive = bgnbdPAlive(p, x, tx, T);
  if (alive === 0) return 0;
  return alive * bgnbdExpectedPurchasesIfAlive(p, t, x, T);
}

/** Published maximum-likelihood estimates on the CDNOW sample (FHL 2005), used as the default prior. */
export const CDNOW_BGNBD_PARAMS: Readonly<BgNbdParams> = Object.freeze({
  r: 0.2426,
  alpha: 4.4135,
  a: 0.7929,
  b: 2.4258,
});
