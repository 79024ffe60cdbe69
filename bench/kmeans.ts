/**
 * k-means benchmark: Shoal's CLI (all cores and one thread) against scikit-learn's Lloyd on the same
 * deterministic Gaussian-mixture files (1,000,000 × 32 and × 64, 12 components of unequal sizes, 1% uniform outliers).
 *
 *   npm run bench:kmeans                 # BENCH_INSTALL=1 lets it apt-get install python3-sklearn if missing
 *   BENCH_REPEAT=3 npm run bench:kmeans  # best of 3 timings per configuration (default 2)
 *   BENCH_DIMS=32 npm run bench:kmeans   # only the 1,000,000 × 32 file
 *   BENCH_WARM_N=200000                  # rows of the per-iteration and warm-start section (default 200,000)
 *   BENCH_ONLY=warm BENCH_DIMS=32 npm run bench:kmeans   # only that section
 *
 * Then, since a warm start is the nightly hot path: time per Lloyd iteration from identical initial centroids
 * (k-means++ from the same seed, written to a file that scikit-learn reads as `init`), one thread each, and the time
 * of a warm-started fit (from the converged centroids, on a re-drawn sample of the same mixture) against a cold one.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { kmeans, kmeansPlusPlus, lloyd } from '../shared/segmentation/kmeans';
import { createRng } from '../shared/util/rng';

const ROOT = resolve(__dirname, '..');
const BENCH_DIR = join(ROOT, '.bench');
const PYTHON = '/usr/bin/python3';
const N = 1_000_000;
const K = 12;
const DIMS = (process.env.BENCH_DIMS ?? '32,64').split(',').map(Number);
const SEED = 0;
const REPEAT = Math.max(1, Number(process.env.BENCH_REPEAT ?? 2) || 2);

/** 12 components with sizes ∝ 1/(c+1) (≈ 32% down to 2.6%), 1% uniform outliers, rows in random order. */
function generate(path: string, n: number, d: number): void {
  const rng = createRng(20240611 + d);
  const comps = 12;
  const centres = new Float64Array(comps * d);
  for (let i = 0; i < centres.length; i++) centres[i] = 2.5 * rng.normal();
  const sigma = Array.from({ length: comps }, () => 0.8 + 0.8 * rng.next());
  const w = Array.from({ length: comps }, (_, c) => 1 / (c + 1));
  const wsum = w.reduce((a, b) => a + b, 0);
  const cum: number[] = [];
  w.reduce((acc, v) => (cum.push((acc + v) / wsum), acc + v), 0);
  const chunkRows = 65536;
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    const buf = new Float32Array(chunkRows * d);
    for (let start = 0; start < n; start += chunkRows) {
      const rows = Math.min(chunkRows, n - start);
      for (let r = 0; r < rows; r++) {
        const o = r * d;
        if (rng.next() < 0.01) {
          for (let t = 0; t < d; t++) buf[o + t] = -10 + 20 * rng.next();
          continue;
        }
        const u = rng.next();
        let c = 0;
        while (c < comps - 1 && u >= cum[c]!) c++;
        const s = sigma[c]!;
        for (let t = 0; t < d; t++) buf[o + t] = centres[c * d + t]! + s * rng.normal();
      }
      writeSync(fd, new Uint8Array(buf.buffer, 0, rows * d * 4));
    }
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

function ensureFile(d: number): string {
  mkdirSync(BENCH_DIR, { recursive: true });
  const path = join(BENCH_DIR, `gmm-n${N}-d${d}-c12-out1pct-v1.f32`);
  if (existsSync(path) && statSync(path).size === N * d * 4) {
    console.log(`reusing ${path}`);
  } else {
    const t0 = performance.now();
    generate(path, N, d);
    console.log(`generated ${path} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return path;
}

interface Fit {
  inertia: number;
  iterations: number;
  fitSeconds: number;
}

function best(runs: Fit[]): Fit {
  return runs.reduce((a, b) => (b.fitSeconds < a.fitSeconds ? b : a));
}

function runShoal(path: string, d: number, threads?: number): Fit {
  const args = ['bin/shoal.js', 'kmeans', '--input', path, '--d', String(d), '--k', String(K), '--seed', String(SEED)];
  if (threads !== undefined) args.push('--threads', String(threads));
  const runs: Fit[] = [];
  for (let r = 0; r < REPEAT; r++) {
    const out = execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 20 });
    runs.push(JSON.parse(out.trim().split('\n').pop()!) as Fit);
  }
  return best(runs);
}

const SKLEARN_SCRIPT = `
import json, sys, time
import numpy as np
import sklearn
from sklearn.cluster import KMeans
path, d, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
X = np.fromfile(path, dtype='<f4').reshape(-1, d)
km = KMeans(n_clusters=k, algorithm="lloyd", n_init=1, init="k-means++", tol=1e-4, random_state=0)
t0 = time.perf_counter()
km.fit(X)
fit = time.perf_counter() - t0
C = km.cluster_centers_.astype(np.float64)
lab = km.labels_
inertia = 0.0
for s in range(0, X.shape[0], 65536):
    diff = X[s:s + 65536].astype(np.float64) - C[lab[s:s + 65536]]
    inertia += float(np.einsum('ij,ij->', diff, diff))
try:
    from threadpoolctl import threadpool_info
    threads = max([p.get('num_threads', 1) for p in threadpool_info()] or [1])
except Exception:
    threads = None
print(json.dumps({"inertia": inertia, "inertiaReported": float(km.inertia_), "iterations": int(km.n_iter_),
                  "fitSeconds": fit, "version": sklearn.__version__, "threads": threads}))
`;

function sklearnAvailable(): string | null {
  const probe = spawnSync(PYTHON, ['-c', 'import sklearn, numpy'], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} not runnable (${probe.error.message})`;
  if (probe.status !== 0) return `${PYTHON} cannot import sklearn/numpy`;
  return null;
}

function ensureSklearn(): string | null {
  const missing = sklearnAvailable();
  if (!missing) return null;
  if (process.env.BENCH_INSTALL !== '1') {
    return `${missing}; set BENCH_INSTALL=1 to apt-get install python3-sklearn`;
  }
  console.log(`${missing}; installing python3-sklearn with apt-get (BENCH_INSTALL=1) ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', 'python3-sklearn']]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (r.error || r.status !== 0)
      return `apt-get ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`;
  }
  return sklearnAvailable();
}

type SkFit = Fit & { inertiaReported: number; version: string; threads: number | null };

function runSklearn(path: string, d: number): SkFit {
  const runs: SkFit[] = [];
  for (let r = 0; r < REPEAT; r++) {
    const out = execFileSync(PYTHON, ['-c', SKLEARN_SCRIPT, path, String(d), String(K)], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    runs.push(JSON.parse(out.trim().split('\n').pop()!) as SkFit);
  }
  return runs.reduce((a, b) => (b.fitSeconds < a.fitSeconds ? b : a));
}

const load = (): string => loadavg()[0]!.toFixed(2);
const fmt = (f: Fit): string =>
  `fit ${f.fitSeconds.toFixed(3)} s, inertia ${f.inertia.toPrecision(10)}, ${f.iterations} iterations (load avg ${load()})`;

function main(): void {
  const cores = availableParallelism();
  console.log(`k-means benchmark: n=${N}, k=${K}, seed=${SEED}, cores (os.availableParallelism) = ${cores}`);
  console.log(`timings are the best of ${REPEAT} run(s); fit only, file reading excluded`);
  console.log(`1-minute load average before starting: ${load()} (other work on this machine skews timings)`);
  const skipReason = ensureSklearn();
  if (skipReason) console.log(`scikit-learn comparison skipped: ${skipReason}`);
  const summary: string[] = [];
  // BENCH_ONLY=warm: only the per-iteration and warm-start section.
  for (const d of process.env.BENCH_ONLY === 'warm' ? [] : DIMS) {
    const path = ensureFile(d);
    console.log(`\n== ${N} x ${d}, k=${K} ==`);
    const par = runShoal(path, d);
    console.log(`shoal  (${cores} threads): ${fmt(par)}`);
    const one = runShoal(path, d, 1);
    console.log(`shoal  (1 thread):  ${fmt(one)}`);
    if (skipReason) continue;
    const sk = runSklearn(path, d);
    console.log(
      `sklearn ${sk.version} (${sk.threads ?? '?'} threads): ${fmt(sk)} (float64 recomputation; sklearn's own float32 inertia_ ${sk.inertiaReported.toPrecision(10)})`,
    );
    const tr = par.fitSeconds / sk.fitSeconds;
    const ir = par.inertia / sk.inertia;
    const line =
      `d=${d}: time ratio shoal/sklearn = ${tr.toFixed(3)} (1-thread ${(one.fitSeconds / sk.fitSeconds).toFixed(3)}), ` +
      `inertia ratio shoal/sklearn = ${ir.toFixed(6)} (${((ir - 1) * 100).toFixed(3)}%)`;
    console.log(line);
    summary.push(`${line} -> ${tr <= 1 && ir <= 1.005 ? 'target met' : 'target NOT met'}`);
  }
  if (summary.length)
    console.log(`\nsummary (target: time ratio <= 1, inertia at most 0.5% above sklearn):\n${summary.join('\n')}`);
  warmStartSection(DIMS[0]!, skipReason);
}

const WARM_N = Math.max(10_000, Number(process.env.BENCH_WARM_N ?? 200_000) || 200_000);

const SKLEARN_ITER_SCRIPT = `
import json, sys, time
import numpy as np
from sklearn.cluster import KMeans
path, d, n, init_path, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
X = np.fromfile(path, dtype='<f4', count=n * d).reshape(n, d)
C0 = np.fromfile(init_path, dtype='<f8').reshape(k, d)
km = KMeans(n_clusters=k, algorithm="lloyd", n_init=1, init=C0, tol=1e-4, max_iter=300)
t0 = time.perf_counter()
km.fit(X)
fit = time.perf_counter() - t0
print(json.dumps({"fitSeconds": fit, "iterations": int(km.n_iter_), "inertia": float(km.inertia_)}))
`;

/** Time per iteration from identical initial centroids, and a warm-started fit against a cold one. */
function warmStartSection(d: number, skipReason: string | null): void {
  const path = ensureFile(d);
  const bytes = readFileSync(path);
  const all = new Float32Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.byteLength / 4));
  const n = Math.min(WARM_N, Math.floor(all.length / d / 2));
  // Night 1: the first n rows; night 2: the next n rows (a re-drawn sample of the same mixture).
  const night1 = all.slice(0, n * d);
  const night2 = all.slice(n * d, 2 * n * d);
  console.log(`\n== warm start, ${n} x ${d}, k=${K}, one thread ==`);

  const init = kmeansPlusPlus(night1, n, d, K, createRng(SEED));
  let t0 = performance.now();
  const fromInit = lloyd(night1, n, d, init, K);
  const shoalSeconds = (performance.now() - t0) / 1000;
  const shoalPerIter = shoalSeconds / fromInit.iterations;
  console.log(
    `shoal lloyd from identical init: ${shoalSeconds.toFixed(3)} s, ${fromInit.iterations} iterations, ${(1000 * shoalPerIter).toFixed(2)} ms/iteration`,
  );
  if (!skipReason) {
    mkdirSync(BENCH_DIR, { recursive: true });
    const initPath = join(BENCH_DIR, `init-${d}.f64`);
    writeFileSync(initPath, Buffer.from(init.buffer, init.byteOffset, init.byteLength));
    const out = execFileSync(PYTHON, ['-c', SKLEARN_ITER_SCRIPT, path, String(d), String(n), initPath, String(K)], {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
    const sk = JSON.parse(out.trim().split('\n').pop()!) as { fitSeconds: number; iterations: number };
    const skPerIter = sk.fitSeconds / sk.iterations;
    console.log(
      `sklearn lloyd from identical init (OMP_NUM_THREADS=1): ${sk.fitSeconds.toFixed(3)} s, ${sk.iterations} iterations, ${(1000 * skPerIter).toFixed(2)} ms/iteration -> per-iteration ratio shoal/sklearn = ${(shoalPerIter / skPerIter).toFixed(3)}`,
    );
  }

  t0 = performance.now();
  const cold = kmeans(night2, n, d, { k: K, seed: SEED + 1 });
  const coldSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const warm = lloyd(night2, n, d, fromInit.centroids, K);
  const warmSeconds = (performance.now() - t0) / 1000;
  console.log(
    `night 2 cold fit (k-means++ + Lloyd): ${coldSeconds.toFixed(3)} s, ${cold.iterations} iterations, inertia ${cold.inertia.toPrecision(8)}`,
  );
  console.log(
    `night 2 warm-started fit (from night 1's centroids): ${warmSeconds.toFixed(3)} s, ${warm.iterations} iterations, inertia ${warm.inertia.toPrecision(8)} -> ${(coldSeconds / warmSeconds).toFixed(1)}x faster`,
  );
}

main();
