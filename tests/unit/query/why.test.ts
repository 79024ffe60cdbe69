import type { SegmentProfile } from '../../../shared/contracts/outbound';
import { explainCustomer, WHY_MIN_IQR_UNITS } from '../../../shared/query/why';
import { emptyState, featuresOf } from '../../../shared/customer/state';
import { featureSettingsOf } from '../../../shared/customer/update';
import { testSettings } from '../../support/settings';

const emptyFeatures = () =>
  featuresOf(emptyState(), new Date('2026-11-10T00:00:00Z'), featureSettingsOf(testSettings()));

const profile: SegmentProfile = {
  segmentId: 'seg-001',
  name: 'S',
  size: 10,
  share: 1,
  features: {
    orders: { mean: 2, p25: 1, p50: 2, p75: 3 },
    revenue: { mean: 100, p25: 60, p50: 100, p75: 140 },
    daysSinceLastOrder: { mean: 30, p25: 10, p50: 30, p75: 60 },
    refundRate: { mean: 0, p25: 0, p50: 0, p75: 0 },
  },
  topCategories: [],
  channelMix: {},
  meanClv: null,
  meanChurnRisk: null,
};

describe('why: what sets a customer apart from its segment centre', () => {
  test.each([
    ['far above on orders (2 IQRs)', { orders: 6, revenue: 100, daysSinceLastOrder: 30 }, [['orders', 4, 2, 'above']]],
    ['below on revenue (−1 IQR)', { orders: 2, revenue: 20, daysSinceLastOrder: 30 }, [['revenue', -80, -1, 'below']]],
    ['at the centre: nothing stands out', { orders: 2, revenue: 100, daysSinceLastOrder: 30 }, []],
    [
      'just under the threshold is left out',
      { orders: 2, revenue: 100 + 80 * (WHY_MIN_IQR_UNITS - 0.01), daysSinceLastOrder: 30 },
      [],
    ],
    [
      'a uniform segment (IQR 0): scale falls back to max(|median|, 1)',
      { orders: 2, revenue: 100, daysSinceLastOrder: 30, refundRate: 0.5 },
      [['refundRate', 0.5, 0.5, 'above']],
    ],
    [
      'most distinctive first',
      { orders: 3, revenue: 400, daysSinceLastOrder: 130 },
      [
        ['revenue', 300, 3.75, 'above'],
        ['daysSinceLastOrder', 100, 2, 'above'],
        ['orders', 1, 0.5, 'above'],
      ],
    ],
  ])('%s', (_name, over, expected) => {
    const why = explainCustomer({ ...emptyFeatures(), ...over }, profile);
    expect(why.map((w) => [w.feature, w.difference, w.iqrUnits, w.direction])).toEqual(
      expected.map(([f, d, u, dir]) => [f, expect.closeTo(d as number, 9), expect.closeTo(u as number, 9), dir]),
    );
  });

  test('units are natural: orders, currency, days, share', () => {
    const why = explainCustomer(
      { ...emptyFeatures(), orders: 9, revenue: 900, daysSinceLastOrder: 300, refundRate: 1 },
      profile,
    );
    expect(Object.fromEntries(why.map((w) => [w.feature, w.unit]))).toEqual({
      orders: 'orders',
      revenue: 'currency',
      daysSinceLastOrder: 'days',
      refundRate: 'share',
    });
  });

  test('a customer with no segment profile has no why', () => {
    expect(explainCustomer(emptyFeatures(), null)).toEqual([]);
  });
});
