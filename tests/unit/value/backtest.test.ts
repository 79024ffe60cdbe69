import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  backtestRowFromPurchaseDays,
  backtestRows,
  backtestValueModel,
  nightlyBacktestWindow,
  parseCdnowTransactions,
  pearson,
  summarizeBacktest,
  type Transaction,
} from '../../../shared/value';

const DATA_DIR = process.env.SHOAL_DATA_DIR ?? path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'data');
const SAMPLE = path.join(DATA_DIR, 'CDNOW_sample.txt');
const MASTER = path.join(DATA_DIR, 'CDNOW_master.txt');
const haveData = existsSync(SAMPLE) && existsSync(MASTER);
if (!haveData && process.env.CI !== 'true') {
  console.warn(`[backtest tests] CDNOW files not found under ${DATA_DIR}: SKIPPING the CDNOW backtest pins`);
}
// Under CI a missing data set fails the suite instead of skipping it.
const cdnowDescribe = haveData || process.env.CI === 'true' ? describe : describe.skip;

cdnowDescribe('value evaluate on CDNOW: calibration weeks 1–39, holdout weeks 40–78 (issue #9 E15)', () => {
  const opts = { calibrationEnd: '1997-09-30', holdoutEnd: '1998-06-30' };

  test('E15: the 2,357-customer sample predicts 1,653.4 repeat purchase days against 1,882 actual', () => {
    const r = backtestValueModel(parseCdnowTransactions(readFileSync(SAMPLE, 'utf8')), opts);
    expect(r.holdoutWeeks).toBe(39);
    expect(r.customers).toBe(2357);
    // The fit reproduces FHL (2005)'s published parameters, so the prediction is theirs.
    expect(r.model.r).toBeCloseTo(0.2426, 3);
    expect(r.totals.predicted).toBeCloseTo(1653.41, 1);
    expect(r.totals.actual).toBe(1882);
    expect(r.bins.map((b) => b.customers)).toEqual([1411, 439, 214, 100, 62, 38, 29, 64]);
    expect(r.bins.map((b) => b.actual)).toEqual([334, 306, 298, 156, 157, 112, 112, 407]);
    expect(r.bins.map((b) => Math.round(b.predicted))).toEqual([318, 230, 223, 152, 134, 101, 102, 394]);
    expect(r.meanAbsoluteError).toBeCloseTo(0.7855, 3);
    expect(r.correlation).toBeCloseTo(0.6256, 3);
  });

  test('E15: the full 23,570-customer master file predicts 16,873.7 against 19,684 actual', () => {
    const r = backtestValueModel(parseCdnowTransactions(readFileSync(MASTER, 'utf8')), opts);
    expect(r.customers).toBe(23_570);
    expect(r.totals.predicted).toBeCloseTo(16_873.7, 0);
    expect(r.totals.actual).toBe(19_684);
    expect(r.meanAbsoluteError).toBeCloseTo(0.8187, 3);
    expect(r.correlation).toBeCloseTo(0.6688, 3);
  });
});

