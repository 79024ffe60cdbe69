import type { SegmentProfile } from '../contracts/outbound';
import type { CustomerFeatures } from '../domain/features';
import { naturalFeatures } from '../recluster/rows';
import { PROFILE_FEATURES, type ProfileFeature } from '../segmentation/profiles';
import type { WhyFeature } from '../contracts/query';

const UNITS: Record<ProfileFeature, WhyFeature['unit']> = {
  orders: 'orders',
  revenue: 'currency',
  avgOrderValue: 'currency',
  daysSinceLastOrder: 'days',
  tenureDays: 'days',
  refundRate: 'share',
  discountShare: 'share',
  views: 'decayed events',
  searches: 'decayed events',
  cartAdds: 'decayed events',
};

/** Features closer to the segment's median than this many IQRs do not set the customer apart. */
export const WHY_MIN_IQR_UNITS = 0.5;

/**
 * Why the customer is where it is: the natural-unit features (PROFILE_FEATURES: orders, money in the base currency,
 * days, shares, decayed event counts) on which it differs most from its segment's centre, most distinctive first.
 *
 * The centre is the segment's median of each feature (the model's segment profile, fitted on the nightly sample).
 * Distinctiveness is the difference in interquartile ranges of the segment, `(x − median) / IQR`: a robust z-score,
 * the same measure the model's robust scaler uses (median and IQR). When the segment's IQR is 0 (most members alike),
 * the scale falls back to max(|median|, 1) natural units, so a customer who differs from a uniform segment still
 * shows, and 0/0 never happens. Features within WHY_MIN_IQR_UNITS are left out; at most `limit` are returned. Pure.
 */
export function explainCustomer(features: CustomerFeatures, profile: SegmentProfile | null, limit = 5): WhyFeature[] {
  if (!profile) return [];
  const natural = naturalFeatures(features);
  const out: WhyFeature[] = [];
  for (const feature of PROFILE_FEATURES) {
    const stats = profile.features[feature];
    const x = natural[feature];
    if (!stats || x === undefined || !Number.isFinite(x)) continue;
    const iqr = stats.p75 - stats.p25;
    const scale = iqr > 0 ? iqr : Math.max(Math.abs(stats.p50), 1);
    const difference = x - stats.p50;
    const iqrUnits = difference / scale;
    if (Math.abs(iqrUnits) < WHY_MIN_IQR_UNITS) continue;
    out.push({
      feature,
      unit: UNITS[feature],
      customer: x,
      segmentMedian: stats.p50,
      difference,
      iqrUnits,
      direction: difference > 0 ? 'above' : 'below',
    });
  }
  return out
    .sort((a, b) => Math.abs(b.iqrUnits) - Math.abs(a.iqrUnits) || (a.feature < b.feature ? -1 : 1))
    .slice(0, limit);
}
