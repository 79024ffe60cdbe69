/**
 * The k-means compute kernel, kept as plain-JavaScript source so that the very same code runs on the main thread
 * (compiled once per input dtype with `new Function`) and inside `worker_threads` workers started with
 * `{ eval: true }`. A worker therefore never needs a separate file at runtime, which keeps single-file bundles
 * (esbuild/Lambda), tsx and jest (CommonJS) working alike.
 *
 * Work is split into fixed row blocks that depend only on (n, k, d), never on the thread count. Every block owns its
 * slice of the per-centroid sums/counts and of the statistics, and its rows are always processed in order, so results
 * are bit-identical whichever thread processes which block. The main thread reduces the blocks in block order.
 *
 * Distances go through S.D2 / S.D2B(xp, cp, d[, lim]) where xp/cp address a data row and a centroid (or candidate):
 * with WebAssembly SIMD (kmeans-wasm.ts) they are byte addresses in the module's memory, which then holds the data
 * and the centroids/candidates; otherwise they are element indices into S.X and S.CS for the scalar JS versions.
 * The kernel only ever forms them as S.xb + i * S.xs (row i), S.cb + j * S.cs (centroid j), S.candb + t * S.cs.
 *
 * Inside the source, use no backticks and no template placeholders other than the injected constants.
 */

import type { WasmMemory, WasmModule } from './kmeans-wasm';

/** Indices into `KState.params` (shared scalar parameters of the current operation). */
export const P_PARG = 2; // k-means++: index of the chosen candidate
export const P_FINAL = 3; // 1: final assignment pass that also sums the exact inertia
export const P_J = 4; // k-means++: index of the centre being committed
export const P_L = 5; // k-means++: number of candidates of this round
export const N_PARAMS = 8;
/** Per-block statistics: [0] label changes (Lloyd) or potential (k-means++), [1] inertia (final pass). */
export const N_STAT = 2;

export type KernelOp =
  'moments' | 'ppInit' | 'ppTrial' | 'ppCommit' | 'sumsFromLabels' | 'assignFull' | 'assignHamerly';

export type XArray = Float32Array | Float64Array;

/** Buffers (ArrayBuffer or SharedArrayBuffer) from which every thread builds the same views. */
export interface KStateDesc {
  n: number;
  d: number;
  k: number;
  nb: number;
  bs: number;
  L: number;
  dtype: 'f32' | 'f64';
  /** WebAssembly mode: the distance module and the memory holding X (at xOff) and C then candidates (at csOff). */
  wasm: { module: WasmModule; memory: WasmMemory; csOff: number } | null;
  /** JS mode: the data buffer and byte offset (WebAssembly mode: xOff is the byte address of X in the memory). */
  xBuf: ArrayBufferLike | null;
  xOff: number;
  bufs: Record<
    | 'CS'
    | 's'
    | 'p'
    | 'labels'
    | 'upper'
    | 'lower'
    | 'closest'
    | 'sums'
    | 'counts'
    | 'stat'
    | 'trial'
    | 'dcc'
    | 'dcj'
    | 'params'
    | 'mom'
    | 'counter'
    | 'cc'
    | 'tv'
    | 'pl',
    ArrayBufferLike
  >;
}

