import { segmentChangedSchema } from '../../../shared/contracts/outbound';
import { holdoutDraw } from '../../../shared/domain/holdout';
import { makeEvent } from '../../support/factories';
import { firstEvaluation } from '../../support/memory-customer';
import { modelFromPrototypes, withLocalEmbeddings } from '../../support/model';
import { testSettings } from '../../support/settings';

const now = new Date('2026-11-10T12:00:00Z');
const base = testSettings();
const model = modelFromPrototypes(
  [{ segmentId: 'seg-001', name: 'Buyers', events: [makeEvent('order.placed', { customerId: 'p' })] }],
  base,
  now,
);

function segmentChanged(customerId: string, share: number) {
  const settings = { ...base, holdout: { share, salt: 'stage-salt' } };
  const { changes } = firstEvaluation(
    customerId,
    withLocalEmbeddings([makeEvent('order.placed', { customerId })], settings.embedding.dimension),
    now,
    settings,
    model,
  );
  const entry = changes.find((c) => c.event.detailType === 'segment.changed')!;
  return segmentChangedSchema.parse(entry.event.detail);
}

describe('segment.changed carries holdout', () => {
  test('share 0.5: the flag is the hash of (customer, segment, salt) against the share, for each of 100 customers', () => {
    const ids = Array.from({ length: 100 }, (_, i) => `h-${i}`);
    const flags = ids.map((id) => segmentChanged(id, 0.5).holdout);
    expect(flags).toEqual(ids.map((id) => holdoutDraw(id, 'seg-001', 'stage-salt') < 0.5));
    expect(flags.filter(Boolean).length).toBeGreaterThan(30); // both arms really occur
    expect(flags.filter((f) => !f).length).toBeGreaterThan(30);
  });

  test('share 0 (the default): holdout false for everyone', () => {
    expect(Array.from({ length: 50 }, (_, i) => segmentChanged(`z-${i}`, 0).holdout).some(Boolean)).toBe(false);
  });
});
