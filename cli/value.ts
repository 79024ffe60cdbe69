/**
 * `shoal value …`: customer value models on summary files (weeks as the time unit).
 *
 *   shoal value fit --summary FILE [--spend]
 *   shoal value predict --summary FILE --t WEEKS [--horizon WEEKS] [--discount RATE_PER_WEEK]
 *   shoal value summarize --transactions FILE --format cdnow|csv --calibration-end YYYY-MM-DD [--with-spend]
 *
 * Summary files: `ID,frequency,recency,T` or `ID,x,t_x,T,zbar` (see shared/value/summary.ts).
 * `predict` fits on the same file. Without a zbar column it leaves expectedSpend and clv EMPTY rather
 * than inventing a currency scale from another store's prior; with zbar it fits the Gamma-Gamma on
 * the repeat customers (or uses the rescaled prior for a small store, see shared/value/clv.ts).
 * --horizon defaults to --t and --discount to 0.
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import {
  bgnbdConditionalExpectedPurchases,
  discountedOrdersIfAlive,
  bgnbdPAlive,
  fitValueModel,
  formatSummaryCsv,
  gammaGammaExpectedSpend,
  parseCdnowTransactions,
  parseSummaryCsv,
  parseTransactionsCsv,
  summarizeTransactions,
  type CustomerSummary,
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

function readSummary(file: string): CustomerSummary[] {
  const rows = parseSummaryCsv(readFileSync(file, 'utf8'));
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
      .requiredOption('--summary <file>', 'CSV with ID,frequency,recency,T or ID,x,t_x,T,zbar (weeks)')
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
    }
    writeOut(`${JSON.stringify(out, null, 2)}\n`);
  });

  addThresholdOptions(
    value
      .command('predict')
      .description('fit on a summary CSV and print ID,pAlive,expectedPurchases,expectedSpend,clv per customer')
      .requiredOption('--summary <file>', 'CSV with ID,frequency,recency,T or ID,x,t_x,T,zbar (weeks)')
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
    .description('summarise raw transactions into a calibration summary CSV (weeks, 2 decimals)')
    .requiredOption('--transactions <file>', 'transactions file')
    .option(
      '--format <format>',
      'cdnow (CDNOW_sample/master .txt) or csv (header with customer id, date, optional value)',
      'cdnow',
    )
    .requiredOption('--calibration-end <date>', 'last day of the calibration period, YYYY-MM-DD (inclusive)')
    .option('--with-spend', 'print ID,x,t_x,T,zbar instead of ID,frequency,recency,T')
    .action((o: { transactions: string; format: string; calibrationEnd: string; withSpend?: boolean }) => {
      const text = readFileSync(o.transactions, 'utf8');
      let tx;
      if (o.format === 'cdnow') tx = parseCdnowTransactions(text);
      else if (o.format === 'csv') tx = parseTransactionsCsv(text);
      else throw new InvalidArgumentError(`unknown --format '${o.format}' (cdnow or csv)`);
      writeOut(formatSummaryCsv(summarizeTransactions(tx, o.calibrationEnd), o.withSpend ?? false));
    });
}
