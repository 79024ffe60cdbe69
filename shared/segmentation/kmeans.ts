/**
 * Fast exact k-means (Lloyd's algorithm with Hamerly's distance bounds) on flat row-major typed arrays.
 *
 * - Seeding: greedy k-means++ (2 + ln k local trials, like scikit-learn), with triangle-inequality pruning that also
 *   yields valid Hamerly bounds, so the first Lloyd assignment costs no distance computation.
 * - Convergence like scikit-learn's Lloyd: stop when labels no longer change, or when the total squared centroid shift
 *   is <= tol * mean per-feature variance, or after maxIter iterations; then a final assignment with the final centroids.
 * - Empty clusters take the point farthest from its (previous) centroid among clusters with more than one point,
 *   never a point that sits on its centroid (that would only copy a centroid).
 * - Identical rows always get identical labels. With fewer distinct rows than k, seeding can place two centroids on
 *   the same point; when the result has coinciding centroids or empty clusters, the labels are recomputed exactly
 *   (nearest centroid, ties to the lowest index), so the later copy of a centroid ends empty. Check
 *   `distinctRowCount` first to choose a k the data can support.
 * - Distances run in a small WebAssembly SIMD module when the runtime has it (kmeans-wasm.ts; the data is then copied
 *   into its memory unless it comes from allocateKMeansInput), else in scalar JavaScript.
 * - The work is split into fixed row blocks (independent of the thread count) whose partial sums are reduced in block
 *   order, so `kmeans` and `kmeansParallel` (any thread count) return bit-identical results for the same seed.
 *   Workers are `worker_threads` started from source strings (kmeans-kernel.ts), so bundles need no extra files.
 */
import { availableParallelism } from 'node:os';
import { createRng, type Rng } from '../util/rng';
import {
  mainKernel,
  N_PARAMS,
  N_STAT,
  P_FINAL,
  P_J,
  P_L,
  P_PARG,
  type KernelModule,
  type KernelOp,
  type KState,
  type KStateDesc,
  type XArray,
} from './kmeans-kernel';
import { distanceModule, wasmMemory, WASM_MAX_PAGES, WASM_PAGE, type WasmMemory } from './kmeans-wasm';
import { KernelPool, runOpSync } from './kmeans-pool';

export interface KMeansOptions {
  k: number;
  seed: number;
  /** Default 300. */
  maxIter?: number;
  /** Default 1e-4, relative to the mean per-feature variance, compared with the total squared centroid shift. */
  tol?: number;
  /** Number of k-means++ initialisations; the run with the lowest inertia wins. Default 1. */
  nInit?: number;
}

export interface KMeansResult {
  k: number;
  d: number;
  /** k*d, row-major. */
  centroids: Float64Array;
  /** n. */
  labels: Int32Array;
  inertia: number;
  iterations: number;
}

/** What `lloyd`'s `onIteration` sees after each update step (views into live state: copy what you keep). */
export interface LloydIteration {
  iteration: number;
  /** New centroids (means of the clusters given by `labels`), k*d. */
  centroids: Float64Array;
  labels: Int32Array;
  /** Number of points whose label changed in this iteration (n in the first one). */
  changes: number;
  /** Total squared centroid shift of this update. */
  shift: number;
}

export interface LloydOptions {
  maxIter?: number;
  tol?: number;
  onIteration?: (it: LloydIteration) => void;
}

const DEFAULT_MAX_ITER = 300;
const DEFAULT_TOL = 1e-4;
/** Below this much work per assignment pass (n*k*d), kmeansParallel runs on the calling thread. */
const PARALLEL_MIN_WORK = 1 << 21;
const MAX_BLOCKS = 256;
const MIN_BLOCK_ROWS = 1024;
const MAX_BLOCK_SUM_DOUBLES = 1 << 22;
const NON_FINITE = 'k-means: data contains NaN or infinite values (or squared distances overflow)';

type Driver = (op: KernelOp) => void | Promise<void>;
type Job<T> = Generator<KernelOp, T, void>;

function dtypeOf(data: XArray): 'f32' | 'f64' {
  const tag = Object.prototype.toString.call(data);
  if (tag === '[object Float32Array]') return 'f32';
  if (tag === '[object Float64Array]') return 'f64';
  throw new TypeError('k-means data must be a Float32Array or a Float64Array');
}

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`k-means: ${name} must be an integer >= ${min}, got ${v}`);
}

