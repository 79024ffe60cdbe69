/**
 * `shoal value …`: customer value models on summary files (weeks as the time unit).
 *
 *   shoal value fit --summary FILE [--spend]
 *   shoal value predict --summary FILE --t WEEKS [--horizon WEEKS] [--discount RATE_PER_WEEK]
 *   shoal value summarize --transactions FILE --format cdnow|csv --calibration-end YYYY-MM-DD [--with-spend]
 *   shoal value evaluate --transactions FILE [--format cdnow|csv] --calibration-end DATE [--holdout-end DATE] [--json]
 *
 * Files may be gzip-compressed (`.gz`, or detected by their magic bytes).
 * Summary files: `ID,frequency,recency,T` or `ID,x,t_x,T,zbar` (see shared/value/summary.ts).
 * `predict` fits on the same file. Without a zbar column it leaves expectedSpend and clv EMPTY rather
 * than inventing a currency scale from another store's prior; with zbar it fits the Gamma-Gamma on
 * the repeat customers (or uses the rescaled prior for a small store, see shared/value/clv.ts).
 * --horizon defaults to --t and --discount to 0.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { InvalidArgumentError, type Command } from 'commander';
import {
  bgnbdConditionalExpectedPurchases,
  discountedOrdersIfAlive,
  bgnbdPAlive,
  backtestValueModel,
  fitValueModel,
  formatFixed,
  formatSummaryCsv,
  gammaGammaExpectedSpend,
  parseCdnowTransactions,
  parseSummaryCsv,
  parseTransactionsCsv,
  summarizeTransactionsWithRefunds,
  SUMMARY_COLUMNS_HELP,
  TRANSACTION_COLUMNS,
  type BacktestResult,
  type CustomerSummary,
  type RefundDiagnostics,
  type Transaction,
  type FitValueModelOptions,
  type ValueModel,
} from '../shared/value';

function nonNegative(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0)
      throw new InvalidArgumentError(`${name} must be a number >= 0`);
    return n;
  };
}

/** Reads a text file, gunzipping it when it is gzip (by its magic bytes 1f 8b, whatever its name). */
export function readText(file: string): string {
  const bytes = readFileSync(file);
  const gzip = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  return (gzip ? gunzipSync(bytes) : bytes).toString('utf8');
}

function readSummary(file: string): CustomerSummary[] {
  const rows = parseSummaryCsv(readText(file), file);
  if (rows.length === 0) throw new Error(`${file}: no customers`);
  return rows;
}

interface ThresholdFlags {
  minCustomers?: number;
  minRepeat?: number;
  minSpend?: number;
}

function fitOptions(o: ThresholdFlags): FitValueModelOptions {
  return { minCustomers: o.minCustomers, minRepeatCustomers: o.minRepeat, minSpendCustomers: o.minSpend };
}

function describe(part: ValueModel['bgnbd'] | ValueModel['gammaGamma']): Record<string, unknown> {
  return { source: part.source, ...(part.reason ? { reason: part.reason } : {}) };
}

function addThresholdOptions(cmd: Command): Command {
  return cmd
    .option('--min-customers <n>', 'fewer customers: use the BG/NBD prior', nonNegative('--min-customers'))
    .option('--min-repeat <n>', 'fewer repeat customers: use the BG/NBD prior', nonNegative('--min-repeat'))
    .option(
      '--min-spend <n>',
      'fewer repeat customers with zbar: use the Gamma-Gamma prior',
      nonNegative('--min-spend'),
    );
}

/** Writes to stdout; a closed pipe (e.g. `| head`) ends the command quietly instead of crashing. */
let epipeHandled = false;
function writeOut(text: string): void {
  if (!epipeHandled) {
    epipeHandled = true;
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      throw err;
    });
  }
  process.stdout.write(text);
}

/**
 * Rows the Gamma-Gamma leaves out, by reason: it models the mean spend of repeat purchases, so one-time buyers have
 * nothing to model, and a mean spend ≤ 0 is outside its support (gamma-distributed spend).
 */
export function spendFitDrops(rows: readonly CustomerSummary[]): {
  rows: number;
  oneTimeBuyers: number;
  nonPositiveSpend: number;
} {
  let oneTimeBuyers = 0;
  let nonPositiveSpend = 0;
  for (const r of rows) {
    if (r.x === 0) oneTimeBuyers++;
    else if (!(Number.isFinite(r.meanSpend) && (r.meanSpend as number) > 0)) nonPositiveSpend++;
  }
  return { rows: oneTimeBuyers + nonPositiveSpend, oneTimeBuyers, nonPositiveSpend };
}

function readTransactions(file: string, format: string): Transaction[] {
  const text = readText(file);
  if (format === 'cdnow') return parseCdnowTransactions(text);
  if (format === 'csv') return parseTransactionsCsv(text, file);
  throw new InvalidArgumentError(`unknown --format '${format}' (cdnow or csv)`);
}

