/**
 * `mergeStates` is the exact merge of two customers' states: for any split of an event set into two, the merge of the
 * two folds has the features of the fold of the union (to 1e-9), as long as no bound is hit.
 */
import fc from 'fast-check';
import type { InboundEvent } from '../../../shared/contracts/inbound';
import { foldEvents, foldState } from '../../../shared/customer/fold';
import { BOUNDS, emptyState, featuresOf, mergeStates } from '../../../shared/customer/state';
import { featureSettingsOf } from '../../../shared/customer/update';
import type { LoggedEvent } from '../../../shared/domain/features';
import { encodeText } from '../../../shared/embedding/hashing-encoder';
import { eventText } from '../../../shared/domain/features';
import { makeEvent } from '../../support/factories';
import { expectSameFeatures } from '../../support/features';
import { testSettings } from '../../support/settings';

const settings = testSettings();
const fs = featureSettingsOf(settings);
const DIM = settings.embedding.dimension;
const NOW = new Date('2026-11-10T12:00:00Z');

/** Spread over six weeks before NOW, hours apart, so that decays, reference instants and purchase days differ. */
const at = (n: number) => new Date(NOW.getTime() - (n * 7 + 3) * 3_600_000 * 3).toISOString();

const catalogue = [
  (id: string, n: number): InboundEvent =>
    makeEvent('order.placed', {
      eventId: id,
      orderId: `ord-${n % 3}`,
      total: 10 + n,
      currency: n % 5 === 0 ? 'EUR' : 'GBP',
      discount: n % 4,
      occurredAt: at(n),
      items: [{ sku: `G${n % 4}`, title: 'Rose shears', category: n % 2 ? 'Garden' : 'tools', price: 10, quantity: 1 }],
    }),
  (id: string, n: number): InboundEvent =>
    makeEvent('order.refunded', {
      eventId: id,
      orderId: `ord-${n % 3}`,
      amount: 5,
      currency: n % 2 ? 'GBP' : 'EUR',
      occurredAt: at(n),
    }),
  (id: string, n: number): InboundEvent =>
    makeEvent('product.viewed', { eventId: id, sku: `B${n % 5}`, title: `Stroller ${n % 3}`, occurredAt: at(n) }),
  (id: string, n: number): InboundEvent =>
    makeEvent('search.performed', { eventId: id, query: `hedge trimmer ${n % 4}`, occurredAt: at(n) }),
  (id: string, n: number): InboundEvent =>
    makeEvent('cart.updated', { eventId: id, sku: `G${n % 4}`, category: 'garden', occurredAt: at(n) }),
  (id: string, n: number): InboundEvent =>
    makeEvent('review.submitted', {
      eventId: id,
      rating: 1 + (n % 5),
      text: n % 2 ? 'Lovely sturdy blades' : 'Blunt after a week',
      occurredAt: at(n),
    }),
  (id: string, n: number): InboundEvent =>
    makeEvent('campaign.responded', {
      eventId: id,
      campaignId: `camp-${n % 2}`,
      segmentId: 'seg-001',
      response: (['delivered', 'opened', 'clicked', 'converted'] as const)[n % 4]!,
      occurredAt: at(n),
    }),
];

/** An event with its embedding: a vector, not embedded yet (a pending text) or refused. */
const loggedArb = fc
  .tuple(fc.nat({ max: catalogue.length - 1 }), fc.nat({ max: 120 }), fc.nat({ max: 9 }))
  .map(([kind, n, e]): LoggedEvent => {
    const event = catalogue[kind]!(`e-${kind}-${n}`, n);
    const text = eventText(event);
    const embedding = text === null ? null : e === 0 ? 'refused' : e === 1 ? null : encodeText(text, DIM);
    return { event, embedding };
  });

function distinct(events: readonly LoggedEvent[]): LoggedEvent[] {
  return [...new Map(events.map((e) => [e.event.detail.eventId, e])).values()];
}

