import { foldEvents } from '../../../shared/customer/fold';
import { type CustomerFeatures } from '../../../shared/domain/features';
import { refreshFeatures } from '../../../shared/domain/features';
import { evaluationTime, featuresAsOf } from '../../../shared/recluster/as-of';
import { foldState } from '../../../shared/customer/fold';
import { featureSettingsOf } from '../../../shared/customer/update';
import type { CustomerProfile } from '../../../shared/customer/profile';
import { backtestRowOfDays, emptyState, firstPurchaseDayOfDays } from '../../../shared/customer/state';
import { carriedFeatures, entryOf } from '../../../shared/recluster/population';
import { testSettings } from '../../support/settings';
import { makeEvent } from '../../support/factories';
import { withLocalEmbeddings } from '../../support/model';

const settings = { activityHalfLifeDays: 14, interestHalfLifeDays: 45 };
const c = 'cust-asof';
const events = withLocalEmbeddings(
  [
    makeEvent('product.viewed', { customerId: c, eventId: 'v1', occurredAt: '2026-06-01T08:00:00Z' }),
    makeEvent('order.placed', {
      customerId: c,
      eventId: 'o1',
      orderId: 'ord-1',
      total: 50,
      occurredAt: '2026-06-02T09:30:00Z',
    }),
    makeEvent('search.performed', {
      customerId: c,
      eventId: 's1',
      query: 'rose seeds',
      occurredAt: '2026-07-15T10:00:00Z',
    }),
    makeEvent('cart.updated', { customerId: c, eventId: 'c1', occurredAt: '2026-08-20T11:00:00Z' }),
    makeEvent('order.placed', {
      customerId: c,
      eventId: 'o2',
      orderId: 'ord-2',
      total: 80,
      occurredAt: '2026-09-03T23:59:00Z',
    }),
    makeEvent('order.placed', {
      customerId: c,
      eventId: 'o3',
      orderId: 'ord-3',
      total: 20,
      occurredAt: '2026-09-10T00:01:00Z',
    }),
    makeEvent('product.viewed', { customerId: c, eventId: 'v2', occurredAt: '2026-10-01T08:00:00Z' }),
  ],
  32,
);

function expectClose(actual: CustomerFeatures, expected: CustomerFeatures): void {
  const { interest: ai, ...a } = actual;
  const { interest: ei, ...e } = expected;
  for (const [key, value] of Object.entries(e)) {
    const got = (a as Record<string, unknown>)[key];
    if (typeof value === 'number') expect([key, got]).toEqual([key, expect.closeTo(value, 9)]);
    else if (key === 'purchase') {
      for (const [k, v] of Object.entries(value as Record<string, number>))
        expect((got as Record<string, number>)[k]).toBeCloseTo(v, 9);
    } else if (key === 'recent') {
      const { channelShares, ...rest } = value as CustomerFeatures['recent'];
      for (const [k, v] of Object.entries(rest))
        expect([k, (got as Record<string, number>)[k]]).toEqual([k, expect.closeTo(v, 12)]);
      expect((got as CustomerFeatures['recent']).channelShares).toEqual(channelShares);
    } else expect([key, got]).toEqual([key, value]);
  }
  expect(ai).not.toBeNull();
  ai!.forEach((v, j) => expect(v).toBeCloseTo(ei![j]!, 12));
}

describe('refreshFeatures: time-dependent features as of a later instant, without the log', () => {
  test.each([
    ['a few hours later', '2026-10-02T12:00:00Z', '2026-10-02T20:00:00Z'],
    ['the next night', '2026-10-02T12:00:00Z', '2026-10-03T03:00:00Z'],
    ['months later, across UTC days', '2026-10-02T12:00:00Z', '2027-02-17T05:30:00Z'],
    ['folded the moment of the last event', '2026-10-01T08:00:00Z', '2026-12-01T08:00:00Z'],
  ])('equals a fresh fold %s', (_label, from, to) => {
    const stored = foldEvents(events, new Date(from), settings);
    const refreshed = refreshFeatures(stored, new Date(from), new Date(to), settings);
    expectClose(refreshed, foldEvents(events, new Date(to), settings));
  });

  test('is consistent when applied in steps (a profile refreshed by every nightly run)', () => {
    const t0 = new Date('2026-10-02T12:00:00Z');
    const t1 = new Date('2026-10-20T03:00:00Z');
    const t2 = new Date('2026-11-30T03:00:00Z');
    const stepwise = refreshFeatures(
      refreshFeatures(foldEvents(events, t0, settings), t0, t1, settings),
      t1,
      t2,
      settings,
    );
    expectClose(stepwise, foldEvents(events, t2, settings));
  });

  test('an instant not after the stored one changes nothing', () => {
    const t = new Date('2026-10-02T12:00:00Z');
    const stored = foldEvents(events, t, settings);
    expect(refreshFeatures(stored, t, t, settings)).toBe(stored);
    expect(refreshFeatures(stored, t, new Date('2026-10-01T00:00:00Z'), settings)).toBe(stored);
  });

  test('a customer who never ordered keeps no recency and no purchase clock', () => {
    const browse = withLocalEmbeddings(
      [makeEvent('product.viewed', { customerId: 'b', eventId: 'b1', occurredAt: '2026-09-01T00:00:00Z' })],
      32,
    );
    const from = new Date('2026-09-02T00:00:00Z');
    const to = new Date('2026-10-02T00:00:00Z');
    const refreshed = refreshFeatures(foldEvents(browse, from, settings), from, to, settings);
    expect(refreshed.daysSinceLastOrder).toBeNull();
    expect(refreshed.purchase).toEqual({ x: 0, tx: 0, T: 0, meanRepeatSpend: 0 });
    expectClose(refreshed, foldEvents(browse, to, settings));
  });
});

