/**
 * Derivative-free minimisation: Nelder–Mead with adaptive coefficients (Gao & Han 2012) and restarts.
 *
 * Written here rather than taken from npm: the optimiser packages on the registry are either
 * unmaintained (`fmin` 0.0.4, no types) or pull in far more than a 4-parameter likelihood needs.
 * Non-finite objective values are treated as +∞, so a likelihood may return NaN/∞ outside its domain.
 */

export interface NelderMeadOptions {
  /** Initial simplex step per coordinate (default 0.5; the models optimise on a log scale). */
  step?: number;
  /** Stop when max f − min f over the simplex ≤ fTolAbs + fTolRel·|min f| … (defaults 1e-13, 1e-13). */
  fTolAbs?: number;
  fTolRel?: number;
  /** … and the simplex fits in a box of half-width xTol around the best vertex (default 1e-9). */
  xTol?: number;
  /** Budget of objective evaluations (default 5 000). */
  maxEvals?: number;
}

export interface MinimizeResult {
  x: number[];
  fx: number;
  converged: boolean;
  evaluations: number;
  iterations: number;
}

function safe(f: (x: number[]) => number): (x: number[]) => number {
  return (x) => {
    const v = f(x);
    return Number.isFinite(v) ? v : Infinity;
  };
}

export function nelderMead(
  objective: (x: number[]) => number,
  x0: readonly number[],
  opts: NelderMeadOptions = {},
): MinimizeResult {
  const f = safe(objective);
  const n = x0.length;
  const step = opts.step ?? 0.5;
  const fTolAbs = opts.fTolAbs ?? 1e-13;
  const fTolRel = opts.fTolRel ?? 1e-13;
  const xTol = opts.xTol ?? 1e-9;
  const maxEvals = opts.maxEvals ?? 5000;
  const alpha = 1;
  const beta = 1 + 2 / n; // expansion
  const gamma = 0.75 - 1 / (2 * n); // contraction
  const delta = 1 - 1 / n; // shrink

  let evaluations = 0;
  const evalAt = (x: number[]): number => {
    evaluations++;
    return f(x);
  };
  const simplex: number[][] = [x0.slice()];
  for (let i = 0; i < n; i++) {
    const v = x0.slice();
    v[i] = (v[i] ?? 0) + step;
    simplex.push(v);
  }
  const values = simplex.map(evalAt);
  const order = (): void => {
    const idx = values.map((_, i) => i).sort((i, j) => (values[i] as number) - (values[j] as number));
    const s = idx.map((i) => simplex[i] as number[]);
    const v = idx.map((i) => values[i] as number);
    for (let i = 0; i <= n; i++) {
      simplex[i] = s[i] as number[];
      values[i] = v[i] as number;
    }
  };
  const combine = (c: number[], w: number[], t: number): number[] => c.map((ci, k) => ci + t * ((w[k] as number) - ci));

  let iterations = 0;
  let converged = false;
  order();
  while (evaluations < maxEvals) {
    iterations++;
    const best = simplex[0] as number[];
    const fBest = values[0] as number;
    const fWorst = values[n] as number;
    let spread = 0;
    for (let i = 1; i <= n; i++) {
      const v = simplex[i] as number[];
      for (let k = 0; k < n; k++) spread = Math.max(spread, Math.abs((v[k] as number) - (best[k] as number)));
    }
    if (Number.isFinite(fWorst) && fWorst - fBest <= fTolAbs + fTolRel * Math.abs(fBest) && spread <= xTol) {
      converged = true;
      break;
    }
    // Centroid of all but the worst vertex.
    const centroid = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) {
      const v = simplex[i] as number[];
      for (let k = 0; k < n; k++) centroid[k] = (centroid[k] as number) + (v[k] as number) / n;
    }
    const worst = simplex[n] as number[];
    const xr = combine(centroid, worst, -alpha);
    const fr = evalAt(xr);
    const fSecond = values[n - 1] as number;
    if (fr < fBest) {
      const xe = combine(centroid, worst, -alpha * beta);
      const fe = evalAt(xe);
      if (fe < fr) {
        simplex[n] = xe;
        values[n] = fe;
      } else {
        simplex[n] = xr;
        values[n] = fr;
      }
    } else if (fr < fSecond) {
      simplex[n] = xr;
      values[n] = fr;
    } else {
      // Outside contraction if the reflection beat the worst, inside otherwise.
      const outside = fr < fWorst;
      const xc = outside ? combine(centroid, worst, -alpha * gamma) : combine(centroid, worst, gamma);
      const fc = evalAt(xc);
      if (fc < (outside ? fr : fWorst)) {
        simplex[n] = xc;
        values[n] = fc;
      } else {
        for (let i = 1; i <= n; i++) {
          simplex[i] = combine(best, simplex[i] as number[], delta);
          values[i] = evalAt(simplex[i] as number[]);
        }
      }
    }
    order();
  }
  return { x: (simplex[0] as number[]).slice(), fx: values[0] as number, converged, evaluations, iterations };
}

