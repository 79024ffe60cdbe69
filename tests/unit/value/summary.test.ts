import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  compareIds,
  dayNumber,
  formatFixed,
  formatSummaryCsv,
  parseCdnowTransactions,
  parseSummaryCsv,
  parseTransactionsCsv,
  summarizeTransactions,
} from '../../../shared/value';

const DATA_DIR = process.env.SHOAL_DATA_DIR ?? path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'data');
const SAMPLE = path.join(DATA_DIR, 'CDNOW_sample.txt');
const SUMMARY = path.join(DATA_DIR, 'cdnow_customers_summary.csv');
const WITH_SPEND = path.join(DATA_DIR, 'cdnow_customers_summary_with_transactions.csv');
const MASTER = path.join(DATA_DIR, 'CDNOW_master.txt');
const haveCdnow = [SAMPLE, SUMMARY, WITH_SPEND].every(existsSync);
if (!haveCdnow)
  console.warn(`[value tests] CDNOW files not found under ${DATA_DIR}: SKIPPING the summary reproduction checks`);

(haveCdnow ? describe : describe.skip)('summarize on CDNOW_sample.txt', () => {
  // Read in beforeAll: a skipped describe still runs its body to collect tests.
  let summaries: ReturnType<typeof summarizeTransactions> = [];
  beforeAll(() => {
    summaries = summarizeTransactions(parseCdnowTransactions(readFileSync(SAMPLE, 'utf8')), '1997-09-30');
  });

  test('reproduces cdnow_customers_summary.csv to 2 decimals, every row', () => {
    const expected = parseSummaryCsv(readFileSync(SUMMARY, 'utf8'));
    const ours = parseSummaryCsv(formatSummaryCsv(summaries));
    expect(ours).toHaveLength(2357);
    expect(ours).toEqual(expected);
  });

  test('reproduces cdnow_customers_summary_with_transactions.csv (with zbar) byte for byte, modulo line endings', () => {
    const expected = readFileSync(WITH_SPEND, 'utf8').replace(/\r\n/g, '\n').trimEnd();
    expect(formatSummaryCsv(summaries, true).trimEnd()).toBe(expected);
  });
});

(existsSync(MASTER) ? test : test.skip)('CDNOW_master.txt parses to 23,570 customers', () => {
  const tx = parseCdnowTransactions(readFileSync(MASTER, 'utf8'));
  expect(tx).toHaveLength(69_659);
  expect(summarizeTransactions(tx, '1997-09-30')).toHaveLength(23_570);
});

describe('summarizeTransactions conventions', () => {
  const tx = [
    { customerId: 'b', date: '2024-01-01', value: 10 },
    { customerId: 'b', date: '2024-01-01', value: 5 }, // same day: merged
    { customerId: 'b', date: '2024-01-08', value: 20 },
    { customerId: 'b', date: '2024-01-22', value: 40 },
    { customerId: 'b', date: '2024-03-01', value: 99 }, // after calibration: ignored
    { customerId: 'a', date: '2024-01-15', value: 7 },
    { customerId: 'c', date: '2024-02-15', value: 7 }, // first purchase after calibration: left out
    { customerId: '10', date: '2024-01-29', value: 1 },
    { customerId: '9', date: '2024-01-29', value: 1 },
  ];
  const out = summarizeTransactions(tx, '2024-01-29');

  test('frequency, recency, T in weeks and zbar over repeat transactions', () => {
    expect(out.map((r) => r.customerId)).toEqual(['9', '10', 'a', 'b']);
    const b = out.find((r) => r.customerId === 'b');
    expect(b).toEqual({ customerId: 'b', x: 2, tx: 3, T: 4, meanSpend: 30 });
    expect(out.find((r) => r.customerId === 'a')).toEqual({ customerId: 'a', x: 0, tx: 0, T: 2, meanSpend: 0 });
    expect(out.find((r) => r.customerId === '9')?.T).toBe(0);
  });

  test('dates are validated and counted in UTC days', () => {
    expect(dayNumber('2024-03-31') - dayNumber('2024-03-30')).toBe(1);
    expect(() => dayNumber('2024-02-30')).toThrow(RangeError);
    expect(() => dayNumber('20240101')).toThrow(RangeError);
    expect(() => summarizeTransactions(tx, '2024/01/29')).toThrow(RangeError);
  });
});

describe('parsers and formatting', () => {
  test('CDNOW sample and master formats', () => {
    expect(parseCdnowTransactions(' 00004 0001 19970101  2   29.33\n 00004 0001 19970118  2   29.73\n')).toEqual([
      { customerId: '1', date: '1997-01-01', value: 29.33 },
      { customerId: '1', date: '1997-01-18', value: 29.73 },
    ]);
    expect(
      parseCdnowTransactions(' customer_id  date number_of_cds  dollar_value\n 00001 19970101  1   11.77\n'),
    ).toEqual([{ customerId: '1', date: '1997-01-01', value: 11.77 }]);
    expect(() => parseCdnowTransactions('1 2 3\n')).toThrow(/4 or 5 fields/);
  });

  test('summary CSVs in both layouts', () => {
    expect(parseSummaryCsv('ID,frequency,recency,T\n1,2,30.43,38.86\n')).toEqual([
      { customerId: '1', x: 2, tx: 30.43, T: 38.86 },
    ]);
    expect(parseSummaryCsv('ID,x,t_x,T,zbar\r\n1,2,30.43,38.86,22.35\r\n')).toEqual([
      { customerId: '1', x: 2, tx: 30.43, T: 38.86, meanSpend: 22.35 },
    ]);
    expect(() => parseSummaryCsv('ID,foo\n1,2\n')).toThrow(/needs columns/);
    expect(() => parseSummaryCsv('ID,x,t_x,T\n1,2,abc,3\n')).toThrow(/line 2/);
  });

  test('generic transactions CSV', () => {
    expect(parseTransactionsCsv('cust,date\n1,2006-01-01\n')).toEqual([
      { customerId: '1', date: '2006-01-01', value: 0 },
    ]);
    expect(parseTransactionsCsv('CustomerID,date,value\n7,2011-01-02 10:00:00,3.5\n')).toEqual([
      { customerId: '7', date: '2011-01-02', value: 3.5 },
    ]);
  });

  test('formatFixed rounds half away from zero on the decimal value', () => {
    expect(formatFixed((29.73 + 14.96) / 2)).toBe('22.35');
    expect(formatFixed(1.005)).toBe('1.01');
    expect(formatFixed(0)).toBe('0.00');
    expect(formatFixed(-2.345)).toBe('-2.35');
    expect(formatFixed(-0.001)).toBe('0.00');
    expect(formatFixed(1e-7)).toBe('0.00');
    expect(formatFixed(38.857142857)).toBe('38.86');
  });

  test('ids sort numerically when numeric', () => {
    expect(['10', '9', 'b', '009', 'a'].sort(compareIds)).toEqual(['009', '9', '10', 'a', 'b']);
  });
});
