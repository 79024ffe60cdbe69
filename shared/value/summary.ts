/**
 * Calibration summaries (x, t_x, T, z̄) from transactions, with the CDNOW conventions of
 * Fader, Hardie & Lee (2005), and parsers for the CDNOW raw format and summary CSVs.
 * Pure: parsers take and formatters return strings; the CLI does the file I/O.
 *
 * Conventions (they reproduce `cdnow_customers_summary.csv` from `CDNOW_sample.txt`):
 * - purchases on the same day are merged into one transaction with the values summed;
 * - only transactions on or before the calibration end (inclusive) count;
 * - weeks = days / 7;
 * - x (frequency) = distinct purchase days in calibration − 1;
 * - t_x (recency) = (last calibration purchase − first purchase) / 7, 0 when x = 0;
 * - T = (calibration end − first purchase) / 7;
 * - z̄ (meanSpend) = mean value of the repeat (merged) transactions in calibration, 0 when x = 0.
 * Customers whose first purchase is after the calibration end are left out.
 */
import { parse } from 'csv-parse/sync';

export interface Transaction {
  customerId: string;
  /** 'YYYY-MM-DD'. */
  date: string;
  value: number;
}

export interface CustomerSummary {
  customerId: string;
  x: number;
  tx: number;
  T: number;
  /** z̄; undefined when the source had no spend column. */
  meanSpend?: number;
}

const DAY_MS = 86_400_000;
const MONEY_EPSILON = 1e-6;

/** Days since 1970-01-01 of a 'YYYY-MM-DD' date (UTC, so no daylight-saving effects). */
export function dayNumber(date: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new RangeError(`expected a YYYY-MM-DD date, got '${date}'`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const check = new Date(ms);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) {
    throw new RangeError(`invalid date '${date}'`);
  }
  return ms / DAY_MS;
}

