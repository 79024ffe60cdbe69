/**
 * Issue #9 cases A1, A4, B6 and C12, where they live: in the customer state's merge (and so in the reference fold).
 * Each case holds whatever order the events arrive in.
 */
import fc from 'fast-check';
import type { InboundEvent } from '../../../shared/contracts/inbound';
import { foldEvents } from '../../../shared/customer/fold';
import { applyEvent, emptyState, featuresOf } from '../../../shared/customer/state';
import type { FeatureSettings } from '../../../shared/domain/features';
import { computeTraits } from '../../../shared/domain/traits';
import { makeEvent } from '../../support/factories';
import { testSettings } from '../../support/settings';

const UTC: FeatureSettings = { activityHalfLifeDays: 14, interestHalfLifeDays: 45, timeZone: 'UTC' };
const logged = (events: InboundEvent[]) => events.map((event) => ({ event, embedding: null }));

/** Features from the state, with the events applied in every order fast-check tries: all equal. */
function inAnyOrder(events: InboundEvent[], asOf: Date, settings: FeatureSettings) {
  const reference = foldEvents(logged(events), asOf, settings);
  fc.assert(
    fc.property(fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }), (order) => {
      const s = emptyState();
      for (const e of order) applyEvent(s, e, null, settings);
      const f = featuresOf(s, asOf, settings);
      expect(f.purchase).toEqual(reference.purchase);
      expect(f.revenue).toBeCloseTo(reference.revenue, 9);
    }),
    { numRuns: 50 },
  );
  return reference;
}

const order = (eventId: string, orderId: string, total: number, occurredAt: string, currency = 'GBP') =>
  makeEvent('order.placed', {
    eventId,
    orderId,
    total,
    currency,
    occurredAt,
    items: [{ sku: 's', title: 't', category: 'kitchen', price: total, quantity: 1 }],
  });
const refund = (eventId: string, orderId: string, amount: number, occurredAt: string, currency = 'GBP') =>
  makeEvent('order.refunded', { eventId, orderId, amount, currency, occurredAt });

