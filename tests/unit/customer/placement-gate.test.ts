/**
 * Issue #10: segments that tell the truth about what a customer does lately.
 * - The placement gate: no first segment before `placement.minTenureDays` and `placement.minEvents`; the nightly fit
 *   learns only from placeable rows.
 * - Recent behaviour: the vector follows a change of behaviour within a week, and does not move for a customer who
 *   only grows older.
 */
import { hasEvidence } from '../../../shared/customer/evaluate';
import { foldState } from '../../../shared/customer/fold';
import { featuresOf } from '../../../shared/customer/state';
import { featureSettingsOf } from '../../../shared/customer/update';
import type { InboundEvent } from '../../../shared/contracts/inbound';
import { behaviourRow, BEHAVIOUR_FEATURES } from '../../../shared/domain/vector';
import { scanRowOf, segmentationRows } from '../../../shared/recluster/rows';
import { makeEvent } from '../../support/factories';
import { firstEvaluation } from '../../support/memory-customer';
import { modelFromPrototypes, withLocalEmbeddings } from '../../support/model';
import { testSettings } from '../../support/settings';

const DAY = 86_400_000;
const START = Date.parse('2026-03-02T10:00:00Z');
const gated = testSettings({ placement: { minTenureDays: 7, minEvents: 8 } });
const fs = featureSettingsOf(gated);
const at = (day: number, hour = 0) => new Date(START + day * DAY + hour * 3_600_000).toISOString();

function views(customerId: string, days: number[], category = 'garden', channel: 'web' | 'app' = 'web') {
  return days.map((d, i) =>
    makeEvent('product.viewed', {
      customerId,
      eventId: `${customerId}-${category}-${channel}-${d}-${i}`,
      occurredAt: at(d, 10 + (i % 8)),
      title: `${category} thing`,
      category,
      channel,
    }),
  );
}

const model = modelFromPrototypes(
  [
    { segmentId: 'seg-001', name: 'Gardeners', events: views('g', [0]) },
    { segmentId: 'seg-002', name: 'Readers', events: views('r', [0], 'books') },
  ],
  gated,
  new Date(at(0)),
);

function evaluateAt(events: InboundEvent[], day: number) {
  return firstEvaluation(
    'c',
    withLocalEmbeddings(events, gated.embedding.dimension),
    new Date(at(day, 23)),
    gated,
    model,
  );
}

describe('the placement gate', () => {
  test('three days and 6 events: no segment and no segment.changed, but a lifecycle stage', () => {
    const e = evaluateAt(views('c', [0, 0, 1, 1, 2, 2]), 2);
    expect(e.profile.assignment).toBeNull();
    expect(e.changes.map((c) => c.event.detailType)).toEqual(['lifecycle.changed']);
    expect(e.profile.lifecycleStage).toBe('prospect');
  });

  test('ten days but 4 events: still no segment (both conditions hold, not either)', () => {
    expect(evaluateAt(views('c', [0, 3, 6, 9]), 10).profile.assignment).toBeNull();
  });

  test('8 events over 8 days: placed, and the first segment.changed comes from nowhere (from: null)', () => {
    const e = evaluateAt(views('c', [0, 1, 2, 3, 4, 5, 6, 7]), 8);
    expect(e.profile.assignment).toMatchObject({ segmentId: 'seg-001' });
    const change = e.changes.find((c) => c.event.detailType === 'segment.changed')!;
    expect(change.event.detail).toMatchObject({ from: null, to: { segmentId: 'seg-001' } });
  });

  test('hasEvidence: no gate configured places everyone; the thresholds are inclusive', () => {
    expect(hasEvidence({ tenureDays: 0, eventCount: 1 }, undefined)).toBe(true);
    expect(hasEvidence({ tenureDays: 7, eventCount: 8 }, { minTenureDays: 7, minEvents: 8 })).toBe(true);
    expect(hasEvidence({ tenureDays: 6.99, eventCount: 80 }, { minTenureDays: 7, minEvents: 8 })).toBe(false);
  });

  test('the nightly fit learns from placeable rows only; the value model still sees every row', () => {
    const young = foldState(withLocalEmbeddings(views('y', [9, 9, 9]), 32), fs);
    const settled = foldState(withLocalEmbeddings(views('s', [0, 1, 2, 3, 4, 5, 6, 7, 8]), 32), fs);
    const asOf = new Date(at(10));
    const rows = [
      scanRowOf('y', featuresOf(young, asOf, fs), null, gated.placement),
      scanRowOf('s', featuresOf(settled, asOf, fs), null, gated.placement),
    ];
    expect(rows.map((r) => r.placeable)).toEqual([false, true]);
    expect(segmentationRows(rows).map((r) => r.customerId)).toEqual(['s']);
  });
});

describe('recent behaviour in the vector', () => {
  const column = (name: (typeof BEHAVIOUR_FEATURES)[number]) => BEHAVIOUR_FEATURES.indexOf(name);

  test('a web customer of 30 days who moves to the app: its recent app share passes 0.8 within 7 days', () => {
    const days = Array.from({ length: 30 }, (_, d) => d);
    const before = views('c', [...days, ...days], 'garden', 'web');
    const after = views('c', [30, 31, 32, 33, 34, 35, 36, 30, 31, 32, 33, 34, 35, 36], 'garden', 'app');
    const state = foldState(withLocalEmbeddings([...before, ...after], 32), fs);
    const f = featuresOf(state, new Date(at(37)), fs);
    expect(f.channelShares.app).toBeLessThan(0.25); // the lifetime share barely moved
    expect(f.recent.channelShares.app).toBeGreaterThan(0.8);
    expect(behaviourRow(f)[column('channelApp')]).toBeCloseTo(f.recent.channelShares.app, 12);
  });

  test('a customer who only grows older keeps its vector: 30 and 90 days of the same weekly rhythm', () => {
    const weekly = (weeks: number) =>
      Array.from({ length: weeks * 7 }, (_, d) => d).filter((d) => d % 7 === 2 || d % 7 === 5);
    const young = foldState(withLocalEmbeddings(views('c', weekly(5)), 32), fs);
    const old = foldState(withLocalEmbeddings(views('c', weekly(13)), 32), fs);
    const a = behaviourRow(featuresOf(young, new Date(at(35)), fs));
    const b = behaviourRow(featuresOf(old, new Date(at(91)), fs));
    a.forEach((v, j) => expect([BEHAVIOUR_FEATURES[j], v]).toEqual([BEHAVIOUR_FEATURES[j], expect.closeTo(b[j]!, 3)]));
  });

  test('an order resent under another event id counts once in the recent orders and spend', () => {
    const order = (eventId: string) =>
      makeEvent('order.placed', { customerId: 'c', eventId, orderId: 'ord-1', total: 40, occurredAt: at(3) });
    const once = featuresOf(foldState([{ event: order('e-1'), embedding: 'refused' }], fs), new Date(at(4)), fs);
    const twice = featuresOf(
      foldState(
        [
          { event: order('e-1'), embedding: 'refused' },
          { event: order('e-2'), embedding: 'refused' },
        ],
        fs,
      ),
      new Date(at(4)),
      fs,
    );
    expect(twice.recent.orders).toBeCloseTo(once.recent.orders, 12);
    expect(twice.recent.spend).toBeCloseTo(once.recent.spend, 12);
    expect(once.recent.orders).toBeCloseTo(2 ** (-1 / fs.activityHalfLifeDays), 12);
  });
});
