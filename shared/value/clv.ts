/**
 * Customer value: a fitted (or prior) BG/NBD + Gamma-Gamma pair, and per-customer predictions.
 *
 * Time unit: WEEKS everywhere (x, t_x, T, horizons, discount rate per week).
 *
 * CLV over a horizon of H weeks with a discount rate d per week is
 *   CLV = E[spend per order] · Σ_{k=1}^{⌈H⌉} (E[Y(t_k)] − E[Y(t_{k−1})]) / (1+d)^{t_k},   t_k = min(k, H),
 * i.e. the expected orders in each week, discounted to the end of that week, times the
 * Gamma-Gamma expected spend per order. E[Y(t)] = P(alive)·h(t; x, T) (see bgnbd.ts), so it
 * increases with H and decreases with d.
 *
 * Small stores: below `minCustomers` customers or `minRepeatCustomers` repeat buyers the BG/NBD is not
 * fitted, and below `minSpendCustomers` repeat buyers with a spend the Gamma-Gamma is not fitted; a
 * fit that does not converge or ends on the boundary of the search box is discarded too. The model
 * then uses the priors — by default the published CDNOW estimates (FHL 2005) — with
 * `source: 'prior'` and a `reason`. With `rescaleSpendPrior` (default true) the Gamma-Gamma prior
 * keeps CDNOW's p and q but its v is rescaled so that the prior mean spend p·v/(q−1) equals the
 * store's own mean of `meanSpend` over repeat customers (CDNOW's dollars are not every store's).
 * Nothing here throws for a small or empty store; invalid rows (x not a non-negative integer,
 * t_x outside [0, T]) do throw a RangeError.
 */
import {
  assertBgNbdParams,
  assertRfmRow,
  bgnbdExpectedPurchasesIfAlive,
  bgnbdLogLikelihood,
  bgnbdPAlive,
  CDNOW_BGNBD_PARAMS,
  compressRfm,
  fitBgNbd,
  type BgNbdParams,
} from './bgnbd';
import type { ValueBacktestSummary } from './backtest';
import {
  assertGammaGammaParams,
  CDNOW_GAMMA_GAMMA_PARAMS,
  fitGammaGamma,
  gammaGammaExpectedSpend,
  isSpendRow,
  type GammaGammaParams,
} from './gamma-gamma';

// Local bindings: global lookups of Math are slow inside vm contexts (jest), and this is hot code.
const { exp, log1p, min, round } = Math;

export type ModelSource = 'fit' | 'prior';

export interface ValueModel {
  bgnbd: BgNbdParams & { source: ModelSource; logLikelihood?: number; converged?: boolean; reason?: string };
  gammaGamma: GammaGammaParams & { source: ModelSource; logLikelihood?: number; converged?: boolean; reason?: string };
  timeUnit: 'weeks';
  /** What the model was fitted on. */
  counts?: { customers: number; repeatCustomers: number; spendCustomers: number };
  /**
   * How well the BG/NBD predicted the last holdout on the store's own history (backtest.ts), when the nightly run
   * had enough history to check it: predicted vs actual purchase days, MAE per customer, correlation.
   */
  backtest?: ValueBacktestSummary;
  /** The asOf (ISO) of the nightly run that fitted it; a later night may carry it (settings `value.refitEveryNights`). */
  fittedAsOf?: string;
}

export interface ValueRow {
  x: number;
  tx: number;
  T: number;
  /** Mean value of the repeat transactions (z̄); absent or 0 when unknown or x = 0. */
  meanSpend?: number;
}

export interface FitValueModelOptions {
  /** Fewer customers than this: BG/NBD prior (default 30). */
  minCustomers?: number;
  /** Fewer repeat buyers (x > 0) than this: BG/NBD prior (default 10). */
  minRepeatCustomers?: number;
  /** Fewer repeat buyers with a positive meanSpend than this: Gamma-Gamma prior (default 20). */
  minSpendCustomers?: number;
  /** Priors used instead of a fit (default: CDNOW published estimates). */
  priors?: { bgnbd?: BgNbdParams; gammaGamma?: GammaGammaParams };
  /** Rescale the Gamma-Gamma prior's v to the store's mean spend when it is known (default true). */
  rescaleSpendPrior?: boolean;
}

/**
 * The value-model inputs made valid for prediction: T ≥ 0 (a non-finite T is 0), 0 ≤ t_x ≤ T, x a non-negative
 * integer (rounded), and a non-negative mean spend (0 when not finite).
 * Clock skew is why this is needed: an order dated up to 24 h ahead of the clock (accepted at the edge) puts the
 * last purchase day after "now", so t_x > T; the customer is then predicted as if that purchase were now.
 */
export function clampValueRow<R extends ValueRow>(row: R): R {
  const T = Number.isFinite(row.T) && row.T > 0 ? row.T : 0;
  const tx = Number.isFinite(row.tx) ? Math.min(Math.max(row.tx, 0), T) : 0;
  const x = Number.isFinite(row.x) && row.x > 0 ? Math.round(row.x) : 0;
  const clamped: R = { ...row, x, tx, T };
  if (row.meanSpend !== undefined) {
    clamped.meanSpend = Number.isFinite(row.meanSpend) && row.meanSpend > 0 ? row.meanSpend : 0;
  }
  return clamped;
}

