import {
  consumerMetrics,
  formatTargets,
  switchOracleNight,
  worstIdWindow,
  plantedAri,
  supervisedAriBound,
  type RunDiagnostics,
} from '../../../local/summary-metrics';
import type { ModelPublished, SegmentChanged } from '../../../shared/contracts/outbound';
import { createRng } from '../../../shared/util/rng';

const START = new Date('2026-01-01T00:00:00Z');
const at = (day: number, hour = 3) => new Date(START.getTime() + day * 86_400_000 + hour * 3_600_000).toISOString();

function move(
  customerId: string,
  day: number,
  reason: SegmentChanged['reason'],
  modelVersion: number,
  from: string | null,
  to = 'seg-002',
  hour = 3,
): SegmentChanged {
  return {
    customerId,
    from: from === null ? null : { segmentId: from, name: from },
    to: { segmentId: to, name: to },
    modelVersion,
    confidence: 0.9,
    topProbabilities: [],
    reason,
    traits: null,
    changedAt: at(day, hour),
    dedupeKey: `${customerId}-${day}-${reason}`,
    holdout: false,
  };
}

function published(modelVersion: number, ids: string[], retired: string[] = []): ModelPublished {
  return {
    modelVersion,
    runId: `night-${modelVersion}`,
    k: ids.length,
    catalogue: [],
    segments: ids.map((segmentId) => ({
      segmentId,
      name: segmentId,
      size: 1,
      share: 1 / ids.length,
      features: {},
      topCategories: [],
      channelMix: {},
      meanClv: null,
      meanChurnRisk: null,
    })),
    retiredSegmentIds: retired,
    renamedSegments: [],
    quality: { silhouette: 0.3, daviesBouldin: 1, stability: 0.9 },
    customersMoved: 0,
    customersAssigned: 100,
    publishedAt: at(modelVersion),
  };
}

function runOf(day: number, over: Partial<RunDiagnostics> = {}): RunDiagnostics {
  return {
    runId: `night-${day}`,
    asOf: at(day),
    status: 'published',
    modelVersion: day,
    published: true,
    gateReasons: [],
    population: 100,
    kScores: [],
    k: 2,
    continuity: null,
    drift: null,
    ...over,
  };
}

describe('consumerMetrics', () => {
  const runs = [
    runOf(1),
    runOf(2, {
      drift: { detected: true, reasons: ['features'], maxFeaturePsi: 0.4, sharePsi: 0.01, distanceInflation: 1 },
    }),
    runOf(3, { status: 'failed', published: false, gateReasons: ['silhouette 0.01 < 0.05'] }),
    runOf(9),
    runOf(10),
  ];
  const events = [
    move('first', 1, 'recluster', 1, null), // a first assignment is not a move
    move('a', 1, 'event', 1, 'seg-001', 'seg-002', 14),
    move('b', 2, 'recluster', 2, 'seg-001'), // night 2 drifted
    move('c', 9, 'recluster', 9, 'seg-003'), // seg-003 retired by v9
    move('d', 10, 'recluster', 10, 'seg-001'),
    move('switcher', 10, 'event', 10, 'seg-001', 'seg-002', 0), // 7 days after its switch (day 3)
  ];
  const metrics = consumerMetrics({
    segmentChanged: events,
    modelPublished: [published(1, ['seg-001', 'seg-002']), published(9, ['seg-001', 'seg-002'], ['seg-003'])],
    driftDetected: [],
    runs,
    customers: 100,
    start: START,
    switchedAt: new Map([
      ['switcher', new Date(at(3))],
      ['slow-switcher', new Date(at(1))],
      ['late-switcher', new Date(at(6))], // its week ends after the last night (day 10): censored
    ]),
    ari: 0.93,
  });

  test.each([
    { name: 'a real-time move counts as event', day: '2026-01-02', reason: 'event', count: 1 },
    { name: "a move by a drifted night's model counts as drift", day: '2026-01-03', reason: 'drift', count: 1 },
    { name: 'a move out of a retired id counts as retired', day: '2026-01-10', reason: 'retired', count: 1 },
    { name: 'any other nightly move counts as recluster', day: '2026-01-11', reason: 'recluster', count: 1 },
  ])('$name', ({ day, reason, count }) => {
    const night = metrics.nights.find((n) => n.day === day)!;
    expect(night.byReason[reason as keyof typeof night.byReason]).toBe(count);
  });

  test('moves per customer-night count every reason, never a first assignment', () => {
    // 5 moves over 5 nights of 100 customers.
    expect(metrics.nights.reduce((s, n) => s + n.moves, 0)).toBe(5);
    expect(metrics.movesPerCustomerNight).toBeCloseTo(5 / 500, 12);
  });

  test('after the first week, non-switchers moved 2 times in 9 customer-nights in a segment', () => {
    // Placed by night 9: first, a, b, c (c's first seen move); by night 10: d too. Unplaced customers do not count.
    expect(metrics.nonSwitcherMovesPerCustomerNightAfterFirstWeek).toBeCloseTo(2 / 9, 12);
  });

  test('one of two switchers moved within 7 days of its switch: 50 %, target missed; a week not over is censored', () => {
    expect(metrics.switchers).toEqual({ count: 2, movedWithin7DaysShare: 0.5, censored: 1 });
    expect(metrics.targets.find((t) => t.name.startsWith('switchers'))!.met).toBe(false);
  });

  test('refused runs carry the gate reasons; distinct ids against the final k', () => {
    expect(metrics.refusedRuns).toEqual([{ runId: 'night-3', day: '2026-01-04', reasons: ['silhouette 0.01 < 0.05'] }]);
    expect(metrics.distinctSegmentIds).toBe(2);
    expect(formatTargets(metrics.targets)).toContain('✓ distinct segment ids / final k: 1 (target ≤ 2)');
    expect(formatTargets(metrics.targets)).toContain(
      '✓ planted-persona ARI (customers with ≥ 10 events): 0.93 (target ≥ 0.9)',
    );
  });
});

