/**
 * The customer's mergeable state: every feature in `CustomerFeatures` as a merge of per-event contributions.
 *
 * A batch applies only its new events (`applyEvent`), so the work per event does not depend on how many events the
 * customer has. Every contribution is commutative: counts, sums, min and max, per-category and per-channel tallies,
 * the map of orders (keyed by order id, the canonical copy being the earliest by (time, event id)), and time-decayed
 * sums kept relative to a reference instant `ref` that only moves forward. Applying any permutation of a set of
 * distinct events gives the same state up to floating-point rounding (≤ 1e-12 relative), and `featuresOf` evaluates
 * it at any instant. `foldEvents` (shared/domain/features.ts) is the reference: a replay of the whole log in
 * canonical order.
 *
 * Bounded tallies (products, review terms, campaigns, categories, texts awaiting an embedding) keep a working set of
 * fixed size, so a customer's item cannot outgrow DynamoDB's 400 KB; they are exact while the customer stays within
 * the bound and approximate (heavy hitters) beyond it. The order map is not bounded: it holds the lifetime facts that
 * outlive the event log's retention (first order, lifetime orders and revenue, purchase days), about 100 bytes per
 * order.
 */
import { CHANNELS, type InboundEvent, type OrderPlaced } from '../contracts/inbound';
import {
  INTEREST_WEIGHT,
  eventText,
  normaliseCategory,
  reviewTerms,
  type Channel,
  type CustomerFeatures,
  type FeatureSettings,
} from '../domain/features';
import { localDayNumber, toBase, zoneOffsetMs } from './money-time';

/** Bumped whenever a feature definition changes: `npx shoal refold` rebuilds states of an older version. */
export const FEATURE_VERSION = 3;

export const BOUNDS = {
  categories: 200,
  products: 64,
  reviewTerms: 64,
  campaigns: 20,
  pendingTexts: 32,
  /** Categories in the decayed (recent) category tally. */
  recentCategories: 32,
} as const;

/** Bucket for categories beyond `BOUNDS.categories`. */
export const OTHER_CATEGORY = '(other)';

export interface OrderFact {
  /** Event time of the canonical order.placed copy (ms since the Unix epoch); refund-only entries: the refund's. */
  t: number;
  /** Event id of the canonical copy ('' while only refunds were seen). */
  eventId: string;
  placed: boolean;
  total: number;
  discount: number;
  currency: string;
  channel: Channel | null;
  /** Refunded amounts by currency, as sent. */
  refunds: Record<string, number>;
}

/**
 * Orders placed before `watermark` (the start of a local day), summarised: counts and money in the base currency, and
 * the purchase days the value model needs (how many, the first and last, the spend of the repeat days). Every live
 * order is on a later day, so a day is never split between the summary and the live map.
 */
export interface CompactedOrders {
  watermark: number;
  orders: number;
  priced: number;
  gross: number;
  discount: number;
  revenue: number;
  refundedOrders: number;
  unpricedOrders: number;
  days: number;
  firstDay: number | null;
  lastDay: number | null;
  firstT: number | null;
  lastT: number | null;
  repeatSpend: number;
  pricedRepeatDays: number;
}

/** The order map is compacted when it holds more than this many entries, down to COMPACT_TO. */
export const MAX_LIVE_ORDERS = 256;
const COMPACT_TO = 192;

export interface CampaignFact {
  segmentId: string;
  /** Bit mask of responses seen: 1 delivered, 2 opened, 4 clicked, 8 converted. */
  responses: number;
  firstT: number;
}

export interface PendingText {
  text: string;
  /** Interest weight of the event (by type). */
  w: number;
  t: number;
}

export interface CustomerState {
  v: number;
  /** Distinct events applied. */
  events: number;
  firstT: number | null;
  lastT: number | null;
  orders: Record<string, OrderFact>;
  /** Orders older than `compacted.watermark`, summarised once the live map held MAX_LIVE_ORDERS (null: none yet). */
  compacted: CompactedOrders | null;
  channels: Record<Channel, number>;
  categories: Record<string, number>;
  /** Reference instant (ms) of every decayed sum below: the latest event time applied. */
  ref: number | null;
  views: number;
  searches: number;
  cartAdds: number;
  /** Σ w·2^(−(ref − t)/h_interest)·embedding, and Σ of the weights alone. */
  interest: number[] | null;
  interestWeight: number;
  pending: PendingText[];
  /** Texts that could not be kept in `pending` (its bound was reached). */
  pendingOverflow: number;
  /** Texts the embedding model refused on their own: counted, never retried. */
  notEmbeddable: number;
  ratings: [number, number, number, number, number];
  reviewTerms: Record<string, number>;
  /** sku -> [ordered, carted, viewed]. */
  products: Record<string, [number, number, number]>;
  campaigns: Record<string, CampaignFact>;
  campaignResponses: number;
  /** Recent behaviour: decayed with the activity half-life, at `ref` (see RecentTally). */
  recent: RecentTally;
}

