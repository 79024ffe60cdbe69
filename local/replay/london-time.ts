/**
 * UK civil time → UTC, by the EU summer-time rule the UK has followed since 1996: BST (UTC+1) from 01:00 UTC on the
 * last Sunday of March to 01:00 UTC on the last Sunday of October. Earlier years are out of scope.
 *
 * Local times that do not exist (the spring-forward hour, 01:00–01:59 on the last Sunday of March) are read with the
 * offset before the change (GMT), i.e. shifted forward; ambiguous ones (the repeated hour, 01:00–01:59 on the last
 * Sunday of October) resolve to the earlier instant (BST). That is what Temporal's `disambiguation: 'compatible'`
 * does.
 */
const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/** Midnight UTC of the last Sunday of `month` (0-based). */
function lastSunday(year: number, month: number): number {
  const lastDay = Date.UTC(year, month + 1, 0);
  return lastDay - new Date(lastDay).getUTCDay() * DAY_MS;
}

const bstCache = new Map<number, readonly [number, number]>();

/** [start, end) of BST in local wall-clock milliseconds (local time written as if it were UTC). */
function bstWindow(year: number): readonly [number, number] {
  let w = bstCache.get(year);
  if (!w) {
    w = [lastSunday(year, 2) + 2 * HOUR_MS, lastSunday(year, 9) + 2 * HOUR_MS];
    bstCache.set(year, w);
  }
  return w;
}

/** Converts a UK wall-clock time (month 1-based) to UTC epoch milliseconds. */
export function londonToUtc(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second = 0,
): number {
  const local = Date.UTC(year, month - 1, day, hour, minute, second);
  const [start, end] = bstWindow(year);
  return local >= start && local < end ? local - HOUR_MS : local;
}

const ISO_LOCAL = /^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$/;
const US_LOCAL = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?$/;

/**
 * Parses a UK local timestamp, `YYYY-MM-DD HH:MM[:SS]` (the UCI CSV) or `M/D/YYYY H:MM[:SS]` (the same data saved
 * from Excel in a US locale), to UTC epoch milliseconds; `undefined` when it is neither or out of range.
 */
export function parseLondonTimestamp(text: string): number | undefined {
  const t = text.trim();
  let y: number, mo: number, d: number, h: number, mi: number, s: number;
  let m = ISO_LOCAL.exec(t);
  if (m) {
    [y, mo, d, h, mi, s] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  } else if ((m = US_LOCAL.exec(t))) {
    [mo, d, y, h, mi, s] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  } else return undefined;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  if (new Date(Date.UTC(y, mo - 1, d)).getUTCDate() !== d) return undefined; // e.g. 31 April
  return londonToUtc(y, mo, d, h, mi, s);
}