describe('worstIdWindow: the ids target over 45 nights', () => {
  // One model a night with k = 2; the pair of ids is renewed every `every` nights.
  const nights = (days: number, every: number) =>
    Array.from({ length: days }, (_, d) => {
      const n = Math.floor(d / every);
      return published(d + 1, [`seg-${2 * n + 1}`, `seg-${2 * n + 2}`]);
    });

  const idsTarget = (modelPublished: ModelPublished[]) =>
    consumerMetrics({
      segmentChanged: [],
      modelPublished,
      driftDetected: [],
      runs: [],
      customers: 1,
      start: START,
    }).targets.find((x) => x.name.startsWith('distinct'))!;

  test('a run of at most 45 nights has one window, the whole run: 6 ids over 30 nights at k = 2 is 3, missed', () => {
    const w = worstIdWindow(nights(30, 10))!;
    expect(w).toMatchObject({ ids: 6, k: 2, windows: 1 });
    const t = idsTarget(nights(30, 10));
    expect(t).toMatchObject({ name: 'distinct segment ids / final k', value: 3, met: false });
  });

  test('a year whose ids are renewed every 60 nights: 12 ids over the run, but at most 4 in any 45 nights (2 × k), met', () => {
    const models = nights(360, 60);
    const w = worstIdWindow(models)!;
    expect(w.ids).toBe(4);
    expect(w.k).toBe(2);
    expect(w.windows).toBe(360 - 45 + 1);
    const t = idsTarget(models);
    expect(t).toMatchObject({ name: 'distinct segment ids / k, worst 45 nights', value: 2, met: true });
  });

  test('a year whose ids are renewed every 20 nights: a 45-night window holds up to 4 pairs, 8 ids at k = 2, missed', () => {
    const w = worstIdWindow(nights(360, 20))!;
    expect(w.ids / w.k).toBe(4);
  });

  test('no model published: no window', () => {
    expect(worstIdWindow([])).toBeNull();
  });
});