/**
 * What the customer does lately: the same contributions as the lifetime channel and category tallies, each weighted
 * 2^(−(ref − t)/h) with h the activity half-life (days), so that a change of behaviour shows within about one
 * half-life whatever the customer's past. Recent orders and spend are not kept here: `featuresOf` weighs the live
 * order map (one canonical copy per order id, refunds netted), so a resent order is never counted twice.
 */
export interface RecentTally {
  /** Decayed per-channel tallies: an order 1, a view 0.25 (as `channels`). */
  channels: Record<Channel, number>;
  /** Decayed category weights (as `categories`), at most BOUNDS.recentCategories. */
  categories: Record<string, number>;
}

export function emptyRecent(): RecentTally {
  return { channels: { web: 0, app: 0, store: 0, marketplace: 0 }, categories: {} };
}

export function emptyState(): CustomerState {
  return {
    v: FEATURE_VERSION,
    events: 0,
    firstT: null,
    lastT: null,
    orders: {},
    compacted: null,
    channels: { web: 0, app: 0, store: 0, marketplace: 0 },
    categories: {},
    ref: null,
    views: 0,
    searches: 0,
    cartAdds: 0,
    interest: null,
    interestWeight: 0,
    pending: [],
    pendingOverflow: 0,
    notEmbeddable: 0,
    ratings: [0, 0, 0, 0, 0],
    reviewTerms: {},
    products: {},
    campaigns: {},
    campaignResponses: 0,
    recent: emptyRecent(),
  };
}

/** A copy of the state that `applyEvent` can mutate without touching the original (cheaper than structuredClone). */
export function cloneState(s: CustomerState): CustomerState {
  const orders: Record<string, OrderFact> = {};
  for (const id in s.orders) {
    const o = s.orders[id]!;
    orders[id] = { ...o, refunds: { ...o.refunds } };
  }
  const products: Record<string, [number, number, number]> = {};
  for (const sku in s.products) {
    const p = s.products[sku]!;
    products[sku] = [p[0], p[1], p[2]];
  }
  const campaigns: Record<string, CampaignFact> = {};
  for (const id in s.campaigns) campaigns[id] = { ...s.campaigns[id]! };
  return {
    ...s,
    orders,
    compacted: s.compacted ? { ...s.compacted } : null,
    channels: { ...s.channels },
    categories: { ...s.categories },
    interest: s.interest ? s.interest.slice() : null,
    pending: s.pending.slice(),
    ratings: [...s.ratings],
    reviewTerms: { ...s.reviewTerms },
    products,
    campaigns,
    recent: {
      ...s.recent,
      channels: { ...s.recent.channels },
      categories: { ...s.recent.categories },
    },
  };
}

const DAY_MS = 86_400_000;
const RESPONSE_BIT = { delivered: 1, opened: 2, clicked: 4, converted: 8 } as const;

/** 2^(−Δ/h) for Δ in ms and h in days. */
function halfLifeFactor(deltaMs: number, halfLifeDays: number): number {
  return Math.exp((-Math.LN2 * deltaMs) / (halfLifeDays * DAY_MS));
}

/** The embedding of an event's text: a vector, `null` while not embedded yet, or 'refused' (never embeddable). */
export type EventEmbedding = Float32Array | null | 'refused';

/**
 * Merges one event into the state, in place. The caller guarantees the event id was not applied before
 * (duplicates are found by id before this is called). Pure apart from mutating `s`.
 */