function describeRefunds(r: RefundDiagnostics): string {
  return (
    `${r.refundRows} refund row(s): ${formatFixed(r.matchedValue)} netted against purchase days, ` +
    `${formatFixed(r.unmatchedValue)} in ${r.unmatchedRows} row(s) with no earlier purchase ignored; ` +
    `${r.cancelledDays} purchase day(s) cancelled; ${r.fullyRefundedCustomers} customer(s) fully refunded (x = 0)`
  );
}

const TRANSACTIONS_FORMAT_HELP =
  `cdnow (CDNOW_sample/master .txt) or csv (RFC 4180 with a header: customer column ` +
  `${TRANSACTION_COLUMNS.customer.join('|')}, date column ${TRANSACTION_COLUMNS.date.join('|')} (YYYY-MM-DD[ time]), ` +
  `optional value column ${TRANSACTION_COLUMNS.value.join('|')}, negative for a refund)`;

/** The evaluate table: frequency bins, totals, MAE and correlation (2 decimals, counts as integers). */
export function formatBacktest(r: BacktestResult): string {
  const pad = (s: string, w: number): string => s.padStart(w);
  const lines = [
    `BG/NBD (${r.model.source}) r=${r.model.r.toFixed(4)} alpha=${r.model.alpha.toFixed(4)} ` +
      `a=${r.model.a.toFixed(4)} b=${r.model.b.toFixed(4)}; calibration to ${r.calibrationEnd}, ` +
      `holdout to ${r.holdoutEnd} (${formatFixed(r.holdoutWeeks)} weeks); ${r.customers} customers`,
    '',
    `${pad('frequency', 9)}  ${pad('customers', 9)}  ${pad('predicted', 10)}  ${pad('actual', 8)}`,
    ...r.bins.map(
      (b) =>
        `${pad(b.frequency, 9)}  ${pad(String(b.customers), 9)}  ${pad(formatFixed(b.predicted), 10)}  ${pad(String(b.actual), 8)}`,
    ),
    `${pad('total', 9)}  ${pad(String(r.customers), 9)}  ${pad(formatFixed(r.totals.predicted), 10)}  ${pad(String(r.totals.actual), 8)}`,
    '',
    `mean absolute error per customer: ${r.meanAbsoluteError.toFixed(4)}`,
    `correlation (predicted vs actual, per customer): ${Number.isFinite(r.correlation) ? r.correlation.toFixed(4) : 'undefined'}`,
  ];
  return `${lines.join('\n')}\n`;
}

const fmt6 = (v: number): string => (Number.isFinite(v) ? v.toFixed(6) : '');
const fmt4 = (v: number): string => (Number.isFinite(v) ? v.toFixed(4) : '');

