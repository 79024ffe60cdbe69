import type { RobustScaler } from '../segmentation/model';
import type { CustomerFeatures } from './features';

/**
 * Behaviour features in vector order. Heavy-tailed counts and money go through log1p before the robust
 * scaler so that one wholesaler or bot cannot stretch the space; the scaler clips what is left.
 */
export const BEHAVIOUR_FEATURES = [
  'orders',
  'revenue',
  'avgOrderValue',
  'recencyDays',
  'tenureDays',
  'refundRate',
  'reviewScore',
  'discountShare',
  'channelWeb',
  'channelApp',
  'channelStore',
  'channelMarketplace',
  'categoryEntropy',
  'views',
  'searches',
  'cartAdds',
] as const;
export type BehaviourFeature = (typeof BEHAVIOUR_FEATURES)[number];

/** Days since last order for a customer who never ordered: "as lapsed as it gets" on the recency axis. */
export const NEVER_ORDERED_RECENCY_DAYS = 365;

export function behaviourRow(f: CustomerFeatures): number[] {
  const row: Record<BehaviourFeature, number> = {
    orders: Math.log1p(f.orders),
    revenue: Math.log1p(f.revenue),
    avgOrderValue: Math.log1p(f.avgOrderValue),
    recencyDays: Math.min(f.daysSinceLastOrder ?? NEVER_ORDERED_RECENCY_DAYS, NEVER_ORDERED_RECENCY_DAYS),
    tenureDays: Math.log1p(f.tenureDays),
    refundRate: f.refundRate,
    reviewScore: f.reviewAverage === null ? 0 : (f.reviewAverage - 3) / 2,
    discountShare: f.discountShare,
    channelWeb: f.channelShares.web,
    channelApp: f.channelShares.app,
    channelStore: f.channelShares.store,
    channelMarketplace: f.channelShares.marketplace,
    categoryEntropy: f.categoryEntropy,
    views: Math.log1p(f.decayedViews),
    searches: Math.log1p(f.decayedSearches),
    cartAdds: Math.log1p(f.decayedCartAdds),
  };
  return BEHAVIOUR_FEATURES.map((name) => row[name]);
}

export function applyScaler(row: readonly number[], scaler: RobustScaler): number[] {
  return row.map((v, j) => {
    const scale = scaler.scale[j] ?? 1;
    const z = (v - (scaler.center[j] ?? 0)) / (scale > 0 ? scale : 1);
    return Math.max(-scaler.clip, Math.min(scaler.clip, z));
  });
}

/**
 * The customer's point in segment space: [w_b · scaled behaviour / √B ; w_i · interest].
 * Dividing by √B puts the behaviour block on the same footing as the unit-norm interest block,
 * so the configured weights mean what they say whatever the feature count.
 */
export function buildVector(
  behaviour: readonly number[],
  interest: readonly number[] | null,
  model: { scaler: RobustScaler; weights: { behaviour: number; interest: number }; embeddingDim: number },
): Float64Array {
  const scaled = applyScaler(behaviour, model.scaler);
  const b = scaled.length;
  const out = new Float64Array(b + model.embeddingDim);
  const wb = model.weights.behaviour / Math.sqrt(Math.max(1, b));
  for (let j = 0; j < b; j++) out[j] = wb * scaled[j]!;
  if (interest && interest.length === model.embeddingDim) {
    for (let j = 0; j < model.embeddingDim; j++) out[b + j] = model.weights.interest * interest[j]!;
  }
  return out;
}
