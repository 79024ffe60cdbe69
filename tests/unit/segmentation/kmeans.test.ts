import fc from 'fast-check';
import {
  allocateKMeansInput,
  assignNearest,
  kmeans,
  kmeansParallel,
  kmeansPlusPlus,
  lloyd,
  setKMeansBackend,
  type KMeansResult,
  type LloydIteration,
} from '../../../shared/segmentation/kmeans';
import { createRng } from '../../../shared/util/rng';

// ---------------------------------------------------------------------------------------------------------------
// Helpers

/** Gaussian blobs plus a little uniform noise, deterministic for a seed. */
function blobs(seed: number, n: number, d: number, comps: number, spread = 4): Float64Array {
  const rng = createRng(seed);
  const centres = Array.from({ length: comps * d }, () => spread * rng.normal());
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = rng.int(comps);
    const noise = rng.next() < 0.05;
    for (let t = 0; t < d; t++)
      x[i * d + t] = noise ? 3 * spread * (rng.next() - 0.5) : centres[c * d + t]! + rng.normal();
  }
  return x;
}

function sq(x: ArrayLike<number>, i: number, c: ArrayLike<number>, j: number, d: number): number {
  let s = 0;
  for (let t = 0; t < d; t++) {
    const v = x[i * d + t]! - c[j * d + t]!;
    s += v * v;
  }
  return s;
}

function inertiaOf(
  x: ArrayLike<number>,
  n: number,
  d: number,
  c: ArrayLike<number>,
  labels: ArrayLike<number>,
): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += sq(x, i, c, labels[i]!, d);
  return s;
}

/** Distinct rows (chosen by the seed) as initial centroids. */
function pickRows(x: ArrayLike<number>, n: number, d: number, k: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  const c = new Float64Array(k * d);
  for (let j = 0; j < k; j++) for (let t = 0; t < d; t++) c[j * d + t] = x[idx[j]! * d + t]!;
  return c;
}

/**
 * Naive Lloyd with the engine's documented semantics: full assignment (lowest index wins ties), means recomputed from
 * scratch, empty clusters take (in index order) the point farthest from its old centroid among clusters of size > 1,
 * stop on unchanged labels or total squared shift <= tol * mean feature variance, then a final assignment.
 */
function naiveLloyd(x: Float64Array, n: number, d: number, init: Float64Array, k: number, maxIter = 300, tol = 1e-4) {
  let tolAbs = 0;
  for (let t = 0; t < d; t++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += x[i * d + t]!;
    m /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (x[i * d + t]! - m) ** 2;
    tolAbs += v / n;
  }
  tolAbs = (tolAbs / d) * tol;
  let c = init.slice(0, k * d);
  const labels = new Int32Array(n).fill(-1);
  const assign = (): boolean => {
    let changed = false;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bd = sq(x, i, c, 0, d);
      for (let j = 1; j < k; j++) {
        const e = sq(x, i, c, j, d);
        if (e < bd) {
          bd = e;
          best = j;
        }
      }
      if (labels[i] !== best) changed = true;
      labels[i] = best;
    }
    return changed;
  };
  let iter = 0;
  let strict = false;
  while (iter < maxIter) {
    iter++;
    const changed = assign();
    const counts = new Int32Array(k);
    for (let i = 0; i < n; i++) counts[labels[i]!]!++;
    const dist = Float64Array.from({ length: n }, (_, i) => sq(x, i, c, labels[i]!, d));
    for (let j = 0; j < k; j++) {
      if (counts[j] !== 0) continue;
      let pick = -1;
      let far = -1;
      for (let i = 0; i < n; i++) {
        if (dist[i]! > far && counts[labels[i]!]! > 1) {
          far = dist[i]!;
          pick = i;
        }
      }
      if (pick < 0) break;
      counts[labels[pick]!]!--;
      counts[j] = 1;
      labels[pick] = j;
      dist[pick] = -1;
    }
    const next = new Float64Array(k * d);
    for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) next[labels[i]! * d + t]! += x[i * d + t]!;
    let shift = 0;
    for (let j = 0; j < k; j++) {
      for (let t = 0; t < d; t++) next[j * d + t] = counts[j]! > 0 ? next[j * d + t]! / counts[j]! : c[j * d + t]!;
      shift += sq(next, j, c, j, d);
    }
    c = next;
    if (iter > 1 && !changed) {
      strict = true;
      break;
    }
    if (shift <= tolAbs) break;
  }
  if (!strict) assign();
  return { centroids: c, labels, inertia: inertiaOf(x, n, d, c, labels), iterations: iter };
}