export function registerValueCommands(program: Command): void {
  const value = program
    .command('value')
    .description('customer value models: BG/NBD, Gamma-Gamma, CLV (time unit: weeks)');

  addThresholdOptions(
    value
      .command('fit')
      .description('fit the BG/NBD (and with --spend the Gamma-Gamma) model on a summary CSV; prints JSON')
      .requiredOption('--summary <file>', `summary CSV (.gz accepted) with columns ${SUMMARY_COLUMNS_HELP}`)
      .option('--spend', 'also fit the Gamma-Gamma spend model on repeat customers (needs a zbar column)'),
  ).action((o: { summary: string; spend?: boolean } & ThresholdFlags) => {
    const rows = readSummary(o.summary);
    if (o.spend && rows[0]?.meanSpend === undefined) throw new Error(`--spend needs a zbar column in ${o.summary}`);
    const model = fitValueModel(o.spend ? rows : rows.map(({ x, tx, T }) => ({ x, tx, T })), fitOptions(o));
    const { r, alpha, a, b } = model.bgnbd;
    const out: Record<string, unknown> = {
      bgnbd: { r, alpha, a, b, ...describe(model.bgnbd) },
      logLikelihood: model.bgnbd.logLikelihood ?? null,
      converged: model.bgnbd.converged ?? false,
      customers: rows.length,
      repeatCustomers: model.counts?.repeatCustomers,
    };
    if (o.spend) {
      const { p, q, v } = model.gammaGamma;
      out.gammaGamma = { p, q, v, ...describe(model.gammaGamma) };
      out.gammaGammaLogLikelihood = model.gammaGamma.logLikelihood ?? null;
      out.spendCustomers = model.counts?.spendCustomers;
      const dropped = spendFitDrops(rows);
      out.droppedFromSpendFit = dropped;
      process.stderr.write(
        `Gamma-Gamma: fitted on ${rows.length - dropped.rows} of ${rows.length} rows; dropped ${dropped.rows}: ` +
          `${dropped.oneTimeBuyers} one-time buyer(s) (x = 0, no repeat spend), ` +
          `${dropped.nonPositiveSpend} repeat buyer(s) with zbar <= 0 (refunded or free orders)\n`,
      );
    }
    writeOut(`${JSON.stringify(out, null, 2)}\n`);
  });

  addThresholdOptions(
    value
      .command('predict')
      .description('fit on a summary CSV and print ID,pAlive,expectedPurchases,expectedSpend,clv per customer')
      .requiredOption('--summary <file>', `summary CSV (.gz accepted) with columns ${SUMMARY_COLUMNS_HELP}`)
      .requiredOption('--t <weeks>', 'horizon of expectedPurchases = E[Y(t) | x, t_x, T], in weeks', nonNegative('--t'))
      .option('--horizon <weeks>', 'CLV horizon in weeks (default: --t)', nonNegative('--horizon'))
      .option('--discount <rate>', 'discount rate per week for the CLV (default 0)', nonNegative('--discount'), 0),
  ).action((o: { summary: string; t: number; horizon?: number; discount: number } & ThresholdFlags) => {
    const rows = readSummary(o.summary);
    const hasSpend = rows[0]?.meanSpend !== undefined;
    const model = fitValueModel(rows, fitOptions(o));
    const p = model.bgnbd;
    const clvOpts = { horizonWeeks: o.horizon ?? o.t, discountRatePerWeek: o.discount };
    process.stderr.write(
      `BG/NBD (${p.source}) r=${p.r.toFixed(4)} alpha=${p.alpha.toFixed(4)} a=${p.a.toFixed(4)} b=${p.b.toFixed(4)}` +
        (hasSpend
          ? `; Gamma-Gamma (${model.gammaGamma.source}) p=${model.gammaGamma.p.toFixed(4)} q=${model.gammaGamma.q.toFixed(4)} v=${model.gammaGamma.v.toFixed(4)}`
          : '; no zbar column: expectedSpend and clv left empty') +
        `; ${rows.length} customers\n`,
    );
    const memo = new Map<string, number>();
    const lines = ['ID,pAlive,expectedPurchases,expectedSpend,clv'];
    for (const c of rows) {
      const pAlive = bgnbdPAlive(p, c.x, c.tx, c.T);
      const expected = bgnbdConditionalExpectedPurchases(p, o.t, c.x, c.tx, c.T);
      let spend = '';
      let clv = '';
      if (hasSpend) {
        const key = `${c.x}|${c.T}`;
        let disc = memo.get(key);
        if (disc === undefined) memo.set(key, (disc = discountedOrdersIfAlive(p, c.x, c.T, clvOpts)));
        const s = gammaGammaExpectedSpend(model.gammaGamma, c.x, c.meanSpend);
        spend = fmt4(s);
        clv = fmt4(pAlive * disc * s);
      }
      lines.push(`${c.customerId},${fmt6(pAlive)},${fmt6(expected)},${spend},${clv}`);
    }
    writeOut(`${lines.join('\n')}\n`);
  });

  value
    .command('summarize')
    .description(
      'summarise raw transactions into a calibration summary CSV (weeks, 2 decimals); refunds (negative values) ' +
        'net the purchase days they follow, and a day netted to <= 0 is no purchase day',
    )
    .requiredOption('--transactions <file>', 'transactions file (.gz accepted)')
    .option('--format <format>', TRANSACTIONS_FORMAT_HELP, 'cdnow')
    .requiredOption('--calibration-end <date>', 'last day of the calibration period, YYYY-MM-DD (inclusive)')
    .option('--with-spend', 'print ID,x,t_x,T,zbar instead of ID,frequency,recency,T')
    .action((o: { transactions: string; format: string; calibrationEnd: string; withSpend?: boolean }) => {
      const tx = readTransactions(o.transactions, o.format);
      const { rows, refunds } = summarizeTransactionsWithRefunds(tx, o.calibrationEnd);
      if (refunds.refundRows > 0) process.stderr.write(`${describeRefunds(refunds)}\n`);
      writeOut(formatSummaryCsv(rows, o.withSpend ?? false));
    });

  addThresholdOptions(
    value
      .command('evaluate')
      .description(
        'backtest the BG/NBD: fit on the calibration period, then compare predicted and actual repeat purchase ' +
          'days in the holdout, per calibration frequency 0..6 and 7+, with totals, MAE per customer and correlation',
      )
      .requiredOption('--transactions <file>', 'transactions file (.gz accepted)')
      .option('--format <format>', TRANSACTIONS_FORMAT_HELP, 'cdnow')
      .requiredOption('--calibration-end <date>', 'last day of the calibration period, YYYY-MM-DD (inclusive)')
      .option('--holdout-end <date>', 'last day of the holdout, YYYY-MM-DD (default: the last transaction date)')
      .option('--json', 'print the result as JSON instead of a table'),
  ).action(
    (
      o: {
        transactions: string;
        format: string;
        calibrationEnd: string;
        holdoutEnd?: string;
        json?: boolean;
      } & ThresholdFlags,
    ) => {
      const tx = readTransactions(o.transactions, o.format);
      const result = backtestValueModel(tx, {
        calibrationEnd: o.calibrationEnd,
        ...(o.holdoutEnd !== undefined && { holdoutEnd: o.holdoutEnd }),
        fit: fitOptions(o),
      });
      if (result.refunds.calibration.refundRows > 0) {
        process.stderr.write(`calibration: ${describeRefunds(result.refunds.calibration)}\n`);
      }
      writeOut(o.json ? `${JSON.stringify(result, null, 2)}\n` : formatBacktest(result));
    },
  );
}
