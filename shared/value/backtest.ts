/**
 * Calibration/holdout backtest of the BG/NBD: the check of Fader, Hardie & Lee (2005), section 5 and figure 4
 * ("Counting Your Customers" the easy way): fit on the calibration period, predict each customer's repeat purchases
 * in the holdout with the conditional expectation E[Y(t) | x, t_x, T], and compare with what they did.
 *
 * Pure: transactions in, figures out. Time unit: weeks (t = holdout days / 7).
 * - The population is the customers whose first purchase is on or before the calibration end (the calibration
 *   summary, refunds netted as in `summarizeTransactionsWithRefunds`).
 * - Actual holdout purchases are the customer's purchase days (refunds netted, up to the holdout end) after the
 *   calibration end and on or before the holdout end: the same unit as x.
 * - Rows are grouped by calibration frequency x = 0, 1, …, (maxFrequency − 1) and maxFrequency+ ("7+" by default).
 * - Errors per customer: mean absolute error of predicted vs actual, and Pearson's correlation between them.
 */
import { bgnbdConditionalExpectedPurchases } from './bgnbd';
import {
  clampValueRow,
  DEFAULT_FIT_THRESHOLDS,
  fitValueModel,
  type FitValueModelOptions,
  type ValueModel,
} from './clv';
import {
  dayNumber,
  emptyRefundDiagnostics,
  isPurchaseDay,
  netPurchaseDays,
  summarizeTransactionsWithRefunds,
  type RefundDiagnostics,
  type Transaction,
} from './summary';

export interface BacktestOptions {
  /** Last day of the calibration period, YYYY-MM-DD, inclusive. */
  calibrationEnd: string;
  /** Last day of the holdout, YYYY-MM-DD, inclusive. Default: the latest transaction date. */
  holdoutEnd?: string;
  /** The last frequency bin collects x ≥ this (default 7, printed "7+"). */
  maxFrequency?: number;
  fit?: FitValueModelOptions;
}

export interface BacktestBin {
  /** "0", "1", …, "7+". */
  frequency: string;
  customers: number;
  /** Σ E[Y(t) | x, t_x, T] over the bin's customers. */
  predicted: number;
  /** Σ holdout purchase days over the bin's customers. */
  actual: number;
}

export interface BacktestResult {
  calibrationEnd: string;
  holdoutEnd: string;
  /** Holdout length t in weeks. */
  holdoutWeeks: number;
  customers: number;
  model: ValueModel['bgnbd'];
  bins: BacktestBin[];
  totals: { predicted: number; actual: number };
  /** Mean over customers of |predicted − actual| holdout purchases. */
  meanAbsoluteError: number;
  /** Pearson correlation of predicted and actual holdout purchases across customers (NaN if either is constant). */
  correlation: number;
  /** Refunds netted while summarising (calibration) and counting (holdout). */
  refunds: { calibration: RefundDiagnostics; holdout: RefundDiagnostics };
}

