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
import { fitValueModel, type FitValueModelOptions, type ValueModel } from './clv';
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

/** Errors: RangeError when the holdout does not end after the calibration, or on malformed dates or values. */
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
  const maxFrequency = opts.maxFrequency ?? 7;
  if (!Number.isInteger(maxFrequency) || maxFrequency < 1) {
    throw new RangeError(`maxFrequency must be an integer >= 1, got ${maxFrequency}`);
  }
  const t = (holdEnd - calEnd) / 7;

  const calibration = summarizeTransactionsWithRefunds(transactions, opts.calibrationEnd);
  const model = fitValueModel(
    calibration.rows.map(({ x, tx, T }) => ({ x, tx, T })),
    opts.fit,
  ).bgnbd;

  const holdoutRefunds = emptyRefundDiagnostics();
  const { purchases, nettedDays } = netPurchaseDays(transactions, holdEnd, holdoutRefunds);

  const bins: BacktestBin[] = Array.from({ length: maxFrequency + 1 }, (_, i) => ({
    frequency: i === maxFrequency ? `${i}+` : String(i),
    customers: 0,
    predicted: 0,
    actual: 0,
  }));
  const predicted: number[] = [];
  const actual: number[] = [];
  const memo = new Map<string, number>();
  for (const c of calibration.rows) {
    const key = `${c.x}|${c.tx}|${c.T}`;
    let p = memo.get(key);
    if (p === undefined) memo.set(key, (p = bgnbdConditionalExpectedPurchases(model, t, c.x, c.tx, c.T)));
    const days = purchases.get(c.customerId);
    const netted = nettedDays.get(c.customerId);
    let a = 0;
    if (days) for (const day of days.keys()) if (day > calEnd && isPurchaseDay(days, netted, day)) a++;
    const bin = bins[Math.min(c.x, maxFrequency)]!;
    bin.customers++;
    bin.predicted += p;
    bin.actual += a;
    predicted.push(p);
    actual.push(a);
  }

  const n = predicted.length;
  let absError = 0;
  for (let i = 0; i < n; i++) absError += Math.abs(predicted[i]! - actual[i]!);
  return {
    calibrationEnd: opts.calibrationEnd,
    holdoutEnd: isoDay(holdEnd),
    holdoutWeeks: t,
    customers: n,
    model,
    bins,
    totals: {
      predicted: bins.reduce((s, b) => s + b.predicted, 0),
      actual: bins.reduce((s, b) => s + b.actual, 0),
    },
    meanAbsoluteError: n > 0 ? absError / n : NaN,
    correlation: pearson(predicted, actual),
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