export interface MinimizeOptions extends NelderMeadOptions {
  /** Tolerances for the exploratory run from each start (default fTol 1e-8, xTol 1e-5, 1 500 evaluations). */
  exploreFTol?: number;
  exploreXTol?: number;
  exploreMaxEvals?: number;
  /** Maximum number of restarts of the polishing run from its own optimum (default 6). */
  maxRestarts?: number;
}

export interface MultiStartResult extends MinimizeResult {
  /** Best value reached from each start in the exploratory phase. */
  startValues: number[];
  restarts: number;
}

/**
 * Multi-start Nelder–Mead: a loose run from every start, then the best point is polished with tight
 * tolerances and restarted from its own optimum (a fresh simplex) until a restart no longer improves
 * it. `converged` is true when the last polishing run met its tolerances and the restart before it
 * agreed to within them — the usual guard against Nelder–Mead stalling on a degenerate simplex.
 */
export function minimizeMultiStart(
  objective: (x: number[]) => number,
  starts: readonly (readonly number[])[],
  opts: MinimizeOptions = {},
  polishObjective: (x: number[]) => number = objective,
): MultiStartResult {
  if (starts.length === 0) throw new RangeError('minimizeMultiStart needs at least one start');
  let evaluations = 0;
  let iterations = 0;
  let best: MinimizeResult | undefined;
  const startValues: number[] = [];
  for (const s of starts) {
    const res = nelderMead(objective, s, {
      step: opts.step,
      fTolAbs: opts.exploreFTol ?? 1e-8,
      fTolRel: opts.exploreFTol ?? 1e-8,
      xTol: opts.exploreXTol ?? 1e-5,
      maxEvals: opts.exploreMaxEvals ?? 1500,
    });
    evaluations += res.evaluations;
    iterations += res.iterations;
    startValues.push(res.fx);
    if (!best || res.fx < best.fx) best = res;
  }
  const separatePolish = polishObjective !== objective;
  let current = best as MinimizeResult;
  const fTolAbs = opts.fTolAbs ?? 1e-13;
  const fTolRel = opts.fTolRel ?? 1e-13;
  const maxRestarts = opts.maxRestarts ?? 6;
  let restarts = 0;
  let converged = false;
  let fPrev = separatePolish ? Infinity : current.fx;
  let step = Math.min(opts.step ?? 0.5, 0.1);
  for (let i = 0; i <= maxRestarts; i++) {
    const res = nelderMead(polishObjective, current.x, { ...opts, step, fTolAbs, fTolRel });
    evaluations += res.evaluations;
    iterations += res.iterations;
    restarts = i;
    if ((separatePolish && i === 0) || res.fx <= current.fx) current = res;
    if (res.converged && Math.abs(fPrev - res.fx) <= 10 * (fTolAbs + fTolRel * Math.abs(res.fx))) {
      converged = true;
      break;
    }
    fPrev = res.fx;
    step = Math.max(step / 2, 1e-3);
  }
  return { x: current.x, fx: current.fx, converged, evaluations, iterations, startValues, restarts };
}