export function applyEvent(
  s: CustomerState,
  event: InboundEvent,
  embedding: EventEmbedding,
  settings: FeatureSettings,
): void {
  const t = Date.parse(event.detail.occurredAt);
  s.events += 1;
  s.firstT = s.firstT === null ? t : Math.min(s.firstT, t);
  s.lastT = s.lastT === null ? t : Math.max(s.lastT, t);
  moveRef(s, t, settings);
  const ref = s.ref!;
  const activity = halfLifeFactor(ref - t, settings.activityHalfLifeDays);

  switch (event.type) {
    case 'order.placed': {
      const d = event.detail;
      const fact = s.orders[d.orderId];
      if (!fact && s.compacted && t < s.compacted.watermark) {
        addLateOrder(s.compacted, d, settings); // older than the summary: counts and money only
      } else {
        const canonical = !fact || !fact.placed || t < fact.t || (t === fact.t && d.eventId < fact.eventId);
        if (canonical) {
          s.orders[d.orderId] = {
            t,
            eventId: d.eventId,
            placed: true,
            total: d.total,
            discount: d.discount,
            currency: d.currency,
            channel: d.channel,
            refunds: fact?.refunds ?? {},
          };
        }
      }
      s.channels[d.channel] += 1;
      s.recent.channels[d.channel] += activity;
      for (const item of d.items) {
        touchCategory(s, item.category, 3 * item.quantity);
        touchRecentCategory(s, item.category, 3 * item.quantity * activity);
        touchProduct(s, item.sku, 0, item.quantity);
      }
      break;
    }
    case 'order.refunded': {
      const d = event.detail;
      const fact = s.orders[d.orderId] ?? {
        t,
        eventId: '',
        placed: false,
        total: 0,
        discount: 0,
        currency: d.currency,
        channel: null,
        refunds: {},
      };
      // A refund of an order that is not live and older than the summary names a compacted (or unknown) order.
      if (!s.orders[d.orderId] && s.compacted && t < s.compacted.watermark) break;
      fact.refunds[d.currency] = (fact.refunds[d.currency] ?? 0) + d.amount;
      s.orders[d.orderId] = fact;
      break;
    }
    case 'product.viewed':
      s.views += activity;
      s.channels[event.detail.channel] += 0.25;
      s.recent.channels[event.detail.channel] += 0.25 * activity;
      touchCategory(s, event.detail.category, 1);
      touchRecentCategory(s, event.detail.category, activity);
      touchProduct(s, event.detail.sku, 2, 1);
      break;
    case 'search.performed':
      s.searches += activity;
      break;
    case 'cart.updated':
      if (event.detail.action === 'added') {
        s.cartAdds += activity;
        touchCategory(s, event.detail.category, 2);
        touchRecentCategory(s, event.detail.category, 2 * activity);
        touchProduct(s, event.detail.sku, 1, event.detail.quantity);
      }
      break;
    case 'review.submitted': {
      const r = event.detail.rating;
      s.ratings[r - 1] = (s.ratings[r - 1] ?? 0) + 1;
      for (const term of reviewTerms(event.detail.text)) {
        bump(s.reviewTerms, term, 1, BOUNDS.reviewTerms);
      }
      break;
    }
    case 'campaign.responded': {
      const d = event.detail;
      s.campaignResponses += 1;
      const c = s.campaigns[d.campaignId];
      if (c) {
        c.responses |= RESPONSE_BIT[d.response];
        // The segment it was delivered to: the delivery's own, else the earliest response's.
        if (d.response === 'delivered' || t < c.firstT) c.segmentId = d.segmentId;
        c.firstT = Math.min(c.firstT, t);
      } else {
        s.campaigns[d.campaignId] = { segmentId: d.segmentId, responses: RESPONSE_BIT[d.response], firstT: t };
        boundCampaigns(s);
      }
      break;
    }
    case 'customer.erased':
    case 'customer.merged':
      break;
    default: {
      const unreachable: never = event;
      throw new Error(`unhandled event ${String(unreachable)}`);
    }
  }

  if ((event.type === 'order.placed' || event.type === 'order.refunded') && liveOrderCount(s) > MAX_LIVE_ORDERS) {
    compactOrders(s, settings);
  }

  const weight = INTEREST_WEIGHT[event.type];
  const text = weight === undefined ? null : eventText(event);
  if (weight !== undefined && text !== null) {
    if (embedding === 'refused') s.notEmbeddable += 1;
    else if (embedding) addInterest(s, embedding, weight, t, settings);
    else if (s.pending.length < BOUNDS.pendingTexts) s.pending.push({ text, w: weight, t });
    else s.pendingOverflow += 1;
  }
}

/** Adds an embedded text to the interest sum (also how a pending text is merged once the endpoint is back). */
export function addInterest(
  s: CustomerState,
  embedding: Float32Array | readonly number[],
  weight: number,
  t: number,
  settings: FeatureSettings,
): void {
  moveRef(s, t, settings);
  const w = weight * halfLifeFactor(s.ref! - t, settings.interestHalfLifeDays);
  if (!s.interest) s.interest = new Array<number>(embedding.length).fill(0);
  if (embedding.length !== s.interest.length) return; // another model's dimension: ignored, like the fold
  for (let j = 0; j < embedding.length; j++) s.interest[j]! += w * embedding[j]!;
  s.interestWeight += w;
}

/** Rescales every decayed sum to a later reference instant; never moves backwards. */
function moveRef(s: CustomerState, t: number, settings: FeatureSettings): void {
  if (s.ref === null) {
    s.ref = t;
    return;
  }
  if (t <= s.ref) return;
  const a = halfLifeFactor(t - s.ref, settings.activityHalfLifeDays);
  const b = halfLifeFactor(t - s.ref, settings.interestHalfLifeDays);
  s.views *= a;
  s.searches *= a;
  s.cartAdds *= a;
  scaleRecent(s.recent, a);
  if (s.interest) for (let j = 0; j < s.interest.length; j++) s.interest[j]! *= b;
  s.interestWeight *= b;
  s.ref = t;
}

function touchCategory(s: CustomerState, raw: string, weight: number): void {
  const key = normaliseCategory(raw);
  if (!key) return;
  if (key in s.categories || Object.keys(s.categories).length < BOUNDS.categories) {
    s.categories[key] = (s.categories[key] ?? 0) + weight;
  } else {
    s.categories[OTHER_CATEGORY] = (s.categories[OTHER_CATEGORY] ?? 0) + weight;
  }
}