const relClose = (a: number, b: number, rel: number): boolean =>
  Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b));

function expectSameFit(a: KMeansResult, b: { labels: Int32Array; inertia: number; iterations: number }): void {
  expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
  expect(relClose(a.inertia, b.inertia, 1e-9)).toBe(true);
  expect(a.iterations).toBe(b.iterations);
}

/** Random small problem: [seed, n, d, k]. */
const problem = fc
  .record({
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    d: fc.integer({ min: 1, max: 6 }),
    k: fc.integer({ min: 1, max: 7 }),
  })
  .chain(({ seed, d, k }) =>
    fc.record({ seed: fc.constant(seed), d: fc.constant(d), k: fc.constant(k), n: fc.integer({ min: k, max: 120 }) }),
  );

function makeProblem(p: { seed: number; n: number; d: number; k: number }): Float64Array {
  return blobs(p.seed, p.n, p.d, 1 + (p.seed % 5));
}

// ---------------------------------------------------------------------------------------------------------------
// Named cases

describe('kmeans: named cases', () => {
  test('well separated blobs are recovered exactly', () => {
    const d = 3;
    const centres = [
      [0, 0, 0],
      [50, 0, 0],
      [0, 50, 0],
      [0, 0, 50],
    ];
    const rng = createRng(7);
    const n = 200;
    const truth = new Int32Array(n);
    const x = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      truth[i] = i % 4;
      for (let t = 0; t < d; t++) x[i * d + t] = centres[i % 4]![t]! + rng.normal();
    }
    const r = kmeans(x, n, d, { k: 4, seed: 1, nInit: 3 });
    const map = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const seen = map.get(truth[i]!);
      if (seen === undefined) map.set(truth[i]!, r.labels[i]!);
      else expect(r.labels[i]).toBe(seen);
    }
    expect(new Set(map.values()).size).toBe(4);
    expect(relClose(r.inertia, inertiaOf(x, n, d, r.centroids, r.labels), 1e-12)).toBe(true);
  });

  test.each([
    ['float32', Float32Array.from([1, 2, 3, 4, 10, 20, 7, -8])],
    ['float64', Float64Array.from([1, 2, 3, 4, 10, 20, 7, -8])],
  ])('k = 1 gives the mean (%s)', (_name, x) => {
    const r = kmeans(x, 4, 2, { k: 1, seed: 3 });
    expect(Array.from(r.centroids)).toEqual([5.25, 4.5]);
    expect(Array.from(r.labels)).toEqual([0, 0, 0, 0]);
    expect(r.inertia).toBeCloseTo(inertiaOf(x, 4, 2, [5.25, 4.5], [0, 0, 0, 0]), 9);
  });

  test('n == k puts every point in its own cluster with zero inertia', () => {
    const x = Float64Array.from([0, 0, 1, 0, 0, 1, 5, 5, -3, 2]);
    const r = kmeans(x, 5, 2, { k: 5, seed: 11 });
    expect(new Set(r.labels).size).toBe(5);
    expect(r.inertia).toBe(0);
    for (let i = 0; i < 5; i++) expect(sq(x, i, r.centroids, r.labels[i]!, 2)).toBe(0);
  });

  test.each([
    ['k = distinct values: every cluster is one value', 3],
    ['k > distinct values: identical rows are never split, extra clusters stay empty (issue #9 D13)', 5],
  ])('duplicate points: %s', (_name, k) => {
    const values = [1, 1, 1, 1, 7, 7, 7, 7, 7, 30, 30, 30];
    const x = Float64Array.from(values);
    const r = kmeans(x, values.length, 1, { k, seed: 5 });
    expect(r.inertia).toBe(0);
    const labelOf = new Map<number, number>();
    values.forEach((v, i) => {
      expect(labelOf.get(v) ?? r.labels[i]).toBe(r.labels[i]);
      labelOf.set(v, r.labels[i]!);
    });
    expect(new Set(r.labels).size).toBe(3);
  });

  test('an empty cluster is re-seeded with the point farthest from its centroid', () => {
    const x = Float64Array.from([0, 1, 2, 10, 11, 12, 100]);
    const seen: { labels: number[]; centroids: number[] }[] = [];
    const r = lloyd(x, 7, 1, Float64Array.from([1, 11, 1000]), 3, {
      onIteration: (it: LloydIteration) =>
        seen.push({ labels: Array.from(it.labels), centroids: Array.from(it.centroids) }),
    });
    expect(seen[0]!.labels).toEqual([0, 0, 0, 1, 1, 1, 2]);
    expect(seen[0]!.centroids).toEqual([1, 11, 100]);
    expect(Array.from(r.centroids)).toEqual([1, 11, 100]);
    expect(r.inertia).toBe(4);
    expect(r.iterations).toBe(2);
  });

  test('maxIter bounds the iterations', () => {
    const x = blobs(3, 500, 4, 6, 1);
    const r = kmeans(x, 500, 4, { k: 6, seed: 2, maxIter: 2, tol: 0 });
    expect(r.iterations).toBeLessThanOrEqual(2);
    expect(relClose(r.inertia, inertiaOf(x, 500, 4, r.centroids, r.labels), 1e-12)).toBe(true);
  });

  test('assignNearest returns nearest labels and squared distances', () => {
    const x = Float32Array.from([0, 0, 4, 4, 10, 0]);
    const c = Float64Array.from([0, 1, 9, 0]);
    const { labels, d2 } = assignNearest(x, 3, 2, c, 2);
    expect(Array.from(labels)).toEqual([0, 0, 1]);
    expect(Array.from(d2)).toEqual([1, 25, 1]);
  });

  test.each([
    ['k > n', () => kmeans(new Float64Array(4), 2, 2, { k: 3, seed: 0 })],
    ['k = 0', () => kmeans(new Float64Array(4), 2, 2, { k: 0, seed: 0 })],
    ['data too short', () => kmeans(new Float64Array(3), 2, 2, { k: 1, seed: 0 })],
    ['negative tol', () => kmeans(new Float64Array(4), 2, 2, { k: 1, seed: 0, tol: -1 })],
    ['non-integer d', () => kmeans(new Float64Array(4), 2, 1.5, { k: 1, seed: 0 })],
    ['NaN in data', () => kmeans(Float64Array.from([0, 1, NaN, 3]), 4, 1, { k: 2, seed: 0 })],
    ['Infinity in data (lloyd)', () => lloyd(Float32Array.from([0, Infinity, 2]), 3, 1, Float64Array.from([0, 2]), 2)],
  ])('rejects invalid input: %s', (_name, f) => {
    expect(f).toThrow(RangeError);
  });

  test('nInit keeps the best of several seedings', () => {
    const x = blobs(9, 400, 2, 8, 3);
    const one = kmeans(x, 400, 2, { k: 8, seed: 4 });
    const many = kmeans(x, 400, 2, { k: 8, seed: 4, nInit: 6 });
    expect(many.inertia).toBeLessThanOrEqual(one.inertia);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Properties

describe.each(['wasm', 'js'] as const)('kmeans: properties (%s distances)', (backend) => {
  beforeAll(() => setKMeansBackend(backend));
  afterAll(() => setKMeansBackend('auto'));

  test('Hamerly-accelerated lloyd equals a naive Lloyd reference', () => {
    fc.assert(
      fc.property(problem, fc.constantFrom(0, 1e-4), (p, tol) => {
        const x = makeProblem(p);
        const init = pickRows(x, p.n, p.d, p.k, p.seed + 1);
        expectSameFit(lloyd(x, p.n, p.d, init, p.k, { tol }), naiveLloyd(x, p.n, p.d, init, p.k, 300, tol));
      }),
      { numRuns: 80 },
    );
  });

  test('kmeans (k-means++ bounds) equals a naive Lloyd from kmeansPlusPlus seeds', () => {
    fc.assert(
      fc.property(problem, (p) => {
        const x = makeProblem(p);
        const init = kmeansPlusPlus(x, p.n, p.d, p.k, createRng(p.seed));
        expectSameFit(kmeans(x, p.n, p.d, { k: p.k, seed: p.seed }), naiveLloyd(x, p.n, p.d, init, p.k));
      }),
      { numRuns: 80 },
    );
  });

  test('inertia and partition do not depend on row order', () => {
    fc.assert(
      fc.property(problem, fc.integer(), (p, permSeed) => {
        const x = makeProblem(p);
        const init = pickRows(x, p.n, p.d, p.k, p.seed + 1);
        const perm = Array.from(
          pickRows(
            Float64Array.from({ length: p.n }, (_, i) => i),
            p.n,
            1,
            p.n,
            permSeed,
          ),
        );
        const y = new Float64Array(p.n * p.d);
        perm.forEach((src, i) => y.set(x.subarray(src * p.d, src * p.d + p.d), i * p.d));
        const a = lloyd(x, p.n, p.d, init, p.k, { tol: 0 });
        const b = lloyd(y, p.n, p.d, init, p.k, { tol: 0 });
        expect(relClose(a.inertia, b.inertia, 1e-9)).toBe(true);
        perm.forEach((src, i) => expect(b.labels[i]).toBe(a.labels[src]));
      }),
      { numRuns: 40 },
    );
  });

  test('inertia and partition do not depend on the order of the initial centroids', () => {
    fc.assert(
      fc.property(problem, fc.integer(), (p, permSeed) => {
        const x = makeProblem(p);
        const init = pickRows(x, p.n, p.d, p.k, p.seed + 1);
        const perm = Array.from(
          pickRows(
            Float64Array.from({ length: p.k }, (_, j) => j),
            p.k,
            1,
            p.k,
            permSeed,
          ),
        );
        const init2 = new Float64Array(p.k * p.d);
        perm.forEach((src, j) => init2.set(init.subarray(src * p.d, src * p.d + p.d), j * p.d));
        const a = lloyd(x, p.n, p.d, init, p.k, { tol: 0 });
        const b = lloyd(x, p.n, p.d, init2, p.k, { tol: 0 });
        expect(relClose(a.inertia, b.inertia, 1e-9)).toBe(true);
        // b's cluster j is a's cluster perm[j].
        for (let i = 0; i < p.n; i++) expect(perm[b.labels[i]!]).toBe(a.labels[i]);
      }),
      { numRuns: 40 },
    );
  });

  test('inertia never increases across Lloyd iterations', () => {
    fc.assert(
      fc.property(problem, (p) => {
        const x = makeProblem(p);
        const init = pickRows(x, p.n, p.d, p.k, p.seed + 1);
        const trace: number[] = [];
        const r = lloyd(x, p.n, p.d, init, p.k, {
          tol: 0,
          onIteration: (it) => trace.push(inertiaOf(x, p.n, p.d, it.centroids, it.labels)),
        });
        expect(trace.length).toBe(r.iterations);
        for (let i = 1; i < trace.length; i++)
          expect(trace[i]!).toBeLessThanOrEqual(trace[i - 1]! * (1 + 1e-12) + 1e-12);
        expect(r.inertia).toBeLessThanOrEqual(trace[trace.length - 1]! * (1 + 1e-12) + 1e-12);
      }),
      { numRuns: 80 },
    );
  });

  test('deterministic for a seed', () => {
    fc.assert(
      fc.property(problem, fc.integer({ min: 1, max: 3 }), (p, nInit) => {
        const x = new Float32Array(makeProblem(p));
        const a = kmeans(x, p.n, p.d, { k: p.k, seed: p.seed, nInit });
        const b = kmeans(x, p.n, p.d, { k: p.k, seed: p.seed, nInit });
        expect(b).toEqual(a);
        expect(kmeansPlusPlus(x, p.n, p.d, p.k, createRng(p.seed))).toEqual(
          kmeansPlusPlus(x, p.n, p.d, p.k, createRng(p.seed)),
        );
      }),
      { numRuns: 25 },
    );
  });

  test('kmeansPlusPlus picks k distinct data rows', () => {
    fc.assert(
      fc.property(problem, (p) => {
        const x = makeProblem(p);
        const c = kmeansPlusPlus(x, p.n, p.d, p.k, createRng(p.seed));
        const rows = new Set<string>();
        for (let i = 0; i < p.n; i++) rows.add(Array.from(x.subarray(i * p.d, (i + 1) * p.d)).join(','));
        const picked = new Set<string>();
        for (let j = 0; j < p.k; j++) picked.add(Array.from(c.subarray(j * p.d, (j + 1) * p.d)).join(','));
        expect(picked.size).toBe(Math.min(p.k, rows.size));
        for (const r of picked) expect(rows.has(r)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });
});

describe.each(['wasm', 'js'] as const)('kmeansParallel (%s distances)', (backend) => {
  beforeAll(() => setKMeansBackend(backend));
  afterAll(() => setKMeansBackend('auto'));

  test('gives the same result as kmeans for the same seed, whatever the thread count', async () => {
    const n = 20_000;
    const d = 8;
    const k = 16;
    const x = new Float32Array(blobs(21, n, d, 12, 2));
    const opts = { k, seed: 17, nInit: 2, maxIter: 15 };
    const ref = kmeans(x, n, d, opts);
    for (const threads of [2, 3]) {
      const par = await kmeansParallel(x, n, d, { ...opts, threads });
      expect(relClose(par.inertia, ref.inertia, 1e-9)).toBe(true);
      expect(par.iterations).toBe(ref.iterations);
      expect(Buffer.from(par.labels.buffer).equals(Buffer.from(ref.labels.buffer))).toBe(true);
      expect(Array.from(par.centroids)).toEqual(Array.from(ref.centroids));
    }
  });

  test('uses an allocateKMeansInput matrix in place, with the same result as a copy', async () => {
    const n = 12_000;
    const d = 12;
    const src = new Float32Array(blobs(5, n, d, 9, 2));
    const input = allocateKMeansInput(n, d);
    input.set(src);
    const opts = { k: 20, seed: 3, maxIter: 20 };
    const ref = kmeans(src, n, d, opts);
    const inPlace = await kmeansParallel(input, n, d, { ...opts, threads: 2 });
    expect(inPlace.inertia).toBe(ref.inertia);
    expect(Array.from(inPlace.labels)).toEqual(Array.from(ref.labels));
    expect(kmeans(input, n, d, opts).inertia).toBe(ref.inertia);
    expect(Array.from(input.subarray(0, 50))).toEqual(Array.from(src.subarray(0, 50)));
  });

  test('falls back to kmeans for small inputs', async () => {
    const x = blobs(2, 300, 3, 4);
    const par = await kmeansParallel(x, 300, 3, { k: 4, seed: 1, threads: 4 });
    expect(par).toEqual(kmeans(x, 300, 3, { k: 4, seed: 1 }));
  });
});

describe('backends', () => {
  afterAll(() => setKMeansBackend('auto'));

  // The two backends round the last bits differently, so on data with near-ties k-means++ may pick different
  // seeds and both may land in different (equally valid) local optima. On separated blobs they must agree exactly;
  // on any data each must be a fixed point: every label is a nearest centroid and the inertia is its own.
  test('WebAssembly and JavaScript distances give the same fit on separated blobs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 2, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        (seed, k, d) => {
          const x = new Float32Array(blobs(seed, 40 * k, d, k, 60));
          setKMeansBackend('wasm');
          const w = kmeans(x, 40 * k, d, { k, seed, nInit: 2 });
          setKMeansBackend('js');
          const j = kmeans(x, 40 * k, d, { k, seed, nInit: 2 });
          expect(relClose(w.inertia, j.inertia, 1e-6)).toBe(true);
        },
      ),
      { numRuns: 30 },
    );
  });

  test('each backend ends at a fixed point on random data', () => {
    fc.assert(
      fc.property(problem, (p) => {
        const x = new Float32Array(makeProblem(p));
        for (const backend of ['wasm', 'js'] as const) {
          setKMeansBackend(backend);
          const r = kmeans(x, p.n, p.d, { k: p.k, seed: p.seed, nInit: 2 });
          const nearest = assignNearest(x, p.n, p.d, r.centroids, p.k);
          let inertia = 0;
          for (let i = 0; i < p.n; i++) {
            inertia += sq(x, i, r.centroids, r.labels[i]!, p.d);
            // The assigned centroid is as near as the nearest one, up to float32 rounding.
            expect(sq(x, i, r.centroids, r.labels[i]!, p.d)).toBeLessThanOrEqual(nearest.d2[i]! * (1 + 1e-5) + 1e-9);
          }
          expect(relClose(r.inertia, inertia, 1e-6)).toBe(true);
        }
      }),
      { numRuns: 40 },
    );
  });
});
