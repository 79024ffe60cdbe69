import fc from 'fast-check';
import { nightDecision, nightlyMarks, DUE_CAP_DAYS } from '../../../shared/customer/due';
import { foldEvents } from '../../../shared/customer/fold';
import { computeTraits, stageOf } from '../../../shared/domain/traits';
import type { Assignment } from '../../../shared/customer/profile';
import type { InboundEvent } from '../../../shared/contracts/inbound';
import type { SegmentationModel } from '../../../shared/segmentation/model';
import { makeEvent } from '../../support/factories';
import { modelFromPrototypes, withLocalEmbeddings } from '../../support/model';
import { testSettings } from '../../support/settings';

const DAY_MS = 86_400_000;
const settings = testSettings();
const T0 = new Date('2026-06-01T00:00:00Z');
const iso = (daysBefore: number) => new Date(T0.getTime() - daysBefore * DAY_MS).toISOString();

let n = 0;
const order = (daysBefore: number, total: number, category: string): InboundEvent =>
  makeEvent('order.placed', {
    eventId: `o-${n++}`,
    customerId: 'c',
    occurredAt: iso(daysBefore),
    orderId: `ord-${n}`,
    total,
    items: [{ sku: `${category}-1`, title: `${category} thing`, category, price: total, quantity: 1 }],
  });
const view = (daysBefore: number, category: string): InboundEvent =>
  makeEvent('product.viewed', {
    eventId: `v-${n++}`,
    customerId: 'c',
    occurredAt: iso(daysBefore),
    sku: `${category}-1`,
    title: `${category} thing`,
    category,
  });

const CATEGORIES = ['garden', 'books', 'toys'] as const;
const PROTOTYPES = [
  { segmentId: 'seg-001', name: 'garden regulars', events: [order(5, 40, 'garden'), order(20, 60, 'garden')] },
  { segmentId: 'seg-002', name: 'book browsers', events: [view(1, 'books'), view(3, 'books'), view(4, 'books')] },
  { segmentId: 'seg-003', name: 'lapsed toy buyers', events: [order(150, 300, 'toys'), order(200, 120, 'toys')] },
];
const base = modelFromPrototypes(PROTOTYPES, settings, T0);
const baseModel: SegmentationModel = {
  ...base,
  placement: { clock: 1, valueClock: 0, full: null, centroidShift: null, pAliveShift: null },
};

/** Every centroid moved by a vector of length ≤ `shift` (a warm-started night); the value model kept. */
function movedModel(model: SegmentationModel, directions: number[][], shift: number): SegmentationModel {
  const centroids = [...model.centroids];
  let largest = 0;
  for (let c = 0; c < model.k; c++) {
    const dir = directions[c]!;
    const full = Array.from({ length: model.dim }, (_, j) => (dir[j % dir.length] ?? 0) * (1 + (j % 7) / 7));
    const norm = Math.sqrt(full.reduce((s, x) => s + x * x, 0));
    if (norm === 0) continue;
    for (let j = 0; j < model.dim; j++) centroids[c * model.dim + j]! += (shift * full[j]!) / norm;
    largest = Math.max(largest, shift);
  }
  return {
    ...model,
    version: model.version + 1,
    centroids,
    placement: {
      clock: model.placement!.clock + largest,
      valueClock: model.placement!.valueClock,
      full: null,
      centroidShift: largest,
      pAliveShift: 0,
    },
  };
}

const eventArb = fc.oneof(
  fc.record({
    kind: fc.constant('order' as const),
    days: fc.integer({ min: 0, max: 300 }),
    total: fc.integer({ min: 5, max: 900 }),
    cat: fc.constantFrom(...CATEGORIES),
  }),
  fc.record({
    kind: fc.constant('view' as const),
    days: fc.integer({ min: 0, max: 60 }),
    total: fc.constant(0),
    cat: fc.constantFrom(...CATEGORIES),
  }),
);

/** A customer placed in `segmentId` by model `version` at T0. */
function placedAt(segmentId: string, version: number): Assignment {
  return {
    segmentId,
    modelVersion: version,
    since: T0.toISOString(),
    distance: 0,
    confidence: 1,
    topProbabilities: [],
  };
}

/**
 * One case of the skip rule: the customer's events, placed and marked at `markedAt` (the night T0, or a real-time
 * write between T0 and the next night), then a model moved along `directions` by ≤ `shift`, `nightsLater` nights
 * after T0. A customer the marks skip must keep its segment and stage under the full re-evaluation.
 */
