import fc from 'fast-check';
import { traitsSchema } from '../../../shared/contracts/outbound';
import { foldEvents } from '../../../shared/customer/fold';
import type { LoggedEvent } from '../../../shared/domain/features';
import { computeTraits } from '../../../shared/domain/traits';
import { withTraits, scanRowOf } from '../../../shared/recluster/rows';
import { buildProfiles } from '../../../shared/segmentation/profiles';
import { clampValueRow, customerValue, fitValueModel } from '../../../shared/value';
import { makeEvent } from '../../support/factories';

const FEATURES = { activityHalfLifeDays: 14, interestHalfLifeDays: 45 };
const VALUE_SETTINGS = { minCustomers: 200, minRepeatCustomers: 50, horizonWeeks: 52, discountRatePerWeek: 0.002 };
const DAY = 86_400_000;
const SKEW = 24 * 60 * 60 * 1000;

const order = (eventId: string, occurredAt: string, total = 40): LoggedEvent => ({
  event: makeEvent('order.placed', { eventId, orderId: eventId, total, occurredAt }),
  embedding: null,
});
const view = (eventId: string, occurredAt: string): LoggedEvent => ({
  event: makeEvent('product.viewed', { eventId, occurredAt }),
  embedding: null,
});

describe('value traits with the clock skew (issue #9 B5)', () => {
  test('B5: a repeat buyer’s order 14 h ahead of the clock is processed, valued as a purchase now', () => {
    const now = new Date('2025-03-01T20:00:00Z');
    const f = foldEvents([order('o1', '2025-02-01T12:00:00Z'), order('o2', '2025-03-02T10:00:00Z')], now, FEATURES);
    // The issue saw t_x > T here (the last purchase day is after "now"); whatever the fold gives, the value model
    // must get t_x ≤ T, so the raw input is forced past T as well.
    const ahead = { ...f, purchase: { ...f.purchase, tx: f.purchase.T + 14 / 24 / 7 } };

    const traits = computeTraits(f, null, null, VALUE_SETTINGS);
    expect(computeTraits(ahead, null, null, VALUE_SETTINGS)).toEqual(traits);

    const atNow = customerValue(
      fitValueModel([]),
      { x: 1, tx: f.purchase.T, T: f.purchase.T, meanSpend: 40 },
      {
        horizonWeeks: 52,
        discountRatePerWeek: 0.002,
      },
    );
    expect(traits.pAlive).toBeCloseTo(atNow.pAlive, 12);
    expect(traits.clv).toBeCloseTo(atNow.clv, 9);
    expect(traitsSchema.safeParse(traits).success).toBe(true);
  });

  test('clampValueRow: T ≥ 0, 0 ≤ t_x ≤ T, whole x, spend ≥ 0', () => {
    expect(clampValueRow({ x: 2, tx: 5.2, T: 5, meanSpend: 10 })).toEqual({ x: 2, tx: 5, T: 5, meanSpend: 10 });
    expect(clampValueRow({ x: 1, tx: -0.1, T: -1, meanSpend: -3 })).toEqual({ x: 1, tx: 0, T: 0, meanSpend: 0 });
    expect(clampValueRow({ x: Number.NaN, tx: Number.NaN, T: Number.POSITIVE_INFINITY })).toEqual({
      x: 0,
      tx: 0,
      T: 0,
    });
  });

  test('property: for any clock within the accepted skew of the latest event, no valid event set throws', () => {
    const base = Date.parse('2025-01-01T00:00:00Z');
    const events = fc.array(
      fc.record({
        kind: fc.constantFrom('order', 'view', 'refund'),
        offsetMinutes: fc.integer({ min: 0, max: 400 * 24 * 60 }),
        total: fc.integer({ min: 0, max: 5_000 }),
      }),
      { minLength: 1, maxLength: 12 },
    );
    fc.assert(
      fc.property(
        events,
        fc.integer({ min: 0, max: SKEW }),
        fc.integer({ min: 0, max: 30 * DAY }),
        (list, skew, later) => {
          const log: LoggedEvent[] = list.map((e, i) => {
            const occurredAt = new Date(base + e.offsetMinutes * 60_000).toISOString();
            if (e.kind === 'order') return order(`o${i}`, occurredAt, e.total);
            if (e.kind === 'view') return view(`v${i}`, occurredAt);
            return {
              event: makeEvent('order.refunded', { eventId: `r${i}`, orderId: 'o0', amount: e.total, occurredAt }),
              embedding: null,
            };
          });
          const latest = Math.max(...list.map((e) => base + e.offsetMinutes * 60_000));
          // The clock is anywhere from 24 h before the latest event (it was accepted within the skew) to later on.
          const now = new Date(latest - skew + later);
          const traits = computeTraits(foldEvents(log, now, FEATURES), null, 'active', VALUE_SETTINGS);
          return traitsSchema.safeParse(traits).success;
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('the prospect stage (issue #9 B8)', () => {
  const browsing = [view('v1', '2025-01-01T10:00:00Z'), view('v2', '2025-01-05T10:00:00Z')];

  test.each([
    { name: 'B8: a browser on day 5 is a prospect with no churn risk or CLV', days: 5 },
    { name: 'B8: a browser on day 30 is still a prospect, not lapsed', days: 30 },
    { name: 'B8: a browser on day 200 is still a prospect', days: 200 },
  ])('$name', ({ days }) => {
    const now = new Date(Date.parse('2025-01-01T10:00:00Z') + days * DAY);
    const traits = computeTraits(foldEvents(browsing, now, FEATURES), null, 'prospect', VALUE_SETTINGS);
    expect(traits).toEqual({
      pAlive: 0,
      churnRisk: null,
      expectedOrders90d: null,
      expectedSpend: null,
      clv: null,
      lifecycleStage: 'prospect',
    });
    expect(traitsSchema.parse(traits)).toEqual(traits);
  });

  test('B8: the first order ends the prospect stage', () => {
    const now = new Date('2025-01-20T10:00:00Z');
    const f = foldEvents([...browsing, order('o1', '2025-01-19T10:00:00Z')], now, FEATURES);
    const traits = computeTraits(f, null, 'prospect', VALUE_SETTINGS);
    expect(traits.lifecycleStage).toBe('new');
    expect(traits.clv).toBeGreaterThan(0);
    expect(traits.churnRisk).toBeCloseTo(1 - traits.pAlive, 12);
  });

  test('B8: prospects are left out of their segment’s mean CLV and churn risk', () => {
    const now = new Date('2025-03-01T00:00:00Z');
    const buyer = foldEvents(
      [order('o1', '2025-01-10T10:00:00Z', 100), order('o2', '2025-02-10T10:00:00Z', 100)],
      now,
      FEATURES,
    );
    const prospect = foldEvents(browsing, now, FEATURES);
    const value = fitValueModel([]);
    const rows = withTraits([scanRowOf('buyer', buyer), scanRowOf('prospect', prospect)], value, VALUE_SETTINGS);
    const buyerTraits = computeTraits(buyer, value, null, VALUE_SETTINGS);

    const [profile] = buildProfiles(rows, Int32Array.from([0, 0]), ['seg-001']);

    expect(rows[1]!.traits).toBeNull();
    expect(profile!.size).toBe(2);
    expect(profile!.meanClv).toBeCloseTo(buyerTraits.clv!, 6);
    expect(profile!.meanChurnRisk).toBeCloseTo(buyerTraits.churnRisk!, 12);
  });
});
