import type { RobustScaler } from '../segmentation/model';
import type { CustomerFeatures } from './features';

/**
 * Behaviour features in vector order: what the customer does lately, not how long it has been a customer. Counts,
 * money, channel and discount shares and category entropy are the decayed `recent` tallies (activity half-life), so
 * a customer who changes behaviour moves within about one half-life and a customer who does not stays put as it
 * ages. Age and recency are not in the vector: the lifecycle stage (`lifecycle.changed`) carries them, and putting
 * them here moved every new customer out of its "new" segment as it aged. Average order value, refund rate and
 * review score are lifetime: slow traits of the customer rather than of its week.
 * Heavy-tailed counts and money go through log1p before the robust scaler so that one wholesaler or bot cannot
 * stretch the space; the scaler clips what is left.
 */
export const BEHAVIOUR_FEATURES = [
  'recentOrders',
  'recentSpend',
  'avgOrderValue',
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

/** Days since last order for a customer who never ordered: "as lapsed as it gets" on a recency axis. */
export const NEVER_ORDERED_RECENCY_DAYS = 365;

/** The behaviour row of a customer, in BEHAVIOUR_FEATURES order (log1p'd counts and money, shares in 0..1). */
export function behaviourRow(f: CustomerFeatures): number[] {
  const recent = f.recent;
  const row: Record<BehaviourFeature, number> = {
    recentOrders: Math.log1p(recent.orders),
    recentSpend: Math.log1p(recent.spend),
    avgOrderValue: Math.log1p(f.avgOrderValue),
    refundRate: f.refundRate,
    reviewScore: f.reviewAverage === null ? 0 : (f.reviewAverage - 3) / 2,
    discountShare: recent.discountShare,
    channelWeb: recent.channelShares.web,
    channelApp: recent.channelShares.app,
    channelStore: recent.channelShares.store,
    channelMarketplace: recent.channelShares.marketplace,
    categoryEntropy: recent.categoryEntropy,
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