function skipRuleCase(
  specs: { kind: 'order' | 'view'; days: number; total: number; cat: (typeof CATEGORIES)[number] }[],
  directions: number[][],
  shift: number,
  nightsLater: number,
  markedAt: Date,
  betweenNights: boolean,
): 'skipped' | 'evaluated' {
  const events = specs.map((e) => (e.kind === 'order' ? order(e.days, e.total, e.cat) : view(e.days, e.cat)));
  const logged = withLocalEmbeddings(events, settings.embedding.dimension);
  const featuresAt = (t: Date) => foldEvents(logged, t, settings.features);
  // The stage the probes use is the one computeTraits stores.
  const traits = computeTraits(featuresAt(markedAt), baseModel.value, null, settings.value);
  expect(stageOf(featuresAt(markedAt), baseModel.value, null)).toEqual({
    pAlive: traits.pAlive,
    stage: traits.lifecycleStage,
  });
  // The placement of a new customer at markedAt: nearest centroid, stage from its traits.
  const placed = nightDecision({
    features: featuresAt(markedAt),
    assignment: null,
    stage: null,
    model: baseModel,
    at: markedAt,
    settings,
  });
  const assignment = placedAt(placed.segmentId!, baseModel.version);
  const marks = nightlyMarks({
    featuresAt,
    assignment,
    stage: placed.stage,
    model: baseModel,
    at: markedAt,
    clock: baseModel.placement!.clock,
    valueClock: 0,
    settings,
    betweenNights,
  });
  expect(marks.dueAt).toBeLessThanOrEqual(markedAt.getTime() + DUE_CAP_DAYS * DAY_MS);
  const later = movedModel(baseModel, directions, shift);
  const night = new Date(T0.getTime() + nightsLater * DAY_MS);
  const skipped =
    marks.dueAt > night.getTime() &&
    (marks.breakAt === null || marks.breakAt > later.placement!.clock) &&
    (marks.valueBreakAt === null || marks.valueBreakAt > later.placement!.valueClock);
  if (!skipped) return 'evaluated';
  const full = nightDecision({
    features: featuresAt(night),
    assignment,
    stage: placed.stage,
    model: later,
    at: night,
    settings,
  });
  expect({ segmentId: full.segmentId, stage: full.stage }).toEqual({
    segmentId: assignment.segmentId,
    stage: placed.stage,
  });
  return 'skipped';
}

const directionsArb = fc.array(fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 4, maxLength: 4 }), {
  minLength: 3,
  maxLength: 3,
});

/** Customers (1–8 orders and views), centroid moves and how far they go: what both skip-rule properties draw. */
const eventsArb = fc.array(eventArb, { minLength: 1, maxLength: 8 });
const shiftArb = fc.double({ min: 0, max: 0.6, noNaN: true });
const nightsLaterArb = fc.integer({ min: 1, max: 40 });