function touchRecentCategory(s: CustomerState, raw: string, weight: number): void {
  const key = normaliseCategory(raw);
  if (!key) return;
  bump(s.recent.categories, key, weight, BOUNDS.recentCategories);
}

function scaleRecent(r: RecentTally, a: number): void {
  for (const c of CHANNELS) r.channels[c] *= a;
  for (const k in r.categories) r.categories[k]! *= a;
}

function productWeight(p: readonly [number, number, number]): number {
  return 3 * p[0] + 2 * p[1] + p[2];
}

function touchProduct(s: CustomerState, sku: string, slot: 0 | 1 | 2, amount: number): void {
  let p = s.products[sku];
  if (!p) {
    evictLightest(s.products, BOUNDS.products, productWeight);
    p = [0, 0, 0];
    s.products[sku] = p;
  }
  p[slot] += amount;
}

function bump(tally: Record<string, number>, key: string, by: number, bound: number): void {
  if (!(key in tally)) evictLightest(tally, bound, (v) => v);
  tally[key] = (tally[key] ?? 0) + by;
}

/** Space-saving eviction: when full, the lightest entry (ties: the greatest key) makes room. */
function evictLightest<V>(tally: Record<string, V>, bound: number, weight: (v: V) => number): void {
  const keys = Object.keys(tally);
  if (keys.length < bound) return;
  let victim: string | null = null;
  let least = Infinity;
  for (const k of keys) {
    const w = weight(tally[k]!);
    if (w < least || (w === least && victim !== null && k > victim)) {
      least = w;
      victim = k;
    }
  }
  if (victim !== null) delete tally[victim];
}

function boundCampaigns(s: CustomerState): void {
  const ids = Object.keys(s.campaigns);
  if (ids.length <= BOUNDS.campaigns) return;
  ids.sort((a, b) => s.campaigns[a]!.firstT - s.campaigns[b]!.firstT || (a < b ? -1 : 1));
  for (const id of ids.slice(0, ids.length - BOUNDS.campaigns)) delete s.campaigns[id];
}

/** Net spend of an order in the base currency (never below 0), or null when a currency has no rate. */
function netSpend(o: OrderFact, settings: FeatureSettings): { gross: number; net: number; discount: number } | null {
  const gross = toBase(o.total, o.currency, settings);
  const discount = toBase(o.discount, o.currency, settings);
  if (gross === null || discount === null) return null;
  let refunded = 0;
  for (const [currency, amount] of Object.entries(o.refunds)) {
    const r = toBase(amount, currency, settings);
    if (r === null) return { gross, net: gross, discount }; // a refund that cannot be converted is not subtracted
    refunded += r;
  }
  return { gross, net: Math.max(0, gross - refunded), discount };
}

interface DayFact {
  day: number;
  spend: number;
  priced: boolean;
}

/** The live orders' money in the base currency and their purchase days, in time order. */
function orderBook(s: CustomerState, settings: FeatureSettings) {
  const placed = Object.values(s.orders).filter((o) => o.placed);
  placed.sort((a, b) => a.t - b.t || (a.eventId < b.eventId ? -1 : 1));
  const book = { placed, gross: 0, discount: 0, revenue: 0, priced: 0, refundedOrders: 0, unpricedOrders: 0 };
  const byDay = new Map<number, DayFact & { bought: boolean }>();
  for (const o of placed) {
    const money = netSpend(o, settings);
    if (Object.keys(o.refunds).length > 0) book.refundedOrders += 1;
    const day = localDayNumber(o.t, settings);
    const entry = byDay.get(day) ?? { day, spend: 0, priced: false, bought: false };
    if (money === null) {
      book.unpricedOrders += 1;
      entry.bought = true;
    } else {
      book.priced += 1;
      book.gross += money.gross;
      book.discount += money.discount;
      book.revenue += money.net;
      if (money.net > 0 || money.gross === 0) {
        entry.bought = true;
        entry.spend += money.net;
        entry.priced = true;
      }
    }
    byDay.set(day, entry);
  }
  const days: DayFact[] = [...byDay.values()].filter((e) => e.bought).sort((a, b) => a.day - b.day);
  return { ...book, days };
}

function liveOrderCount(s: CustomerState): number {
  let n = 0;
  for (const _ in s.orders) n += 1;
  return n;
}

/**
 * Moves the oldest live orders into the summary, keeping the newest COMPACT_TO: everything before the start of the
 * local day of the oldest order kept. Refund-only entries older than that are dropped (their order was compacted
 * or never came).
 */
