import fc from 'fast-check';
import { buildCatalogueStats, campaignResults, productsNotBought } from '../../../shared/catalogue/build';
import {
  addCampaigns,
  mergeCampaignAggregates,
  type CampaignAggregate,
  type CampaignTally,
} from '../../../shared/catalogue/tallies';
import { wilsonInterval } from '../../../shared/catalogue/wilson';
import { row, statsOf } from './fixtures';

describe('wilsonInterval (Wilson 1927; figures as in Brown, Cai & DasGupta 2001)', () => {
  const cases = [
    { name: '0 of 10', x: 0, n: 10, low: 0, high: 0.2775 },
    { name: '5 of 10', x: 5, n: 10, low: 0.2366, high: 0.7634 },
    { name: '10 of 10', x: 10, n: 10, low: 0.7225, high: 1 },
    { name: '1 of 100', x: 1, n: 100, low: 0.0018, high: 0.0545 },
  ];
  it.each(cases)('$name', ({ x, n, low, high }) => {
    const r = wilsonInterval(x, n)!;
    expect(r.rate).toBeCloseTo(x / n, 10);
    expect(r.low).toBeCloseTo(low, 4);
    expect(r.high).toBeCloseTo(high, 4);
  });
  it('no trials: null', () => expect(wilsonInterval(0, 0)).toBeNull());
  it.each([
    { x: 3, n: 2 },
    { x: -1, n: 2 },
    { x: 0.5, n: 2 },
  ])('rejects x=$x n=$n', ({ x, n }) => expect(() => wilsonInterval(x, n)).toThrow(RangeError));
  it('the interval holds the rate and stays in [0, 1]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, f) => {
        const x = Math.round(f * n);
        const r = wilsonInterval(x, n)!;
        return r.low >= 0 && r.high <= 1 && r.low <= r.rate + 1e-12 && r.rate <= r.high + 1e-12;
      }),
    );
  });
});

const campaign = (c: Partial<CampaignTally> & { campaignId: string; segmentId: string }): CampaignTally => ({
  delivered: false,
  opened: false,
  clicked: false,
  converted: false,
  firstAt: '2026-11-01T00:00:00Z',
  ...c,
});

describe('campaign results from a scripted set with known counts', () => {
  // 10 customers got spring-sale in seg-001: 10 delivered, 6 opened, 3 clicked, 1 converted (one click arrived
  // without its open and delivery receipts: a click implies both). 4 customers got it in seg-002: 4 delivered,
  // 1 opened. Customer 0 also lists the same campaign twice: counted once.
  const customers: CampaignTally[][] = [];
  for (let i = 0; i < 10; i++) {
    const c = campaign({
      campaignId: 'spring-sale',
      segmentId: 'seg-001',
      delivered: i !== 9,
      opened: i < 5,
      clicked: i < 2 || i === 9,
      converted: i === 0,
    });
    customers.push(i === 0 ? [c, { ...c }] : [c]);
  }
  for (let i = 0; i < 4; i++)
    customers.push([campaign({ campaignId: 'spring-sale', segmentId: 'seg-002', delivered: true, opened: i === 0 })]);

  it('counts by the segment the campaign was delivered to, with rates and 95 % intervals', () => {
    // Two shards, merged: the sum does not depend on the split.
    const a: CampaignAggregate = {};
    const b: CampaignAggregate = {};
    customers.forEach((c, i) => addCampaigns(i % 2 ? a : b, c));
    const merged = mergeCampaignAggregates([a, b]);
    const seg1 = campaignResults(merged['seg-001']!);
    expect(seg1).toHaveLength(1);
    expect(seg1[0]).toMatchObject({ campaignId: 'spring-sale', delivered: 10, opened: 6, clicked: 3, converted: 1 });
    expect(seg1[0]!.openRate).toEqual(wilsonInterval(6, 10));
    expect(seg1[0]!.conversionRate!.rate).toBe(0.1);
    expect(seg1[0]!.conversionRate!.low).toBeCloseTo(0.0179, 4);
    expect(seg1[0]!.conversionRate!.high).toBeCloseTo(0.4042, 4);
    expect(campaignResults(merged['seg-002']!)[0]).toMatchObject({ delivered: 4, opened: 1, clicked: 0, converted: 0 });
  });

  it('attribution: a customer now in another segment still counts for the segment delivered to', () => {
    const rows = [row({ orders: 1, revenue: 10 }), row({ orders: 1, revenue: 10 })];
    const agg: CampaignAggregate = {};
    addCampaigns(agg, [campaign({ campaignId: 'c1', segmentId: 'seg-002', delivered: true, converted: true })]);
    const [s1, s2] = buildCatalogueStats(rows, Int32Array.from([0, 0]), ['seg-001', 'seg-002'], agg);
    expect(s1!.campaigns).toEqual([]);
    expect(s2!.campaigns[0]).toMatchObject({ campaignId: 'c1', delivered: 1, converted: 1 });
  });

  it('lists at most 10 campaigns per segment, the most delivered first', () => {
    const agg: CampaignAggregate = {};
    for (let c = 0; c < 12; c++)
      for (let i = 0; i <= c; i++)
        addCampaigns(agg, [
          campaign({ campaignId: `c${String(c).padStart(2, '0')}`, segmentId: 'seg-001', delivered: true }),
        ]);
    const listed = campaignResults(agg['seg-001']!);
    expect(listed.map((r) => [r.campaignId, r.delivered])).toEqual(
      Array.from({ length: 10 }, (_, i) => [`c${String(11 - i).padStart(2, '0')}`, 12 - i]),
    );
  });

  it('malformed tallies are skipped, not thrown', () => {
    const agg: CampaignAggregate = {};
    addCampaigns(agg, [
      { campaignId: '', segmentId: 'seg-001' } as CampaignTally,
      null as unknown as CampaignTally,
      campaign({ campaignId: 'ok', segmentId: 'seg-001', opened: true }),
    ]);
    addCampaigns(agg, 'nonsense' as unknown as CampaignTally[]);
    expect(agg).toEqual({ 'seg-001': { ok: { delivered: 1, opened: 1, clicked: 0, converted: 0 } } });
  });
});

