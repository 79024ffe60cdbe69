/**
 * The storefront simulator: customers drawn from latent personas (unequal sizes), a few bots and wholesalers,
 * weekly seasonality and a mild trend, persona drift, and delivery noise (malformed events, duplicates, late
 * arrivals). Deterministic for a seed; generates day by day so memory stays bounded and the caller can run a
 * nightly re-cluster between days. Per customer and day the work is O(1) in the run length.
 */
import {
  CURRENT_SCHEMA_VERSION,
  type CAMPAIGN_RESPONSES,
  type InboundDetailType,
} from '../../shared/contracts/inbound';
import { LIMITS } from '../../shared/contracts/limits';
import type { RejectionReason } from '../../shared/contracts/validate';
import { createRng } from '../../shared/util/rng';
import { buildCatalogue, categorySpec, type Catalogue, type CategoryName, type Product } from './catalogue';
import { PERSONA_DEFINITIONS, type Channel, type CustomerKind, type PersonaSpec } from './personas';
import { apportion, Categorical, pick, poisson, round2, shuffle, uniform } from './sample';
import type { Delivery, DeliveryMeta } from './types';

export const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;
export const DEFAULT_START = new Date('2026-01-05T00:00:00Z');

export interface SimulateOptions {
  customers: number;
  days: number;
  seed: number;
  /** Midnight UTC of day 0. Default 2026-01-05T00:00:00Z (a Monday). */
  start?: Date;
  /** Share of ordinary customers who switch persona part-way (default 0.1). */
  driftShare?: number;
  /** Bots among `customers` (default round(customers × 0.0015), at least 1 from 200 customers). */
  bots?: number;
  /** Wholesalers among `customers` (default round(customers × 0.0025), at least 1 from 200 customers). */
  wholesalers?: number;
  /** Share of events replaced by an invalid variant (default 0.005). */
  malformedRate?: number;
  /** Share of valid events delivered twice (default 0.01). */
  duplicateRate?: number;
  /** Share of events delivered 1 h to 3 days after they occurred (default 0.02). */
  lateRate?: number;
  /** Multiplies every persona's daily rates (default 1 ≈ 1.6 events per customer-day). */
  rateScale?: number;
}

export interface CustomerTruth {
  persona: string;
  personaIndex: number;
  switchedTo?: string;
  switchedAt?: Date;
  kind: CustomerKind;
}

export interface SimulatedDay {
  /** 0-based day index. */
  day: number;
  /** Midnight UTC of the day. */
  date: Date;
  /** Everything that arrives during the day, sorted by `arrivalAt`. */
  deliveries: Delivery[];
}

export interface SimulatedStore {
  catalogue: Catalogue;
  personas: PersonaSpec[];
  truth: Map<string, CustomerTruth>;
  /** A fresh, deterministic pass over the run on every call. */
  days(): Generator<SimulatedDay>;
}

interface SimCustomer {
  id: string;
  persona: number;
  switchTo: number;
  /** First day in the new persona; Infinity when the customer never switches. */
  switchDay: number;
  joinDay: number;
  /** First quiet day for a lapsing persona; Infinity otherwise. */
  lapseDay: number;
  activity: number;
}

interface CompiledPersona {
  spec: PersonaSpec;
  categories: Categorical<CategoryName>;
  channels: Categorical<Channel>;
  response: Categorical<CampaignResponse>;
}

type CampaignResponse = (typeof CAMPAIGN_RESPONSES)[number];
/** Sunday first (getUTCDay order): weekend bump, quieter start of the week. */
const WEEKDAY_FACTOR = [1.25, 0.9, 0.9, 0.95, 1.0, 1.05, 1.3] as const;
const TREND_PER_DAY = 0.002;
/** Evening-weighted session start hour (UTC ≈ UK time). */
const HOUR_WEIGHTS = [
  0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8, 1.1, 1.2, 1.2, 1.3, 1.5, 1.4, 1.2, 1.2, 1.3, 1.6, 2.0, 2.4, 2.5, 2.1, 1.4,
  0.7,
];
const UNKNOWN_DETAIL_TYPES = ['wishlist.updated', 'order.placed.v2', 'Order Placed', 'loyalty.points.earned'] as const;

type Detail = Record<string, unknown>;
type Malformation = 'missing_customer' | 'future' | 'negative_quantity' | 'unknown_channel' | 'oversized_query';

const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
let isoDay = NaN;
let isoPrefix = '';