/** Numeric order for numeric ids ('2' before '10'), string order otherwise. */
export function compareIds(a: string, b: string): number {
  const na = /^\d+$/.test(a);
  const nb = /^\d+$/.test(b);
  if (na && nb) {
    const ta = a.replace(/^0+(?=\d)/, '');
    const tb = b.replace(/^0+(?=\d)/, '');
    if (ta.length !== tb.length) return ta.length - tb.length;
    if (ta !== tb) return ta < tb ? -1 : 1;
  }
  if (na !== nb) return na ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What netting refunds did to a set of transactions (counts and money; never ids). */
export interface RefundDiagnostics {
  /** Rows with a negative value on or before the calibration end. */
  refundRows: number;
  /** Refund money that netted a purchase day (positive). */
  matchedValue: number;
  /** Refund money with no earlier purchase left to net (a refund before any purchase, or larger than them). */
  unmatchedValue: number;
  /** Refund rows that found nothing at all to net. */
  unmatchedRows: number;
  /** Purchase days whose net spend fell to ≤ 0, so they no longer count as purchase days. */
  cancelledDays: number;
  /** Customers all of whose purchase days were cancelled: kept as one-time buyers (x = 0) from their first purchase. */
  fullyRefundedCustomers: number;
}

export interface SummarizeResult {
  rows: CustomerSummary[];
  refunds: RefundDiagnostics;
}

/**
 * Calibration summaries with refunds netted. A row with a negative value is a refund; it nets the customer's
 * purchase days on or before its own day, latest first (a refund usually follows the order it refunds), spilling to
 * earlier days when it is larger than the latest day's remaining spend. Refund money with nothing left to net is
 * counted as unmatched and otherwise ignored. Then:
 * - a purchase day whose net spend is ≤ 0 after netting is not a purchase day (a zero-value order that no refund
 *   touched still is one, as in CDNOW);
 * - the customer's first remaining purchase day starts T; a customer with no purchase day left is kept as a
 *   one-time buyer (x = 0, t_x = 0, z̄ = 0) from their first purchase day, since they did buy;
 * - z̄ is the mean net spend of the repeat days, so it is never negative.
 * Only rows on or before the calibration end count, refunds included: what was known at the calibration end.
 * Errors: RangeError on a non-finite value or a malformed date.
 */
export function summarizeTransactionsWithRefunds(
  transactions: readonly Transaction[],
  calibrationEnd: string,
): SummarizeResult {
  const end = dayNumber(calibrationEnd);
  const refunds = emptyRefundDiagnostics();
  const { purchases, nettedDays } = netPurchaseDays(transactions, end, refunds);
  const out: CustomerSummary[] = [];
  for (const [customerId, days] of purchases) {
    const all = [...days.keys()].sort((p, q) => p - q);
    const netted = nettedDays.get(customerId);
    const kept = all.filter((day) => isPurchaseDay(days, netted, day));
    if (kept.length === 0) {
      refunds.fullyRefundedCustomers++;
      out.push({ customerId, x: 0, tx: 0, T: (end - all[0]!) / 7, meanSpend: 0 });
      continue;
    }
    const first = kept[0]!;
    const last = kept[kept.length - 1]!;
    const x = kept.length - 1;
    let repeatValue = 0;
    for (let i = 1; i < kept.length; i++) repeatValue += days.get(kept[i]!)!;
    out.push({ customerId, x, tx: (last - first) / 7, T: (end - first) / 7, meanSpend: x > 0 ? repeatValue / x : 0 });
  }
  out.sort((p, q) => compareIds(p.customerId, q.customerId));
  return { rows: out, refunds };
}

/**
 * Purchase days per customer with refunds netted (the rule of summarizeTransactionsWithRefunds), for rows on or
 * before `endDay` (days since 1970-01-01). Days whose net fell to 0 stay in the map at 0 and are listed in
 * `nettedDays`; the caller decides what a cancelled day means. Updates `refunds` in place.
 */
export function netPurchaseDays(
  transactions: readonly Transaction[],
  endDay: number,
  refunds: RefundDiagnostics = emptyRefundDiagnostics(),
): { purchases: Map<string, Map<number, number>>; nettedDays: Map<string, Set<number>> } {
  const end = endDay;
  // customer → day → summed purchase value; customer → refunds (day, amount > 0). Calibration rows only.
  const purchases = new Map<string, Map<number, number>>();
  const refundsOf = new Map<string, { day: number; amount: number }[]>();
  for (const t of transactions) {
    if (!Number.isFinite(t.value))
      throw new RangeError(`transaction value must be finite (customer ${t.customerId}, ${t.date})`);
    const day = dayNumber(t.date);
    if (day > end) continue;
    if (t.value < 0) {
      refunds.refundRows++;
      let list = refundsOf.get(t.customerId);
      if (!list) refundsOf.set(t.customerId, (list = []));
      list.push({ day, amount: -t.value });
      continue;
    }
    let days = purchases.get(t.customerId);
    if (!days) purchases.set(t.customerId, (days = new Map()));
    days.set(day, (days.get(day) ?? 0) + t.value);
  }

  const nettedDays = new Map<string, Set<number>>();
  for (const [customerId, list] of refundsOf) {
    const days = purchases.get(customerId);
    const netted = new Set<number>();
    nettedDays.set(customerId, netted);
    const descending = days ? [...days.keys()].sort((p, q) => q - p) : [];
    list.sort((p, q) => p.day - q.day);
    for (const refund of list) {
      let remaining = refund.amount;
      for (const day of descending) {
        if (remaining <= 0) break;
        if (day > refund.day) continue;
        const net = days!.get(day)!;
        if (net <= 0) continue;
        const take = Math.min(net, remaining);
        // Money is summed in floating point: a remainder below a millionth of a unit is no money.
        const rest = net - take <= MONEY_EPSILON ? 0 : net - take;
        days!.set(day, rest);
        netted.add(day);
        if (rest === 0) refunds.cancelledDays++;
        remaining = remaining - take <= MONEY_EPSILON ? 0 : remaining - take;
        refunds.matchedValue += take;
      }
      if (remaining > 0) {
        refunds.unmatchedValue += remaining;
        if (remaining === refund.amount) refunds.unmatchedRows++;
      }
    }
  }

  return { purchases, nettedDays };
}

/** True when `day` is still a purchase day after netting: not touched by a refund, or with net spend left. */
export function isPurchaseDay(
  purchases: ReadonlyMap<number, number>,
  netted: ReadonlySet<number> | undefined,
  day: number,
): boolean {
  return netted === undefined || !netted.has(day) || (purchases.get(day) ?? 0) > 0;
}

export function emptyRefundDiagnostics(): RefundDiagnostics {
  return {
    refundRows: 0,
    matchedValue: 0,
    unmatchedValue: 0,
    unmatchedRows: 0,
    cancelledDays: 0,
    fullyRefundedCustomers: 0,
  };
}

/** Calibration summaries (see summarizeTransactionsWithRefunds for the refund rule). */
export function summarizeTransactions(transactions: readonly Transaction[], calibrationEnd: string): CustomerSummary[] {
  return summarizeTransactionsWithRefunds(transactions, calibrationEnd).rows;
}

/**
 * Parses CDNOW raw transactions. `CDNOW_sample.txt` (no header; master id, sample id, YYYYMMDD,
 * CDs, dollars) uses the sample id as the customer id; `CDNOW_master.txt` (one header line; id,
 * YYYYMMDD, CDs, dollars) uses the master id. Leading zeros are dropped from ids ('0001' → '1').
 */
export function parseCdnowTransactions(text: string): Transaction[] {
  const out: Transaction[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    const f = line.split(/\s+/);
    if (i === 0 && !/^\d+$/.test(f[0] as string)) continue; // header of CDNOW_master.txt
    let id: string;
    let ymd: string;
    let value: string;
    if (f.length === 5) [, id, ymd, , value] = f as [string, string, string, string, string];
    else if (f.length === 4) [id, ymd, , value] = f as [string, string, string, string];
    else throw new RangeError(`CDNOW line ${i + 1}: expected 4 or 5 fields, got ${f.length}`);
    if (!/^\d{8}$/.test(ymd)) throw new RangeError(`CDNOW line ${i + 1}: bad date '${ymd}'`);
    const v = Number(value);
    if (!Number.isFinite(v)) throw new RangeError(`CDNOW line ${i + 1}: bad value '${value}'`);
    out.push({
      customerId: id.replace(/^0+(?=\d)/, ''),
      date: `${ymd.slice(0, 4)}-${ymd.slice(4, 6)}-${ymd.slice(6, 8)}`,
      value: v,
    });
  }
  return out;
}

/** A CSV row that could not be read, by its 1-based line number in the file. */
export interface RejectedCsvRow {
  line: number;
  reason: string;
}

/** Thrown when a CSV has bad rows: all of them are listed (the message names the first ten). */
export class CsvRowsError extends RangeError {
  override readonly name = 'CsvRowsError';
  constructor(
    readonly file: string,
    readonly rejected: readonly RejectedCsvRow[],
  ) {
    super(
      `${file}: ${rejected.length} bad row(s): ` +
        rejected
          .slice(0, 10)
          .map((r) => `line ${r.line}: ${r.reason}`)
          .join('; ') +
        (rejected.length > 10 ? '; …' : ''),
    );
  }
}

interface CsvRecord {
  fields: string[];
  line: number;
}

/**
 * Header (lower-cased, trimmed) and records of a CSV, each with the 1-based line it ends on (its own line unless a
 * quoted field spans lines). Quoted fields, a BOM and CRLF work.
 */
function readCsv(text: string, what: string): { header: string[]; records: CsvRecord[] } {
  let parsed: { record: string[]; info: { lines: number } }[];
  try {
    parsed = parse(text, {
      bom: true,
      info: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    const e = err as { message?: string; lines?: number };
    throw new RangeError(`${what}: not a readable CSV${e.lines ? ` (line ${e.lines})` : ''}: ${e.message ?? ''}`, {
      cause: err,
    });
  }
  const [head, ...rest] = parsed;
  if (!head) return { header: [], records: [] };
  return {
    header: head.record.map((h) => h.toLowerCase()),
    records: rest.map((r) => ({ fields: r.record, line: r.info.lines })),
  };
}

/** Accepted column names of a transactions CSV (case-insensitive). */
export const TRANSACTION_COLUMNS = {
  customer: ['customerid', 'customer_id', 'customer', 'cust', 'id'],
  date: ['date', 'invoicedate', 'order_date'],
  value: ['value', 'amount', 'sales', 'total'],
} as const;

/**
 * Parses transactions from a CSV (RFC 4180, via csv-parse) with a header naming a customer column
 * (`customerId`, `customer_id`, `customer`, `cust`, `id`), a date column (`date`, `InvoiceDate`, `order_date`:
 * `YYYY-MM-DD`, optionally followed by a time, which is ignored) and an optional value column (`value`, `amount`,
 * `sales`, `total`; 0 when absent; negative for a refund). Errors: RangeError without those columns; CsvRowsError
 * listing every bad row (empty id, malformed date, non-numeric value) by line number.
 */
export function parseTransactionsCsv(text: string, file = 'transactions CSV'): Transaction[] {
  const { header, records } = readCsv(text, file);
  if (header.length === 0) return [];
  const find = (names: readonly string[]): number => header.findIndex((h) => names.includes(h));
  const [iId, iDate, iValue] = [
    find(TRANSACTION_COLUMNS.customer),
    find(TRANSACTION_COLUMNS.date),
    find(TRANSACTION_COLUMNS.value),
  ];
  if (iId < 0 || iDate < 0) {
    throw new RangeError(
      `${file} needs a customer column (${TRANSACTION_COLUMNS.customer.join(', ')}) and a date column ` +
        `(${TRANSACTION_COLUMNS.date.join(', ')}); value (${TRANSACTION_COLUMNS.value.join(', ')}) is optional. ` +
        `Got: ${header.join(', ')}`,
    );
  }
  const rows: Transaction[] = [];
  const rejected: RejectedCsvRow[] = [];
  for (const { fields, line } of records) {
    const customerId = fields[iId] ?? '';
    const date = (fields[iDate] ?? '').slice(0, 10);
    const rawValue = iValue >= 0 ? (fields[iValue] ?? '') : '0';
    const value = Number(rawValue);
    if (customerId === '') rejected.push({ line, reason: 'empty customer id' });
    else if (!isValidDate(date)) rejected.push({ line, reason: `bad date '${(fields[iDate] ?? '').slice(0, 40)}'` });
    else if (rawValue === '' || !Number.isFinite(value))
      rejected.push({ line, reason: `bad value '${rawValue.slice(0, 40)}'` });
    else rows.push({ customerId, date, value });
  }
  if (rejected.length > 0) throw new CsvRowsError(file, rejected);
  return rows;
}

function isValidDate(date: string): boolean {
  try {
    dayNumber(date);
    return true;
  } catch {
    return false;
  }
}

const COLUMN_ALIASES: Record<'id' | 'x' | 'tx' | 'T' | 'spend', string[]> = {
  id: ['id', 'customer_id', 'customerid', 'cust'],
  x: ['frequency', 'x'],
  tx: ['recency', 't_x', 'tx'],
  T: ['t'],
  spend: ['zbar', 'monetary_value', 'meanspend', 'mean_spend'],
};

/** Accepted column names of a summary CSV, for help texts and errors. */
export const SUMMARY_COLUMNS_HELP =
  'ID (id, customer_id, customerid, cust; optional), frequency|x, recency|t_x|tx, T, and optionally ' +
  'zbar|monetary_value|meanspend|mean_spend; all in weeks';

/**
 * Parses a summary CSV (via csv-parse) with a header: `ID,frequency,recency,T` or `ID,x,t_x,T,zbar` (see
 * SUMMARY_COLUMNS_HELP; names are case-insensitive). `meanSpend` is set only when a spend column is present.
 * Errors: RangeError without the columns; CsvRowsError listing every row with a missing or non-numeric field.
 */
export function parseSummaryCsv(text: string, file = 'summary CSV'): CustomerSummary[] {
  const { header, records } = readCsv(text, file);
  if (header.length === 0) return [];
  const col = (k: keyof typeof COLUMN_ALIASES): number => header.findIndex((h) => COLUMN_ALIASES[k].includes(h));
  const [iId, iX, iTx, iT, iS] = [col('id'), col('x'), col('tx'), col('T'), col('spend')];
  if (iX < 0 || iTx < 0 || iT < 0) {
    throw new RangeError(`${file} needs columns ${SUMMARY_COLUMNS_HELP}. Got: ${header.join(', ')}`);
  }
  const rows: CustomerSummary[] = [];
  const rejected: RejectedCsvRow[] = [];
  records.forEach(({ fields, line }, k) => {
    const problems: string[] = [];
    const num = (i: number, name: string): number => {
      const raw = fields[i];
      const v = Number(raw);
      if (raw === undefined || raw === '' || !Number.isFinite(v)) problems.push(`bad ${name} '${raw ?? ''}'`);
      return v;
    };
    const row: CustomerSummary = {
      customerId: iId >= 0 ? (fields[iId] ?? '') : String(k + 1),
      x: num(iX, 'frequency'),
      tx: num(iTx, 'recency'),
      T: num(iT, 'T'),
    };
    if (iS >= 0) row.meanSpend = num(iS, 'zbar');
    if (problems.length > 0) rejected.push({ line, reason: problems.join(', ') });
    else rows.push(row);
  });
  if (rejected.length > 0) throw new CsvRowsError(file, rejected);
  return rows;
}

/**
 * Rounds half away from zero to `digits` decimals after first rounding to 12 significant digits, so
 * a mean such as 44.69 / 2 prints as 22.35 whatever the last binary digit of the sum was.
 */
export function formatFixed(v: number, digits = 2): string {
  const clean = Number(v.toPrecision(12));
  const str = String(Math.abs(clean));
  const scaled = str.includes('e') ? Math.abs(clean) * 10 ** digits : Number(`${str}e${digits}`);
  const rounded = Math.round(scaled);
  const s = (rounded / 10 ** digits).toFixed(digits);
  return clean < 0 && rounded !== 0 ? `-${s}` : s;
}

/** Summary CSV: `ID,frequency,recency,T`, or with `withSpend` `ID,x,t_x,T,zbar`, with 2 decimals. */
export function formatSummaryCsv(rows: readonly CustomerSummary[], withSpend = false): string {
  const header = withSpend ? 'ID,x,t_x,T,zbar' : 'ID,frequency,recency,T';
  const body = rows.map((r) => {
    const base = `${r.customerId},${r.x},${formatFixed(r.tx)},${formatFixed(r.T)}`;
    return withSpend ? `${base},${formatFixed(r.meanSpend ?? 0)}` : base;
  });
  return `${[header, ...body].join('\n')}\n`;
}
