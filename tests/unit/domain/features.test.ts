import fc from 'fast-check';
import { foldEvents } from '../../../shared/customer/fold';
import { type LoggedEvent } from '../../../shared/domain/features';
import { makeEvent } from '../../support/factories';

const SETTINGS = { activityHalfLifeDays: 14, interestHalfLifeDays: 45 };
const AS_OF = new Date('2026-11-10T00:00:00Z');

function unit(values: number[]): Float32Array {
  const n = Math.hypot(...values);
  return Float32Array.from(values, (v) => v / n);
}

const log: LoggedEvent[] = [
  {
    event: makeEvent('order.placed', {
      eventId: 'o1',
      orderId: 'A',
      total: 100,
      discount: 20,
      occurredAt: '2026-11-01T10:00:00Z',
    }),
    embedding: unit([1, 0, 0]),
  },
  {
    event: makeEvent('order.placed', {
      eventId: 'o2',
      orderId: 'B',
      total: 50,
      channel: 'app',
      occurredAt: '2026-11-03T09:00:00Z',
      items: [{ sku: 'k', title: 'Baby monitor', category: 'baby', price: 50, quantity: 1 }],
    }),
    embedding: unit([0, 1, 0]),
  },
  {
    event: makeEvent('order.refunded', { eventId: 'r1', orderId: 'B', amount: 50, occurredAt: '2026-11-04T09:00:00Z' }),
    embedding: null,
  },
  {
    event: makeEvent('product.viewed', { eventId: 'v1', occurredAt: '2026-11-09T00:00:00Z' }),
    embedding: unit([1, 1, 0]),
  },
  {
    event: makeEvent('search.performed', { eventId: 's1', occurredAt: '2026-10-27T00:00:00Z' }),
    embedding: unit([0, 0, 1]),
  },
  {
    event: makeEvent('cart.updated', { eventId: 'c1', occurredAt: '2026-11-09T12:00:00Z' }),
    embedding: unit([1, 0, 1]),
  },
  {
    event: makeEvent('cart.updated', { eventId: 'c2', action: 'removed', occurredAt: '2026-11-09T13:00:00Z' }),
    embedding: null,
  },
  {
    event: makeEvent('review.submitted', { eventId: 'w1', rating: 2, occurredAt: '2026-11-05T00:00:00Z' }),
    embedding: unit([0, 1, 1]),
  },
  {
    event: makeEvent('review.submitted', { eventId: 'w2', rating: 5, text: '', occurredAt: '2026-11-06T00:00:00Z' }),
    embedding: null,
  },
  { event: makeEvent('campaign.responded', { eventId: 'm1', occurredAt: '2026-11-07T00:00:00Z' }), embedding: null },
];

describe('foldEvents', () => {
  test('computes the documented features for a known log', () => {
    const f = foldEvents(log, AS_OF, SETTINGS);
    expect(f).toMatchObject({
      eventCount: 10,
      orders: 2,
      revenue: 100, // 150 gross - 50 refunded
      avgOrderValue: 75,
      refundRate: 0.5,
      reviewCount: 2,
      reviewAverage: 3.5,
      campaignResponses: 1,
      firstSeenAt: '2026-10-27T00:00:00.000Z',
      lastOrderAt: '2026-11-03T09:00:00.000Z',
      pendingEmbeddings: 0,
    });
    expect(f.discountShare).toBeCloseTo(20 / 170, 12);
    expect(f.daysSinceLastOrder).toBeCloseTo(6 + 15 / 24, 10);
    expect(f.tenureDays).toBeCloseTo(14, 10);
    expect(f.decayedViews).toBeCloseTo(Math.exp((-Math.LN2 * 1) / 14), 12);
    expect(f.decayedSearches).toBeCloseTo(Math.exp((-Math.LN2 * 14) / 14), 12);
    expect(f.decayedCartAdds).toBeCloseTo(Math.exp((-Math.LN2 * 0.5) / 14), 12);
    expect(f.topCategories[0]).toBe('garden');
    // order B was refunded in full: it is no purchase day, so A's day is the only one (x = 0), T from A's day
    expect(f.purchase.x).toBe(0);
    expect(f.purchase.tx).toBe(0);
    expect(f.purchase.T).toBeCloseTo(9 / 7, 12);
    expect(f.purchase.meanRepeatSpend).toBe(0);
    expect(f.channelShares.web + f.channelShares.app + f.channelShares.store + f.channelShares.marketplace).toBeCloseTo(
      1,
      12,
    );
    expect(Math.hypot(...(f.interest ?? []))).toBeCloseTo(1, 6);
  });

  test('an event without an embedding counts as pending and leaves the interest to the others', () => {
    const withGap = log.map((e) => (e.event.detail.eventId === 'v1' ? { ...e, embedding: null } : e));
    const f = foldEvents(withGap, AS_OF, SETTINGS);
    expect(f.pendingEmbeddings).toBe(1);
    expect(f.interest).not.toEqual(foldEvents(log, AS_OF, SETTINGS).interest);
  });

  test('a customer with no events folds to zeros, not NaN', () => {
    const f = foldEvents([], AS_OF, SETTINGS);
    expect(f.orders).toBe(0);
    expect(f.interest).toBeNull();
    expect(Object.values(f).filter((v) => typeof v === 'number' && !Number.isFinite(v))).toEqual([]);
  });

  test('property: shuffled, duplicated and late events give identical features', () => {
    const reference = foldEvents(log, AS_OF, SETTINGS);
    fc.assert(
      fc.property(
        fc.shuffledSubarray(log, { minLength: log.length, maxLength: log.length }),
        fc.array(fc.nat({ max: log.length - 1 }), { maxLength: 8 }),
        (shuffled, dupIdx) => {
          const withDupes = [...shuffled, ...dupIdx.map((i) => log[i]!)];
          expect(foldEvents(withDupes, AS_OF, SETTINGS)).toStrictEqual(reference);
        },
      ),
      { numRuns: 200 },
    );
  });
});
