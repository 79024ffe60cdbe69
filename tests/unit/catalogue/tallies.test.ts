import fc from 'fast-check';
import { uniqueCappedNames } from '../../../shared/catalogue/narrate';
import {
  addCampaigns,
  mergeCampaignAggregates,
  rowCatalogueOf,
  type CampaignAggregate,
  type CampaignTally,
  type CatalogueFeatures,
} from '../../../shared/catalogue/tallies';

describe('rowCatalogueOf', () => {
  it.each([
    {
      name: 'bounds: 10 categories by weight, 20 products, 30 terms',
      input: {
        categoryWeights: Object.fromEntries(
          Array.from({ length: 15 }, (_, i) => [`c${String(i).padStart(2, '0')}`, i + 1]),
        ),
        products: Array.from({ length: 25 }, (_, i) => ({ sku: `p${i}`, ordered: 1, carted: 0, viewed: 0 })),
        reviewTerms: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`term${String(i).padStart(2, '0')}`, 1])),
      },
      check: (r: ReturnType<typeof rowCatalogueOf>) => {
        expect(Object.keys(r.categoryWeights)).toEqual([
          'c14',
          'c13',
          'c12',
          'c11',
          'c10',
          'c09',
          'c08',
          'c07',
          'c06',
          'c05',
        ]);
        expect(r.products).toHaveLength(20);
        expect(r.reviewTerms).toHaveLength(30);
      },
    },
    {
      name: 'non-finite and negative numbers count as 0',
      input: {
        categoryWeights: { a: Number.NaN, b: -3, c: 2 },
        products: [{ sku: 'x', ordered: Number.POSITIVE_INFINITY, carted: -1, viewed: 2 }],
        ratings: [1, Number.NaN, -2, 3.7, 4],
      },
      check: (r: ReturnType<typeof rowCatalogueOf>) => {
        expect(r.categoryWeights).toEqual({ c: 2 });
        expect(r.products).toEqual([{ sku: 'x', ordered: 0, carted: 0, viewed: 2 }]);
        expect(r.ratings).toEqual([1, 0, 0, 3, 4]);
      },
    },
    {
      name: 'an old profile without tallies',
      input: {},
      check: (r: ReturnType<typeof rowCatalogueOf>) =>
        expect(r).toEqual({
          categoryWeights: {},
          products: [],
          ratings: [0, 0, 0, 0, 0],
          reviewTerms: [],
          lifecycleStage: null,
        }),
    },
  ])('$name', ({ input, check }) => check(rowCatalogueOf(input as CatalogueFeatures, null)));

  it('never throws, whatever the stored tallies hold', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            categoryWeights: fc.anything(),
            products: fc.anything(),
            ratings: fc.anything(),
            reviewTerms: fc.anything(),
            campaigns: fc.anything(),
          },
          { requiredKeys: [] },
        ),
        (f) => {
          rowCatalogueOf(f as CatalogueFeatures, null);
          addCampaigns({}, (f as CatalogueFeatures).campaigns);
        },
      ),
    );
  });
});

describe('campaign aggregate', () => {
  const tally = fc.record({
    campaignId: fc.constantFrom('c1', 'c2', 'c3'),
    segmentId: fc.constantFrom('seg-001', 'seg-002'),
    delivered: fc.boolean(),
    opened: fc.boolean(),
    clicked: fc.boolean(),
    converted: fc.boolean(),
    firstAt: fc.constant('2026-11-01T00:00:00Z'),
  });
  const customers = fc.array(fc.array(tally, { maxLength: 4 }), { maxLength: 30 });

  it('merging shards equals one pass, whatever the split (mergeable)', () => {
    fc.assert(
      fc.property(customers, fc.array(fc.nat(3)), (cs: CampaignTally[][], split) => {
        const whole: CampaignAggregate = {};
        cs.forEach((c) => addCampaigns(whole, c));
        const shards: CampaignAggregate[] = [{}, {}, {}, {}];
        cs.forEach((c, i) => addCampaigns(shards[split[i] ?? 0]!, c));
        expect(mergeCampaignAggregates(shards)).toEqual(whole);
      }),
    );
  });

  it('funnel order holds: delivered ≥ opened ≥ clicked ≥ converted', () => {
    fc.assert(
      fc.property(customers, (cs: CampaignTally[][]) => {
        const agg: CampaignAggregate = {};
        cs.forEach((c) => addCampaigns(agg, c));
        for (const bySegment of Object.values(agg))
          for (const c of Object.values(bySegment))
            expect(c.delivered >= c.opened && c.opened >= c.clicked && c.clicked >= c.converted).toBe(true);
      }),
    );
  });
});

describe('uniqueCappedNames', () => {
  it('always unique and at most 40 characters', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ name: fc.constantFrom('A', 'x'.repeat(40), 'Loyal regulars · kitchen'), size: fc.nat(50) }),
          {
            maxLength: 30,
          },
        ),
        (cs) => {
          const out = uniqueCappedNames(cs.map((c, i) => ({ ...c, segmentId: `seg-${i}` })));
          expect(new Set(out).size).toBe(out.length);
          for (const n of out) expect(n.length).toBeLessThanOrEqual(40);
        },
      ),
    );
  });
});