describe('backtest rules', () => {
  const t = (customerId: string, date: string, value: number): Transaction => ({ customerId, date, value });
  const tx: Transaction[] = [];
  // 40 customers so the BG/NBD is fitted, with a simple repeating pattern.
  for (let c = 0; c < 40; c++) {
    tx.push(t(`c${c}`, '2025-01-01', 10));
    if (c % 2 === 0) tx.push(t(`c${c}`, '2025-01-15', 10));
    if (c % 4 === 0) tx.push(t(`c${c}`, '2025-02-20', 10), t(`c${c}`, '2025-03-05', 10));
  }
  // A holdout purchase that is refunded is no holdout purchase.
  tx.push(t('c1', '2025-02-20', 10), t('c1', '2025-02-21', -10));
  // A customer who first buys in the holdout is not in the population.
  tx.push(t('late', '2025-02-20', 10));

  test('holdout actuals count net purchase days; newcomers in the holdout are left out', () => {
    const r = backtestValueModel(tx, {
      calibrationEnd: '2025-01-31',
      holdoutEnd: '2025-03-31',
      fit: { minCustomers: 1, minRepeatCustomers: 1 },
    });
    expect(r.customers).toBe(40);
    expect(r.totals.actual).toBe(20);
    expect(r.bins[0]).toMatchObject({ frequency: '0', customers: 20, actual: 0 });
    expect(r.bins[1]).toMatchObject({ frequency: '1', customers: 20, actual: 20 });
    expect(r.holdoutWeeks).toBeCloseTo(59 / 7, 10);
    expect(r.refunds.holdout.cancelledDays).toBe(1);
  });

  test('the holdout defaults to the last transaction date and must end after the calibration', () => {
    expect(backtestValueModel(tx, { calibrationEnd: '2025-01-31' }).holdoutEnd).toBe('2025-03-05');
    expect(() => backtestValueModel(tx, { calibrationEnd: '2025-01-31', holdoutEnd: '2025-01-31' })).toThrow(
      RangeError,
    );
  });

  test.each([
    { name: 'perfect positive', a: [1, 2, 3], b: [2, 4, 6], expected: 1 },
    { name: 'perfect negative', a: [1, 2, 3], b: [3, 2, 1], expected: -1 },
    { name: 'constant series is undefined', a: [1, 1, 1], b: [1, 2, 3], expected: NaN },
  ])('pearson: $name', ({ a, b, expected }) => {
    if (Number.isNaN(expected)) expect(pearson(a, b)).toBeNaN();
    else expect(pearson(a, b)).toBeCloseTo(expected, 12);
  });
});

describe('the nightly backtest on purchase days (issue #9 E16)', () => {
  const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;

  test.each([
    {
      name: 'two calibration days and one holdout day',
      days: ['2025-01-01', '2025-01-15', '2025-03-01'],
      expected: { x: 1, tx: 2, T: 4, actual: 1 },
    },
    { name: 'first purchase in the holdout: not in the population', days: ['2025-02-10'], expected: null },
    {
      name: 'repeated days count once; days after the holdout are ignored',
      days: ['2025-01-01', '2025-01-01', '2025-02-05', '2025-02-05', '2025-06-01'],
      expected: { x: 0, tx: 0, T: 4, actual: 1 },
    },
  ])('backtestRowFromPurchaseDays: $name', ({ days, expected }) => {
    expect(backtestRowFromPurchaseDays(days.map(day), day('2025-01-29'), day('2025-03-31'))).toEqual(expected);
  });

  test.each([
    { name: 'no purchase yet', first: null, customers: 0, expected: { skipped: 'no purchases yet' } },
    {
      name: 'a store 30 weeks old cannot back-test a 13-week holdout against 26 weeks of calibration',
      first: 1000,
      customers: 500,
      expected: { skipped: '119 days of history before the holdout < 2 × 13 weeks' },
    },
    {
      name: 'too few customers',
      first: 800,
      customers: 10,
      expected: { skipped: '10 customers in the calibration period < 30' },
    },
    {
      name: 'enough history',
      first: 800,
      customers: 500,
      expected: { calibrationEndDay: 1119, holdoutEndDay: 1210, holdoutWeeks: 13 },
    },
  ])('nightlyBacktestWindow: $name', ({ first, customers, expected }) => {
    expect(nightlyBacktestWindow(first, customers, 1210.4)).toEqual(expected);
  });

  cdnowDescribe('on CDNOW', () => {
    test('rows built from purchase days give the CLI’s figures, and the summary the model carries', () => {
      const tx = parseCdnowTransactions(readFileSync(SAMPLE, 'utf8'));
      const byCustomer = new Map<string, number[]>();
      for (const t of tx) {
        const list = byCustomer.get(t.customerId) ?? [];
        list.push(day(t.date));
        byCustomer.set(t.customerId, list);
      }
      const rows = [...byCustomer.values()].flatMap(
        (days) => backtestRowFromPurchaseDays(days, day('1997-09-30'), day('1998-06-30')) ?? [],
      );
      const summary = summarizeBacktest(backtestRows(rows, 39));
      expect(summary).toMatchObject({ holdoutWeeks: 39, customers: 2357, actual: 1882 });
      expect(summary.predicted).toBeCloseTo(1653.41, 1);
      expect(summary.meanAbsoluteError).toBeCloseTo(0.7855, 3);
      expect(summary.correlation).toBeCloseTo(0.6256, 3);
      expect(summary.bins.map((b) => b.frequency)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7+']);
    });
  });
});