function validate(data: XArray, n: number, d: number, k: number): void {
  dtypeOf(data);
  checkInt('n', n, 1);
  checkInt('d', d, 1);
  checkInt('k', k, 1);
  if (k > n) throw new RangeError(`k-means: k (${k}) must not exceed n (${n})`);
  if (data.length < n * d) throw new RangeError(`k-means: data has ${data.length} values, need n*d = ${n * d}`);
}

function resolveOptions(opts: KMeansOptions): { maxIter: number; tol: number; nInit: number } {
  const maxIter = opts.maxIter ?? DEFAULT_MAX_ITER;
  const tol = opts.tol ?? DEFAULT_TOL;
  const nInit = opts.nInit ?? 1;
  checkInt('maxIter', maxIter, 1);
  checkInt('nInit', nInit, 1);
  if (!(tol >= 0)) throw new RangeError(`k-means: tol must be >= 0, got ${tol}`);
  if (!Number.isFinite(opts.seed)) throw new RangeError(`k-means: seed must be a finite number, got ${opts.seed}`);
  return { maxIter, tol, nInit };
}

function isShared(buf: ArrayBufferLike): boolean {
  return Object.prototype.toString.call(buf) === '[object SharedArrayBuffer]';
}

export type KMeansBackend = 'auto' | 'wasm' | 'js';
let backend: KMeansBackend = 'auto';

/**
 * Distance backend: 'auto' (default) uses WebAssembly SIMD when the runtime has it and the data fits in 4 GiB, else
 * scalar JavaScript; 'wasm' insists (throws if impossible); 'js' forces JavaScript. Mainly for tests and benchmarks.
 */
export function setKMeansBackend(b: KMeansBackend): void {
  backend = b;
}

/** Shared WebAssembly memories made by allocateKMeansInput, by the buffer of the matrix they hold. */
const inputMemories = new WeakMap<ArrayBufferLike, WasmMemory>();

/**
 * A zeroed n*d float32 matrix in shared memory that kmeans/kmeansParallel use in place (no copy) — for large inputs
 * read from files. Backed by a WebAssembly memory when possible, else by a SharedArrayBuffer.
 */
export function allocateKMeansInput(n: number, d: number): Float32Array {
  checkInt('n', n, 1);
  checkInt('d', d, 1);
  const bytes = n * d * 4;
  const pages = Math.ceil(bytes / WASM_PAGE);
  if (backend !== 'js' && distanceModule('f32', true) && pages < WASM_MAX_PAGES) {
    try {
      const memory = wasmMemory(pages, WASM_MAX_PAGES, true);
      inputMemories.set(memory.buffer, memory);
      return new Float32Array(memory.buffer, 0, n * d);
    } catch {
      // Fall through to a plain SharedArrayBuffer.
    }
  }
  return new Float32Array(new SharedArrayBuffer(bytes));
}

const align64 = (x: number): number => Math.ceil(x / 64) * 64;

/** Places X and the centroids/candidates (csBytes) in WebAssembly memory, or returns null (JS backend). */
function wasmPlacement(
  data: XArray,
  n: number,
  d: number,
  csBytes: number,
  shared: boolean,
): { wasm: NonNullable<KStateDesc['wasm']>; xOff: number } | null {
  if (backend === 'js') return null;
  const dtype = dtypeOf(data);
  const registered = inputMemories.get(data.buffer);
  try {
    if (registered) {
      const module = distanceModule(dtype, true);
      if (module) {
        const before = registered.grow(Math.ceil(csBytes / WASM_PAGE));
        return { wasm: { module, memory: registered, csOff: before * WASM_PAGE }, xOff: data.byteOffset };
      }
    } else {
      const module = distanceModule(dtype, shared);
      const xOff = align64(csBytes);
      const pages = Math.ceil((xOff + n * d * data.BYTES_PER_ELEMENT) / WASM_PAGE);
      if (module && pages <= WASM_MAX_PAGES) {
        const memory = wasmMemory(pages, pages, shared);
        const X =
          dtype === 'f32' ? new Float32Array(memory.buffer, xOff, n * d) : new Float64Array(memory.buffer, xOff, n * d);
        X.set(data.subarray(0, n * d));
        return { wasm: { module, memory, csOff: 0 }, xOff };
      }
    }
  } catch {
    // Memory limits of this runtime: fall back to JavaScript.
  }
  if (backend === 'wasm') throw new Error('k-means: WebAssembly backend requested but unavailable for this input');
  return null;
}