describe('nightlyMarks: the change index skips only customers a full re-evaluation would not move', () => {
  test('property: skipped by time and by the model clock ⇒ same segment and stage as a full re-evaluation', () => {
    const cases = { skipped: 0, evaluated: 0 };
    fc.assert(
      fc.property(eventsArb, directionsArb, shiftArb, nightsLaterArb, (specs, directions, shift, nightsLater) => {
        cases[skipRuleCase(specs, directions, shift, nightsLater, T0, false)] += 1;
      }),
      { numRuns: 300, seed: 10 },
    );
    // Both sides of the rule were exercised.
    expect(cases.skipped).toBeGreaterThan(30);
    expect(cases.evaluated).toBeGreaterThan(30);
  });

  test('property: marks a real-time write made between two nights skip only what a full re-evaluation keeps', () => {
    const cases = { skipped: 0, evaluated: 0 };
    fc.assert(
      fc.property(
        eventsArb,
        directionsArb,
        shiftArb,
        fc.integer({ min: 1, max: 23 }),
        nightsLaterArb,
        (specs, directions, shift, hour, nightsLater) => {
          const written = new Date(T0.getTime() + hour * 3_600_000);
          cases[skipRuleCase(specs, directions, shift, nightsLater, written, true)] += 1;
        },
      ),
      { numRuns: 300, seed: 11 },
    );
    expect(cases.skipped).toBeGreaterThan(30);
    expect(cases.evaluated).toBeGreaterThan(30);
  });

  test('a real-time write whose decision changes before the next probe is due at the very next night', () => {
    // A lapsing buyer: P(alive) falls through a stage threshold within the day after the write.
    const logged = withLocalEmbeddings([order(40, 60, 'toys'), order(80, 60, 'toys')], settings.embedding.dimension);
    const featuresAt = (t: Date) => foldEvents(logged, t, settings.features);
    let written: Date | null = null;
    let stage = null as ReturnType<typeof nightDecision>['stage'] | null;
    for (let h = 0; h < 24 * 200 && !written; h += 6) {
      const t = new Date(T0.getTime() + h * 3_600_000);
      const now = nightDecision({
        features: featuresAt(t),
        assignment: null,
        stage: null,
        model: null,
        at: t,
        settings,
      });
      const tomorrow = new Date(t.getTime() + DAY_MS);
      const next = nightDecision({
        features: featuresAt(tomorrow),
        assignment: null,
        stage: now.stage,
        model: null,
        at: tomorrow,
        settings,
      });
      if (next.stage !== now.stage) [written, stage] = [t, now.stage];
    }
    expect(written).not.toBeNull();
    const args = { featuresAt, assignment: null, stage, model: null, at: written!, clock: 0, valueClock: 0, settings };
    // As the night computes it, due a day later; between nights, due at the next night (less the early margin).
    expect(nightlyMarks(args).dueAt).toBe(written!.getTime() + DAY_MS - 3_600_000);
    expect(nightlyMarks({ ...args, betweenNights: true }).dueAt).toBe(written!.getTime() - 3_600_000);
  });

  test('a change between two probes is due the day before it, not at the earlier probe (one evaluation, not three)', () => {
    // The same lapsing buyer, marked by a night some days before its stage changes: whichever probe first sees the
    // change, dueAt is the last day on which the decision was still tonight's.
    const logged = withLocalEmbeddings([order(40, 60, 'toys'), order(80, 60, 'toys')], settings.embedding.dimension);
    const featuresAt = (t: Date) => foldEvents(logged, t, settings.features);
    const stageAt = (t: number, stage: ReturnType<typeof nightDecision>['stage'] | null) =>
      nightDecision({
        features: featuresAt(new Date(t)),
        assignment: null,
        stage,
        model: null,
        at: new Date(t),
        settings,
      }).stage;
    let changeDay = -1;
    const first = stageAt(T0.getTime(), null);
    for (let d = 1; d < 200 && changeDay < 0; d++)
      if (stageAt(T0.getTime() + d * DAY_MS, first) !== first) changeDay = d;
    expect(changeDay).toBeGreaterThan(12);
    // Nights 4 to 12 days before the change: the change falls between two probes (8 and 13, 5 and 8, …) for most.
    for (const before of [4, 6, 7, 9, 10, 11, 12]) {
      const at = T0.getTime() + (changeDay - before) * DAY_MS;
      const stage = stageAt(at, null);
      expect(stage).toBe(first);
      const marks = nightlyMarks({
        featuresAt,
        assignment: null,
        stage,
        model: null,
        at: new Date(at),
        clock: 0,
        valueClock: 0,
        settings,
      });
      expect((marks.dueAt + 3_600_000 - at) / DAY_MS).toBe(before - 1);
    }
  });

  test('a steady buyer far inside its segment is not due for days, and breaks only past a model shift', () => {
    const logged = withLocalEmbeddings([order(5, 40, 'garden'), order(20, 60, 'garden')], settings.embedding.dimension);
    const featuresAt = (t: Date) => foldEvents(logged, t, settings.features);
    const tonight = nightDecision({
      features: featuresAt(T0),
      assignment: null,
      stage: null,
      model: baseModel,
      at: T0,
      settings,
    });
    expect(tonight.segmentId).toBe('seg-001');
    const assignment = placedAt('seg-001', 1);
    const marks = nightlyMarks({
      featuresAt,
      assignment,
      stage: tonight.stage,
      model: baseModel,
      at: T0,
      clock: 1,
      valueClock: 0,
      settings,
    });
    expect((marks.dueAt - T0.getTime()) / DAY_MS).toBeGreaterThanOrEqual(2);
    expect(marks.breakAt).toBeGreaterThan(1);
  });
});
