import { segmentChangedSchema } from '../../../shared/contracts/outbound';
import type { RfmBreakpoints } from '../../../shared/value/rfm';
import { makeEvent } from '../../support/factories';
import { profileFromLog } from '../../support/memory-customer';
import { modelFromPrototypes, withLocalEmbeddings } from '../../support/model';
import { testSettings } from '../../support/settings';

const settings = testSettings();
const now = new Date('2026-11-10T12:00:00Z');
const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000).toISOString();
const BP: RfmBreakpoints = {
  recencyDays: [20, 40, 60, 80],
  frequency: [1, 2, 4, 8],
  monetary: [50, 100, 200, 400],
  buyers: 100,
};
const model = {
  ...modelFromPrototypes(
    [{ segmentId: 'seg-001', name: 'Buyers', events: [makeEvent('order.placed', { customerId: 'p' })] }],
    settings,
    now,
  ),
  rfm: BP,
};
const dim = settings.embedding.dimension;

describe('RFM as traits at evaluation (the model’s breakpoints)', () => {
  test('a buyer gets R, F, M and its group in traits and in segment.changed', () => {
    // 3 orders of 59.90 (179.70 GBP), the last 10 days ago: R=5, F=3, M=3.
    const events = [50, 30, 10].map((d) => makeEvent('order.placed', { customerId: 'c1', occurredAt: daysAgo(d) }));
    const profile = profileFromLog('c1', withLocalEmbeddings(events, dim), now, settings, model);
    expect(profile.traits?.rfm).toEqual({ r: 5, f: 3, m: 3, group: 'Potential loyalists' });
    expect(profile.history[0]?.detailType).toBe('segment.changed');
  });

  test('segment.changed carries the RFM traits and validates against the published schema', () => {
    const events = [makeEvent('order.placed', { customerId: 'c2', occurredAt: daysAgo(100) })];
    const { traits } = profileFromLog('c2', withLocalEmbeddings(events, dim), now, settings, model);
    const detail = segmentChangedSchema.parse({
      customerId: 'c2',
      from: null,
      to: { segmentId: 'seg-001', name: 'Buyers' },
      modelVersion: 1,
      confidence: 1,
      topProbabilities: [],
      reason: 'event',
      traits,
      changedAt: now.toISOString(),
      dedupeKey: 'k',
    });
    expect(detail.traits?.rfm).toEqual({ r: 1, f: 1, m: 2, group: 'Lost' });
  });

  test('a prospect (no order) has rfm null', () => {
    const events = [makeEvent('product.viewed', { customerId: 'c3', occurredAt: daysAgo(2) })];
    expect(profileFromLog('c3', withLocalEmbeddings(events, dim), now, settings, model).traits?.rfm).toBeNull();
  });

  test('a model without breakpoints (older, or too few buyers) gives rfm null', () => {
    const events = [makeEvent('order.placed', { customerId: 'c4', occurredAt: daysAgo(2) })];
    const old = { ...model, rfm: undefined };
    expect(profileFromLog('c4', withLocalEmbeddings(events, dim), now, settings, old).traits?.rfm).toBeNull();
  });
});