/** Allocates the state (ArrayBuffers, or SharedArrayBuffers when `shared`) and builds the calling thread's views. */
function allocate(
  data: XArray,
  n: number,
  d: number,
  k: number,
  shared: boolean,
): { desc: KStateDesc; S: KState; kernel: KernelModule } {
  const nb = Math.max(
    1,
    Math.min(Math.ceil(n / MIN_BLOCK_ROWS), MAX_BLOCKS, Math.floor(MAX_BLOCK_SUM_DOUBLES / (k * d))),
  );
  const bs = Math.ceil(n / nb);
  const nbEff = Math.ceil(n / bs);
  const L = 2 + Math.floor(Math.log(k));
  const mk = (bytes: number): ArrayBufferLike => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const dtype = dtypeOf(data);
  const csBytes = (k + L) * d * 8;
  const placed = wasmPlacement(data, n, d, csBytes, shared);
  let xBuf: ArrayBufferLike | null = null;
  let xOff = 0;
  if (placed) {
    xOff = placed.xOff;
  } else if (shared && !isShared(data.buffer)) {
    const copy = dtype === 'f32' ? new Float32Array(mk(n * d * 4)) : new Float64Array(mk(n * d * 8));
    copy.set(data.subarray(0, n * d));
    xBuf = copy.buffer;
  } else {
    xBuf = data.buffer;
    xOff = data.byteOffset;
  }
  const desc: KStateDesc = {
    n,
    d,
    k,
    nb: nbEff,
    bs,
    L,
    dtype,
    wasm: placed ? placed.wasm : null,
    xBuf,
    xOff,
    bufs: {
      CS: mk(placed ? 0 : csBytes),
      s: mk(k * 8),
      p: mk(k * 8),
      labels: mk(n * 4),
      upper: mk(n * 8),
      lower: mk(n * 8),
      closest: mk(n * 8),
      sums: mk(nbEff * k * d * 8),
      counts: mk(nbEff * k * 4),
      stat: mk(nbEff * N_STAT * 8),
      trial: mk(nbEff * L * 8),
      dcc: mk(L * k * 8),
      dcj: mk(2 * k * 8),
      params: mk(N_PARAMS * 8),
      mom: mk(nbEff * 2 * d * 8),
      counter: mk(8),
      cc: mk(k * k * 8),
      tv: mk(n * L * 8),
      pl: mk(k * 8),
    },
  };
  const kernel = mainKernel(dtype);
  return { desc, S: kernel.makeState(desc), kernel };
}

/**
 * Squared distance for main-thread bookkeeping (candidates, centroid gaps, shifts, relocation) and assignNearest.
 * Kept apart from the kernel so the kernel's hot loops see only their own argument types.
 */
function vdist2(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, d: number): number {
  let s = 0;
  let t = 0;
  for (; t + 7 < d; t += 8) {
    const a0 = a[ao + t]! - b[bo + t]!;
    const a1 = a[ao + t + 1]! - b[bo + t + 1]!;
    const a2 = a[ao + t + 2]! - b[bo + t + 2]!;
    const a3 = a[ao + t + 3]! - b[bo + t + 3]!;
    const a4 = a[ao + t + 4]! - b[bo + t + 4]!;
    const a5 = a[ao + t + 5]! - b[bo + t + 5]!;
    const a6 = a[ao + t + 6]! - b[bo + t + 6]!;
    const a7 = a[ao + t + 7]! - b[bo + t + 7]!;
    s += a0 * a0 + a1 * a1 + (a2 * a2 + a3 * a3) + (a4 * a4 + a5 * a5 + (a6 * a6 + a7 * a7));
  }
  for (; t < d; t++) {
    const v = a[ao + t]! - b[bo + t]!;
    s += v * v;
  }
  return s;
}

function sumStat(S: KState, slot: number): number {
  let s = 0;
  for (let b = 0; b < S.nb; b++) s += S.stat[b * N_STAT + slot]!;
  return s;
}

/** tol * mean over features of the population variance (scikit-learn's `_tolerance`). */
function* absoluteTolerance(S: KState, tol: number): Job<number> {
  if (tol === 0) return 0;
  yield 'moments';
  const { d, n, nb, mom } = S;
  let total = 0;
  for (let t = 0; t < d; t++) {
    let s1 = 0;
    let s2 = 0;
    for (let b = 0; b < nb; b++) {
      s1 += mom[b * 2 * d + t]!;
      s2 += mom[b * 2 * d + d + t]!;
    }
    const mean = s1 / n;
    total += Math.max(0, s2 / n - mean * mean);
  }
  return (total / d) * tol;
}

