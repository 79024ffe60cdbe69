import fc from 'fast-check';
import {
  CsvRowsError,
  formatSummaryCsv,
  parseSummaryCsv,
  parseTransactionsCsv,
  summarizeTransactionsWithRefunds,
  type Transaction,
} from '../../../shared/value';

/** Issue #9 A3: the transactions CSV of the issue. */
const ISSUE_A3_CSV = `customerId,date,value
1,2025-01-01,50
1,2025-02-01,30
1,2025-02-10,-30
2,2025-01-05,20
2,2025-01-20,-20
`;

describe('summarize nets refunds against purchase days (issue #9 A3)', () => {
  test('A3: the issue’s CSV gives both customers x = 0 and no negative mean spend', () => {
    const { rows, refunds } = summarizeTransactionsWithRefunds(parseTransactionsCsv(ISSUE_A3_CSV), '2025-03-31');
    expect(formatSummaryCsv(rows, true)).toBe('ID,x,t_x,T,zbar\n1,0,0.00,12.71,0.00\n2,0,0.00,12.14,0.00\n');
    expect(refunds).toEqual({
      refundRows: 2,
      matchedValue: 50,
      unmatchedValue: 0,
      unmatchedRows: 0,
      cancelledDays: 2,
      fullyRefundedCustomers: 1,
    });
  });

  const day = (customerId: string, date: string, value: number): Transaction => ({ customerId, date, value });
  const cases: {
    name: string;
    tx: Transaction[];
    expected: { x: number; tx: number; T: number; meanSpend: number };
  }[] = [
    {
      name: 'a partial refund nets its day: z̄ is the net repeat spend',
      tx: [day('c', '2025-01-01', 50), day('c', '2025-01-15', 40), day('c', '2025-01-20', -15)],
      expected: { x: 1, tx: 2, T: 4, meanSpend: 25 },
    },
    {
      name: 'a refund on the same day as its order cancels the day',
      tx: [day('c', '2025-01-01', 50), day('c', '2025-01-15', 40), day('c', '2025-01-15', -40)],
      expected: { x: 0, tx: 0, T: 4, meanSpend: 0 },
    },
    {
      name: 'a refund larger than the latest day spills to the earlier repeat day, latest first',
      tx: [
        day('c', '2025-01-01', 10),
        day('c', '2025-01-08', 20),
        day('c', '2025-01-15', 30),
        day('c', '2025-01-22', -35),
      ],
      expected: { x: 1, tx: 1, T: 4, meanSpend: 15 },
    },
    {
      name: 'a refunded first order moves the start of T to the first remaining purchase day',
      tx: [
        day('c', '2025-01-01', 10),
        day('c', '2025-01-02', -10),
        day('c', '2025-01-08', 20),
        day('c', '2025-01-15', 30),
      ],
      expected: { x: 1, tx: 1, T: 3, meanSpend: 30 },
    },
    {
      name: 'a refund after the calibration end is not known yet',
      tx: [day('c', '2025-01-01', 10), day('c', '2025-01-15', 40), day('c', '2025-02-05', -40)],
      expected: { x: 1, tx: 2, T: 4, meanSpend: 40 },
    },
    {
      name: 'a refund before any purchase is unmatched and ignored',
      tx: [day('c', '2024-12-20', -5), day('c', '2025-01-01', 10), day('c', '2025-01-15', 40)],
      expected: { x: 1, tx: 2, T: 4, meanSpend: 40 },
    },
    {
      name: 'float money: 0.1 + 0.2 refunded by 0.3 cancels the day',
      tx: [
        day('c', '2025-01-01', 5),
        day('c', '2025-01-15', 0.1),
        day('c', '2025-01-15', 0.2),
        day('c', '2025-01-16', -0.3),
      ],
      expected: { x: 0, tx: 0, T: 4, meanSpend: 0 },
    },
    {
      name: 'a zero-value order no refund touched still counts (CDNOW has them)',
      tx: [day('c', '2025-01-01', 5), day('c', '2025-01-15', 0)],
      expected: { x: 1, tx: 2, T: 4, meanSpend: 0 },
    },
  ];
  test.each(cases)('$name', ({ tx, expected }) => {
    const { rows } = summarizeTransactionsWithRefunds(tx, '2025-01-29');
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row!.x).toBe(expected.x);
    expect(row!.tx).toBeCloseTo(expected.tx, 10);
    expect(row!.T).toBeCloseTo(expected.T, 10);
    expect(row!.meanSpend).toBeCloseTo(expected.meanSpend, 10);
  });

  test('property: z̄ is never negative and t_x ≤ T, whatever refunds arrive in whatever order', () => {
    const row = fc.record({
      customerId: fc.constantFrom('a', 'b', 'c'),
      date: fc.integer({ min: 0, max: 59 }).map((d) => new Date(Date.UTC(2025, 0, 1 + d)).toISOString().slice(0, 10)),
      value: fc.integer({ min: -100, max: 100 }),
    });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 30 }), (tx) => {
        const { rows } = summarizeTransactionsWithRefunds(tx, '2025-02-15');
        const shuffled = summarizeTransactionsWithRefunds([...tx].reverse(), '2025-02-15').rows;
        return (
          rows.every((r) => (r.meanSpend ?? 0) >= 0 && r.tx <= r.T && r.x >= 0) &&
          JSON.stringify(rows) === JSON.stringify(shuffled)
        );
      }),
      { numRuns: 500 },
    );
  });
});

describe('CSV parsing with csv-parse', () => {
  test('bad rows are all reported by line number', () => {
    const text = 'cust,date,value\n1,2025-01-01,5\n\n2,2025-13-01,3\n,2025-01-02,1\n3,2025-01-01,abc\n';
    let error: unknown;
    try {
      parseTransactionsCsv(text, 'tx.csv');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CsvRowsError);
    expect((error as CsvRowsError).rejected).toEqual([
      { line: 4, reason: "bad date '2025-13-01'" },
      { line: 5, reason: 'empty customer id' },
      { line: 6, reason: "bad value 'abc'" },
    ]);
    expect((error as Error).message).toMatch(/^tx\.csv: 3 bad row\(s\): line 4: bad date/);
  });

  test('quoted fields with commas, a BOM and CRLF are read', () => {
    const text = '\ufeff"customer_id","date","amount"\r\n"A, Ltd","2025-01-01 10:00",12.5\r\n';
    expect(parseTransactionsCsv(text)).toEqual([{ customerId: 'A, Ltd', date: '2025-01-01', value: 12.5 }]);
  });

  test('a CSV without the columns names the accepted ones', () => {
    expect(() => parseTransactionsCsv('who,when\n1,2025-01-01\n')).toThrow(
      /customer column \(customerid, customer_id, customer, cust, id\) and a date column \(date, invoicedate, order_date\)/,
    );
    expect(() => parseSummaryCsv('ID,foo\n1,2\n')).toThrow(/frequency\|x, recency\|t_x\|tx, T/);
  });
});