describe('issue #9: money and time in the customer state', () => {
  test('A1: a fully refunded repeat order is no purchase day and carries no spend (x = 0), in any arrival order', () => {
    const f = inAnyOrder(
      [
        order('o1', 'o1', 20, '2025-01-05T10:00:00Z'),
        order('o2', 'o2', 4_000, '2025-02-05T10:00:00Z'),
        refund('r2', 'o2', 4_000, '2025-02-06T10:00:00Z'),
      ],
      new Date('2025-03-01T00:00:00Z'),
      UTC,
    );
    expect(f.revenue).toBe(20);
    expect(f.purchase).toMatchObject({ x: 0, tx: 0, meanRepeatSpend: 0 });
    const traits = computeTraits(f, null, null, testSettings().value);
    expect(traits.clv).not.toBeNull();
    expect(traits.clv!).toBeLessThan(200); // main: 5,758.89 from a refunded 4,000 order
  });

  test('A1: a partial refund nets its day’s spend', () => {
    const f = inAnyOrder(
      [
        order('o1', 'o1', 20, '2025-01-05T10:00:00Z'),
        order('o2', 'o2', 4_000, '2025-02-05T10:00:00Z'),
        refund('r2', 'o2', 1_000, '2025-02-06T10:00:00Z'),
      ],
      new Date('2025-03-01T00:00:00Z'),
      UTC,
    );
    expect(f.revenue).toBe(3_020);
    expect(f.purchase).toMatchObject({ x: 1, meanRepeatSpend: 3_000 });
    expect(f.refundRate).toBe(0.5);
  });

  test('A4: money is converted to the base currency with the configured rates', () => {
    const settings: FeatureSettings = { ...UTC, currency: { base: 'GBP', rates: { JPY: 0.0052 } } };
    const f = inAnyOrder(
      [
        order('j1', 'j1', 12_000, '2025-01-05T10:00:00Z', 'JPY'),
        order('g1', 'g1', 30, '2025-01-20T10:00:00Z'),
        refund('jr', 'g1', 3_000, '2025-01-21T10:00:00Z', 'JPY'), // a JPY refund against the GBP order
      ],
      new Date('2025-03-01T00:00:00Z'),
      settings,
    );
    // 12,000 × 0.0052 + (30 − 3,000 × 0.0052) = 62.4 + 14.4; main summed the raw numbers: 9,030
    expect(f.revenue).toBeCloseTo(76.8, 9);
    expect(f.unpricedOrders).toBe(0);
  });

  test('A4: a currency without a rate is left out of money features and counted; its refund is not subtracted raw', () => {
    const settings: FeatureSettings = { ...UTC, currency: { base: 'GBP', rates: {} } };
    const f = inAnyOrder(
      [
        order('j1', 'j1', 12_000, '2025-01-05T10:00:00Z', 'JPY'),
        order('g1', 'g1', 30, '2025-01-20T10:00:00Z'),
        refund('jr', 'g1', 3_000, '2025-01-21T10:00:00Z', 'JPY'),
      ],
      new Date('2025-03-01T00:00:00Z'),
      settings,
    );
    expect(f.revenue).toBe(30);
    expect(f.avgOrderValue).toBe(30);
    expect(f.orders).toBe(2);
    expect(f.unpricedOrders).toBe(1);
  });

  test('B6: two evening orders at −05:00 are one purchase day in the stage’s time zone (x = 0, still active)', () => {
    const events = [
      order('e1', 'e1', 25, '2025-02-10T18:30:00-05:00'),
      order('e2', 'e2', 35, '2025-02-10T20:30:00-05:00'),
    ];
    const asOf = new Date('2025-02-12T12:00:00Z');
    const ny = inAnyOrder(events, asOf, { ...UTC, timeZone: 'America/New_York' });
    expect(ny.purchase.x).toBe(0);
    const traits = computeTraits(ny, null, null, testSettings().value);
    expect(traits.pAlive).toBe(1);
    expect(traits.lifecycleStage).not.toBe('at_risk');
    // the same orders counted in UTC days straddle midnight: the fault the stage time zone removes
    expect(foldEvents(logged(events), asOf, UTC).purchase.x).toBe(1);
  });

  test('C12: category names are normalised (NFKC, case-folded, trimmed): two categories, entropy 0.971', () => {
    const view = (eventId: string, category: string) => makeEvent('product.viewed', { eventId, category });
    const f = foldEvents(
      logged([
        view('v1', 'Kitchen'),
        view('v2', 'ｋｉｔｃｈｅｎ'),
        view('v3', 'kitchen '),
        view('v4', 'Caf\u00e9 & Bar'),
        view('v5', 'Cafe\u0301 & Bar'),
      ]),
      new Date('2026-11-10T00:00:00Z'),
      UTC,
    );
    expect(Object.keys(f.categoryWeights).sort()).toEqual(['café & bar', 'kitchen']);
    expect(f.categoryEntropy).toBeCloseTo(0.971, 3);
  });
});

describe('the order map is bounded', () => {
  test('1,000 orders over three years: the item keeps 256 live orders at most, and the value inputs stay exact', () => {
    const settings = UTC;
    const events: InboundEvent[] = [];
    const start = Date.parse('2023-01-01T10:00:00Z');
    for (let i = 0; i < 1_000; i++) {
      const t = new Date(start + i * 1.1 * 86_400_000).toISOString(); // one order every 1.1 days
      events.push(order(`o${i}`, `o${i}`, 10 + (i % 7), t));
      if (i % 10 === 0) events.push(refund(`r${i}`, `o${i}`, 3, t));
    }
    const s = emptyState();
    for (const e of events) applyEvent(s, e, null, settings);
    const asOf = new Date('2026-01-01T00:00:00Z');
    const f = featuresOf(s, asOf, settings);
    expect(Object.keys(s.orders).length).toBeLessThanOrEqual(256);
    expect(s.compacted?.orders).toBeGreaterThan(700);
    // the same figures as a map that kept every order (computed here from the events)
    const days = new Set(events.filter((e) => e.type === 'order.placed').map((e) => e.detail.occurredAt.slice(0, 10)));
    expect(f.orders).toBe(1_000);
    expect(f.purchase.x).toBe(days.size - 1);
    const gross = events
      .filter((e) => e.type === 'order.placed')
      .reduce((n, e) => n + (e.detail as { total: number }).total, 0);
    expect(f.revenue).toBeCloseTo(gross - 100 * 3, 6);
    expect(f.refundRate).toBeCloseTo(0.1, 9);
    expect(f.firstOrderAt).toBe('2023-01-01T10:00:00.000Z');
    expect(JSON.stringify(s).length).toBeLessThan(60_000);
  });
});