export const DEFAULT_FIT_THRESHOLDS = Object.freeze({
  minCustomers: 30,
  minRepeatCustomers: 10,
  minSpendCustomers: 20,
});

/** What a value model is fitted on (ValueModel.counts) for these rows: customers, repeat buyers, repeat buyers with a spend. */
export function valueSampleCounts(rows: readonly ValueRow[]): NonNullable<ValueModel['counts']> {
  let repeatCustomers = 0;
  let spendCustomers = 0;
  for (const r of rows) {
    if (r.x > 0) repeatCustomers += 1;
    if (isSpendRow(r)) spendCustomers += 1;
  }
  return { customers: rows.length, repeatCustomers, spendCustomers };
}

export function fitValueModel(rows: readonly ValueRow[], opts: FitValueModelOptions = {}): ValueModel {
  const minCustomers = opts.minCustomers ?? DEFAULT_FIT_THRESHOLDS.minCustomers;
  const minRepeat = opts.minRepeatCustomers ?? DEFAULT_FIT_THRESHOLDS.minRepeatCustomers;
  const minSpend = opts.minSpendCustomers ?? DEFAULT_FIT_THRESHOLDS.minSpendCustomers;
  const bgPrior = opts.priors?.bgnbd ?? CDNOW_BGNBD_PARAMS;
  const ggPrior = opts.priors?.gammaGamma ?? CDNOW_GAMMA_GAMMA_PARAMS;
  assertBgNbdParams(bgPrior);
  assertGammaGammaParams(ggPrior);

  const rfm = compressRfm(rows);
  const spendRows = rows.filter(isSpendRow);
  const counts = valueSampleCounts(rows);
  const priorLabel = opts.priors?.bgnbd ? 'the given prior' : 'the CDNOW prior (Fader, Hardie & Lee 2005)';

  let bgnbd: ValueModel['bgnbd'];
  const bgPriorModel = (reason: string): ValueModel['bgnbd'] => ({
    ...pickBg(bgPrior),
    source: 'prior',
    reason: `${reason}; using ${priorLabel}`,
    ...(rfm.customers > 0 ? { logLikelihood: bgnbdLogLikelihood(bgPrior, rfm) } : {}),
  });
  if (rfm.customers < minCustomers) {
    bgnbd = bgPriorModel(`${rfm.customers} customers < minCustomers ${minCustomers}`);
  } else if (rfm.repeatCustomers < minRepeat) {
    bgnbd = bgPriorModel(`${rfm.repeatCustomers} repeat customers < minRepeatCustomers ${minRepeat}`);
  } else {
    const fit = fitBgNbd(rfm);
    if (!fit.converged || fit.atBoundary || !fit.dropoutIdentified || !Number.isFinite(fit.logLikelihood)) {
      bgnbd = bgPriorModel(
        fit.atBoundary
          ? 'the BG/NBD maximum likelihood is on the boundary (unidentified)'
          : !fit.dropoutIdentified
            ? 'the data do not identify dropout (a store where nobody drops out fits them as well, χ²₁ 95 %)'
            : 'the BG/NBD fit did not converge',
      );
    } else {
      bgnbd = { ...fit.params, source: 'fit', logLikelihood: fit.logLikelihood, converged: true };
    }
  }

  let gammaGamma: ValueModel['gammaGamma'];
  const ggPriorModel = (reason: string): ValueModel['gammaGamma'] => {
    const prior = pickGg(ggPrior);
    let label = opts.priors?.gammaGamma ? 'the given prior' : 'the CDNOW prior (p = 6.25, q = 3.74)';
    if ((opts.rescaleSpendPrior ?? true) && spendRows.length > 0) {
      const mean = spendRows.reduce((s, r) => s + r.meanSpend, 0) / spendRows.length;
      prior.v = (mean * (prior.q - 1)) / prior.p;
      label += ` with v rescaled to the store's mean spend ${roundTo(mean, 4)}`;
    }
    return { ...prior, source: 'prior', reason: `${reason}; using ${label}` };
  };
  if (spendRows.length < minSpend) {
    gammaGamma = ggPriorModel(`${spendRows.length} repeat customers with a spend < minSpendCustomers ${minSpend}`);
  } else {
    const fit = fitGammaGamma(spendRows);
    if (!fit.converged || fit.atBoundary || !(fit.params.q > 1)) {
      gammaGamma = ggPriorModel(
        !(fit.params.q > 1)
          ? 'the Gamma-Gamma fit has q <= 1 (infinite mean spend)'
          : 'the Gamma-Gamma fit did not converge or is on the boundary',
      );
    } else {
      gammaGamma = { ...fit.params, source: 'fit', logLikelihood: fit.logLikelihood, converged: true };
    }
  }
  return { bgnbd, gammaGamma, timeUnit: 'weeks', counts };
}

