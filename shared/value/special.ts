/**
 * Special functions used by the customer value models.
 *
 * - `gammaln` and `digamma` come from `@stdlib/math-base-special-gammaln` / `-digamma` (not hand-written).
 * - `hyp2f1` is the Gaussian hypergeometric function 2F1(a, b; c; z) by its power series, with an
 *   explicit convergence check (a bound on the tail, not just "the last term was small") and the Euler
 *   transformation 2F1(a,b;c;z) = (1-z)^(c-a-b) 2F1(c-a, c-b; c; z) when it shrinks the numerator
 *   parameters. It is the textbook reference; the BG/NBD code uses a specialised, better-conditioned
 *   form of the same series (see `bgnbd.ts`) and falls back to `tanhSinh` quadrature where the series
 *   converges slowly (z close to 1).
 */
import stdlibDigamma from '@stdlib/math-base-special-digamma';
import stdlibGammaln from '@stdlib/math-base-special-gammaln';

// Local bindings: global lookups of Math are slow inside vm contexts (jest), and this is hot code.
const { abs, ceil, cosh, exp, expm1, log1p, max, sinh } = Math;

/** ln Γ(x) for x > 0 (library implementation). */
export const gammaln: (x: number) => number = stdlibGammaln;

/** ψ(x) = d/dx ln Γ(x) (library implementation). */
export const digamma: (x: number) => number = stdlibDigamma;

/** ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b). */
export function lbeta(a: number, b: number): number {
  return gammaln(a) + gammaln(b) - gammaln(a + b);
}

/** ln(e^x + e^y) without overflow. */
export function logAddExp(x: number, y: number): number {
  if (x === -Infinity) return y;
  if (y === -Infinity) return x;
  return x > y ? x + log1p(exp(y - x)) : y + log1p(exp(x - y));
}

/** expm1(y) / y, accurate for tiny |y| (limit 1 at y = 0). */
export function expm1OverX(y: number): number {
  if (abs(y) < 1e-5) return 1 + y / 2 + (y * y) / 6;
  return expm1(y) / y;
}

export interface SeriesResult {
  value: number;
  converged: boolean;
  terms: number;
}

export interface Hyp2f1Options {
  /** Relative tolerance on the bound of the neglected tail (default 1e-15). */
  tol?: number;
  /** Maximum number of series terms (default 100 000). */
  maxTerms?: number;
}

/**
 * Sums Σ_{n≥0} t_n with t_0 = 1 and t_{n+1} = t_n (a+n)(b+n) z / ((c+n)(n+1)).
 * Convergence check: once n is past every sign change (n > −a, −b, −c), each factor (a+m)/(c+m) and
 * (b+m)/(m+1) moves monotonically towards 1, so every later ratio is at most
 * ρ = |z|·max(1, |a+n|/|c+n|)·max(1, |b+n|/(n+1)); when ρ < 1 the neglected tail is at most
 * |t_{n+1}|·ρ/(1−ρ), and the sum stops when that bound is below tol·|sum|.
 */
function hyp2f1Series(a: number, b: number, c: number, z: number, tol: number, maxTerms: number): SeriesResult {
  let term = 1;
  let sum = 1;
  const past = max(0, -a, -b, -c);
  const az = abs(z);
  for (let n = 0; n < maxTerms; n++) {
    term *= ((a + n) * (b + n) * z) / ((c + n) * (n + 1));
    sum += term;
    if (term === 0) return { value: sum, converged: true, terms: n + 2 };
    if (!Number.isFinite(sum)) return { value: sum, converged: false, terms: n + 2 };
    const m = n + 1;
    if (m > past) {
      const rho = az * max(1, abs((a + m) / (c + m))) * max(1, abs((b + m) / (m + 1)));
      if (rho < 1 && abs(term) * (rho / (1 - rho)) <= tol * abs(sum)) {
        return { value: sum, converged: true, terms: n + 2 };
      }
    }
  }
  return { value: sum, converged: false, terms: maxTerms + 1 };
}

/**
 * Gaussian hypergeometric function 2F1(a, b; c; z) for real parameters and −1 < z < 1 (c not a
 * non-positive integer). Returns the value with `converged` telling whether the tail bound was met.
 * For 0 < z < 1 it applies the Euler transformation when that makes the numerator parameters smaller.
 */
export function hyp2f1(a: number, b: number, c: number, z: number, opts: Hyp2f1Options = {}): SeriesResult {
  const tol = opts.tol ?? 1e-15;
  const maxTerms = opts.maxTerms ?? 100_000;
  if (![a, b, c, z].every(Number.isFinite) || abs(z) >= 1) return { value: NaN, converged: false, terms: 0 };
  if (c <= 0 && Number.isInteger(c)) return { value: NaN, converged: false, terms: 0 };
  if (z === 0 || a === 0 || b === 0) return { value: 1, converged: true, terms: 1 };
  if (z > 0 && abs(c - a) + abs(c - b) < abs(a) + abs(b)) {
    const inner = hyp2f1Series(c - a, c - b, c, z, tol, maxTerms);
    return { ...inner, value: exp((c - a - b) * log1p(-z)) * inner.value };
  }
  return hyp2f1Series(a, b, c, z, tol, maxTerms);
}

// ---------------------------------------------------------------------------------------------
// tanh-sinh (double-exponential) quadrature on [0, 1], robust to endpoint singularities.

interface TanhSinhNode {
  /** Distance of the node from the left end, as a fraction of the interval: (1 + ξ) / 2. */
  left: number;
  /** Distance from the right end: (1 − ξ) / 2, computed without cancellation. */
  right: number;
  /** Weight for the interval [0, 1]. */
  weight: number;
}

const TS_STEP = 1 / 16;
const TS_NODES: TanhSinhNode[] = (() => {
  const nodes: TanhSinhNode[] = [];
  for (let k = -ceil(4 / TS_STEP); k <= ceil(4 / TS_STEP); k++) {
    const tau = k * TS_STEP;
    const u = (Math.PI / 2) * sinh(tau);
    // ξ = tanh(u); (1+ξ)/2 = 1/(1+e^{-2u}); (1−ξ)/2 = 1/(1+e^{2u}).
    const left = 1 / (1 + exp(-2 * u));
    const right = 1 / (1 + exp(2 * u));
    const cu = cosh(u);
    // dξ/dτ = (π/2) cosh τ / cosh² u; on [0,1] the Jacobian is half of that.
    const weight = (TS_STEP * (Math.PI / 4) * cosh(tau)) / (cu * cu);
    if (left === 0 || right === 0 || weight < 1e-300) continue;
    nodes.push({ left, right, weight });
  }
  return nodes;
})();

/**
 * ∫_lo^hi f by tanh-sinh with a fixed step of 1/16 (about 120 nodes). `f(x, fromLo, fromHi)` receives
 * the node and its distances to both ends, so integrands with endpoint singularities can be evaluated
 * without cancellation.
 */
export function tanhSinh(f: (x: number, fromLo: number, fromHi: number) => number, lo: number, hi: number): number {
  const len = hi - lo;
  let sum = 0;
  for (const node of TS_NODES) {
    const dl = len * node.left;
    const dr = len * node.right;
    const v = f(node.left < 0.5 ? lo + dl : hi - dr, dl, dr);
    if (Number.isFinite(v)) sum += node.weight * v;
  }
  return sum * len;
}