/**
 * The same tolerance without a pass over the data, for seeded runs: the k-means++ first-centre potential
 * pot0 = sum |x - c0|^2 and the data sum (from the block sums, once they hold every row) give the total variance
 * sum |x - mean|^2 = pot0 - n |mean - c0|^2.
 */
function toleranceFromSeeding(S: KState, tol: number, pot0: number, c0: Float64Array): number {
  const { n, d, k, nb, sums } = S;
  const total = new Float64Array(d);
  for (let b = 0; b < nb; b++) {
    for (let j = 0; j < k; j++) {
      const o = (b * k + j) * d;
      for (let t = 0; t < d; t++) total[t]! += sums[o + t]!;
    }
  }
  let shift = 0;
  for (let t = 0; t < d; t++) {
    const v = total[t]! / n - c0[t]!;
    shift += v * v;
  }
  return (Math.max(0, pot0 - n * shift) / (n * d)) * tol;
}

/** First row index i with cumulative sum of `closest` > r (D² sampling), found block by block. */
function sampleIndex(S: KState, r: number): number {
  const { nb, bs, n, closest, stat } = S;
  let acc = 0;
  for (let b = 0; b < nb; b++) {
    const s = stat[b * N_STAT]!;
    if (acc + s > r) {
      const i0 = b * bs;
      const i1 = Math.min(n, i0 + bs);
      let c = acc;
      let last = -1;
      for (let i = i0; i < i1; i++) {
        const v = closest[i]!;
        if (v > 0) last = i;
        c += v;
        if (c > r && v > 0) return i;
      }
      if (last >= 0) return last;
    }
    acc += s;
  }
  for (let i = n - 1; i >= 0; i--) if (closest[i]! > 0) return i;
  return 0;
}

/**
 * Greedy k-means++ into S.C. Leaves S.labels = nearest centre, S.upper = its distance, S.lower = a lower bound on the
 * distance to every other centre (valid Hamerly bounds for the seeds).
 */
function* plusPlus(S: KState, rng: Rng): Job<number> {
  const { n, d, k, L, X, C, cand, dcc, dcj, params, trial, nb } = S;
  const first = rng.int(n);
  for (let t = 0; t < d; t++) C[t] = X[first * d + t]!;
  yield 'ppInit';
  const pot0 = sumStat(S, 0);
  if (!Number.isFinite(pot0)) throw new RangeError(NON_FINITE);
  let pot = pot0;
  const trialPot = new Float64Array(L);
  for (let c = 1; c < k; c++) {
    for (let t = 0; t < L; t++) {
      const idx = pot > 0 ? sampleIndex(S, rng.next() * pot) : rng.int(n);
      for (let u = 0; u < d; u++) cand[t * d + u] = X[idx * d + u]!;
      for (let j = 0; j < c; j++) dcc[t * k + j] = vdist2(cand, t * d, C, j * d, d);
    }
    params[P_L] = L;
    yield 'ppTrial';
    trialPot.fill(0);
    for (let b = 0; b < nb; b++) for (let t = 0; t < L; t++) trialPot[t]! += trial[b * L + t]!;
    let best = 0;
    for (let t = 1; t < L; t++) if (trialPot[t]! < trialPot[best]!) best = t;
    for (let u = 0; u < d; u++) C[c * d + u] = cand[best * d + u]!;
    for (let j = 0; j < c; j++) {
      dcj[j] = dcc[best * k + j]!;
      dcj[k + j] = Math.sqrt(dcj[j]!);
    }
    params[P_J] = c;
    params[P_PARG] = best;
    yield 'ppCommit';
    pot = sumStat(S, 0);
  }
  return pot0;
}

/** Reduces the block sums into centroids; returns per-cluster counts. Empty clusters keep `fallback`'s row. */
function combine(S: KState, out: Float64Array, tot: Int32Array, fallback: Float64Array): void {
  const { nb, k, d, sums, counts } = S;
  out.fill(0);
  tot.fill(0);
  for (let b = 0; b < nb; b++) {
    for (let j = 0; j < k; j++) {
      const c = counts[b * k + j]!;
      if (c === 0) continue;
      tot[j]! += c;
      const o = (b * k + j) * d;
      for (let t = 0; t < d; t++) out[j * d + t]! += sums[o + t]!;
    }
  }
  for (let j = 0; j < k; j++) {
    const c = tot[j]!;
    if (c > 0) for (let t = 0; t < d; t++) out[j * d + t]! /= c;
    else for (let t = 0; t < d; t++) out[j * d + t] = fallback[j * d + t]!;
  }
}