export interface KState {
  n: number;
  d: number;
  k: number;
  /** Number of blocks and block size (rows). */
  nb: number;
  bs: number;
  /** Number of k-means++ local trials. */
  L: number;
  X: XArray;
  /** Centroids (k*d) followed by the k-means++ candidates (L*d). */
  CS: Float64Array;
  /** Current centroids, k*d (view of CS). */
  C: Float64Array;
  /** Half the distance from each centroid to its nearest other centroid (Hamerly's s). */
  s: Float64Array;
  /** Movement of each centroid in the last update, and the largest movement of the other centroids. */
  p: Float64Array;
  pl: Float64Array;
  labels: Int32Array;
  /** Upper bound on the distance to the assigned centroid. */
  upper: Float64Array;
  /** Lower bound on the distance to every other centroid. */
  lower: Float64Array;
  /** k-means++: squared distance to the nearest chosen centre; otherwise scratch. */
  closest: Float64Array;
  /** Per-block per-centroid coordinate sums, nb*k*d, and counts, nb*k. */
  sums: Float64Array;
  counts: Int32Array;
  stat: Float64Array;
  /** k-means++: per-block potential of each candidate, nb*L. */
  trial: Float64Array;
  /** k-means++ candidates (L*d, view of CS) and their squared distances to the chosen centres (L*k). */
  cand: Float64Array;
  dcc: Float64Array;
  /** k-means++: squared distances (first k) and distances (next k) from the committed centre to the others. */
  dcj: Float64Array;
  params: Float64Array;
  /** Per-block per-feature sum and sum of squares of (x - x0), nb*2*d. */
  mom: Float64Array;
  /** Work-stealing block counter. */
  counter: Int32Array;
  /** Half the distances between centroids, k*k. */
  cc: Float64Array;
  /** k-means++: per-row values of the candidates of the current round, n*L (see ppCommit). */
  tv: Float64Array;
  /** Distance addressing (see above) and functions. */
  xb: number;
  xs: number;
  cb: number;
  candb: number;
  cs: number;
  D2: (xp: number, cp: number, d: number) => number;
  D2B: (xp: number, cp: number, d: number, lim: number) => number;
  wasm: boolean;
}

export type KernelFn = (S: KState, b: number) => void;

export interface KernelModule {
  makeState(desc: KStateDesc): KState;
  ops: Record<KernelOp, KernelFn>;
}