describe('evaluationTime', () => {
  const asOf = new Date('2026-11-11T03:00:00Z');
  test('is the run asOf for a profile written before it', () => {
    expect(evaluationTime(asOf, '2026-11-10T12:00:00Z')).toBe(asOf);
  });
  test("is the profile's own time when the real-time path wrote it after asOf", () => {
    expect(evaluationTime(asOf, '2026-11-11T03:04:00.000Z').toISOString()).toBe('2026-11-11T03:04:00.000Z');
  });
});

describe("a carried population entry: tonight's features without the state", () => {
  // A store in New York: purchase days and T are local calendar days, and the nights cross the DST change of
  // 2026-11-01. One order is refunded in full (an order, but no purchase day).
  const base = testSettings();
  const store = { ...base, features: { ...base.features, timeZone: 'America/New_York' } };
  const fs = featureSettingsOf(store);
  const refunded = [
    ...events,
    ...withLocalEmbeddings(
      [
        makeEvent('order.placed', {
          customerId: c,
          eventId: 'o4',
          orderId: 'ord-4',
          total: 30,
          occurredAt: '2026-10-20T03:30:00Z',
        }),
        makeEvent('order.refunded', {
          customerId: c,
          eventId: 'r4',
          orderId: 'ord-4',
          amount: 30,
          occurredAt: '2026-10-21T12:00:00Z',
        }),
      ],
      32,
    ),
  ];
  const profile = {
    customerId: c,
    rev: 7,
    updatedAt: '2026-10-21T12:00:00.000Z',
    lifecycleStage: 'active',
    state: foldState(refunded, fs),
  } as unknown as CustomerProfile;
  const readAt = new Date('2026-10-22T07:00:00Z');
  const entry = entryOf(profile, readAt, store);

  test.each([
    ['the next night', '2026-10-23T07:00:00Z'],
    ['a week later, across the DST change', '2026-10-29T07:00:00Z'],
    ['across the DST change, at a local midnight', '2026-11-02T05:00:00Z'],
    ['three months later', '2027-01-22T08:00:00Z'],
  ])('equals a fresh read %s', (_label, night) => {
    const asOf = new Date(night);
    const fresh = featuresAsOf(profile, asOf, store);
    const carried = carriedFeatures(JSON.parse(JSON.stringify(entry)), asOf, store);
    expectClose(carried, fresh);
    expect(carried.purchase.T).toBeCloseTo(fresh.purchase.T, 12);
  });

  test('its purchase days are the local days of its orders, fully refunded ones left out; they give the backtest rows', () => {
    // Orders at 09:30 UTC on 2 June, 23:59 UTC on 3 September and 00:01 UTC on 10 September are local (New York)
    // days 2 June, 3 September and 9 September; the order of 20 October was refunded in full.
    const day = (m: number, d: number) => Date.UTC(2026, m - 1, d) / 86_400_000;
    expect(entry.purchaseDays).toEqual({ compacted: null, live: [day(6, 2), day(9, 3), day(9, 9)] });
    expect(firstPurchaseDayOfDays(entry.purchaseDays)).toBe(day(6, 2));
    // Calibration to 5 September: 2 purchase days (x = 1); the holdout to 30 September holds the third.
    expect(backtestRowOfDays(entry.purchaseDays, day(9, 5), day(9, 30))).toEqual({
      x: 1,
      tx: (day(9, 3) - day(6, 2)) / 7,
      T: (day(9, 5) - day(6, 2)) / 7,
      actual: 1,
    });
    expect(backtestRowOfDays(entry.purchaseDays, day(6, 1), day(8, 30))).toBeNull();
    // Orders compacted past the calibration end cannot be placed on either side.
    const compacted = { compacted: { days: 4, firstDay: day(5, 1), lastDay: day(9, 20) }, live: [] };
    expect(backtestRowOfDays(compacted, day(9, 5), day(9, 30))).toBeNull();
  });

  test('a profile stored before the mergeable state (version 0) is carried as featuresAsOf moves it', () => {
    const legacy = {
      ...profile,
      state: { ...emptyState(), v: 0 },
      features: foldEvents(events, readAt, fs),
    } as unknown as CustomerProfile;
    const carried = entryOf(legacy, readAt, store);
    expect(carried.legacy).toBe(true);
    for (const night of ['2026-10-23T07:00:00Z', '2027-01-22T08:00:00Z']) {
      const asOf = new Date(night);
      expectClose(carriedFeatures(carried, asOf, store), featuresAsOf(legacy, asOf, store));
    }
  });

  test("a profile written after the run's asOf is evaluated at its own time, as a fresh read", () => {
    const late = entryOf({ ...profile, updatedAt: '2026-10-22T09:00:00.000Z' }, readAt, store);
    expect(late.at).toBe('2026-10-22T09:00:00.000Z');
    expectClose(carriedFeatures(late, readAt, store), featuresAsOf(profile, new Date(late.at), store));
  });
});