/** Moves, for each empty cluster in index order, the farthest point (from its old centroid) of a cluster of size > 1. */
function relocateEmpty(S: KState, Cold: Float64Array, tot: Int32Array): void {
  const { n, d, k, bs, X, labels, closest: dist, sums, counts, upper, lower } = S;
  for (let i = 0; i < n; i++) dist[i] = vdist2(X, i * d, Cold, labels[i]! * d, d);
  for (let j = 0; j < k; j++) {
    if (tot[j] !== 0) continue;
    let pick = -1;
    // Strictly positive: moving a point that sits on its centroid would only duplicate that centroid.
    let far = 0;
    for (let i = 0; i < n; i++) {
      const v = dist[i]!;
      if (v > far && tot[labels[i]!]! > 1) {
        far = v;
        pick = i;
      }
    }
    if (pick < 0) break;
    const a = labels[pick]!;
    const b = Math.floor(pick / bs);
    const oo = (b * k + a) * d;
    const no = (b * k + j) * d;
    for (let t = 0; t < d; t++) {
      const v = X[pick * d + t]!;
      sums[oo + t]! -= v;
      sums[no + t]! += v;
    }
    if (--counts[b * k + a]! === 0) for (let t = 0; t < d; t++) sums[oo + t] = 0;
    counts[b * k + j]!++;
    tot[a]!--;
    tot[j]!++;
    labels[pick] = j;
    upper[pick] = 0;
    lower[pick] = 0;
    dist[pick] = -1;
  }
}

/** Half the centroid-centroid distances (cc, k*k) and Hamerly's s (half the distance to the nearest other centroid). */
function centroidGaps(S: KState): void {
  const { k, d, C, s, cc } = S;
  s.fill(Infinity);
  for (let j = 0; j < k; j++) {
    cc[j * k + j] = 0;
    for (let q = j + 1; q < k; q++) {
      const e = Math.sqrt(vdist2(C, j * d, C, q * d, d)) / 2;
      cc[j * k + q] = e;
      cc[q * k + j] = e;
      if (e < s[j]!) s[j] = e;
      if (e < s[q]!) s[q] = e;
    }
  }
}

/** centroidGaps plus, for each centroid, the largest movement of the other centroids (for the lower bounds). */
function prepareBounds(S: KState): void {
  const { k, p, pl } = S;
  centroidGaps(S);
  let pmax = 0;
  let parg = 0;
  for (let j = 0; j < k; j++) {
    if (p[j]! > pmax) {
      pmax = p[j]!;
      parg = j;
    }
  }
  let p2 = 0;
  for (let j = 0; j < k; j++) if (j !== parg && p[j]! > p2) p2 = p[j]!;
  for (let j = 0; j < k; j++) pl[j] = j === parg ? p2 : pmax;
}

/** Lloyd iterations from the centroids in S.C (bounds from k-means++ when `seeded`, else a full first pass). */
function* lloydJob(
  S: KState,
  seeded: boolean,
  maxIter: number,
  tolerance: number | (() => number),
  onIteration?: (it: LloydIteration) => void,
): Job<{ inertia: number; iterations: number }> {
  const { k, d, C, p, params } = S;
  const Cnew = new Float64Array(k * d);
  const tot = new Int32Array(k);
  params[P_FINAL] = 0;
  if (!seeded) centroidGaps(S);
  yield seeded ? 'sumsFromLabels' : 'assignFull';
  let iter = 1;
  for (;;) {
    const changes = sumStat(S, 0);
    combine(S, Cnew, tot, C);
    if (tot.includes(0)) {
      relocateEmpty(S, C, tot);
      combine(S, Cnew, tot, C);
    }
    let shift = 0;
    for (let j = 0; j < k; j++) {
      const e = vdist2(Cnew, j * d, C, j * d, d);
      shift += e;
      p[j] = Math.sqrt(e);
    }
    C.set(Cnew);
    onIteration?.({ iteration: iter, centroids: C, labels: S.labels, changes, shift });
    if (iter > 1 && changes === 0) break;
    if (typeof tolerance === 'function') tolerance = tolerance();
    if (shift <= tolerance || iter >= maxIter) break;
    prepareBounds(S);
    yield 'assignHamerly';
    iter++;
  }
  prepareBounds(S);
  params[P_FINAL] = 1;
  yield 'assignHamerly';
  params[P_FINAL] = 0;
  const inertia = sumStat(S, 1);
  if (!Number.isFinite(inertia)) throw new RangeError(NON_FINITE);
  return { inertia, iterations: iter };
}

