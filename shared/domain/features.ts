import { CHANNELS, type InboundEvent } from '../contracts/inbound';

/** An event as held in the customer's log: the validated detail plus, once known, its text embedding. */
export interface LoggedEvent {
  event: InboundEvent;
  /** Embedding of the event's text; null while the embedding endpoint was unavailable. */
  embedding: Float32Array | null;
}

export interface FeatureSettings {
  activityHalfLifeDays: number;
  interestHalfLifeDays: number;
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
  campaignResponses: number;
  firstSeenAt: string | null;
  lastEventAt: string | null;
  firstOrderAt: string | null;
  lastOrderAt: string | null;
  /** Inputs of the value model, in weeks: repeat purchase days, recency, age, mean repeat-day spend. */
  purchase: { x: number; tx: number; T: number; meanRepeatSpend: number };
  /** Interest: time-decayed mean of embeddings, L2-normalised; null when no text was embedded yet. */
  interest: number[] | null;
  /** Events whose text still lacks an embedding (backfilled on the next successful call). */
  pendingEmbeddings: number;
}

const DAY_MS = 86_400_000;
const WEEK_DAYS = 7;
/** How much a touched text counts in the interest vector, by event type. */
const INTEREST_WEIGHT: Partial<Record<InboundEvent['type'], number>> = {
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
      return null;
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

interface Timed {
  logged: LoggedEvent;
  t: number;
}

/** Canonical order: by event time, then event id. Makes every float sum independent of arrival order. */
function canonical(events: readonly LoggedEvent[]): Timed[] {
  const byId = new Map<string, Timed>();
  for (const logged of events) {
    const e: Timed = { logged, t: Date.parse(logged.event.detail.occurredAt) };
    const prev = byId.get(logged.event.detail.eventId);
    // A duplicate id keeps one deterministic copy: the earliest occurrence, ties by content.
    if (!prev || compareEvents(e, prev) < 0) byId.set(logged.event.detail.eventId, e);
  }
  return [...byId.values()].sort(compareEvents);
}

function compareEvents(a: Timed, b: Timed): number {
  if (a.t !== b.t) return a.t - b.t;
  const ia = a.logged.event.detail.eventId;
  const ib = b.logged.event.detail.eventId;
  if (ia !== ib) return ia < ib ? -1 : 1;
  const ja = JSON.stringify(a.logged.event);
  const jb = JSON.stringify(b.logged.event);
  if (ja !== jb) return ja < jb ? -1 : 1;
  // Same event: prefer the copy that carries an embedding.
  return (b.logged.embedding ? 1 : 0) - (a.logged.embedding ? 1 : 0);
}

/** Whether an event has a text for the interest vector (cheaper than building it). */
function hasText(event: InboundEvent): boolean {
  switch (event.type) {
    case 'order.placed':
    case 'product.viewed':
    case 'search.performed':
      return true;
    case 'cart.updated':
      return event.detail.action === 'added';
    case 'review.submitted':
      return event.detail.text.trim() !== '';
    default:
      return false;
  }
}

function decay(ageMs: number, halfLifeDays: number): number {
  return Math.exp((-Math.LN2 * Math.max(0, ageMs)) / (halfLifeDays * DAY_MS));
}

/**
 * Folds a customer's event log into features as of `asOf`. Exact for late, duplicated and
 * out-of-order events: the result depends only on the set of distinct events and `asOf`.
 */
export function foldEvents(events: readonly LoggedEvent[], asOf: Date, settings: FeatureSettings): CustomerFeatures {
  const now = asOf.getTime();
  const log = canonical(events);
  const orders = new Map<string, { total: number; discount: number; at: string; t: number }>();
  const refunded = new Map<string, number>();
  const channelCounts: Record<Channel, number> = { web: 0, app: 0, store: 0, marketplace: 0 };
  const categoryWeight = new Map<string, number>();
  let views = 0;
  let searches = 0;
  let cartAdds = 0;
  let ratingSum = 0;
  let reviewCount = 0;
  let campaignResponses = 0;
  let pendingEmbeddings = 0;
  let interestSum: Float64Array | null = null;
  let interestWeight = 0;

  const touchCategory = (category: string, weight: number) => {
    const key = category.trim().toLowerCase();
    if (key) categoryWeight.set(key, (categoryWeight.get(key) ?? 0) + weight);
  };

  for (const { logged, t } of log) {
    const { event, embedding } = logged;
    const age = now - t;
    switch (event.type) {
      case 'order.placed': {
        const d = event.detail;
        if (!orders.has(d.orderId))
          orders.set(d.orderId, { total: d.total, discount: d.discount, at: d.occurredAt, t });
        channelCounts[d.channel] += 1;
        for (const item of d.items) touchCategory(item.category, 3 * item.quantity);
        break;
      }
      case 'order.refunded':
        refunded.set(event.detail.orderId, (refunded.get(event.detail.orderId) ?? 0) + event.detail.amount);
        break;
      case 'product.viewed':
        views += decay(age, settings.activityHalfLifeDays);
        channelCounts[event.detail.channel] += 0.25;
        touchCategory(event.detail.category, 1);
        break;
      case 'search.performed':
        searches += decay(age, settings.activityHalfLifeDays);
        break;
      case 'cart.updated':
        if (event.detail.action === 'added') {
          cartAdds += decay(age, settings.activityHalfLifeDays);
          touchCategory(event.detail.category, 2);
        }
        break;
      case 'review.submitted':
        ratingSum += event.detail.rating;
        reviewCount += 1;
        break;
      case 'campaign.responded':
        campaignResponses += 1;
        break;
      case 'customer.erased':
        break;
      default: {
        const unreachable: never = event;
        throw new Error(`unhandled event ${String(unreachable)}`);
      }
    }
    const weight = INTEREST_WEIGHT[event.type];
    if (weight !== undefined && hasText(event)) {
      if (embedding) {
        interestSum ??= new Float64Array(embedding.length);
        if (embedding.length === interestSum.length) {
          const w = weight * decay(age, settings.interestHalfLifeDays);
          for (let j = 0; j < embedding.length; j++) interestSum[j]! += w * embedding[j]!;
          interestWeight += w;
        }
      } else {
        pendingEmbeddings += 1;
      }
    }
  }

  const orderList = [...orders.values()];
  const gross = orderList.reduce((s, o) => s + o.total, 0);
  const discount = orderList.reduce((s, o) => s + o.discount, 0);
  let refundedAmount = 0;
  let refundedOrders = 0;
  for (const [orderId, amount] of refunded) {
    refundedAmount += amount;
    if (orders.has(orderId)) refundedOrders += 1;
  }
  const revenue = Math.max(0, gross - refundedAmount);
  const first = log[0]?.logged.event.detail.occurredAt ?? null;
  const last = log[log.length - 1]?.logged.event.detail.occurredAt ?? null;
  // Orders were visited in time order.
  const firstOrder = orderList[0];
  const lastOrder = orderList[orderList.length - 1];
  const firstOrderAt = firstOrder?.at ?? null;
  const lastOrderAt = lastOrder?.at ?? null;

  const channelTotal = CHANNELS.reduce((s, c) => s + channelCounts[c], 0);
  const channelShares = Object.fromEntries(
    CHANNELS.map((c) => [c, channelTotal > 0 ? channelCounts[c] / channelTotal : 0]),
  ) as Record<Channel, number>;

  const categories = [...categoryWeight.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const catTotal = categories.reduce((s, [, w]) => s + w, 0);
  let entropy = 0;
  for (const [, w] of categories) {
    const p = w / catTotal;
    entropy -= p * Math.log2(p);
  }

  // Value-model inputs: one transaction per customer per UTC day (the CDNOW convention), in weeks.
  const spendByDay = new Map<number, number>();
  for (const o of orderList) {
    const day = Math.floor(o.t / DAY_MS);
    spendByDay.set(day, (spendByDay.get(day) ?? 0) + o.total);
  }
  const days = [...spendByDay.keys()].sort((a, b) => a - b);
  const firstDay = days[0];
  const lastDay = days[days.length - 1];
  const nowDay = now / DAY_MS;
  const repeatSpends = days.slice(1).map((d) => spendByDay.get(d) ?? 0);
  const purchase =
    firstDay === undefined || lastDay === undefined
      ? { x: 0, tx: 0, T: 0, meanRepeatSpend: 0 }
      : {
          x: days.length - 1,
          tx: (lastDay - firstDay) / WEEK_DAYS,
          T: Math.max(0, nowDay - firstDay) / WEEK_DAYS,
          meanRepeatSpend: repeatSpends.length ? repeatSpends.reduce((s, v) => s + v, 0) / repeatSpends.length : 0,
        };

  let interest: number[] | null = null;
  if (interestSum && interestWeight > 0) {
    let norm = 0;
    for (let j = 0; j < interestSum.length; j++) norm += interestSum[j]! ** 2;
    norm = Math.sqrt(norm);
    interest = Array.from(interestSum, (v) => (norm > 0 ? v / norm : 0));
  }

  return {
    eventCount: log.length,
    orders: orderList.length,
    revenue,
    avgOrderValue: orderList.length ? gross / orderList.length : 0,
    daysSinceLastOrder: lastOrder ? Math.max(0, (now - lastOrder.t) / DAY_MS) : null,
    tenureDays: log[0] ? Math.max(0, (now - log[0].t) / DAY_MS) : 0,
    refundRate: orderList.length ? Math.min(1, refundedOrders / orderList.length) : 0,
    reviewCount,
    reviewAverage: reviewCount ? ratingSum / reviewCount : null,
    discountShare: gross + discount > 0 ? discount / (gross + discount) : 0,
    channelShares,
    categoryEntropy: entropy,
    topCategories: categories.slice(0, 5).map(([c]) => c),
    decayedViews: views,
    decayedSearches: searches,
    decayedCartAdds: cartAdds,
    campaignResponses,
    firstSeenAt: first,
    lastEventAt: last,
    firstOrderAt,
    lastOrderAt,
    purchase,
    interest,
    pendingEmbeddings,
  };
}