function compactOrders(s: CustomerState, settings: FeatureSettings): void {
  const placed = Object.values(s.orders)
    .filter((o) => o.placed)
    .sort((a, b) => a.t - b.t);
  const keepFrom = placed[Math.max(0, placed.length - COMPACT_TO)];
  if (!keepFrom) return;
  const offset = zoneOffsetMs(keepFrom.t, settings.timeZone ?? 'UTC');
  const watermark = keepFrom.t - ((((keepFrom.t + offset) % DAY_MS) + DAY_MS) % DAY_MS);
  const old: Record<string, OrderFact> = {};
  for (const [id, o] of Object.entries(s.orders)) {
    if (o.t < watermark) {
      if (o.placed) old[id] = o;
      delete s.orders[id];
    }
  }
  const book = orderBook({ ...s, orders: old }, settings);
  const c: CompactedOrders = s.compacted ?? {
    watermark,
    orders: 0,
    priced: 0,
    gross: 0,
    discount: 0,
    revenue: 0,
    refundedOrders: 0,
    unpricedOrders: 0,
    days: 0,
    firstDay: null,
    lastDay: null,
    firstT: null,
    lastT: null,
    repeatSpend: 0,
    pricedRepeatDays: 0,
  };
  c.watermark = Math.max(c.watermark, watermark);
  c.orders += book.placed.length;
  c.priced += book.priced;
  c.gross += book.gross;
  c.discount += book.discount;
  c.revenue += book.revenue;
  c.refundedOrders += book.refundedOrders;
  c.unpricedOrders += book.unpricedOrders;
  for (const d of book.days) {
    if (c.days > 0 && d.priced) {
      c.repeatSpend += d.spend;
      c.pricedRepeatDays += 1;
    }
    c.firstDay ??= d.day;
    c.lastDay = d.day;
    c.days += 1;
  }
  c.firstT ??= book.placed[0]?.t ?? null;
  c.lastT = book.placed[book.placed.length - 1]?.t ?? c.lastT;
  s.compacted = c;
}

/** An order dated before the summary's watermark that arrives late: its count and money, not a purchase day. */
function addLateOrder(c: CompactedOrders, d: OrderPlaced, settings: FeatureSettings): void {
  const gross = toBase(d.total, d.currency, settings);
  const discount = toBase(d.discount, d.currency, settings);
  c.orders += 1;
  if (gross === null || discount === null) {
    c.unpricedOrders += 1;
    return;
  }
  c.priced += 1;
  c.gross += gross;
  c.discount += discount;
  c.revenue += gross;
}

/**
 * Features as of `asOf`, from the state alone. Time-dependent features (recency, tenure, decayed counts, T) are
 * exact at any instant: decayed sums are rescaled from `ref` to `asOf` (an event dated after `asOf`, within the
 * accepted clock skew, weighs 2^(skew/half-life) > 1, exactly as in the reference fold).
 *
 * Money is in the base currency (`settings.currency`); an order in a currency without a rate counts as an order and
 * a purchase day but is left out of revenue, AOV, discount share and spend (counted in `unpricedOrders`). A fully
 * refunded order is not a purchase: it is no purchase day and carries no spend; a partial refund nets its day's spend.
 * Purchase days are calendar days in `settings.timeZone`.
 */