/** nInit seeded runs; keeps the lowest inertia (the earliest on ties). */
function* fitJob(S: KState, opts: KMeansOptions): Job<KMeansResult> {
  const { maxIter, tol, nInit } = resolveOptions(opts);
  const rng = createRng(opts.seed);
  let tolAbs = tol === 0 ? 0 : -1;
  let best: KMeansResult | null = null;
  for (let r = 0; r < nInit; r++) {
    const pot0 = yield* plusPlus(S, rng);
    const c0 = S.C.slice(0, S.d);
    const tolerance = tolAbs >= 0 ? tolAbs : () => (tolAbs = toleranceFromSeeding(S, tol, pot0, c0));
    const { inertia, iterations } = yield* lloydJob(S, true, maxIter, tolerance);
    if (!best || inertia < best.inertia) {
      best = { k: S.k, d: S.d, centroids: S.C.slice(), labels: S.labels.slice(), inertia, iterations };
    }
  }
  return best!;
}

function runSync<T>(job: Job<T>, kernel: KernelModule, S: KState): T {
  let r = job.next();
  while (!r.done) {
    runOpSync(kernel, S, r.value);
    r = job.next();
  }
  return r.value;
}

async function runAsync<T>(job: Job<T>, driver: Driver): Promise<T> {
  let r = job.next();
  while (!r.done) {
    await driver(r.value);
    r = job.next();
  }
  return r.value;
}

/**
 * Synchronous, single-thread, pure, deterministic for a given seed. data is row-major n*d.
 * Throws RangeError on invalid sizes/options (k > n, ...) and on non-finite data.
 */
export function kmeans(data: Float32Array | Float64Array, n: number, d: number, opts: KMeansOptions): KMeansResult {
  validate(data, n, d, opts.k);
  resolveOptions(opts);
  const { S, kernel } = allocate(data, n, d, opts.k, false);
  return settleTies(data, n, d, runSync(fitJob(S, opts), kernel, S));
}

/** Same result semantics; may use worker_threads across cores for large n (falls back to kmeans() for small n). */
export async function kmeansParallel(
  data: Float32Array | Float64Array,
  n: number,
  d: number,
  opts: KMeansOptions & { threads?: number },
): Promise<KMeansResult> {
  validate(data, n, d, opts.k);
  resolveOptions(opts);
  const threads = opts.threads ?? availableParallelism();
  checkInt('threads', threads, 1);
  if (threads === 1 || n * d * opts.k < PARALLEL_MIN_WORK || n < 2 * MIN_BLOCK_ROWS) return kmeans(data, n, d, opts);
  const { desc, S, kernel } = allocate(data, n, d, opts.k, true);
  const pool = new KernelPool(Math.min(threads, S.nb) - 1, desc, kernel, S);
  try {
    const result = await runAsync(fitJob(S, opts), (op) => pool.run(op));
    return settleTies(data, n, d, result);
  } finally {
    await pool.close();
  }
}

/**
 * Number of distinct rows of a row-major n×d matrix (exact comparison, -0 equal to 0), counting at most up to
 * `stopAt` (default n): k-means cannot make more than this many non-empty clusters with distinct centroids.
 * O(n·d) expected: rows are bucketed by a hash of their bit patterns and compared exactly within a bucket.
 */