/** `new Date(ms).toISOString()` for years 0–9999, several times faster (Date#toISOString dominated the profile). */
export function iso(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  if (day !== isoDay) {
    isoDay = day;
    isoPrefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
  }
  let rem = ms - day * DAY_MS;
  const h = Math.floor(rem / HOUR_MS);
  rem -= h * HOUR_MS;
  const m = Math.floor(rem / 60_000);
  rem -= m * 60_000;
  const sec = Math.floor(rem / 1000);
  const milli = Math.floor(rem - sec * 1000);
  return `${isoPrefix}${PAD2[h]}:${PAD2[m]}:${PAD2[sec]}.${PAD3[milli]}Z`;
}

function defaultNoiseCount(customers: number, share: number): number {
  if (customers < 200) return 0;
  return Math.max(1, Math.round(customers * share));
}

function compile(spec: PersonaSpec): CompiledPersona {
  const e = spec.campaignEngagement;
  return {
    spec,
    categories: new Categorical(Object.entries(spec.categories) as [CategoryName, number][]),
    channels: new Categorical(Object.entries(spec.channels) as [Channel, number][]),
    response: new Categorical<CampaignResponse>([
      ['delivered', 1],
      ['opened', 0.3 + e],
      ['clicked', 1.2 * e],
      ['converted', 0.6 * e * e],
    ]),
  };
}

