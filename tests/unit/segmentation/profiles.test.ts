import { segmentProfileSchema } from '../../../shared/contracts/outbound';
import { buildProfiles, populationProfile, type ProfileRow } from '../../../shared/segmentation/profiles';

function row(over: Partial<ProfileRow> & { revenue?: number; orders?: number } = {}): ProfileRow {
  return {
    natural: { orders: over.orders ?? 1, revenue: over.revenue ?? 100, daysSinceLastOrder: 10 },
    topCategories: ['garden'],
    channelShares: { web: 1, app: 0 },
    traits: null,
    ...over,
  };
}

describe('buildProfiles', () => {
  const rows: ProfileRow[] = [
    row({
      revenue: 10,
      topCategories: ['garden', 'tools'],
      channelShares: { web: 1, app: 0 },
      traits: { clv: 100, churnRisk: 0.2 },
    }),
    row({
      revenue: 20,
      topCategories: ['garden'],
      channelShares: { web: 0.5, app: 0.5 },
      traits: { clv: 300, churnRisk: 0.4 },
    }),
    row({ revenue: 30, topCategories: ['tools', 'garden'], channelShares: { web: 0, app: 1 } }),
    row({ revenue: 40, topCategories: ['kitchen'], channelShares: { web: 0, app: 1 } }),
    row({
      revenue: 1000,
      topCategories: ['baby'],
      channelShares: { web: 1, app: 0 },
      natural: { orders: 9, revenue: 1000 },
    }),
  ];
  const labels = [0, 0, 0, 0, 1];
  const profiles = buildProfiles(rows, labels, ['seg-001', 'seg-002', 'seg-003'], ['A', 'B', 'C']);

  test('every profile parses with the published schema', () => {
    for (const p of profiles) expect(() => segmentProfileSchema.parse(p)).not.toThrow();
  });

  const cases = [
    { name: 'size and share', segment: 0, expected: { segmentId: 'seg-001', name: 'A', size: 4, share: 0.8 } },
    // numpy.percentile([10, 20, 30, 40], [25, 50, 75]) == [17.5, 25, 32.5]
    {
      name: 'revenue mean and quartiles',
      segment: 0,
      expected: { features: expect.objectContaining({ revenue: { mean: 25, p25: 17.5, p50: 25, p75: 32.5 } }) },
    },
    {
      name: 'top categories by share of members, most first, ties by name',
      segment: 0,
      expected: {
        topCategories: [
          { category: 'garden', share: 0.75 },
          { category: 'tools', share: 0.5 },
          { category: 'kitchen', share: 0.25 },
        ],
      },
    },
    { name: 'channel mix is the mean of the shares', segment: 0, expected: { channelMix: { app: 0.625, web: 0.375 } } },
    {
      name: 'CLV and churn over members with traits',
      segment: 0,
      expected: { meanClv: 200, meanChurnRisk: expect.closeTo(0.3, 12) },
    },
    { name: 'no traits: nulls', segment: 1, expected: { meanClv: null, meanChurnRisk: null, size: 1, share: 0.2 } },
    {
      name: 'a feature no member has is omitted',
      segment: 1,
      expected: {
        features: {
          orders: { mean: 9, p25: 9, p50: 9, p75: 9 },
          revenue: { mean: 1000, p25: 1000, p50: 1000, p75: 1000 },
        },
      },
    },
    {
      name: 'an empty segment',
      segment: 2,
      expected: { size: 0, share: 0, features: {}, topCategories: [], channelMix: { app: 0, web: 0 }, meanClv: null },
    },
  ];
  test.each(cases)('$name', ({ segment, expected }) => {
    expect(profiles[segment]).toMatchObject(expected);
  });

  test('only features present in the segment are listed', () => {
    expect(Object.keys(profiles[1]!.features).sort()).toEqual(['orders', 'revenue']);
  });

  test('labels out of range are ignored', () => {
    const p = buildProfiles(rows, [0, -1, 0, 5, 0], ['seg-001']);
    expect(p[0]).toMatchObject({ size: 3, share: 1 });
  });

  test('non-finite natural values are skipped', () => {
    const p = buildProfiles(
      [row({ natural: { revenue: Number.NaN } }), row({ natural: { revenue: 5 } })],
      [0, 0],
      ['seg-001'],
    );
    expect(p[0]!.features.revenue).toEqual({ mean: 5, p25: 5, p50: 5, p75: 5 });
    expect(() => segmentProfileSchema.parse(p[0])).not.toThrow();
  });

  test('population profile covers all rows', () => {
    const pop = populationProfile(rows);
    expect(pop).toMatchObject({ size: 5, share: 1 });
    expect(() => segmentProfileSchema.parse(pop)).not.toThrow();
  });
});