function pickBg(p: BgNbdParams): BgNbdParams {
  return { r: p.r, alpha: p.alpha, a: p.a, b: p.b };
}
function pickGg(g: GammaGammaParams): GammaGammaParams {
  return { p: g.p, q: g.q, v: g.v };
}
function roundTo(v: number, digits: number): number {
  const f = 10 ** digits;
  return round(v * f) / f;
}

export interface CustomerValueOptions {
  /** CLV horizon in weeks (> 0). */
  horizonWeeks: number;
  /** Discount rate per week (≥ 0), e.g. 0.0018 ≈ 10 % a year. */
  discountRatePerWeek: number;
}

export interface CustomerValue {
  /** P(alive | x, t_x, T). */
  pAlive: number;
  /** E[Y(90/7 weeks) | x, t_x, T]: expected orders in the next 90 days. */
  expectedOrders90d: number;
  /** Gamma-Gamma expected spend per order (population mean when x = 0 or no spend is known). */
  expectedSpend: number;
  /** Discounted expected spend over the horizon (see the module comment). */
  clv: number;
}

export const NINETY_DAYS_IN_WEEKS = 90 / 7;

function assertOptions(o: CustomerValueOptions): void {
  if (!(Number.isFinite(o.horizonWeeks) && o.horizonWeeks >= 0))
    throw new RangeError(`horizonWeeks must be finite and >= 0, got ${o.horizonWeeks}`);
  if (!(Number.isFinite(o.discountRatePerWeek) && o.discountRatePerWeek > -1)) {
    throw new RangeError(`discountRatePerWeek must be finite and > -1, got ${o.discountRatePerWeek}`);
  }
}

/**
 * Σ_k (h(t_k) − h(t_{k−1}))/(1+d)^{t_k}: discounted expected orders over the horizon for a customer
 * who is alive (multiply by P(alive) for the expectation).
 */
export function discountedOrdersIfAlive(p: BgNbdParams, x: number, T: number, o: CustomerValueOptions): number {
  const H = o.horizonWeeks;
  const logV = -log1p(o.discountRatePerWeek);
  let prev = 0;
  let total = 0;
  for (let k = 1; k - 1 < H; k++) {
    const t = min(k, H);
    const h = bgnbdExpectedPurchasesIfAlive(p, t, x, T);
    total += (h - prev) * exp(logV * t);
    prev = h;
  }
  return total;
}

interface AliveTerms {
  orders90: number;
  discounted: number;
}

function aliveTerms(p: BgNbdParams, x: number, T: number, o: CustomerValueOptions): AliveTerms {
  return {
    orders90: bgnbdExpectedPurchasesIfAlive(p, NINETY_DAYS_IN_WEEKS, x, T),
    discounted: discountedOrdersIfAlive(p, x, T, o),
  };
}

function combine(model: ValueModel, c: ValueRow, pAlive: number, terms: AliveTerms): CustomerValue {
  const expectedSpend = gammaGammaExpectedSpend(model.gammaGamma, c.x, c.meanSpend);
  return {
    pAlive,
    expectedOrders90d: pAlive * terms.orders90,
    expectedSpend,
    clv: pAlive === 0 ? 0 : pAlive * terms.discounted * expectedSpend,
  };
}

function assertModel(model: ValueModel): void {
  if (model.timeUnit !== 'weeks') throw new RangeError(`unsupported time unit ${String(model.timeUnit)}`);
  assertBgNbdParams(model.bgnbd);
  assertGammaGammaParams(model.gammaGamma);
}

/** Predictions for one customer (all times in weeks). */
export function customerValue(model: ValueModel, c: ValueRow, opts: CustomerValueOptions): CustomerValue {
  assertModel(model);
  assertOptions(opts);
  assertRfmRow(c.x, c.tx, c.T);
  const pAlive = bgnbdPAlive(model.bgnbd, c.x, c.tx, c.T);
  return combine(model, c, pAlive, aliveTerms(model.bgnbd, c.x, c.T, opts));
}

/**
 * A predictor for many customers with the same model and options. Everything except P(alive) and the
 * spend depends on (x, T) only, so those terms are memoised per distinct (x, T) — customers whose
 * tenure is counted in whole days share them. Results equal `customerValue` exactly.
 */
export function createValuePredictor(
  model: ValueModel,
  opts: CustomerValueOptions,
  cacheLimit = 200_000,
): (c: ValueRow) => CustomerValue {
  assertModel(model);
  assertOptions(opts);
  const p = pickBg(model.bgnbd);
  const cache = new Map<number, Map<number, AliveTerms>>();
  let size = 0;
  return (c) => {
    assertRfmRow(c.x, c.tx, c.T);
    const pAlive = bgnbdPAlive(p, c.x, c.tx, c.T);
    let byT = cache.get(c.x);
    let terms = byT?.get(c.T);
    if (!terms) {
      terms = aliveTerms(p, c.x, c.T, opts);
      if (size >= cacheLimit) {
        cache.clear();
        size = 0;
        byT = undefined;
      }
      if (!byT) cache.set(c.x, (byT = new Map()));
      byT.set(c.T, terms);
      size++;
    }
    return combine(model, c, pAlive, terms);
  };
}