describe('switchOracleNight: the switchers target’s oracle bound', () => {
  const night = new Date('2026-01-20T00:00:00Z');
  const day = (n: number) => new Date(night.getTime() + n * 86_400_000);
  // Two personas 10 apart on one axis; a third (books) whose customers all have fewer than 10 events.
  const truth = new Map([
    ['a1', { persona: 'garden', kind: 'customer' }],
    ['a2', { persona: 'garden', kind: 'customer' }],
    ['b1', { persona: 'toys', kind: 'customer' }],
    ['b2', { persona: 'toys', kind: 'customer' }],
    ['c1', { persona: 'books', kind: 'customer' }],
    // Week ends tonight (switched 7 days ago, at 10:00), already at the toys mean: a hit.
    [
      's-hit',
      {
        persona: 'garden',
        switchedTo: 'toys',
        switchedAt: new Date(day(-7).getTime() - 14 * 3_600_000),
        kind: 'customer',
      },
    ],
    // Week ends tonight, still at the garden mean: a miss, nearest garden.
    ['s-miss', { persona: 'toys', switchedTo: 'garden', switchedAt: day(-7), kind: 'customer' }],
    // Week ends tonight, into a persona without a mean (too few events): cannot be a hit.
    ['s-books', { persona: 'garden', switchedTo: 'books', switchedAt: day(-7), kind: 'customer' }],
    // Week ended last night, and ends tomorrow: not judged tonight.
    ['s-last', { persona: 'garden', switchedTo: 'toys', switchedAt: day(-8), kind: 'customer' }],
    ['s-next', { persona: 'garden', switchedTo: 'toys', switchedAt: day(-6), kind: 'customer' }],
  ]);
  const vectors = new Map<string, number[]>([
    ['a1', [0, 0]],
    ['a2', [0, 2]],
    ['b1', [10, 0]],
    ['b2', [10, 2]],
    ['c1', [5, 40]],
    ['s-hit', [9, 1]],
    ['s-miss', [10, 1]],
    ['s-books', [5, 39]],
    ['s-last', [10, 1]],
    ['s-next', [10, 1]],
  ]);
  const eventCounts = new Map([...vectors.keys()].map((id) => [id, id === 'c1' ? 9 : 25]));

  test('judges the switchers whose week ends tonight: one hit, two misses, each with the nearest persona', () => {
    const r = switchOracleNight({ night, vectors, truth, eventCounts });
    expect(r.hit).toBe(1);
    expect(r.total).toBe(3);
    expect(r.misses).toEqual(
      expect.arrayContaining([
        { from: 'toys', to: 'garden', nearest: 'toys' },
        { from: 'garden', to: 'books', nearest: 'garden' },
      ]),
    );
  });

  test('a switcher without a vector tonight is not judged', () => {
    const without = new Map(vectors);
    without.delete('s-miss');
    expect(switchOracleNight({ night, vectors: without, truth, eventCounts }).total).toBe(2);
  });

  test('the bound is printed beside the target, which keeps its threshold of 0.95', () => {
    const metrics = consumerMetrics({
      segmentChanged: [],
      modelPublished: [],
      driftDetected: [],
      runs: [runOf(30)],
      customers: 10,
      start: START,
      switchedAt: new Map([['s', new Date(START.getTime() + 10 * 86_400_000)]]),
      switchOracle: { hit: 3, total: 4 },
    });
    expect(metrics.switchers!.bound).toEqual({ share: 0.75, judged: 4 });
    expect(formatTargets(metrics.targets)).toContain(
      '✗ switchers moved within 7 days: 0 (target ≥ 0.95; oracle bound 0.75, see above)',
    );
  });
});

describe('plantedAri', () => {
  test('customers with fewer than 10 events are left out', () => {
    const customers = [
      { customerId: 'a', segmentId: 's1' },
      { customerId: 'b', segmentId: 's1' },
      { customerId: 'c', segmentId: 's2' },
      { customerId: 'd', segmentId: 's2' },
      { customerId: 'noisy', segmentId: 's1' },
    ];
    const persona = new Map([
      ['a', 'p'],
      ['b', 'p'],
      ['c', 'q'],
      ['d', 'q'],
      ['noisy', 'q'],
    ]);
    const counts = new Map([
      ['a', 12],
      ['b', 10],
      ['c', 30],
      ['d', 11],
      ['noisy', 3],
    ]);
    expect(plantedAri(customers, persona, counts)).toBe(1);
    expect(plantedAri(customers, persona, counts, 0)).toBeLessThan(1);
  });
});

describe('supervisedAriBound', () => {
  test('separated classes: a classifier that knows them scores ARI 1', () => {
    const vectors = [
      [0, 0],
      [0.1, 0],
      [0, 0.1],
      [10, 10],
      [10.1, 10],
      [10, 10.1],
    ];
    expect(supervisedAriBound(vectors, ['a', 'a', 'a', 'b', 'b', 'b'], 1)).toEqual({
      bound: 1,
      knn: 1,
      nearestMean: 1,
    });
  });

  test('labels that the features cannot tell apart: the bound falls well below 0.9', () => {
    // Two personas drawn from the same distribution: no classifier can separate them.
    const rng = createRng(3);
    const vectors = Array.from({ length: 200 }, () => [rng.normal(), rng.normal()]);
    const labels = vectors.map(() => (rng.next() < 0.5 ? 'a' : 'b'));
    expect(supervisedAriBound(vectors, labels)!.bound).toBeLessThan(0.1);
  });
});