describe('profile', () => {
  const stats = statsOf([
    {
      spec: { orders: 4, revenue: 400, days: 10, clv: 300, churn: 0.2, stage: 'active', categories: ['kitchen'] },
      n: 3,
    },
    {
      spec: { orders: 2, revenue: 100, days: 50, clv: 100, churn: 0.4, stage: 'at_risk', categories: ['garden'] },
      n: 1,
    },
    { spec: { orders: 0, revenue: 0, clv: null, churn: null, stage: 'prospect', categories: ['kitchen'] }, n: 4 },
  ]);

  it('medians and means side by side', () => {
    expect(stats.profile.stats.orders).toEqual({ median: 1, mean: 1.75, n: 8 });
    expect(stats.profile.stats.revenue).toEqual({ median: 50, mean: 162.5, n: 8 });
    expect(stats.profile.stats.daysSinceLastOrder).toEqual({ median: 10, mean: 20, n: 4 });
  });

  it('churn risk and CLV over buyers only (prospects with null traits left out)', () => {
    expect(stats.profile.buyers.count).toBe(4);
    expect(stats.profile.buyers.meanChurnRisk).toBeCloseTo(0.25, 10);
    expect(stats.profile.buyers.meanClv).toBe(250);
    expect(stats.profile.buyers.medianClv).toBe(300);
  });

  it('lifecycle mix', () => {
    expect(stats.profile.lifecycleMix).toEqual({ active: 0.375, at_risk: 0.125, prospect: 0.5 });
  });

  it('top categories by share and by lift, against the whole store', () => {
    const rows = [
      ...Array.from({ length: 6 }, () => row({ orders: 1, revenue: 1, categories: ['garden', 'baby'] })),
      ...Array.from({ length: 6 }, () => row({ orders: 1, revenue: 1, categories: ['garden'] })),
    ];
    const labels = Int32Array.from(rows.map((_, i) => (i < 6 ? 0 : 1)));
    const [s] = buildCatalogueStats(rows, labels, ['a', 'b'], {});
    expect(s!.profile.topCategoriesByShare).toEqual([
      { category: 'baby', share: 1 },
      { category: 'garden', share: 1 },
    ]);
    expect(s!.profile.topCategoriesByLift.map((c) => [c.category, c.lift])).toEqual([
      ['baby', 2],
      ['garden', 1],
    ]);
  });
});

describe('recommendations', () => {
  const skus = (s: string[], ordered = 0) => s.map((sku) => ({ sku, ordered, carted: 0, viewed: 1 }));
  const rows = [
    ...Array.from({ length: 5 }, () =>
      row({ orders: 1, revenue: 1, products: [...skus(['mower'], 1), ...skus(['gloves'])] }),
    ),
    ...Array.from({ length: 5 }, () => row({ orders: 1, revenue: 1, products: skus(['gloves']) })),
  ];
  const [seg] = buildCatalogueStats(rows, Int32Array.from(rows.map((_, i) => (i < 5 ? 0 : 1))), ['a', 'b'], {});

  it('by volume (3·ordered + 2·carted + viewed) and by lift over the store', () => {
    expect(seg!.recommendations.productsByVolume.map((p) => [p.sku, p.score])).toEqual([
      ['mower', 20],
      ['gloves', 5],
    ]);
    expect(seg!.recommendations.productsByLift.map((p) => [p.sku, p.lift])).toEqual([
      ['mower', 2],
      ['gloves', 1],
    ]);
  });

  it.each([
    { name: 'a new customer gets the picks', bought: [], expected: ['mower', 'gloves'] },
    { name: 'a bought product is left out', bought: [{ sku: 'mower', ordered: 2 }], expected: ['gloves'] },
    { name: 'a viewed-only product stays', bought: [{ sku: 'mower', ordered: 0 }], expected: ['mower', 'gloves'] },
  ])('productsNotBought: $name', ({ bought, expected }) => {
    expect(productsNotBought(seg!.recommendations, bought)).toEqual(expected);
  });
});

describe('feedback', () => {
  it('ratings, share ≤ 2, and only terms with at least 5 distinct customers (k-anonymity), no id-like terms', () => {
    const stats = statsOf([
      { spec: { orders: 1, revenue: 1, ratings: [1, 1, 0, 1, 2], terms: ['sturdy', 'order12345', 'jane'] }, n: 5 },
      { spec: { orders: 1, revenue: 1, ratings: [0, 0, 0, 0, 1], terms: ['flimsy'] }, n: 4 },
    ]);
    expect(stats.feedback.ratings).toEqual([5, 5, 0, 5, 14]);
    expect(stats.feedback.lowRatingShare).toBeCloseTo(10 / 29, 10);
    expect(stats.feedback.terms.map((t) => [t.term, t.customers])).toEqual([
      ['jane', 5],
      ['sturdy', 5],
    ]);
  });

  it('a term of 4 customers is never shown', () => {
    const stats = statsOf([{ spec: { orders: 1, revenue: 1, terms: ['rare'] }, n: 4 }]);
    expect(stats.feedback.terms).toEqual([]);
  });
});