export interface BfgsOptions {
  /** Stop when the largest gradient component is at most gTol (default 1e-9). */
  gTol?: number;
  /** Maximum iterations (default 200). */
  maxIter?: number;
  /** Largest step per coordinate in one line search (default 2). */
  maxStep?: number;
}

/**
 * Quasi-Newton BFGS with a backtracking (Armijo) line search, for polishing a likelihood whose
 * gradient is known analytically. `fg` returns [f, ∇f]; non-finite f counts as +∞.
 * `converged` means max|∇f| ≤ gTol at the returned point.
 */
export function bfgs(
  fg: (x: number[]) => [number, number[]],
  x0: readonly number[],
  opts: BfgsOptions = {},
): MinimizeResult {
  const n = x0.length;
  const gTol = opts.gTol ?? 1e-9;
  const maxIter = opts.maxIter ?? 200;
  const maxStep = opts.maxStep ?? 2;
  let evaluations = 0;
  const evalAt = (x: number[]): [number, number[]] => {
    evaluations++;
    const [f, g] = fg(x);
    return Number.isFinite(f) && g.every(Number.isFinite) ? [f, g] : [Infinity, g];
  };
  let x = x0.slice();
  let [f, g] = evalAt(x);
  const normInf = (v: number[]): number => v.reduce((m, t) => Math.max(m, Math.abs(t)), 0);
  // Inverse Hessian approximation, row-major.
  let H: number[] = [];
  const resetH = (scale: number): void => {
    H = new Array<number>(n * n).fill(0);
    for (let i = 0; i < n; i++) H[i * n + i] = scale;
  };
  resetH(1);
  let iterations = 0;
  let converged = Number.isFinite(f) && normInf(g) <= gTol;
  while (!converged && iterations < maxIter && Number.isFinite(f)) {
    iterations++;
    const dir = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) dir[i] = (dir[i] as number) - (H[i * n + j] as number) * (g[j] as number);
    let slope = dir.reduce((s, di, i) => s + di * (g[i] as number), 0);
    if (!(slope < 0)) {
      // Not a descent direction: fall back to steepest descent.
      resetH(1);
      for (let i = 0; i < n; i++) dir[i] = -(g[i] as number);
      slope = -g.reduce((s, gi) => s + gi * gi, 0);
    }
    const big = normInf(dir);
    let step = big > maxStep ? maxStep / big : 1;
    let accepted: [number[], number, number[]] | undefined;
    for (let k = 0; k < 60; k++) {
      const xn = x.map((xi, i) => xi + step * (dir[i] as number));
      const [fn, gn] = evalAt(xn);
      if (fn <= f + 1e-4 * step * slope) {
        accepted = [xn, fn, gn];
        break;
      }
      step /= 2;
    }
    if (!accepted) break; // no decrease possible at double precision
    const [xn, fn, gn] = accepted;
    const s = xn.map((v, i) => v - (x[i] as number));
    const y = gn.map((v, i) => v - (g[i] as number));
    const sy = s.reduce((acc, si, i) => acc + si * (y[i] as number), 0);
    if (sy > 1e-300) {
      if (iterations === 1) resetH(sy / y.reduce((acc, yi) => acc + yi * yi, 0));
      // H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ
      const rho = 1 / sy;
      const Hy = new Array<number>(n).fill(0);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) Hy[i] = (Hy[i] as number) + (H[i * n + j] as number) * (y[j] as number);
      const yHy = y.reduce((acc, yi, i) => acc + yi * (Hy[i] as number), 0);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          H[i * n + j] =
            (H[i * n + j] as number) -
            rho * ((Hy[i] as number) * (s[j] as number) + (s[i] as number) * (Hy[j] as number)) +
            (rho * rho * yHy + rho) * (s[i] as number) * (s[j] as number);
        }
      }
    }
    const fPrev = f;
    x = xn;
    f = fn;
    g = gn;
    if (normInf(g) <= gTol) converged = true;
    else if (fPrev - f <= 1e-16 * Math.abs(f) && normInf(s) <= 1e-12) break;
  }
  return { x, fx: f, converged, evaluations, iterations };
}