export const KERNEL_SOURCE = `
'use strict';
const P_PARG = ${P_PARG}, P_FINAL = ${P_FINAL}, P_J = ${P_J}, P_L = ${P_L};
const NS = ${N_STAT};
// Globals copied to closure constants: global lookups are slow inside vm contexts (jest).
const sqrt = Math.sqrt, mini = Math.min, INF = Infinity;

// Scalar JS distances (when WebAssembly SIMD is unavailable): element indices into JX (rows) and JCS (centroids and
// candidates), set from the state at the start of every operation. Summed in chunks of 8; a complete jsD2B equals
// jsD2, and any partial sum it returns (> lim) is <= the complete one.
let JX = null, JCS = null;
function jsD2(xo, co, d) {
  const X = JX, C = JCS;
  let s = 0, t = 0;
  for (; t + 7 < d; t += 8) {
    const a0 = X[xo + t] - C[co + t], a1 = X[xo + t + 1] - C[co + t + 1];
    const a2 = X[xo + t + 2] - C[co + t + 2], a3 = X[xo + t + 3] - C[co + t + 3];
    const a4 = X[xo + t + 4] - C[co + t + 4], a5 = X[xo + t + 5] - C[co + t + 5];
    const a6 = X[xo + t + 6] - C[co + t + 6], a7 = X[xo + t + 7] - C[co + t + 7];
    s += ((a0 * a0 + a1 * a1) + (a2 * a2 + a3 * a3)) + ((a4 * a4 + a5 * a5) + (a6 * a6 + a7 * a7));
  }
  for (; t < d; t++) {
    const a = X[xo + t] - C[co + t];
    s += a * a;
  }
  return s;
}
function jsD2B(xo, co, d, lim) {
  const X = JX, C = JCS;
  let s = 0, t = 0;
  for (; t + 7 < d; t += 8) {
    const a0 = X[xo + t] - C[co + t], a1 = X[xo + t + 1] - C[co + t + 1];
    const a2 = X[xo + t + 2] - C[co + t + 2], a3 = X[xo + t + 3] - C[co + t + 3];
    const a4 = X[xo + t + 4] - C[co + t + 4], a5 = X[xo + t + 5] - C[co + t + 5];
    const a6 = X[xo + t + 6] - C[co + t + 6], a7 = X[xo + t + 7] - C[co + t + 7];
    s += ((a0 * a0 + a1 * a1) + (a2 * a2 + a3 * a3)) + ((a4 * a4 + a5 * a5) + (a6 * a6 + a7 * a7));
    if (s > lim) return s;
  }
  for (; t < d; t++) {
    const a = X[xo + t] - C[co + t];
    s += a * a;
  }
  return s;
}
function bind(S) {
  JX = S.X;
  JCS = S.CS;
}

function makeState(desc) {
  const n = desc.n, d = desc.d, k = desc.k, L = desc.L, B = desc.bufs, f32 = desc.dtype === 'f32';
  const XA = f32 ? Float32Array : Float64Array;
  let X, CS, xb, xs, cb, candb, cs, D2, D2B;
  if (desc.wasm) {
    const inst = new WebAssembly.Instance(desc.wasm.module, { e: { m: desc.wasm.memory } });
    const buf = desc.wasm.memory.buffer;
    X = new XA(buf, desc.xOff, n * d);
    CS = new Float64Array(buf, desc.wasm.csOff, (k + L) * d);
    xb = desc.xOff; xs = d * (f32 ? 4 : 8); cb = desc.wasm.csOff; candb = cb + k * d * 8; cs = d * 8;
    D2 = inst.exports.d2; D2B = inst.exports.d2b;
  } else {
    X = new XA(desc.xBuf, desc.xOff, n * d);
    CS = new Float64Array(B.CS, 0, (k + L) * d);
    xb = 0; xs = d; cb = 0; candb = k * d; cs = d;
    D2 = jsD2; D2B = jsD2B;
  }
  return {
    n: n, d: d, k: k, nb: desc.nb, bs: desc.bs, L: L, X: X, CS: CS,
    C: CS.subarray(0, k * d), cand: CS.subarray(k * d, (k + L) * d),
    s: new Float64Array(B.s), p: new Float64Array(B.p),
    labels: new Int32Array(B.labels), upper: new Float64Array(B.upper), lower: new Float64Array(B.lower),
    closest: new Float64Array(B.closest), sums: new Float64Array(B.sums), counts: new Int32Array(B.counts),
    stat: new Float64Array(B.stat), trial: new Float64Array(B.trial),
    dcc: new Float64Array(B.dcc), dcj: new Float64Array(B.dcj), params: new Float64Array(B.params),
    mom: new Float64Array(B.mom), counter: new Int32Array(B.counter),
    cc: new Float64Array(B.cc), tv: new Float64Array(B.tv), pl: new Float64Array(B.pl),
    xb: xb, xs: xs, cb: cb, candb: candb, cs: cs, D2: D2, D2B: D2B, wasm: !!desc.wasm,
    acc: new Float64Array(Math.max(1, L)),
  };
}

function moments(S, b) {
  const X = S.X, d = S.d, mom = S.mom;
  const i0 = b * S.bs, i1 = mini(S.n, i0 + S.bs);
  const o = b * 2 * d;
  for (let t = 0; t < 2 * d; t++) mom[o + t] = 0;
  for (let i = i0; i < i1; i++) {
    const xo = i * d;
    for (let t = 0; t < d; t++) {
      const v = X[xo + t] - X[t];
      mom[o + t] += v;
      mom[o + d + t] += v * v;
    }
  }
}

function ppInit(S, b) {
  bind(S);
  const D2 = S.D2, xb = S.xb, xs = S.xs, cb = S.cb, d = S.d;
  const closest = S.closest, upper = S.upper, lower = S.lower, labels = S.labels;
  const i0 = b * S.bs, i1 = mini(S.n, i0 + S.bs);
  let pot = 0;
  for (let i = i0; i < i1; i++) {
    const e = D2(xb + i * xs, cb, d);
    closest[i] = e;
    upper[i] = sqrt(e);
    lower[i] = INF;
    labels[i] = 0;
    pot += e;
  }
  S.stat[b * NS] = pot;
}

function ppTrial(S, b) {
  bind(S);
  const D2B = S.D2B, xb = S.xb, xs = S.xs, candb = S.candb, cs = S.cs, d = S.d, k = S.k;
  const closest = S.closest, labels = S.labels, dcc = S.dcc, tv = S.tv;
  const L = S.params[P_L] | 0, LS = S.L, acc = S.acc;
  const i0 = b * S.bs, i1 = mini(S.n, i0 + S.bs);
  for (let t = 0; t < L; t++) acc[t] = 0;
  for (let i = i0; i < i1; i++) {
    const cl = closest[i], nr = labels[i], lim = 4 * cl, xp = xb + i * xs, to = i * LS;
    for (let t = 0; t < L; t++) {
      // Triangle inequality: |x - c| >= |c - m| - |x - m| >= |x - m| when |c - m| >= 2 |x - m|.
      if (dcc[t * k + nr] >= lim) {
        acc[t] += cl;
        tv[to + t] = -1;
      } else {
        const e = D2B(xp, candb + t * cs, d, cl);
        acc[t] += e < cl ? e : cl;
        tv[to + t] = e;
      }
    }
  }
  const o = b * LS;
  for (let t = 0; t < L; t++) S.trial[o + t] = acc[t];
}

// Commits the chosen candidate as centre P_J, using the values ppTrial stored for candidate P_PARG:
// -1 = pruned (lower bound from the triangle inequality), < closest = exact new nearest, otherwise a lower bound.
function ppCommit(S, b) {
  const k = S.k, closest = S.closest, labels = S.labels, upper = S.upper, lower = S.lower, dcj = S.dcj, tv = S.tv;
  const j = S.params[P_J] | 0, tb = S.params[P_PARG] | 0, LS = S.L;
  const i0 = b * S.bs, i1 = mini(S.n, i0 + S.bs);
  let pot = 0;
  for (let i = i0; i < i1; i++) {
    const cl = closest[i], v = tv[i * LS + tb];
    if (v < 0) {
      const lb = dcj[k + labels[i]] - upper[i];
      if (lb < lower[i]) lower[i] = lb;
    } else if (v < cl) {
      const u = upper[i];
      if (u < lower[i]) lower[i] = u;
      closest[i] = v;
      upper[i] = sqrt(v);
      labels[i] = j;
    } else {
      const se = sqrt(v);
      if (se < lower[i]) lower[i] = se;
    }
    pot += closest[i];
  }
  S.stat[b * NS] = pot;
}

function zeroBlock(S, b) {
  const kd = S.k * S.d, so = b * kd, sums = S.sums, counts = S.counts, cb = b * S.k;
  for (let t = 0; t < kd; t++) sums[so + t] = 0;
  for (let j = 0; j < S.k; j++) counts[cb + j] = 0;
}

function sumsFromLabels(S, b) {
  const X = S.X, d = S.d, k = S.k, labels = S.labels, sums = S.sums, counts = S.counts;
  const i0 = b * S.bs, i1 = mini(S.n, i0 + S.bs);
  zeroBlock(S, b);
  const so = b * k * d, cb = b * k;
  for (let i = i0; i < i1; i++) {
    const a = labels[i], xo = i * d, o = so + a * d;
    for (let t = 0; t < d; t++) sums[o + t] += X[xo + t];
    counts[cb + a]++;
  }
  S.stat[b * NS] = i1 - i0;
}

// Full first assignment from arbitrary centroids. cc holds half the centroid-centroid distances (k*k):
// centroid j cannot beat the current best when cc[best][j] > |x - c_best| (Elkan's second lemma).
function assignFull(S, b) {
  bind(S);
  const D2 = S.D2, D2B = S.D2B, xb = S.xb, xs = S.xs, cb = S.cb, cs = S.cs;
  const X = S.X, d = S.d, k = S.k, labels = S.labels, sums = S.sums, counts = S.counts;
  const upper = S.upper, lower = S.lower, cc = S.cc;
  const i0 = b * S.bs, i1 = mini(S.n, i0 + S.bs);
  zeroBlock(S, b);
  const so = b * k * d, cbk = b * k;
  for (let i = i0; i < i1; i++) {
    const xp = xb + i * xs;
    let best = 0, bd = D2(xp, cb, d), sd = INF, ub = sqrt(bd), lbs = INF;
    for (let j = 1; j < k; j++) {
      const h = cc[best * k + j];
      if (h > ub) {
        const lb = 2 * h - ub;
        if (lb < lbs) lbs = lb;
        continue;
      }
      const e = D2B(xp, cb + j * cs, d, sd);
      if (e < bd) { sd = bd; bd = e; best = j; ub = sqrt(e); }
      else if (e < sd) sd = e;
    }
    labels[i] = best;
    upper[i] = ub;
    const ls = sqrt(sd);
    lower[i] = ls < lbs ? ls : lbs;
    const o = so + best * d, xo = i * d;
    for (let t = 0; t < d; t++) sums[o + t] += X[xo + t];
    counts[cbk + best]++;
  }
  S.stat[b * NS] = i1 - i0;
}

// One Hamerly iteration. Bounds are first moved by the last centroid update (p); a point is examined only when its
// upper bound exceeds max(s[a], lower). Its scan skips centroids ruled out by cc and stops distances early.
function assignHamerly(S, b) {
  bind(S);
  const D2 = S.D2, D2B = S.D2B, xb = S.xb, xs = S.xs, cb = S.cb, cs = S.cs;
  const X = S.X, d = S.d, k = S.k, labels = S.labels, sums = S.sums, counts = S.counts;
  const upper = S.upper, lower = S.lower, half = S.s, p = S.p, cc = S.cc, P = S.params;
  const pl = S.pl, final = P[P_FINAL] !== 0;
  const i0 = b * S.bs, i1 = mini(S.n, i0 + S.bs);
  const so = b * k * d, cbk = b * k;
  let changes = 0, inertia = 0;
  for (let i = i0; i < i1; i++) {
    const a = labels[i], xp = xb + i * xs;
    let u = upper[i] + p[a];
    let l = lower[i] - pl[a];
    let dd = -1;
    const sa = half[a];
    // u > max(s[a], l), written with a non-short-circuit & so that V8 emits one predictable branch instead of
    // two unpredictable ones (which dominated this loop).
    if ((u > sa) & (u > l)) {
      dd = D2(xp, cb + a * cs, d);
      u = sqrt(dd);
      if ((u > sa) & (u > l)) {
        let best = a, bd = dd, sd = INF, lbs = INF;
        const ua = u, ca = a * k;
        for (let j = 0; j < k; j++) {
          if (j === a) continue;
          const h = cc[ca + j];
          if (h > ua) {
            const lb = 2 * h - ua;
            if (lb < lbs) lbs = lb;
            continue;
          }
          const e = D2B(xp, cb + j * cs, d, sd);
          if (e < bd || (e === bd && j < best)) { sd = bd; bd = e; best = j; }
          else if (e < sd) sd = e;
        }
        u = sqrt(bd);
        const ls = sqrt(sd);
        l = ls < lbs ? ls : lbs;
        dd = bd;
        if (best !== a) {
          const oo = so + a * d, no = so + best * d, xo = i * d;
          for (let t = 0; t < d; t++) {
            const v = X[xo + t];
            sums[oo + t] -= v;
            sums[no + t] += v;
          }
          if (--counts[cbk + a] === 0) for (let t = 0; t < d; t++) sums[oo + t] = 0;
          counts[cbk + best]++;
          labels[i] = best;
          changes++;
        }
      }
    }
    upper[i] = u;
    lower[i] = l;
    if (final) inertia += dd >= 0 ? dd : D2(xp, cb + labels[i] * cs, d);
  }
  S.stat[b * NS] = changes;
  S.stat[b * NS + 1] = inertia;
}

return {
  makeState: makeState,
  ops: {
    moments: moments, ppInit: ppInit, ppTrial: ppTrial, ppCommit: ppCommit,
    sumsFromLabels: sumsFromLabels, assignFull: assignFull, assignHamerly: assignHamerly,
  },
};
`;

/** Source of a worker started with `new Worker(WORKER_SOURCE, { eval: true })`. */
export const WORKER_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
const K = (function () {
${KERNEL_SOURCE}
})();
let S = null;
parentPort.on('message', function (m) {
  try {
    if (m.type === 'init') {
      S = K.makeState(m.desc);
      return;
    }
    if (m.type === 'run') {
      const f = K.ops[m.op], counter = S.counter, nb = S.nb;
      for (;;) {
        const b = Atomics.add(counter, 0, 1);
        if (b >= nb) break;
        f(S, b);
      }
      parentPort.postMessage({ type: 'done' });
    }
  } catch (e) {
    parentPort.postMessage({ type: 'error', message: String((e && e.stack) || e) });
  }
});
`;

const compiled: Partial<Record<'f32' | 'f64', KernelModule>> = {};

/** The kernel compiled for the main thread; one instance per dtype keeps V8's type feedback monomorphic. */
export function mainKernel(dtype: 'f32' | 'f64'): KernelModule {
  let m = compiled[dtype];
  if (!m) {
    m = new Function(KERNEL_SOURCE)() as KernelModule;
    compiled[dtype] = m;
  }
  return m;
}