export function featuresOf(s: CustomerState, asOf: Date, settings: FeatureSettings): CustomerFeatures {
  const now = asOf.getTime();
  const book = orderBook(s, settings);
  const { placed } = book;
  const c = s.compacted;
  const nowDay = localDayNumber(now, settings, true);
  // Purchase days: the summary's (all earlier), then the live ones.
  const liveDays = book.days;
  const totalDays = (c?.days ?? 0) + liveDays.length;
  const firstDay = c?.firstDay ?? liveDays[0]?.day;
  const lastDay = liveDays[liveDays.length - 1]?.day ?? c?.lastDay ?? undefined;
  const liveRepeat = (c?.days ?? 0) > 0 ? liveDays : liveDays.slice(1);
  const pricedRepeat = liveRepeat.filter((d) => d.priced);
  const repeatCount = (c?.pricedRepeatDays ?? 0) + pricedRepeat.length;
  const repeatSpend = (c?.repeatSpend ?? 0) + pricedRepeat.reduce((sum, d) => sum + d.spend, 0);
  const purchase =
    totalDays === 0 || firstDay === undefined || firstDay === null || lastDay === undefined || lastDay === null
      ? { x: 0, tx: 0, T: 0, meanRepeatSpend: 0 }
      : {
          x: totalDays - 1,
          tx: (lastDay - firstDay) / 7,
          // Clamped so that t_x ≤ T for an order dated ahead of the clock (within the accepted skew).
          T: Math.max((lastDay - firstDay) / 7, Math.max(0, nowDay - firstDay) / 7),
          meanRepeatSpend: repeatCount ? repeatSpend / repeatCount : 0,
        };
  const orders = (c?.orders ?? 0) + placed.length;
  const gross = (c?.gross ?? 0) + book.gross;
  const discount = (c?.discount ?? 0) + book.discount;
  const revenue = (c?.revenue ?? 0) + book.revenue;
  const priced = (c?.priced ?? 0) + book.priced;
  const refundedOrders = (c?.refundedOrders ?? 0) + book.refundedOrders;
  const unpricedOrders = (c?.unpricedOrders ?? 0) + book.unpricedOrders;
  const firstOrderT = c?.firstT ?? placed[0]?.t ?? null;
  const lastOrderT = placed[placed.length - 1]?.t ?? c?.lastT ?? null;

  const channelTotal = CHANNELS.reduce((sum, c) => sum + s.channels[c], 0);
  const channelShares = Object.fromEntries(
    CHANNELS.map((c) => [c, channelTotal > 0 ? s.channels[c] / channelTotal : 0]),
  ) as Record<Channel, number>;
  const categories = Object.entries(s.categories).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const catTotal = categories.reduce((sum, [, w]) => sum + w, 0);
  let entropy = 0;
  for (const [, w] of categories) {
    const p = w / catTotal;
    if (p > 0) entropy -= p * Math.log2(p);
  }

  const ref = s.ref ?? now;
  const activity = halfLifeFactor(now - ref, settings.activityHalfLifeDays);
  let interest: number[] | null = null;
  if (s.interest && s.interestWeight > 0) {
    const norm = Math.sqrt(s.interest.reduce((sum, v) => sum + v * v, 0));
    interest = s.interest.map((v) => (norm > 0 ? v / norm : 0));
  }
  const r = s.recent;
  const recentChannelTotal = CHANNELS.reduce((sum, c) => sum + r.channels[c], 0);
  const recentCategoryTotal = Object.values(r.categories).reduce((sum, w) => sum + w, 0);
  let recentEntropy = 0;
  for (const w of Object.values(r.categories)) {
    const p = recentCategoryTotal > 0 ? w / recentCategoryTotal : 0;
    if (p > 0) recentEntropy -= p * Math.log2(p);
  }
  // Recent orders and spend from the live order map (orders behind the compaction watermark have at least
  // COMPACT_TO newer orders: their weight is left out).
  let recentOrders = 0;
  let recentGross = 0;
  let recentDiscount = 0;
  for (const o of placed) {
    const w = halfLifeFactor(now - o.t, settings.activityHalfLifeDays);
    recentOrders += w;
    const money = netSpend(o, settings);
    if (money === null) continue;
    recentGross += w * money.net;
    recentDiscount += w * money.discount;
  }
  const recent: CustomerFeatures['recent'] = {
    orders: recentOrders,
    spend: recentGross,
    discountShare: recentGross + recentDiscount > 0 ? recentDiscount / (recentGross + recentDiscount) : 0,
    channelShares: Object.fromEntries(
      CHANNELS.map((c) => [c, recentChannelTotal > 0 ? r.channels[c] / recentChannelTotal : 0]),
    ) as Record<Channel, number>,
    categoryEntropy: recentEntropy,
  };
  const reviewCount = s.ratings.reduce((a, b) => a + b, 0);
  const ratingSum = s.ratings.reduce((sum, n, i) => sum + n * (i + 1), 0);
  const iso = (t: number | null | undefined) => (t === null || t === undefined ? null : new Date(t).toISOString());

  return {
    eventCount: s.events,
    orders,
    revenue,
    avgOrderValue: priced ? gross / priced : 0,
    daysSinceLastOrder: lastOrderT === null ? null : Math.max(0, (now - lastOrderT) / DAY_MS),
    tenureDays: s.firstT === null ? 0 : Math.max(0, (now - s.firstT) / DAY_MS),
    refundRate: orders ? Math.min(1, refundedOrders / orders) : 0,
    reviewCount,
    reviewAverage: reviewCount ? ratingSum / reviewCount : null,
    discountShare: gross + discount > 0 ? discount / (gross + discount) : 0,
    channelShares,
    categoryEntropy: entropy,
    topCategories: categories.slice(0, 5).map(([c]) => c),
    categoryWeights: Object.fromEntries(categories.slice(0, 10)),
    decayedViews: s.views * activity,
    decayedSearches: s.searches * activity,
    decayedCartAdds: s.cartAdds * activity,
    recent,
    campaignResponses: s.campaignResponses,
    firstSeenAt: iso(s.firstT),
    lastEventAt: iso(s.lastT),
    firstOrderAt: iso(firstOrderT),
    lastOrderAt: iso(lastOrderT),
    purchase,
    interest,
    pendingEmbeddings: s.pending.length + s.pendingOverflow,
    unpricedOrders,
    products: Object.entries(s.products)
      .sort((a, b) => productWeight(b[1]) - productWeight(a[1]) || (a[0] < b[0] ? -1 : 1))
      .slice(0, 20)
      .map(([sku, [ordered, carted, viewed]]) => ({ sku, ordered, carted, viewed })),
    campaigns: Object.entries(s.campaigns)
      .sort((a, b) => b[1].firstT - a[1].firstT || (a[0] < b[0] ? -1 : 1))
      .map(([campaignId, c]) => ({
        campaignId,
        segmentId: c.segmentId,
        delivered: (c.responses & 1) !== 0,
        opened: (c.responses & 2) !== 0,
        clicked: (c.responses & 4) !== 0,
        converted: (c.responses & 8) !== 0,
        firstAt: new Date(c.firstT).toISOString(),
      })),
    ratings: [...s.ratings],
    reviewTerms: Object.fromEntries(
      Object.entries(s.reviewTerms)
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, 30),
    ),
  };
}