const merged = (a: LoggedEvent[], b: LoggedEvent[]) => mergeStates(foldState(a, fs), foldState(b, fs), fs);

describe('mergeStates', () => {
  test('property: for any split of an event set into two, the merge of the folds is the fold of the union, to 1e-9', () => {
    fc.assert(
      fc.property(fc.array(loggedArb, { maxLength: 60 }), fc.infiniteStream(fc.boolean()), (raw, coin) => {
        const events = distinct(raw);
        const a: LoggedEvent[] = [];
        const b: LoggedEvent[] = [];
        for (const e of events) (coin.next().value ? a : b).push(e);
        const expected = foldEvents(events, NOW, fs);
        expectSameFeatures(featuresOf(merged(a, b), NOW, fs), expected, 1e-9);
        expectSameFeatures(featuresOf(merged(b, a), NOW, fs), expected, 1e-9);
      }),
      { numRuns: 300 },
    );
  });

  test('property: merging with the empty state changes no feature, and neither input is modified', () => {
    fc.assert(
      fc.property(fc.array(loggedArb, { maxLength: 30 }), (raw) => {
        const s = foldState(distinct(raw), fs);
        const before = structuredClone(s);
        expectSameFeatures(featuresOf(mergeStates(s, emptyState(), fs), NOW, fs), featuresOf(s, NOW, fs), 0);
        expectSameFeatures(featuresOf(mergeStates(emptyState(), s, fs), NOW, fs), featuresOf(s, NOW, fs), 1e-12);
        expect(s).toEqual(before);
      }),
      { numRuns: 100 },
    );
  });

  const cases: { name: string; a: InboundEvent[]; b: InboundEvent[]; expect: Record<string, unknown> }[] = [
    {
      name: 'an order seen by the anonymous id and refunded under the signed-in id is one refunded order',
      a: [catalogue[0]!('o-1', 3)],
      b: [catalogue[1]!('r-1', 9)],
      expect: { orders: 1, refundRate: 1, revenue: 8 },
    },
    {
      name: 'the same order placed under both ids (two event ids) counts once, at the earlier copy',
      a: [catalogue[0]!('o-late', 3)],
      b: [catalogue[0]!('o-early', 6)],
      expect: { orders: 1, firstOrderAt: at(6) },
    },
    {
      name: 'views seen 3 weeks apart decay from their own instants, not from the merge',
      a: [catalogue[2]!('v-1', 1)],
      b: [catalogue[2]!('v-2', 70)],
      expect: {
        decayedViews:
          2 ** ((-(1 * 7 + 3) * 3) / 24 / fs.activityHalfLifeDays) +
          2 ** ((-(70 * 7 + 3) * 3) / 24 / fs.activityHalfLifeDays),
      },
    },
  ];

  test.each(cases)('$name', (c) => {
    const a = c.a.map((event) => ({ event, embedding: null }));
    const b = c.b.map((event) => ({ event, embedding: null }));
    const features = featuresOf(merged(a, b), NOW, fs);
    for (const [key, value] of Object.entries(c.expect)) {
      if (typeof value === 'number') expect((features as unknown as Record<string, number>)[key]).toBeCloseTo(value, 9);
      else expect((features as unknown as Record<string, unknown>)[key]).toEqual(value);
    }
    expectSameFeatures(features, foldEvents([...a, ...b], NOW, fs), 1e-9);
  });

  test('pending texts beyond the bound are counted as overflow, none lost from the count', () => {
    const texts = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ event: catalogue[3]!(`${prefix}-${i}`, i), embedding: null }));
    const s = merged(texts('a', 20), texts('b', 20));
    expect(s.pending).toHaveLength(BOUNDS.pendingTexts);
    expect(s.pendingOverflow).toBe(40 - BOUNDS.pendingTexts);
    expect(featuresOf(s, NOW, fs).pendingEmbeddings).toBe(40);
  });
});
