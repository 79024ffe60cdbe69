import type { CHANNELS, InboundEvent } from '../contracts/inbound';

/** An event as held in the customer's log: the validated detail plus, once known, its text embedding. */
export interface LoggedEvent {
  event: InboundEvent;
  /**
   * Embedding of the event's text; null while the embedding endpoint was unavailable; 'refused' when the model
   * refused the text on its own (never retried).
   */
  embedding: Float32Array | null | 'refused';
}

/** Money: amounts are converted to `base` with fixed `rates` (units of base per unit of the currency). */
export interface CurrencySettings {
  base: string;
  rates: Record<string, number>;
}

export interface FeatureSettings {
  /** Half-life of the decayed view, search and cart-add counts, in days. */
  activityHalfLifeDays: number;
  /** Half-life of a text's weight in the interest vector, in days. */
  interestHalfLifeDays: number;
  /** IANA time zone whose calendar days are purchase days (the stage's schedule time zone). Default UTC. */
  timeZone?: string;
  /** Absent: every amount is taken as it is (one-currency stores and old callers). */
  currency?: CurrencySettings;
}

export type Channel = (typeof CHANNELS)[number];

/** Raw per-customer features, evaluated as of a given instant. Pure function of the event set and `asOf`. */
export interface CustomerFeatures {
  eventCount: number;
  orders: number;
  revenue: number;
  avgOrderValue: number;
  daysSinceLastOrder: number | null;
  tenureDays: number;
  refundRate: number;
  reviewCount: number;
  reviewAverage: number | null;
  discountShare: number;
  channelShares: Record<Channel, number>;
  categoryEntropy: number;
  /** Top categories by interaction weight, most first (at most 5). */
  topCategories: string[];
  decayedViews: number;
  decayedSearches: number;
  decayedCartAdds: number;
  /**
   * Recent behaviour, decayed with the activity half-life (days) and evaluated at `asOf`: orders (a decayed count),
   * spend (decayed order totals, base currency), the discount share of that spend, channel shares and category
   * entropy (bits) of the decayed tallies. Segmentation reads these, so that a customer who changes behaviour moves
   * within about one half-life, whatever its past.
   */
  recent: {
    orders: number;
    spend: number;
    discountShare: number;
    channelShares: Record<Channel, number>;
    categoryEntropy: number;
  };
  campaignResponses: number;
  firstSeenAt: string | null;
  lastEventAt: string | null;
  firstOrderAt: string | null;
  lastOrderAt: string | null;
  /** Inputs of the value model, in weeks: repeat purchase days, recency, age, mean repeat-day spend. */
  purchase: { x: number; tx: number; T: number; meanRepeatSpend: number };
  /** Interest: time-decayed mean of embeddings, L2-normalised; null when no text was embedded yet. */
  interest: number[] | null;
  /** Events whose text still lacks an embedding (merged when the endpoint is back). */
  pendingEmbeddings: number;
  /** Top 10 categories (normalised) with their interaction weights: order item 3·quantity, cart add 2, view 1. */
  categoryWeights: Record<string, number>;
  /** Orders in a currency without a conversion rate: counted as orders, left out of every money feature. */
  unpricedOrders: number;
  /** Top 20 products by 3·ordered + 2·carted + viewed (quantities for orders and carts, events for views). */
  products: { sku: string; ordered: number; carted: number; viewed: number }[];
  /** Up to 20 most recent campaigns (by first response) with the responses seen and the segment delivered to. */
  campaigns: {
    campaignId: string;
    segmentId: string;
    delivered: boolean;
    opened: boolean;
    clicked: boolean;
    converted: boolean;
    firstAt: string;
  }[];
  /** Counts of ratings 1..5. */
  ratings: number[];
  /** Up to 30 terms of the customer's review texts (stop-worded, lower-cased, no digits) with counts. */
  reviewTerms: Record<string, number>;
}

/** How much a touched text counts in the interest vector, by event type. */
export const INTEREST_WEIGHT: Partial<Record<InboundEvent['type'], number>> = {
  'order.placed': 3,
  'cart.updated': 2,
  'review.submitted': 2,
  'product.viewed': 1,
  'search.performed': 1,
};

