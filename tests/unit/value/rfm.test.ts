import fc from 'fast-check';
import { RFM_GROUPS } from '../../../shared/contracts/outbound';
import { fitRfmBreakpoints, rfmGroup, scoreRfm, RFM_MIN_BUYERS, type RfmBreakpoints } from '../../../shared/value/rfm';

/** Buyers 1..100: days since last order = i, orders = i, revenue = 10·i: quintiles at 20.8, 40.6, 60.4, 80.2. */
const hundred = Array.from({ length: 100 }, (_, k) => ({
  orders: k + 1,
  revenue: 10 * (k + 1),
  daysSinceLastOrder: k + 1,
}));
const BP: RfmBreakpoints = {
  recencyDays: [20, 40, 60, 80],
  frequency: [1, 2, 4, 8],
  monetary: [50, 100, 200, 400],
  buyers: 100,
};

describe('RFM breakpoints from the population (nightly fit)', () => {
  test('quintiles of each measure over the buyers, numpy type-7 interpolation', () => {
    const bp = fitRfmBreakpoints(hundred)!;
    expect(bp.recencyDays).toEqual([20.8, 40.6, 60.4, 80.2].map((x) => expect.closeTo(x, 9)));
    expect(bp.frequency).toEqual([20.8, 40.6, 60.4, 80.2].map((x) => expect.closeTo(x, 9)));
    expect(bp.monetary).toEqual([208, 406, 604, 802].map((x) => expect.closeTo(x, 9)));
    expect(bp.buyers).toBe(100);
  });

  test('prospects (no order) do not move the breakpoints', () => {
    const prospects = Array.from({ length: 500 }, () => ({ orders: 0, revenue: 0, daysSinceLastOrder: undefined }));
    expect(fitRfmBreakpoints([...hundred, ...prospects])).toEqual(fitRfmBreakpoints(hundred));
  });

  test(`fewer than ${RFM_MIN_BUYERS} buyers: no breakpoints (null)`, () => {
    expect(fitRfmBreakpoints(hundred.slice(0, RFM_MIN_BUYERS - 1))).toBeNull();
    expect(fitRfmBreakpoints(hundred.slice(0, RFM_MIN_BUYERS))).not.toBeNull();
  });
});

describe('RFM scores and groups', () => {
  test.each([
    [
      'the most recent, most frequent, biggest buyer',
      { daysSinceLastOrder: 1, orders: 20, revenue: 900 },
      { r: 5, f: 5, m: 5, group: 'Champions' },
    ],
    [
      'a first order last week',
      { daysSinceLastOrder: 7, orders: 1, revenue: 30 },
      { r: 5, f: 1, m: 1, group: 'New customers' },
    ],
    ['one order long ago', { daysSinceLastOrder: 300, orders: 1, revenue: 30 }, { r: 1, f: 1, m: 1, group: 'Lost' }],
    [
      'a frequent buyer gone quiet',
      { daysSinceLastOrder: 200, orders: 12, revenue: 800 },
      { r: 1, f: 5, m: 5, group: "Can't lose them" },
    ],
    [
      'three orders, 50 days ago',
      { daysSinceLastOrder: 50, orders: 3, revenue: 150 },
      { r: 3, f: 3, m: 3, group: 'Need attention' },
    ],
    ['regular, a month ago', { daysSinceLastOrder: 30, orders: 6, revenue: 300 }, { r: 4, f: 4, m: 4, group: 'Loyal' }],
    [
      'at a breakpoint: 20 days is as recent as it, 1 order scores F=1',
      { daysSinceLastOrder: 20, orders: 1, revenue: 50 },
      { r: 5, f: 1, m: 1, group: 'New customers' },
    ],
    [
      'two orders, 70 days ago',
      { daysSinceLastOrder: 70, orders: 3, revenue: 120 },
      { r: 2, f: 3, m: 3, group: 'At risk' },
    ],
  ])('%s', (_name, input, expected) => {
    expect(scoreRfm(input, BP)).toEqual(expected);
  });

  test('a prospect (no order) has no RFM score', () => {
    expect(scoreRfm({ orders: 0, revenue: 0, daysSinceLastOrder: null }, BP)).toBeNull();
  });

  test('a model without breakpoints gives no RFM score', () => {
    expect(scoreRfm({ orders: 3, revenue: 100, daysSinceLastOrder: 5 }, null)).toBeNull();
    expect(scoreRfm({ orders: 3, revenue: 100, daysSinceLastOrder: 5 }, undefined)).toBeNull();
  });

  test('the grid uses all 11 named groups', () => {
    const groups = new Set<string>();
    for (let r = 1; r <= 5; r++) for (let f = 1; f <= 5; f++) groups.add(rfmGroup(r, f));
    expect([...groups].sort()).toEqual([...RFM_GROUPS].sort());
  });

  test('property: scores are monotone (more recent, more orders, more revenue never score lower)', () => {
    const buyer = fc.record({
      daysSinceLastOrder: fc.double({ min: 0, max: 1000, noNaN: true }),
      orders: fc.integer({ min: 1, max: 50 }),
      revenue: fc.double({ min: 0, max: 5000, noNaN: true }),
    });
    fc.assert(
      fc.property(buyer, buyer, (a, b) => {
        const better = {
          daysSinceLastOrder: Math.min(a.daysSinceLastOrder, b.daysSinceLastOrder),
          orders: Math.max(a.orders, b.orders),
          revenue: Math.max(a.revenue, b.revenue),
        };
        const sa = scoreRfm(a, BP)!;
        const sb = scoreRfm(better, BP)!;
        return sb.r >= sa.r && sb.f >= sa.f && sb.m >= sa.m;
      }),
    );
  });

  test('property: over the fitted population each quintile holds a fifth of the buyers (±1)', () => {
    const bp = fitRfmBreakpoints(hundred)!;
    const counts = [0, 0, 0, 0, 0];
    for (const b of hundred) counts[scoreRfm(b, bp)!.m - 1]!++;
    for (const c of counts) expect(Math.abs(c - 20)).toBeLessThanOrEqual(1);
  });
});