/**
 * A customer's purchase days (local day numbers) as the value model's backtest and the store's history need them:
 * the summary's count and first and last day for orders compacted behind the watermark, and each live purchase day
 * in order. About 10 bytes a day; a nightly population entry carries it instead of the state (shared/recluster).
 */
export interface PurchaseDays {
  compacted: { days: number; firstDay: number | null; lastDay: number | null } | null;
  live: number[];
}

export function purchaseDaysOf(s: CustomerState, settings: FeatureSettings): PurchaseDays {
  const c = s.compacted;
  return {
    compacted: c ? { days: c.days, firstDay: c.firstDay, lastDay: c.lastDay } : null,
    live: orderBook(s, settings).days.map((d) => d.day),
  };
}

/**
 * The customer's backtest input for a holdout ending on local day `holdoutEndDay` (value model, shared/value/backtest.ts):
 * calibration purchase days up to `calibrationEndDay` (x, t_x, T in weeks) and the purchase days in the holdout.
 * Null when the customer had not bought by the calibration end, or when orders summarised behind the compaction
 * watermark reach past it (their days can no longer be placed on either side). Day numbers are local calendar days.
 */
export function backtestRowOfDays(
  days: PurchaseDays,
  calibrationEndDay: number,
  holdoutEndDay: number,
): { x: number; tx: number; T: number; actual: number } | null {
  const c = days.compacted;
  if (c && c.lastDay !== null && c.lastDay > calibrationEndDay) return null;
  let calibrationDays = c?.days ?? 0;
  let first = c?.firstDay ?? Infinity;
  let last = c?.lastDay ?? -Infinity;
  let actual = 0;
  for (const day of days.live) {
    if (day <= calibrationEndDay) {
      calibrationDays += 1;
      first = Math.min(first, day);
      last = Math.max(last, day);
    } else if (day <= holdoutEndDay) actual += 1;
  }
  if (calibrationDays === 0) return null;
  return { x: calibrationDays - 1, tx: (last - first) / 7, T: (calibrationEndDay - first) / 7, actual };
}

/** The first purchase day (local day number) of the customer, or null before any. */
export function firstPurchaseDayOfDays(days: PurchaseDays): number | null {
  return days.compacted?.firstDay ?? days.live[0] ?? null;
}

/**
 * The exact merge of two customers' states (the identity merge, `customer.merged`): the state of the union of their
 * two event sets, built from the two partial states alone. Pure; neither input is modified.
 *
 * Every contribution is merged as `applyEvent` merges one event: counts and sums add; first/last instants take
 * min/max; channel, category, product, rating and review-term tallies add (within `BOUNDS`, evicting as
 * `applyEvent` does); the order maps union by order id with the canonical copy rule (the placed copy earliest by
 * (time, event id)) and refunds add per currency; the decayed sums (views, searches, cart adds, with the activity
 * half-life; the interest sum and its weight, with the interest half-life) are rescaled to the later reference
 * instant `ref` and added; pending texts are concatenated in time order within `BOUNDS.pendingTexts` (the excess
 * counted in `pendingOverflow`); campaigns union (responses OR-ed, the delivery's segment kept, else the earliest
 * response's; two deliveries keep the earlier campaign fact's segment).
 *
 * Exact — `featuresOf(mergeStates(foldState(A), foldState(B)))` equals `foldEvents(A ∪ B)` to 1e-9
 * (tests/unit/customer/merge-states.test.ts) — for disjoint event sets while no bound is hit. Beyond a bound it is the
 * same approximation as the single state's: tallies are heavy hitters, and two compacted order summaries add their
 * counts and money (exact) and their purchase days (a day present on both sides counts twice; the watermark is the
 * later one).
 */