/** The text of an event that feeds the interest vector, or null when it has none. */
export function eventText(event: InboundEvent): string | null {
  switch (event.type) {
    case 'order.placed':
      return event.detail.items
        .map((i) => `${i.title} ${i.category}`)
        .join(' | ')
        .slice(0, 2_000);
    case 'product.viewed':
      return `${event.detail.title} ${event.detail.category}`;
    case 'cart.updated':
      return event.detail.action === 'added' ? `${event.detail.title} ${event.detail.category}` : null;
    case 'search.performed':
      return event.detail.query;
    case 'review.submitted':
      return event.detail.text.trim() === '' ? null : event.detail.text;
    case 'order.refunded':
    case 'campaign.responded':
    case 'customer.erased':
    case 'customer.merged':
      return null;
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

/**
 * A category as one key, however the storefront spelled it: Unicode NFKC (full-width and composed forms fold
 * together), case-folded, inner white space collapsed, trimmed. Empty means no category.
 */
export function normaliseCategory(raw: string): string {
  return raw.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

// A short English stop list: terms that say nothing about what sets a segment's reviews apart.
const STOP_WORDS = new Set(
  (
    "the and for with this that was are but not you your have has had its it's our out all any can get got too very " +
    'just one two from they them then than there their what when which who will would could should about after again ' +
    'also been being before both did does doing down each few more most much such only own same some into over under ' +
    'once here why how where while were she him her his hers mine ours yours myself itself these those because until ' +
    'off per via yes nor now ever even still well really quite item product bought buy order ordered'
  ).split(' '),
);

/** Distinct terms of a review text: letters only, 3 to 30 characters, lower-cased, no stop words, at most 50. */
export function reviewTerms(text: string): string[] {
  const terms = new Set<string>();
  for (const m of text
    .normalize('NFKC')
    .toLowerCase()
    .matchAll(/\p{L}{3,30}/gu)) {
    if (!STOP_WORDS.has(m[0])) terms.add(m[0]);
    if (terms.size >= 50) break;
  }
  return [...terms];
}

const DAY_MS = 86_400_000;
const WEEK_DAYS = 7;

/**
 * Re-evaluates the time-dependent features of a stored profile (computed as of `from`) as of `at`, without reading
 * the event log. This is what ScanShard and AssignShard do for every customer each night, and how the real-time path probes a
 * customer's nightly marks; re-folding every log
 * would cost one Query per customer.
 *
 * It equals `foldEvents(log, at)` up to floating-point rounding whenever no event is later than `from` (always the
 * case for a profile folded at `from`):
 * - `daysSinceLastOrder` and `tenureDays` are recomputed from the stored `lastOrderAt` and `firstSeenAt`;
 * - the decayed view, search and cart-add counts, and the recent orders and spend, are sums of exp(-λ·age): every
 *   term shrinks by the same factor exp(-ln2·Δ/halfLife) when the clock moves by Δ, so the sum does too (the recent
 *   shares and entropy are ratios of such sums: they do not move);
 * - `purchase.T` (weeks) is recounted from the UTC day of the first order, the fold's convention; x, t_x and the
 *   mean repeat spend do not depend on the clock;
 * - the interest vector is a decayed *mean*, L2-normalised: the common factor cancels, so it does not move.
 * Everything else is a function of the event set alone. `at` not after `from` returns the features unchanged.
 */
export function refreshFeatures(
  features: CustomerFeatures,
  from: Date,
  at: Date,
  settings: FeatureSettings,
): CustomerFeatures {
  const deltaMs = at.getTime() - from.getTime();
  if (!(deltaMs > 0)) return features;
  const now = at.getTime();
  const activity = Math.exp((-Math.LN2 * deltaMs) / (settings.activityHalfLifeDays * DAY_MS));
  const firstOrderDay = features.firstOrderAt ? Math.floor(Date.parse(features.firstOrderAt) / DAY_MS) : null;
  const purchase =
    features.orders > 0 && firstOrderDay !== null && Number.isFinite(firstOrderDay)
      ? {
          ...features.purchase,
          T: Math.max(features.purchase.tx, Math.max(0, now / DAY_MS - firstOrderDay) / WEEK_DAYS),
        }
      : features.purchase;
  return {
    ...features,
    daysSinceLastOrder: features.lastOrderAt ? Math.max(0, (now - Date.parse(features.lastOrderAt)) / DAY_MS) : null,
    tenureDays: features.firstSeenAt
      ? Math.max(0, (now - Date.parse(features.firstSeenAt)) / DAY_MS)
      : features.tenureDays,
    decayedViews: features.decayedViews * activity,
    decayedSearches: features.decayedSearches * activity,
    decayedCartAdds: features.decayedCartAdds * activity,
    recent: features.recent
      ? {
          ...features.recent,
          orders: features.recent.orders * activity,
          spend: features.recent.spend * activity,
        }
      : features.recent,
    purchase,
  };
}
