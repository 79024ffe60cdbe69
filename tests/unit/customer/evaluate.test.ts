import { makeEvent } from '../../support/factories';
import { firstEvaluation } from '../../support/memory-customer';
import { modelFromPrototypes, withLocalEmbeddings } from '../../support/model';
import { testSettings } from '../../support/settings';

const settings = testSettings();
const now = new Date('2026-11-10T12:00:00Z');
const garden = [makeEvent('product.viewed', { customerId: 'g', title: 'Ceramic plant pot', category: 'garden' })];
const baby = [makeEvent('product.viewed', { customerId: 'b', title: 'Baby stroller', category: 'baby' })];
const model = modelFromPrototypes(
  [
    { segmentId: 'seg-001', name: 'Gardeners', events: garden },
    { segmentId: 'seg-002', name: 'Parents', events: baby },
  ],
  settings,
  now,
);

function evaluate(farDistance2: number | undefined, cause?: string) {
  return firstEvaluation(
    'c',
    withLocalEmbeddings(garden, settings.embedding.dimension),
    now,
    settings,
    { ...model, ...(farDistance2 === undefined ? {} : { farDistance2 }) },
    { claim: true, ...(cause ? { cause } : {}) },
  );
}

describe('evaluateCustomer', () => {
  test('an assignment beyond the model’s far quantile is flagged (the real-time early drift signal)', () => {
    expect(evaluate(1e9).farFromCentroids).toBe(false);
    expect(evaluate(-1).farFromCentroids).toBe(true);
    expect(evaluate(undefined).farFromCentroids).toBe(false); // models fitted before the quantile existed
  });

  test('a first placement queues one segment change and one lifecycle change, claimed by this write', () => {
    const e = evaluate(undefined);
    expect(e.changes.map((c) => c.event.detailType).sort()).toEqual(['lifecycle.changed', 'segment.changed']);
    expect(e.changes.every((c) => c.claimRev === e.profile.rev && c.claimedAt === now.toISOString())).toBe(true);
    expect(e.profile.assignment).toMatchObject({ segmentId: 'seg-001', name: 'Gardeners' });
    expect(e.profile.history.map((h) => h.detailType).sort()).toEqual(['lifecycle.changed', 'segment.changed']);
  });

  test('each transition in the history names what moved the customer (an event id or a run id)', () => {
    expect(evaluate(undefined, 'evt-42').profile.history.map((h) => h.cause)).toEqual(['evt-42', 'evt-42']);
  });
});
