/**
 * 2-D projection of customer vectors for the report's scatter plot: PCA (top two
 * principal components) by power iteration on the covariance matrix, with
 * deflation. Pure and deterministic: the start vector comes from `seed`, and each
 * component's sign is fixed (its largest-magnitude loading is positive), so equal
 * inputs give bit-identical outputs.
 */

const MAX_ITERATIONS = 1000;
const TOLERANCE = 1e-12;

export interface Projection2d {
  x: Float64Array;
  y: Float64Array;
}

/**
 * @param vectors row-major `n × dim` matrix (extra trailing entries are ignored)
 * @param seed    seeds the power iteration's start vectors
 * Non-finite entries count as the column mean. Degenerate input (no variance,
 * `dim < 2`, `n < 2`) gives zeros for the missing components, never NaN.
 */
export function projectTo2d(vectors: Float64Array, n: number, dim: number, seed: number): Projection2d {
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(dim) || dim < 0) {
    throw new RangeError(`projectTo2d: n and dim must be non-negative integers (got n=${n}, dim=${dim})`);
  }
  if (vectors.length < n * dim) {
    throw new RangeError(`projectTo2d: expected at least ${n * dim} values for ${n}×${dim}, got ${vectors.length}`);
  }
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  if (n === 0 || dim === 0) return { x, y };

  // Column means over finite entries.
  const mean = new Float64Array(dim);
  const count = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    const row = i * dim;
    for (let j = 0; j < dim; j++) {
      const v = vectors[row + j] as number;
      if (Number.isFinite(v)) {
        mean[j] = (mean[j] as number) + v;
        count[j] = (count[j] as number) + 1;
      }
    }
  }
  for (let j = 0; j < dim; j++) {
    const c = count[j] as number;
    mean[j] = c > 0 ? (mean[j] as number) / c : 0;
  }

  // Centred copy and covariance (upper triangle, then mirrored).
  const centred = new Float64Array(n * dim);
  for (let i = 0; i < n; i++) {
    const row = i * dim;
    for (let j = 0; j < dim; j++) {
      const v = vectors[row + j] as number;
      centred[row + j] = Number.isFinite(v) ? v - (mean[j] as number) : 0;
    }
  }
  const cov = new Float64Array(dim * dim);
  for (let i = 0; i < n; i++) {
    const row = i * dim;
    for (let a = 0; a < dim; a++) {
      const va = centred[row + a] as number;
      if (va === 0) continue;
      const ca = a * dim;
      for (let b = a; b < dim; b++) cov[ca + b] = (cov[ca + b] as number) + va * (centred[row + b] as number);
    }
  }
  const denom = Math.max(n - 1, 1);
  for (let a = 0; a < dim; a++) {
    for (let b = a; b < dim; b++) {
      const v = (cov[a * dim + b] as number) / denom;
      cov[a * dim + b] = v;
      cov[b * dim + a] = v;
    }
  }

  const random = mulberry32(seed);
  const first = powerIteration(cov, dim, random, []);
  const components = [first];
  if (dim >= 2) {
    const lambda = first.value;
    if (lambda > 0) {
      // Deflate: C ← C − λ v vᵀ.
      for (let a = 0; a < dim; a++) {
        for (let b = 0; b < dim; b++) {
          cov[a * dim + b] =
            (cov[a * dim + b] as number) - lambda * (first.vector[a] as number) * (first.vector[b] as number);
        }
      }
    }
    components.push(powerIteration(cov, dim, random, [first.vector]));
  }

  const outputs = [x, y];
  // Variance below this is rounding noise left by deflation (or none at all): leave zeros.
  const floor = Math.max(first.value, 0) * 1e-12;
  components.forEach((component, c) => {
    const out = outputs[c] as Float64Array;
    if (!(component.value > floor)) return;
    const v = component.vector;
    for (let i = 0; i < n; i++) {
      const row = i * dim;
      let s = 0;
      for (let j = 0; j < dim; j++) s += (centred[row + j] as number) * (v[j] as number);
      out[i] = s;
    }
  });
  return { x, y };
}

interface Component {
  vector: Float64Array;
  /** Rayleigh quotient vᵀCv (the eigenvalue once converged). */
  value: number;
}

function powerIteration(cov: Float64Array, dim: number, random: () => number, orthogonalTo: Float64Array[]): Component {
  let v = new Float64Array(dim);
  for (let j = 0; j < dim; j++) v[j] = random() - 0.5;
  orthogonalise(v, orthogonalTo);
  if (!normalise(v)) return { vector: v, value: 0 };

  let next = new Float64Array(dim);
  for (let iter = 0; iter < MAX_ITERATIONS; iter++) {
    multiply(cov, v, next, dim);
    orthogonalise(next, orthogonalTo);
    if (!normalise(next)) return { vector: v, value: 0 }; // v is in the null space
    let dot = 0;
    for (let j = 0; j < dim; j++) dot += (next[j] as number) * (v[j] as number);
    const swap = v;
    v = next;
    next = swap;
    if (1 - Math.abs(dot) < TOLERANCE) break;
  }
  fixSign(v);
  multiply(cov, v, next, dim);
  let value = 0;
  for (let j = 0; j < dim; j++) value += (v[j] as number) * (next[j] as number);
  return { vector: v, value: Number.isFinite(value) ? value : 0 };
}

function multiply(m: Float64Array, v: Float64Array, out: Float64Array, dim: number): void {
  for (let a = 0; a < dim; a++) {
    let s = 0;
    const row = a * dim;
    for (let b = 0; b < dim; b++) s += (m[row + b] as number) * (v[b] as number);
    out[a] = s;
  }
}

function orthogonalise(v: Float64Array, basis: Float64Array[]): void {
  for (const u of basis) {
    let dot = 0;
    for (let j = 0; j < v.length; j++) dot += (v[j] as number) * (u[j] as number);
    for (let j = 0; j < v.length; j++) v[j] = (v[j] as number) - dot * (u[j] as number);
  }
}

/** Scales to unit length; false when the vector is (numerically) zero or not finite. */
function normalise(v: Float64Array): boolean {
  let s = 0;
  for (let j = 0; j < v.length; j++) s += (v[j] as number) * (v[j] as number);
  const norm = Math.sqrt(s);
  if (!(norm > 1e-300) || !Number.isFinite(norm)) return false;
  for (let j = 0; j < v.length; j++) v[j] = (v[j] as number) / norm;
  return true;
}

/** Makes the largest-magnitude entry positive, so the component's sign does not depend on the seed. */
function fixSign(v: Float64Array): void {
  let best = 0;
  for (let j = 1; j < v.length; j++) if (Math.abs(v[j] as number) > Math.abs(v[best] as number) + 1e-12) best = j;
  if ((v[best] as number) < 0) for (let j = 0; j < v.length; j++) v[j] = -(v[j] as number);
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