function isoDay(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

/**
 * One customer's backtest input: the calibration summary (weeks) and the purchase days they made in the holdout.
 * The nightly run builds these from the customer state (`backtestRowFromPurchaseDays`), the CLI from transactions.
 */
export interface BacktestRow {
  x: number;
  tx: number;
  T: number;
  /** Purchase days in the holdout. */
  actual: number;
}

/** The backtest result without the bookkeeping of where the rows came from. */
export type BacktestCore = Pick<
  BacktestResult,
  'holdoutWeeks' | 'customers' | 'model' | 'bins' | 'totals' | 'meanAbsoluteError' | 'correlation'
>;

/**
 * The backtest on prepared rows: fits the BG/NBD on the rows' calibration summaries (clamped, see clampValueRow),
 * predicts E[Y(t) | x, t_x, T] for t = `holdoutWeeks`, and compares with `actual`. Pure.
 * Errors: RangeError when holdoutWeeks is not positive or maxFrequency is not a positive integer.
 */
export function backtestRows(
  rows: readonly BacktestRow[],
  holdoutWeeks: number,
  opts: Pick<BacktestOptions, 'maxFrequency' | 'fit'> = {},
): BacktestCore {
  if (!(Number.isFinite(holdoutWeeks) && holdoutWeeks > 0)) {
    throw new RangeError(`holdoutWeeks must be positive, got ${holdoutWeeks}`);
  }
  const maxFrequency = opts.maxFrequency ?? 7;
  if (!Number.isInteger(maxFrequency) || maxFrequency < 1) {
    throw new RangeError(`maxFrequency must be an integer >= 1, got ${maxFrequency}`);
  }
  const calibration = rows.map((r) => clampValueRow({ x: r.x, tx: r.tx, T: r.T }));
  const model = fitValueModel(calibration, opts.fit).bgnbd;

  const bins: BacktestBin[] = Array.from({ length: maxFrequency + 1 }, (_, i) => ({
    frequency: i === maxFrequency ? `${i}+` : String(i),
    customers: 0,
    predicted: 0,
    actual: 0,
  }));
  const predicted: number[] = [];
  const actual: number[] = [];
  const memo = new Map<string, number>();
  calibration.forEach((c, i) => {
    const key = `${c.x}|${c.tx}|${c.T}`;
    let p = memo.get(key);
    if (p === undefined) memo.set(key, (p = bgnbdConditionalExpectedPurchases(model, holdoutWeeks, c.x, c.tx, c.T)));
    const a = rows[i]!.actual;
    const bin = bins[Math.min(c.x, maxFrequency)]!;
    bin.customers++;
    bin.predicted += p;
    bin.actual += a;
    predicted.push(p);
    actual.push(a);
  });

  const n = predicted.length;
  let absError = 0;
  for (let i = 0; i < n; i++) absError += Math.abs(predicted[i]! - actual[i]!);
  return {
    holdoutWeeks,
    customers: n,
    model,
    bins,
    totals: {
      predicted: bins.reduce((s, b) => s + b.predicted, 0),
      actual: bins.reduce((s, b) => s + b.actual, 0),
    },
    meanAbsoluteError: n > 0 ? absError / n : NaN,
    correlation: pearson(predicted, actual),
  };
}

/**
 * A customer's backtest row from their purchase days (day numbers, refunds already netted, in any order), or null
 * when their first purchase is after the calibration end (they are not in the calibration population). Days after
 * the holdout end are ignored. Conventions of summarizeTransactions: x = calibration purchase days − 1, weeks = days/7.
 */
export function backtestRowFromPurchaseDays(
  days: readonly number[],
  calibrationEndDay: number,
  holdoutEndDay: number,
): BacktestRow | null {
  let first = Infinity;
  let last = -Infinity;
  let calibrationDays = 0;
  let actual = 0;
  for (const day of new Set(days)) {
    if (day <= calibrationEndDay) {
      calibrationDays++;
      if (day < first) first = day;
      if (day > last) last = day;
    } else if (day <= holdoutEndDay) {
      actual++;
    }
  }
  if (calibrationDays === 0) return null;
  return { x: calibrationDays - 1, tx: (last - first) / 7, T: (calibrationEndDay - first) / 7, actual };
}

/** The nightly backtest's holdout: the last quarter (13 weeks). */
export const BACKTEST_HOLDOUT_WEEKS = 13;

/** The minimum history for a nightly backtest (see nightlyBacktestWindow). */
export interface BacktestReadiness {
  /** Holdout length in weeks (default 13, a quarter). */
  holdoutWeeks?: number;
  /** The calibration period must be at least this many times the holdout (default 2). */
  minCalibrationRatio?: number;
  /** Customers needed in the calibration population (default: the value fit's minCustomers, 30). */
  minCustomers?: number;
}

/**
 * The calibration and holdout ends (day numbers) for a backtest as of `asOfDay`, or the reason there is not enough
 * history yet: the holdout is the last `holdoutWeeks`, and the calibration before it must span at least
 * `minCalibrationRatio` holdouts since the store's first purchase day, with `minCustomers` customers in it.
 */
export function nightlyBacktestWindow(
  firstPurchaseDay: number | null,
  calibrationCustomers: number,
  asOfDay: number,
  readiness: BacktestReadiness = {},
): { calibrationEndDay: number; holdoutEndDay: number; holdoutWeeks: number } | { skipped: string } {
  const holdoutWeeks = readiness.holdoutWeeks ?? 13;
  const ratio = readiness.minCalibrationRatio ?? 2;
  const minCustomers = readiness.minCustomers ?? DEFAULT_FIT_THRESHOLDS.minCustomers;
  const holdoutEndDay = Math.floor(asOfDay);
  const calibrationEndDay = holdoutEndDay - Math.round(holdoutWeeks * 7);
  if (firstPurchaseDay === null) return { skipped: 'no purchases yet' };
  const calibrationDays = calibrationEndDay - firstPurchaseDay;
  if (calibrationDays < ratio * holdoutWeeks * 7) {
    return {
      skipped: `${Math.max(0, calibrationDays)} days of history before the holdout < ${ratio} × ${holdoutWeeks} weeks`,
    };
  }
  if (calibrationCustomers < minCustomers) {
    return { skipped: `${calibrationCustomers} customers in the calibration period < ${minCustomers}` };
  }
  return { calibrationEndDay, holdoutEndDay, holdoutWeeks };
}

/** What a published model carries of its backtest: the totals and errors (no per-customer data). */
export interface ValueBacktestSummary {
  holdoutWeeks: number;
  customers: number;
  predicted: number;
  actual: number;
  meanAbsoluteError: number;
  correlation: number | null;
  bins: BacktestBin[];
}

export function summarizeBacktest(core: BacktestCore): ValueBacktestSummary {
  return {
    holdoutWeeks: core.holdoutWeeks,
    customers: core.customers,
    predicted: core.totals.predicted,
    actual: core.totals.actual,
    meanAbsoluteError: core.meanAbsoluteError,
    correlation: Number.isFinite(core.correlation) ? core.correlation : null,
    bins: core.bins.map((b) => ({ ...b })),
  };
}

/**
 * The backtest on raw transactions (refunds netted as in summarizeTransactionsWithRefunds).
 * Errors: RangeError when the holdout does not end after the calibration, or on malformed dates or values.
 */
export function backtestValueModel(transactions: readonly Transaction[], opts: BacktestOptions): BacktestResult {
  const calEnd = dayNumber(opts.calibrationEnd);
  let holdEnd: number;
  if (opts.holdoutEnd !== undefined) holdEnd = dayNumber(opts.holdoutEnd);
  else {
    holdEnd = -Infinity;
    for (const t of transactions) holdEnd = Math.max(holdEnd, dayNumber(t.date));
  }
  if (!(holdEnd > calEnd)) {
    throw new RangeError(`the holdout must end after the calibration end ${opts.calibrationEnd}`);
  }

  // The calibration population and summaries as known at the calibration end (refunds up to then).
  const calibration = summarizeTransactionsWithRefunds(transactions, opts.calibrationEnd);
  // Holdout purchase days as known at the holdout end.
  const holdoutRefunds = emptyRefundDiagnostics();
  const { purchases, nettedDays } = netPurchaseDays(transactions, holdEnd, holdoutRefunds);
  const rows: BacktestRow[] = calibration.rows.map((c) => {
    const days = purchases.get(c.customerId);
    const netted = nettedDays.get(c.customerId);
    let actual = 0;
    if (days) for (const day of days.keys()) if (day > calEnd && isPurchaseDay(days, netted, day)) actual++;
    return { x: c.x, tx: c.tx, T: c.T, actual };
  });
  const core = backtestRows(rows, (holdEnd - calEnd) / 7, opts);
  return {
    calibrationEnd: opts.calibrationEnd,
    holdoutEnd: isoDay(holdEnd),
    ...core,
    refunds: { calibration: calibration.refunds, holdout: holdoutRefunds },
  };
}

/** Pearson's r; NaN when fewer than two values or either series is constant. */
export function pearson(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  if (n < 2) return NaN;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}
