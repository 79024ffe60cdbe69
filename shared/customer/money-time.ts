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
/** Offsets by zone, then by quarter hour: zone offsets only change on quarter-hour boundaries. */
const offsets = new Map<string, Map<number, number>>();
const QUARTER_HOUR_MS = 900_000;
/** Quarter hours kept per zone (about 3 years); past that the zone's memo starts again. */
const MAX_QUARTERS = 100_000;

/** Offset of `timeZone` from UTC at instant `t` (ms), e.g. −5 h for America/New_York in winter. */
export function zoneOffsetMs(t: number, timeZone: string): number {
  if (timeZone === 'UTC') return 0;
  let zone = offsets.get(timeZone);
  if (!zone) offsets.set(timeZone, (zone = new Map()));
  const quarter = Math.floor(t / QUARTER_HOUR_MS);
  const cached = zone.get(quarter);
  if (cached !== undefined) return cached;
  if (zone.size >= MAX_QUARTERS) zone.clear();
  const offset = computeOffset(t, timeZone);
  zone.set(quarter, offset);
  return offset;
}

function computeOffset(t: number, timeZone: string): number {
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