export function distinctRowCount(data: Float32Array | Float64Array, n: number, d: number, stopAt = n): number {
  checkInt('n', n, 0);
  checkInt('d', d, 1);
  if (data.length < n * d) throw new RangeError(`distinctRowCount: data has ${data.length} values, need ${n * d}`);
  const buckets = new Map<number, number[]>();
  const scratch = new Float64Array(1);
  const bits = new Uint32Array(scratch.buffer);
  let distinct = 0;
  const sameRow = (a: number, b: number): boolean => {
    for (let t = 0; t < d; t++) if (data[a * d + t] !== data[b * d + t]) return false;
    return true;
  };
  for (let i = 0; i < n && distinct < stopAt; i++) {
    let h = 0x811c9dc5;
    for (let t = 0; t < d; t++) {
      scratch[0] = data[i * d + t]! + 0; // -0 + 0 === +0, so -0 and 0 hash alike
      h = Math.imul(h ^ bits[0]!, 0x01000193);
      h = Math.imul(h ^ bits[1]!, 0x01000193);
    }
    const bucket = buckets.get(h);
    if (bucket === undefined) buckets.set(h, [i]);
    else if (bucket.some((j) => sameRow(i, j))) continue;
    else bucket.push(i);
    distinct++;
  }
  return distinct;
}

/**
 * When centroids coincide or a cluster is empty (possible only with fewer distinct rows than k), relabels every row
 * to its nearest centroid with ties to the lowest index, so identical rows share a label. Coinciding centroids have
 * the same mean, so centroids and inertia are unchanged; only the tie-breaking becomes deterministic.
 */
function settleTies(data: Float32Array | Float64Array, n: number, d: number, result: KMeansResult): KMeansResult {
  const { k, centroids, labels } = result;
  const sizes = new Int32Array(k);
  for (let i = 0; i < n; i++) sizes[labels[i]!]!++;
  let degenerate = sizes.some((c) => c === 0);
  for (let a = 0; a < k && !degenerate; a++) {
    for (let b = a + 1; b < k && !degenerate; b++) degenerate = vdist2(centroids, a * d, centroids, b * d, d) === 0;
  }
  if (!degenerate) return result;
  const exact = assignNearest(data, n, d, centroids, k);
  let inertia = 0;
  for (let i = 0; i < n; i++) inertia += exact.d2[i]!;
  return { ...result, labels: exact.labels, inertia };
}

/** Nearest-centroid labels and squared distances (ties go to the lowest index). */
export function assignNearest(
  data: Float32Array | Float64Array,
  n: number,
  d: number,
  centroids: Float64Array,
  k: number,
): { labels: Int32Array; d2: Float64Array } {
  dtypeOf(data);
  checkInt('n', n, 0);
  checkInt('d', d, 1);
  checkInt('k', k, 1);
  if (data.length < n * d) throw new RangeError(`assignNearest: data has ${data.length} values, need ${n * d}`);
  if (centroids.length < k * d) throw new RangeError(`assignNearest: centroids have ${centroids.length} values`);
  const labels = new Int32Array(n);
  const d2 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bd = vdist2(data, i * d, centroids, 0, d);
    for (let j = 1; j < k; j++) {
      const e = vdist2(data, i * d, centroids, j * d, d);
      if (e < bd) {
        bd = e;
        best = j;
      }
    }
    labels[i] = best;
    d2[i] = bd;
  }
  return { labels, d2 };
}

/** k-means++ seeding (greedy variant like sklearn: 2+ln(k) local trials). */
export function kmeansPlusPlus(
  data: Float32Array | Float64Array,
  n: number,
  d: number,
  k: number,
  rng: Rng,
): Float64Array {
  validate(data, n, d, k);
  const { S, kernel } = allocate(data, n, d, k, false);
  runSync(plusPlus(S, rng), kernel, S);
  return S.C.slice();
}

/**
 * Lloyd iterations (Hamerly-accelerated) from the given initial centroids (k*d, not modified), with kmeans()'s
 * convergence rule. `onIteration` observes every update step.
 */
export function lloyd(
  data: Float32Array | Float64Array,
  n: number,
  d: number,
  init: Float64Array,
  k: number,
  opts: LloydOptions = {},
): KMeansResult {
  validate(data, n, d, k);
  if (init.length < k * d) throw new RangeError(`lloyd: init has ${init.length} values, need k*d = ${k * d}`);
  const { maxIter, tol } = resolveOptions({ k, seed: 0, maxIter: opts.maxIter, tol: opts.tol });
  const { S, kernel } = allocate(data, n, d, k, false);
  const job = function* (): Job<KMeansResult> {
    const tolAbs = yield* absoluteTolerance(S, tol);
    S.C.set(init.subarray(0, k * d));
    const { inertia, iterations } = yield* lloydJob(S, false, maxIter, tolAbs, opts.onIteration);
    return { k, d, centroids: S.C.slice(), labels: S.labels.slice(), inertia, iterations };
  };
  return runSync(job(), kernel, S);
}
