import type { FeatureSettings } from '../domain/features';

const DAY_MS = 86_400_000;

/**
 * An amount in the base currency (`settings.currency.base`), or null when its currency has no rate. Without
 * currency settings every amount is taken as it is.
 */
export function toBase(amount: number, currency: string, settings: Pick<FeatureSettings, 'currency'>): number | null {
  const c = settings.currency;
  if (!c || currency === c.base) return amount;
  const rate = c.rates[currency];
  return rate === undefined ? null : amount * rate;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Offset of `timeZone` from UTC at instant `t` (ms), e.g. −5 h for America/New_York in winter. */
export function zoneOffsetMs(t: number, timeZone: string): number {
  if (timeZone === 'UTC') return 0;
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  const parts: Record<string, number> = {};
  for (const p of f.formatToParts(new Date(t))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const asUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return asUtc - Math.floor(t / 1000) * 1000;
}

/**
 * The calendar day of instant `t` in `settings.timeZone` (default UTC), as days since 1970-01-01 of that calendar:
 * whole days, or the fractional day when `fractional` (for T, the customer's age in the value model).
 */
export function localDayNumber(t: number, settings: Pick<FeatureSettings, 'timeZone'>, fractional = false): number {
  const local = (t + zoneOffsetMs(t, settings.timeZone ?? 'UTC')) / DAY_MS;
  return fractional ? local : Math.floor(local);
}
