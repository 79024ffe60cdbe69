/** Segment profiles: what a segment's members look like in natural units (counts, money, days). */
import type { SegmentProfile } from '../contracts/outbound';
import { quantileSorted, sortedFinite } from './scaler';

/** Natural-unit features summarised in every profile, in this order. */
export const PROFILE_FEATURES = [
  'orders',
  'revenue',
  'avgOrderValue',
  'daysSinceLastOrder',
  'tenureDays',
  'refundRate',
  'discountShare',
  'views',
  'searches',
  'cartAdds',
] as const;
export type ProfileFeature = (typeof PROFILE_FEATURES)[number];

/** How many top categories a profile lists. */
export const PROFILE_TOP_CATEGORIES = 5;

/** What a profile needs from each sampled customer (a subset of fit's SampleRow). */
export interface ProfileRow {
  /** Natural-unit features keyed by PROFILE_FEATURES; a missing or non-finite value is left out of the stats. */
  natural: Readonly<Record<string, number>>;
  /** The customer's top categories, most first. */
  topCategories: readonly string[];
  /** Share of activity by channel, summing to 1 (or all 0 for a customer without channel activity). */
  channelShares: Readonly<Record<string, number>>;
  traits: { clv: number; churnRisk: number } | null;
}

/**
 * One profile per segment index (0..segmentIds.length-1), from each row's label.
 * - features: mean and quartiles (linear interpolation) of each natural feature over the members that have
 *   it; a feature no member has is omitted;
 * - topCategories: categories by the share of members listing them among their top categories (at most 5);
 * - channelMix: mean channel shares over the members;
 * - meanClv / meanChurnRisk: means over members with traits, null when none has them.
 * Rows with a label outside the range are ignored; share is relative to the rows with a valid label.
 */
export function buildProfiles(
  rows: readonly ProfileRow[],
  labels: ArrayLike<number>,
  segmentIds: readonly string[],
  names: readonly string[] = [],
): SegmentProfile[] {
  const k = segmentIds.length;
  const members: ProfileRow[][] = Array.from({ length: k }, () => []);
  rows.forEach((row, i) => {
    const c = labels[i];
    if (c !== undefined && c >= 0 && c < k) members[c]!.push(row);
  });
  const total = members.reduce((s, m) => s + m.length, 0);
  const channels = [...new Set(rows.flatMap((r) => Object.keys(r.channelShares)))].sort();
  return members.map((group, c) => ({
    ...summarise(group, channels),
    segmentId: segmentIds[c]!,
    name: names[c] ?? '',
    share: total > 0 ? group.length / total : 0,
  }));
}

/** The whole sample as one pseudo-segment: the population that names are relative to. */
export function populationProfile(rows: readonly ProfileRow[]): SegmentProfile {
  const channels = [...new Set(rows.flatMap((r) => Object.keys(r.channelShares)))].sort();
  return {
    ...summarise(rows, channels),
    segmentId: 'population',
    name: 'All customers',
    share: rows.length > 0 ? 1 : 0,
  };
}

function summarise(
  group: readonly ProfileRow[],
  channels: readonly string[],
): Omit<SegmentProfile, 'segmentId' | 'name' | 'share'> {
  const size = group.length;
  const features: SegmentProfile['features'] = {};
  for (const name of PROFILE_FEATURES) {
    const sorted = sortedFinite(group.map((r) => r.natural[name] ?? Number.NaN));
    if (sorted.length === 0) continue;
    let sum = 0;
    for (const v of sorted) sum += v;
    features[name] = {
      mean: sum / sorted.length,
      p25: quantileSorted(sorted, 0.25),
      p50: quantileSorted(sorted, 0.5),
      p75: quantileSorted(sorted, 0.75),
    };
  }

  const categoryCounts = new Map<string, number>();
  for (const row of group) {
    for (const category of new Set(row.topCategories))
      categoryCounts.set(category, (categoryCounts.get(category) ?? 0) + 1);
  }
  const topCategories = [...categoryCounts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, PROFILE_TOP_CATEGORIES)
    .map(([category, count]) => ({ category, share: clamp01(count / size) }));

  const channelMix: Record<string, number> = {};
  for (const channel of channels) {
    let sum = 0;
    for (const row of group) {
      const v = row.channelShares[channel];
      if (v !== undefined && Number.isFinite(v)) sum += v;
    }
    channelMix[channel] = size > 0 ? clamp01(sum / size) : 0;
  }

  const withTraits = group.flatMap((r) =>
    r.traits && Number.isFinite(r.traits.clv) && Number.isFinite(r.traits.churnRisk) ? [r.traits] : [],
  );
  const meanClv = withTraits.length ? withTraits.reduce((s, t) => s + t.clv, 0) / withTraits.length : null;
  const meanChurnRisk = withTraits.length ? withTraits.reduce((s, t) => s + t.churnRisk, 0) / withTraits.length : null;

  return { size, features, topCategories, channelMix, meanClv, meanChurnRisk };
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}