export function mergeStates(a: CustomerState, b: CustomerState, settings: FeatureSettings): CustomerState {
  const s = structuredClone(a);
  const o = structuredClone(b);
  s.v = Math.min(s.v, o.v);
  s.events += o.events;
  s.firstT = minOf(s.firstT, o.firstT);
  s.lastT = maxOf(s.lastT, o.lastT);

  // Decayed sums: both sides at the later reference instant, then added.
  if (o.ref !== null) moveRef(s, o.ref, settings);
  if (s.ref !== null) moveRef(o, s.ref, settings);
  s.views += o.views;
  s.searches += o.searches;
  s.cartAdds += o.cartAdds;
  for (const c of CHANNELS) s.recent.channels[c] += o.recent.channels[c];
  for (const [key, w] of Object.entries(o.recent.categories))
    bump(s.recent.categories, key, w, BOUNDS.recentCategories);
  if (o.interest) {
    if (!s.interest) s.interest = new Array<number>(o.interest.length).fill(0);
    if (s.interest.length === o.interest.length) {
      for (let j = 0; j < o.interest.length; j++) s.interest[j]! += o.interest[j]!;
      s.interestWeight += o.interestWeight;
    }
  } else if (!s.interest) s.interestWeight += o.interestWeight;

  // Orders: union with the canonical copy rule; refunds add per currency.
  for (const [orderId, theirs] of Object.entries(o.orders)) {
    const ours = s.orders[orderId];
    if (!ours) {
      s.orders[orderId] = theirs;
      continue;
    }
    const refunds = { ...ours.refunds };
    for (const [currency, amount] of Object.entries(theirs.refunds))
      refunds[currency] = (refunds[currency] ?? 0) + amount;
    const theirsFirst =
      theirs.placed && (!ours.placed || theirs.t < ours.t || (theirs.t === ours.t && theirs.eventId < ours.eventId));
    const refundOnlyEarlier = !theirs.placed && !ours.placed && theirs.t < ours.t;
    s.orders[orderId] = { ...(theirsFirst || refundOnlyEarlier ? theirs : ours), refunds };
  }
  s.compacted = mergeCompacted(s.compacted, o.compacted);

  for (const c of CHANNELS) s.channels[c] += o.channels[c];
  for (const [key, w] of Object.entries(o.categories)) {
    if (key in s.categories || Object.keys(s.categories).length < BOUNDS.categories) {
      s.categories[key] = (s.categories[key] ?? 0) + w;
    } else s.categories[OTHER_CATEGORY] = (s.categories[OTHER_CATEGORY] ?? 0) + w;
  }
  for (const [sku, p] of Object.entries(o.products)) {
    const mine = s.products[sku];
    if (mine) for (const i of [0, 1, 2] as const) mine[i] += p[i];
    else {
      evictLightest(s.products, BOUNDS.products, productWeight);
      s.products[sku] = p;
    }
  }
  for (const [term, n] of Object.entries(o.reviewTerms)) bump(s.reviewTerms, term, n, BOUNDS.reviewTerms);
  for (let i = 0; i < 5; i++) s.ratings[i] = (s.ratings[i] ?? 0) + (o.ratings[i] ?? 0);

  for (const [campaignId, theirs] of Object.entries(o.campaigns)) {
    const ours = s.campaigns[campaignId];
    if (!ours) {
      s.campaigns[campaignId] = theirs;
      continue;
    }
    const oursDelivered = (ours.responses & RESPONSE_BIT.delivered) !== 0;
    const theirsDelivered = (theirs.responses & RESPONSE_BIT.delivered) !== 0;
    const takeTheirs =
      oursDelivered === theirsDelivered
        ? theirs.firstT < ours.firstT || (theirs.firstT === ours.firstT && theirs.segmentId < ours.segmentId)
        : theirsDelivered;
    s.campaigns[campaignId] = {
      segmentId: takeTheirs ? theirs.segmentId : ours.segmentId,
      responses: ours.responses | theirs.responses,
      firstT: Math.min(ours.firstT, theirs.firstT),
    };
  }
  boundCampaigns(s);
  s.campaignResponses += o.campaignResponses;

  const pending = [...s.pending, ...o.pending].sort((x, y) => x.t - y.t || (x.text < y.text ? -1 : 1));
  s.pending = pending.slice(0, BOUNDS.pendingTexts);
  s.pendingOverflow += o.pendingOverflow + (pending.length - s.pending.length);
  s.notEmbeddable += o.notEmbeddable;

  if (liveOrderCount(s) > MAX_LIVE_ORDERS) compactOrders(s, settings);
  return s;
}

function minOf(x: number | null, y: number | null): number | null {
  return x === null ? y : y === null ? x : Math.min(x, y);
}

function maxOf(x: number | null, y: number | null): number | null {
  return x === null ? y : y === null ? x : Math.max(x, y);
}

/** Two order summaries added: counts and money exactly, purchase days as a sum (see `mergeStates`). */
function mergeCompacted(x: CompactedOrders | null, y: CompactedOrders | null): CompactedOrders | null {
  if (!x || !y) return x ?? y;
  const [early, late] = (x.firstT ?? Infinity) <= (y.firstT ?? Infinity) ? [x, y] : [y, x];
  return {
    watermark: Math.max(x.watermark, y.watermark),
    orders: x.orders + y.orders,
    priced: x.priced + y.priced,
    gross: x.gross + y.gross,
    discount: x.discount + y.discount,
    revenue: x.revenue + y.revenue,
    refundedOrders: x.refundedOrders + y.refundedOrders,
    unpricedOrders: x.unpricedOrders + y.unpricedOrders,
    days: x.days + y.days,
    firstDay: early.firstDay,
    lastDay: maxOf(x.lastDay, y.lastDay),
    firstT: minOf(x.firstT, y.firstT),
    lastT: maxOf(x.lastT, y.lastT),
    // The later summary's first day becomes a repeat day of the merged customer (its spend is not kept: 0 added).
    repeatSpend: x.repeatSpend + y.repeatSpend,
    pricedRepeatDays: early.pricedRepeatDays + late.pricedRepeatDays,
  };
}
