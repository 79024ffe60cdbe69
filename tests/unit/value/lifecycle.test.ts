import fc from 'fast-check';
import {
  DEFAULT_LIFECYCLE_THRESHOLDS,
  LIFECYCLE_STAGES,
  lifecycleStage,
  type LifecycleInput,
  type LifecycleStage,
} from '../../../shared/value';

describe('lifecycleStage', () => {
  const cases: [string, LifecycleInput, LifecycleStage][] = [
    ['first order last week', { tenureDays: 7, pAlive: 1, ordersTotal: 1, daysSinceLastOrder: 7 }, 'new'],
    [
      'B8: signed up, never ordered, 10 days ago is a prospect',
      { tenureDays: 10, pAlive: 0, ordersTotal: 0, daysSinceLastOrder: null },
      'prospect',
    ],
    [
      'B8: a browser 30 days in, P(alive) 0, is a prospect, never lapsed',
      { tenureDays: 30, pAlive: 0, ordersTotal: 0, daysSinceLastOrder: null, previousStage: 'prospect' },
      'prospect',
    ],
    [
      'B8: a prospect’s first order makes them new',
      { tenureDays: 12, pAlive: 1, ordersTotal: 1, daysSinceLastOrder: 0, previousStage: 'prospect' },
      'new',
    ],
    [
      'two orders in the first month is no longer new',
      { tenureDays: 20, pAlive: 0.9, ordersTotal: 2, daysSinceLastOrder: 3 },
      'active',
    ],
    ['regular buyer', { tenureDays: 400, pAlive: 0.85, ordersTotal: 9, daysSinceLastOrder: 20 }, 'active'],
    ['P(alive) slipping', { tenureDays: 400, pAlive: 0.5, ordersTotal: 6, daysSinceLastOrder: 40 }, 'at_risk'],
    ['quiet for 100 days', { tenureDays: 400, pAlive: 0.8, ordersTotal: 6, daysSinceLastOrder: 100 }, 'at_risk'],
    ['P(alive) collapsed', { tenureDays: 400, pAlive: 0.2, ordersTotal: 6, daysSinceLastOrder: 60 }, 'lapsed'],
    ['no order for 200 days', { tenureDays: 400, pAlive: 0.9, ordersTotal: 2, daysSinceLastOrder: 200 }, 'lapsed'],
    [
      'B8: never ordered, tenure 200 days, is still a prospect',
      { tenureDays: 200, pAlive: 0, ordersTotal: 0 },
      'prospect',
    ],
    [
      'back after a lapse',
      { tenureDays: 500, pAlive: 0.25, ordersTotal: 4, daysSinceLastOrder: 5, previousStage: 'lapsed' },
      'reactivated',
    ],
    [
      'back after being at risk',
      { tenureDays: 500, pAlive: 0.7, ordersTotal: 4, daysSinceLastOrder: 30, previousStage: 'at_risk' },
      'reactivated',
    ],
    [
      'lapsed before, last order 31 days ago',
      { tenureDays: 500, pAlive: 0.7, ordersTotal: 4, daysSinceLastOrder: 31, previousStage: 'lapsed' },
      'active',
    ],
    [
      'still lapsed',
      { tenureDays: 500, pAlive: 0.1, ordersTotal: 4, daysSinceLastOrder: 250, previousStage: 'lapsed' },
      'lapsed',
    ],
    [
      'reactivated earlier, healthy now',
      { tenureDays: 500, pAlive: 0.8, ordersTotal: 6, daysSinceLastOrder: 45, previousStage: 'reactivated' },
      'active',
    ],
    [
      'recent order but previously active is just active',
      { tenureDays: 500, pAlive: 0.8, ordersTotal: 6, daysSinceLastOrder: 2, previousStage: 'active' },
      'active',
    ],
    [
      'boundary: pAlive exactly 0.3 is at_risk, not lapsed',
      { tenureDays: 90, pAlive: 0.3, ordersTotal: 3, daysSinceLastOrder: 10 },
      'at_risk',
    ],
    [
      'boundary: pAlive exactly 0.6 is active',
      { tenureDays: 90, pAlive: 0.6, ordersTotal: 3, daysSinceLastOrder: 10 },
      'active',
    ],
    [
      'boundary: tenure exactly 30 days is not new',
      { tenureDays: 30, pAlive: 1, ordersTotal: 1, daysSinceLastOrder: 30 },
      'active',
    ],
  ];
  test.each(cases)('%s', (_name, input, expected) => {
    expect(lifecycleStage(input)).toBe(expected);
  });

  test('thresholds are a parameter', () => {
    const input = { tenureDays: 400, pAlive: 0.5, ordersTotal: 6, daysSinceLastOrder: 40 };
    expect(lifecycleStage(input)).toBe('at_risk');
    expect(lifecycleStage(input, { atRiskPAlive: 0.4 })).toBe('active');
    expect(
      lifecycleStage({ tenureDays: 40, pAlive: 1, ordersTotal: 1, daysSinceLastOrder: 40 }, { newMaxTenureDays: 60 }),
    ).toBe('new');
    expect(DEFAULT_LIFECYCLE_THRESHOLDS.lapsedDays).toBe(180);
  });

  test('rejects invalid input', () => {
    expect(() => lifecycleStage({ tenureDays: 10, pAlive: 1.5, ordersTotal: 1 })).toThrow(RangeError);
    expect(() => lifecycleStage({ tenureDays: -1, pAlive: 0.5, ordersTotal: 1 })).toThrow(RangeError);
    expect(() => lifecycleStage({ tenureDays: 10, pAlive: 0.5, ordersTotal: 1.5 })).toThrow(RangeError);
  });

  test('property: always one of LIFECYCLE_STAGES; lower P(alive) never makes a customer healthier', () => {
    const rank: Record<LifecycleStage, number> = {
      prospect: 0,
      new: 0,
      reactivated: 0,
      active: 0,
      at_risk: 1,
      lapsed: 2,
    };
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 2000, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 50 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.option(fc.constantFrom(...LIFECYCLE_STAGES), { nil: null }),
        (tenureDays, p1, p2, ordersTotal, recencyFrac, previousStage) => {
          const daysSinceLastOrder = ordersTotal > 0 ? tenureDays * recencyFrac : null;
          const base = { tenureDays, ordersTotal, daysSinceLastOrder, previousStage };
          const hi = lifecycleStage({ ...base, pAlive: Math.max(p1, p2) });
          const lo = lifecycleStage({ ...base, pAlive: Math.min(p1, p2) });
          expect(LIFECYCLE_STAGES).toContain(hi);
          expect(rank[lo]).toBeGreaterThanOrEqual(rank[hi]);
        },
      ),
    );
  });
});