export function simulateStore(opts: SimulateOptions): SimulatedStore {
  const { customers, days, seed } = opts;
  if (!Number.isInteger(customers) || customers < 1) throw new Error('customers must be a positive integer');
  if (!Number.isInteger(days) || days < 1) throw new Error('days must be a positive integer');
  const startMs = (opts.start ?? DEFAULT_START).getTime();
  const driftShare = opts.driftShare ?? 0.1;
  const malformedRate = opts.malformedRate ?? 0.005;
  const duplicateRate = opts.duplicateRate ?? 0.01;
  const lateRate = opts.lateRate ?? 0.02;
  const rateScale = opts.rateScale ?? 1;

  const catalogue = buildCatalogue(seed);
  const setup = createRng(seed);

  // --- Who is who -------------------------------------------------------------------------------------------
  const botIdx = PERSONA_DEFINITIONS.findIndex((p) => p.kind === 'bot');
  const wholesaleIdx = PERSONA_DEFINITIONS.findIndex((p) => p.kind === 'wholesaler');
  const nBots = Math.min(customers, opts.bots ?? defaultNoiseCount(customers, 0.0015));
  const nWholesalers = Math.min(customers - nBots, opts.wholesalers ?? defaultNoiseCount(customers, 0.0025));
  const nOrdinary = customers - nBots - nWholesalers;
  const ordinaryIdx = PERSONA_DEFINITIONS.flatMap((p, i) => (p.kind === 'customer' ? [i] : []));
  const ordinaryCounts = apportion(
    nOrdinary,
    ordinaryIdx.map((i) => PERSONA_DEFINITIONS[i]?.weight ?? 0),
  );
  const sizes = PERSONA_DEFINITIONS.map(() => 0);
  ordinaryIdx.forEach((pi, k) => (sizes[pi] = ordinaryCounts[k] ?? 0));
  sizes[botIdx] = nBots;
  sizes[wholesaleIdx] = nWholesalers;
  const personas: PersonaSpec[] = PERSONA_DEFINITIONS.map((def, index) => ({ ...def, index, size: sizes[index] ?? 0 }));
  const compiled = personas.map(compile);

  const assignment: number[] = [];
  personas.forEach((p) => {
    for (let i = 0; i < p.size; i++) assignment.push(p.index);
  });
  shuffle(setup, assignment);

  const sims: SimCustomer[] = assignment.map((persona, i) => {
    const spec = personas[persona] as PersonaSpec;
    const ordinary = spec.kind === 'customer';
    const joinDay =
      !ordinary || spec.lapse || days < 2 || setup.next() < 0.75
        ? 0
        : 1 + setup.int(Math.max(1, Math.floor((days - 1) * 0.7)));
    const lapseDay = spec.lapse
      ? Math.max(1, Math.floor(days * uniform(setup, spec.lapse.between[0], spec.lapse.between[1])))
      : Infinity;
    return {
      id: `cust-${String(i + 1).padStart(5, '0')}`,
      persona,
      switchTo: persona,
      switchDay: Infinity,
      joinDay,
      lapseDay,
      activity: ordinary ? Math.exp(0.4 * setup.normal() - 0.08) : 1,
    };
  });

  // --- Drift: a share of ordinary customers switch persona part-way -------------------------------------------
  // The switch day falls in the middle 30–70% of the run and after the customer joined.
  const lo = Math.max(1, Math.floor(days * 0.3));
  const hi = Math.max(lo, Math.min(days - 1, Math.floor(days * 0.7)));
  const ordinarySims = sims.filter((c) => personas[c.persona]?.kind === 'customer');
  const candidates = shuffle(
    setup,
    ordinarySims.filter((c) => c.joinDay < hi),
  );
  const nDrift = days >= 3 ? Math.min(candidates.length, Math.round(driftShare * ordinarySims.length)) : 0;
  for (const c of candidates.slice(0, nDrift)) {
    const targets = new Categorical(
      ordinaryIdx.filter((i) => i !== c.persona).map((i) => [i, personas[i]?.weight ?? 0] as const),
    );
    c.switchTo = targets.sample(setup);
    c.switchDay = Math.max(c.joinDay + 1, lo + setup.int(hi - lo + 1));
    if (personas[c.switchTo]?.lapse) c.lapseDay = c.switchDay;
  }

  const truth = new Map<string, CustomerTruth>();
  for (const c of sims) {
    const spec = personas[c.persona] as PersonaSpec;
    const t: CustomerTruth = { persona: spec.name, personaIndex: spec.index, kind: spec.kind };
    if (Number.isFinite(c.switchDay)) {
      t.switchedTo = personas[c.switchTo]?.name;
      t.switchedAt = new Date(startMs + c.switchDay * DAY_MS);
    }
    truth.set(c.id, t);
  }

  // --- The day-by-day event stream -----------------------------------------------------------------------------
  function* generate(): Generator<SimulatedDay> {
    const rng = createRng((Math.imul(seed, 2654435761) ^ 0x85ebca6b) >>> 0);
    const hours = new Categorical(HOUR_WEIGHTS.map((w, h) => [h, w] as const));
    const pending = new Map<number, Delivery[]>();
    let eventSeq = 0;
    let orderSeq = 0;
    let today: Delivery[] = [];
    let currentDay = 0;

    const schedule = (delivery: Delivery): void => {
      const arrivalDay = Math.floor((delivery.arrivalAt.getTime() - startMs) / DAY_MS);
      if (arrivalDay <= currentDay) today.push(delivery);
      else if (arrivalDay < days) {
        const list = pending.get(arrivalDay);
        if (list) list.push(delivery);
        else pending.set(arrivalDay, [delivery]);
      }
      // Arrivals after the last day are outside the run and dropped.
    };

    const malformationsFor = (type: InboundDetailType): Malformation[] => {
      const m: Malformation[] = ['missing_customer', 'future'];
      if (type === 'order.placed' || type === 'cart.updated') m.push('negative_quantity');
      if (type === 'order.placed' || type === 'product.viewed' || type === 'search.performed')
        m.push('unknown_channel');
      if (type === 'search.performed') m.push('oversized_query');
      return m;
    };

    const malform = (
      type: InboundDetailType,
      detail: Detail,
      arrivalMs: number,
    ): { detailType: string; detail: Detail; reason: RejectionReason } => {
      if (rng.next() < 0.15) {
        return { detailType: pick(rng, UNKNOWN_DETAIL_TYPES), detail, reason: 'unknown_detail_type' };
      }
      const bad: Detail = { ...detail };
      const kind = pick(rng, malformationsFor(type));
      switch (kind) {
        case 'missing_customer':
          delete bad.customerId;
          return { detailType: type, detail: bad, reason: 'schema_violation' };
        case 'future':
          bad.occurredAt = iso(arrivalMs + 2 * DAY_MS + rng.int(18 * DAY_MS));
          return { detailType: type, detail: bad, reason: 'occurred_in_future' };
        case 'negative_quantity':
          if (type === 'order.placed' && Array.isArray(bad.items)) {
            const items = (bad.items as Detail[]).map((it) => ({ ...it }));
            const first = items[0];
            if (first) first.quantity = -Math.abs(Number(first.quantity) || 1);
            bad.items = items;
          } else bad.quantity = -Math.abs(Number(bad.quantity) || 1);
          return { detailType: type, detail: bad, reason: 'schema_violation' };
        case 'unknown_channel':
          bad.channel = pick(rng, ['fax', 'telephone', 'WEB', 'kiosk']);
          return { detailType: type, detail: bad, reason: 'schema_violation' };
        case 'oversized_query':
          {
            const words = `${String(bad.query)} `;
            const length = LIMITS.queryLength + 1 + rng.int(500);
            bad.query = words.repeat(Math.ceil(length / words.length)).slice(0, length);
          }
          return { detailType: type, detail: bad, reason: 'schema_violation' };
      }
    };

    const nextEventId = (): string => `evt-${seed}-${++eventSeq}`;

    /** Sends one event (its detail built by the caller with `nextEventId()`): may malform it, delay it, or deliver it twice. */
    const emit = (type: InboundDetailType, occurredMs: number, detail: Detail): void => {
      const late = rng.next() < lateRate;
      const arrivalMs = late ? occurredMs + HOUR_MS + rng.int(71 * HOUR_MS) : occurredMs + 20 + rng.int(3000);
      if (rng.next() < malformedRate) {
        const bad = malform(type, detail, arrivalMs);
        const meta: DeliveryMeta = late ? { malformed: bad.reason, late } : { malformed: bad.reason };
        schedule({ arrivalAt: new Date(arrivalMs), detailType: bad.detailType, detail: bad.detail, meta });
        return;
      }
      // Every delivery has the same shape (meta possibly undefined) so the hot paths stay monomorphic.
      schedule({ arrivalAt: new Date(arrivalMs), detailType: type, detail, meta: late ? { late } : undefined });
      if (rng.next() < duplicateRate) {
        const again =
          rng.next() < 0.5
            ? arrivalMs + 1000 + rng.int(10 * 60 * 1000)
            : arrivalMs + 12 * HOUR_MS + rng.int(24 * HOUR_MS);
        const meta: DeliveryMeta = late ? { duplicate: true, late } : { duplicate: true };
        schedule({ arrivalAt: new Date(again), detailType: type, detail: { ...detail }, meta });
      }
    };

    /** The common fields (rarer event types; the hot paths write them inline to avoid the spread). */
    const head = (customerId: string, at: number): Detail => ({
      eventId: nextEventId(),
      customerId,
      occurredAt: iso(at),
      schemaVersion: CURRENT_SCHEMA_VERSION,
    });

    const product = (p: CompiledPersona, category: CategoryName): Product => {
      const list = catalogue.byCategory.get(category) ?? [];
      const n = list.length;
      const b = p.spec.priceBias;
      const u = rng.next();
      let i: number;
      if (b < 0) i = Math.floor(Math.pow(u, 1 + 3 * -b) * n);
      else if (b > 0) i = n - 1 - Math.floor(Math.pow(u, 1 + 3 * b) * n);
      else i = Math.floor(u * n);
      const chosen = list[Math.min(n - 1, Math.max(0, i))];
      if (!chosen) throw new Error(`empty category ${category}`);
      return chosen;
    };

    const query = (p: CompiledPersona, category: CategoryName): string => {
      const term = pick(rng, categorySpec(category).searchTerms);
      const mods = p.spec.queryModifiers;
      if (mods.length === 0 || rng.next() >= p.spec.modifierRate) return term;
      const mod = pick(rng, mods);
      return mod.includes('{}') ? mod.replace('{}', term) : `${mod} ${term}`;
    };

    const reviewText = (rating: number, title: string, category: CategoryName): string => {
      const phrase = pick(rng, categorySpec(category).reviewPhrases);
      const item = title.toLowerCase();
      if (rating >= 4) return `Love this ${item}: ${phrase}.`;
      if (rating === 3) return `The ${item} is decent and ${phrase}, but a little overpriced.`;
      return `Disappointed with the ${item}. Hoped it would be ${phrase.replace(/^(the|my|our) /, '')}, it was not.`;
    };

    const order = (c: SimCustomer, p: CompiledPersona, at: number): void => {
      const spec = p.spec;
      const nItems = Math.min(120, 1 + poisson(rng, spec.itemsPerOrder - 1));
      const seen = new Set<string>();
      const items: Detail[] = [];
      let subtotal = 0;
      for (let tries = 0; items.length < nItems && tries < nItems * 3; tries++) {
        const prod = product(p, p.categories.sample(rng));
        if (seen.has(prod.sku)) continue;
        seen.add(prod.sku);
        const quantity = Math.min(1000, 1 + poisson(rng, spec.quantityPerItem - 1));
        subtotal += prod.price * quantity;
        items.push({ sku: prod.sku, title: prod.title, category: prod.category, price: prod.price, quantity });
      }
      const discount =
        rng.next() < spec.discountPropensity
          ? round2(subtotal * uniform(rng, spec.discountDepth[0], spec.discountDepth[1]))
          : 0;
      const total = round2(subtotal - discount);
      orderSeq++;
      const orderId = `ord-${seed}-${orderSeq}`;
      emit('order.placed', at, {
        ...head(c.id, at),
        orderId,
        total,
        currency: 'GBP',
        channel: p.channels.sample(rng),
        discount,
        items,
      });
      if (rng.next() < spec.refundRate) {
        const refundAt = at + DAY_MS + rng.int(13 * DAY_MS);
        const first = items[0] as Detail;
        const amount = rng.next() < 0.7 ? total : Math.min(total, round2(Number(first.price) * Number(first.quantity)));
        emit('order.refunded', refundAt, { ...head(c.id, refundAt), orderId, amount, currency: 'GBP' });
      }
    };

    for (let day = 0; day < days; day++) {
      currentDay = day;
      const dayStart = startMs + day * DAY_MS;
      const dayEnd = dayStart + DAY_MS - 1;
      today = pending.get(day) ?? [];
      pending.delete(day);
      const season = (WEEKDAY_FACTOR[new Date(dayStart).getUTCDay()] ?? 1) * (1 + TREND_PER_DAY * day);
      const campaignId = `cmp-w${String(Math.floor(day / 7) + 1).padStart(2, '0')}`;

      for (const c of sims) {
        if (day < c.joinDay) continue;
        const personaIdx = day >= c.switchDay ? c.switchTo : c.persona;
        const p = compiled[personaIdx] as CompiledPersona;
        const spec = p.spec;
        let mult = c.activity * season * rateScale;
        if (spec.lapse && day >= c.lapseDay) mult *= spec.lapse.factor;
        const r = spec.rates;
        // One evening-weighted session a day (drawn only if the customer does something), bots around the clock.
        let session = -1;
        const when = (): number => {
          if (spec.roundTheClock) return dayStart + rng.int(DAY_MS);
          if (session < 0) session = dayStart + hours.sample(rng) * HOUR_MS + rng.int(HOUR_MS);
          return Math.min(dayEnd, session + rng.int(40 * 60 * 1000));
        };

        for (let n = poisson(rng, r.views * mult); n > 0; n--) {
          const prod = product(p, p.categories.sample(rng));
          const at = when();
          emit('product.viewed', at, {
            eventId: nextEventId(),
            customerId: c.id,
            occurredAt: iso(at),
            schemaVersion: CURRENT_SCHEMA_VERSION,
            sku: prod.sku,
            title: prod.title,
            category: prod.category,
            price: prod.price,
            channel: p.channels.sample(rng),
          });
        }
        for (let n = poisson(rng, r.searches * mult); n > 0; n--) {
          const at = when();
          emit('search.performed', at, {
            eventId: nextEventId(),
            customerId: c.id,
            occurredAt: iso(at),
            schemaVersion: CURRENT_SCHEMA_VERSION,
            query: query(p, p.categories.sample(rng)),
            channel: p.channels.sample(rng),
          });
        }
        for (let n = poisson(rng, r.cartAdds * mult); n > 0; n--) {
          const prod = product(p, p.categories.sample(rng));
          const at = when();
          emit('cart.updated', at, {
            eventId: nextEventId(),
            customerId: c.id,
            occurredAt: iso(at),
            schemaVersion: CURRENT_SCHEMA_VERSION,
            sku: prod.sku,
            title: prod.title,
            category: prod.category,
            action: rng.next() < 0.8 ? 'added' : 'removed',
            quantity: 1 + poisson(rng, Math.min(spec.quantityPerItem, 50) - 1),
          });
        }
        for (let n = poisson(rng, r.orders * mult); n > 0; n--) order(c, p, when());
        for (let n = poisson(rng, r.reviews * mult); n > 0; n--) {
          const category = p.categories.sample(rng);
          const prod = product(p, category);
          const rating = Math.min(5, Math.max(1, Math.round(spec.ratingMean + 0.8 * rng.normal())));
          const at = when();
          emit('review.submitted', at, {
            ...head(c.id, at),
            sku: prod.sku,
            rating,
            text: reviewText(rating, prod.title, category),
          });
        }
        for (let n = poisson(rng, r.campaignResponses * mult); n > 0; n--) {
          const at = when();
          emit('campaign.responded', at, {
            ...head(c.id, at),
            campaignId,
            segmentId: 'seg-newsletter',
            response: p.response.sample(rng),
          });
        }
      }

      today.sort((a, b) => a.arrivalAt.getTime() - b.arrivalAt.getTime());
      const deliveries = today;
      today = [];
      yield { day, date: new Date(dayStart), deliveries };
    }
  }

  return { catalogue, personas, truth, days: generate };
}
