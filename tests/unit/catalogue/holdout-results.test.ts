import { campaignResults } from '../../../shared/catalogue/build';
import { newcombeDifference } from '../../../shared/catalogue/newcombe';
import {
  addCampaigns,
  mergeCampaignAggregates,
  type CampaignAggregate,
  type CampaignTally,
} from '../../../shared/catalogue/tallies';
import { isHeldOut } from '../../../shared/domain/holdout';

const holdout = { share: 0.2, salt: 'test' };
const tally = (converted: boolean): CampaignTally => ({
  campaignId: 'spring',
  segmentId: 'seg-001',
  delivered: true,
  opened: converted,
  clicked: converted,
  converted,
  firstAt: '2026-11-01T00:00:00.000Z',
});

/** 1,000 customers of seg-001 in the campaign's audience: treated convert 1 in 5, held-out 1 in 10. */
function world(): { aggregate: CampaignAggregate; expected: { held: [number, number]; treated: [number, number] } } {
  const shards: CampaignAggregate[] = [{}, {}];
  const held: [number, number] = [0, 0];
  const treated: [number, number] = [0, 0];
  for (let i = 0; i < 1000; i++) {
    const id = `c-${i}`;
    const out = isHeldOut(id, 'seg-001', holdout);
    const converted = out ? i % 10 === 0 : i % 5 === 0;
    const arm = out ? held : treated;
    arm[0] += converted ? 1 : 0;
    arm[1] += 1;
    addCampaigns(shards[i % 2]!, [tally(converted)], { customerId: id, settings: holdout });
  }
  return { aggregate: mergeCampaignAggregates(shards), expected: { held, treated } };
}

describe('campaign results: held-out against treated customers per segment', () => {
  test('each arm counts its customers and conversions, split by the same hash as segment.changed', () => {
    const { aggregate, expected } = world();
    const [result] = campaignResults(aggregate['seg-001']!);
    expect(result!.holdout!.heldOut).toMatchObject({ customers: expected.held[1], converted: expected.held[0] });
    expect(result!.holdout!.treated).toMatchObject({ customers: expected.treated[1], converted: expected.treated[0] });
    expect(expected.held[1]).toBeGreaterThan(150); // the fixture really has a control group (20 % of 1,000)
  });

  test('held-out customers were not contacted: delivered counts the treated only', () => {
    const { aggregate, expected } = world();
    const [result] = campaignResults(aggregate['seg-001']!);
    expect(result!.delivered).toBe(expected.treated[1]);
    expect(result!.converted).toBe(expected.treated[0]);
  });

  test('the uplift is treated − held out with its Newcombe 95 % interval, which here excludes 0', () => {
    const { aggregate, expected } = world();
    const { uplift, heldOut, treated } = campaignResults(aggregate['seg-001']!)[0]!.holdout!;
    expect(uplift).toEqual(
      newcombeDifference(expected.treated[0], expected.treated[1], expected.held[0], expected.held[1]),
    );
    expect(uplift!.estimate).toBeCloseTo(treated.conversionRate!.rate - heldOut.conversionRate!.rate, 12);
    expect(uplift!.low).toBeGreaterThan(0);
  });

  test('no holdout configured: no comparison (null), counts as before', () => {
    const aggregate: CampaignAggregate = {};
    addCampaigns(aggregate, [tally(true)], { customerId: 'c-1', settings: { share: 0, salt: 'x' } });
    addCampaigns(aggregate, [tally(false)]);
    const [result] = campaignResults(aggregate['seg-001']!);
    expect(result!.holdout).toBeNull();
    expect(result!.delivered).toBe(2);
  });
});
