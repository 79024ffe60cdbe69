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

export function summarizeTransactions(transactions: readonly Transaction[], calibrationEnd: string): CustomerSummary[] {
  const end = dayNumber(calibrationEnd);
  // customer → day → summed value (calibration transactions only).
  const byCustomer = new Map<string, Map<number, number>>();
  for (const t of transactions) {
    if (!Number.isFinite(t.value))
      throw new RangeError(`transaction value must be finite (customer ${t.customerId}, ${t.date})`);
    const day = dayNumber(t.date);
    if (day > end) continue;
    let days = byCustomer.get(t.customerId);
    if (!days) byCustomer.set(t.customerId, (days = new Map()));
    days.set(day, (days.get(day) ?? 0) + t.value);
  }
  const out: CustomerSummary[] = [];
  for (const [customerId, days] of byCustomer) {
    const sorted = [...days.keys()].sort((p, q) => p - q);
    const first = sorted[0] as number;
    const last = sorted[sorted.length - 1] as number;
    const x = sorted.length - 1;
    let repeatValue = 0;
    for (let i = 1; i < sorted.length; i++) repeatValue += days.get(sorted[i] as number) as number;
    out.push({ customerId, x, tx: (last - first) / 7, T: (end - first) / 7, meanSpend: x > 0 ? repeatValue / x : 0 });
  }
  out.sort((p, q) => compareIds(p.customerId, q.customerId));
  return out;
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

/**
 * Parses transactions from a CSV with a header naming a customer column (`customerId`, `customer_id`,
 * `cust`, `id`), a `date` column (`YYYY-MM-DD`, optionally followed by a time, which is ignored) and
 * an optional `value` column (`value`, `amount`, `sales`; 0 when absent). Quoted fields are not supported.
 */
export function parseTransactionsCsv(text: string): Transaction[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) return [];
  const header = (lines[0] as string).split(',').map((h) => h.trim().toLowerCase());
  const iId = header.findIndex((h) => ['customerid', 'customer_id', 'customer', 'cust', 'id'].includes(h));
  const iDate = header.indexOf('date');
  const iValue = header.findIndex((h) => ['value', 'amount', 'sales'].includes(h));
  if (iId < 0 || iDate < 0)
    throw new RangeError(`transactions CSV needs a customer id and a date column; got '${lines[0]}'`);
  return lines.slice(1).map((line, k) => {
    const f = line.split(',').map((x) => x.trim());
    const value = iValue >= 0 ? Number(f[iValue]) : 0;
    if (!Number.isFinite(value)) throw new RangeError(`transactions CSV line ${k + 2}: bad value '${f[iValue]}'`);
    return { customerId: f[iId] ?? '', date: (f[iDate] ?? '').slice(0, 10), value };
  });
}

const COLUMN_ALIASES: Record<'id' | 'x' | 'tx' | 'T' | 'spend', string[]> = {
  id: ['id', 'customer_id', 'customerid', 'cust'],
  x: ['frequency', 'x'],
  tx: ['recency', 't_x', 'tx'],
  T: ['t'],
  spend: ['zbar', 'monetary_value', 'meanspend', 'mean_spend'],
};

/**
 * Parses a summary CSV with a header: `ID,frequency,recency,T` or `ID,x,t_x,T,zbar` (also
 * `monetary_value` for z̄; column names are case-insensitive except that `T` is matched as `t`).
 * `meanSpend` is set only when a spend column is present.
 */
export function parseSummaryCsv(text: string): CustomerSummary[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) return [];
  const header = (lines[0] as string).split(',').map((h) => h.trim().replace(/^"|"$/g, '').toLowerCase());
  const col = (k: keyof typeof COLUMN_ALIASES): number => header.findIndex((h) => COLUMN_ALIASES[k].includes(h));
  const [iId, iX, iTx, iT, iS] = [col('id'), col('x'), col('tx'), col('T'), col('spend')];
  if (iX < 0 || iTx < 0 || iT < 0) {
    throw new RangeError(`summary CSV needs columns frequency|x, recency|t_x and T; got '${lines[0]}'`);
  }
  return lines.slice(1).map((line, k) => {
    const f = line.split(',').map((s) => s.trim());
    const num = (i: number, name: string): number => {
      const v = Number(f[i]);
      if (f[i] === undefined || f[i] === '' || !Number.isFinite(v))
        throw new RangeError(`summary CSV line ${k + 2}: bad ${name} '${f[i]}'`);
      return v;
    };
    const row: CustomerSummary = {
      customerId: iId >= 0 ? (f[iId] as string) : String(k + 1),
      x: num(iX, 'frequency'),
      tx: num(iTx, 'recency'),
      T: num(iT, 'T'),
    };
    if (iS >= 0) row.meanSpend = num(iS, 'zbar');
    return row;
  });
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
