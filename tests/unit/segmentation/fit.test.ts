import { segmentProfileSchema } from '../../../shared/contracts/outbound';
import type { Settings } from '../../../shared/config/settings';
import { softAssign } from '../../../shared/domain/assign';
import { BEHAVIOUR_FEATURES, buildVector } from '../../../shared/domain/vector';
import {
  chooseCandidate,
  fitSegmentation,
  type ContinuityDecision,
  type SampleRow,
} from '../../../shared/segmentation/fit';
import { adjustedRandIndex } from '../../../shared/segmentation/metrics';
import type { SegmentationModel, StoredValueModel } from '../../../shared/segmentation/model';
import { createRng, type Rng } from '../../../shared/util/rng';
import { PRIOR_VALUE, reclusterSettings } from '../../support/segmentation';

const B = BEHAVIOUR_FEATURES.length;
const EMBEDDING_DIM = 8;

const settings: Settings['recluster'] = reclusterSettings({ nInit: 3 });
const weights = { behaviour: 1, interest: 1.5 };
const value: StoredValueModel = PRIOR_VALUE;

interface Persona {
  behaviour: number[];
  interest: number[];
  natural: Record<string, number>;
  categories: string[];
  channel: string;
}

/** Planted personas: well-separated Gaussian blobs in behaviour space and distinct interest directions. */
function personas(count: number, rng: Rng): Persona[] {
  const categories = ['garden', 'baby', 'kitchen', 'tools', 'fashion', 'books', 'pets'];
  return Array.from({ length: count }, (_, p) => {
    const interest = Array.from({ length: EMBEDDING_DIM }, () => rng.normal());
    return {
      behaviour: Array.from({ length: B }, () => -3 + 6 * rng.next()),
      interest,
      natural: {
        orders: p,
        revenue: 80 * p * p,
        daysSinceLastOrder: 20 + 60 * p,
        tenureDays: 30 + 100 * p,
        views: 10 - p,
      },
      categories: [categories[p % categories.length]!, categories[(p + 1) % categories.length]!],
      channel: ['web', 'app', 'store', 'marketplace'][p % 4]!,
    };
  });
}

function unit(v: number[]): number[] {
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

function draw(
  ps: Persona[],
  n: number,
  seed: number,
  weightsByPersona?: number[],
): { rows: SampleRow[]; truth: number[] } {
  const rng = createRng(seed);
  const w = weightsByPersona ?? ps.map(() => 1);
  const total = w.reduce((a, b) => a + b, 0);
  const rows: SampleRow[] = [];
  const truth: number[] = [];
  for (let i = 0; i < n; i++) {
    let u = rng.next() * total;
    let p = 0;
    while (u >= w[p]! && p < ps.length - 1) u -= w[p++]!;
    const persona = ps[p]!;
    truth.push(p);
    rows.push({
      customerId: `c-${seed}-${i}`,
      behaviour: persona.behaviour.map((m) => m + 0.35 * rng.normal()),
      interest: unit(persona.interest.map((m) => m + 0.15 * rng.normal())),
      natural: Object.fromEntries(
        Object.entries(persona.natural).map(([k, v]) => [k, Math.max(0, v * (1 + 0.1 * rng.normal()))]),
      ),
      topCategories: rng.next() < 0.9 ? persona.categories : [persona.categories[1]!],
      channelShares: { web: 0, app: 0, store: 0, marketplace: 0, [persona.channel]: 1 },
      traits: { clv: 50 + 100 * p, churnRisk: 0.1 * p },
    });
  }
  return { rows, truth };
}

function fit(
  rows: SampleRow[],
  previous: SegmentationModel | null,
  over: Partial<Settings['recluster']> = {},
  embeddingDim = EMBEDDING_DIM,
) {
  return fitSegmentation({
    sample: rows,
    previous,
    settings: { ...settings, ...over },
    weights,
    embeddingDim,
    version: previous ? previous.version + 1 : 1,
    runId: `run-${previous ? previous.version + 1 : 1}`,
    createdAt: '2026-11-10T03:00:00.000Z',
    value,
  });
}

/** Segment id of each planted persona: the id most of its rows got. */
function idByPersona(labels: Int32Array, truth: number[], ids: string[], personaCount: number): string[] {
  return Array.from({ length: personaCount }, (_, p) => {
    const counts = new Map<string, number>();
    truth.forEach((t, i) => {
      if (t === p) counts.set(ids[labels[i]!]!, (counts.get(ids[labels[i]!]!) ?? 0) + 1);
    });
    return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
  });
}

describe('fitSegmentation on planted personas', () => {
  const ps = personas(5, createRng(42));
  const first = draw(ps, 2_000, 1);
  const second = draw(ps, 2_000, 2);
  const fit1 = fit(first.rows, null);
  const fit2 = fit(second.rows, fit1.model);

  test('recovers the 5 planted groups (ARI ≥ 0.9) and passes the gate', () => {
    expect(fit1.model.k).toBe(5);
    expect(adjustedRandIndex(fit1.labels, first.truth)).toBeGreaterThanOrEqual(0.9);
    expect(fit1.gate).toEqual({ passed: true, reasons: [] });
    expect(fit1.model.quality.stability).toBeNull();
    expect(fit1.model.quality.silhouette).toBeGreaterThan(0.5);
    expect(fit1.model.quality.daviesBouldin).toBeLessThan(1);
    expect(fit1.diagnostics.kScores.map((s) => s.k)).toEqual([3, 4, 5, 6, 7, 8]);
    const best = fit1.diagnostics.kScores.reduce((a, b) => (b.silhouette > a.silhouette ? b : a));
    expect(best.k).toBe(5);
  });

  test('the model is self-consistent', () => {
    const m = fit1.model;
    expect(m.segmentIds).toEqual(['seg-001', 'seg-002', 'seg-003', 'seg-004', 'seg-005']);
    expect(m.nextSegmentNumber).toBe(6);
    expect(m.retiredSegmentIds).toEqual([]);
    expect(m.dim).toBe(B + EMBEDDING_DIM);
    expect(m.centroids).toHaveLength(m.k * m.dim);
    expect(m.featureNames).toEqual([...BEHAVIOUR_FEATURES]);
    expect(m.tau).toBeGreaterThan(0);
    expect(new Set(m.names).size).toBe(m.k);
    expect(m.profiles.map((p) => p.name)).toEqual(m.names);
    for (const p of m.profiles) expect(() => segmentProfileSchema.parse(p)).not.toThrow();
    expect(m.profiles.reduce((s, p) => s + p.size, 0)).toBe(2_000);
    // Fresh ids are numbered by size, largest first.
    const sizes = m.profiles.map((p) => p.size);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    // Labels are exactly the nearest-centroid assignment, as AssignShard will compute it.
    first.rows.forEach((row, i) => {
      const nearest = softAssign(buildVector(row.behaviour, row.interest, m), m).nearest;
      if (nearest !== fit1.labels[i]) throw new Error(`row ${i}: label ${fit1.labels[i]} but nearest ${nearest}`);
    });
  });

  test('τ is the median squared distance to the nearest centroid', () => {
    const m = fit1.model;
    const d2 = first.rows
      .map((row) => Math.min(...softAssign(buildVector(row.behaviour, row.interest, m), m).d2))
      .sort((a, b) => a - b);
    expect(m.tau).toBeCloseTo((d2[999]! + d2[1000]!) / 2, 9);
  });

  test('profiles and names describe the personas', () => {
    const ids = idByPersona(fit1.labels, first.truth, fit1.model.segmentIds, 5);
    const profileOf = (p: number) => fit1.model.profiles.find((x) => x.segmentId === ids[p])!;
    // Persona 0 lists [garden, baby] (90%) or [baby] (10%).
    expect(profileOf(0).topCategories.slice(0, 2)).toEqual([
      { category: 'baby', share: 1 },
      { category: 'garden', share: expect.closeTo(0.9, 1) },
    ]);
    expect(profileOf(0).name).toMatch(/· garden$/);
    expect(profileOf(2).channelMix.store).toBeCloseTo(1, 1);
    expect(profileOf(4).meanClv).toBeCloseTo(450, 0);
    expect(profileOf(0).name).toMatch(/browsers/);
    expect(profileOf(4).name).toMatch(/^Lapsed high spenders/);
  });

  test('a re-sample with the first model as previous keeps ≥ 99% of ids and is stable', () => {
    const ids1 = idByPersona(fit1.labels, first.truth, fit1.model.segmentIds, 5);
    const ids2 = idByPersona(fit2.labels, second.truth, fit2.model.segmentIds, 5);
    expect(ids2).toEqual(ids1);
    const kept = second.truth.filter((p, i) => fit2.model.segmentIds[fit2.labels[i]!] === ids1[p]).length;
    expect(kept / second.rows.length).toBeGreaterThanOrEqual(0.99);
    expect(fit2.model.quality.stability).not.toBeNull();
    expect(fit2.model.quality.stability!).toBeGreaterThanOrEqual(0.98);
    expect(fit2.model.retiredSegmentIds).toEqual([]);
    expect(fit2.model.nextSegmentNumber).toBe(6);
    expect(fit2.gate.passed).toBe(true);
    // Names stay with their segments.
    for (const id of fit2.model.segmentIds) {
      expect(fit2.model.names[fit2.model.segmentIds.indexOf(id)]).toBe(
        fit1.model.names[fit1.model.segmentIds.indexOf(id)],
      );
    }
  });

  test('is deterministic for a seed', () => {
    const again = fit(first.rows, null);
    expect(again.model).toEqual(fit1.model);
    expect(Array.from(again.labels)).toEqual(Array.from(fit1.labels));
  });

  test('a persona that disappears retires its id; a new one gets a fresh id', () => {
    const shifted = personas(6, createRng(42)); // same first 5 personas plus a sixth
    const third = draw(shifted, 2_000, 3, [1, 1, 1, 1, 0, 1]);
    const fit3 = fit(third.rows, fit1.model);
    const ids1 = idByPersona(fit1.labels, first.truth, fit1.model.segmentIds, 5);
    expect(fit3.model.k).toBe(5);
    expect(fit3.model.retiredSegmentIds).toEqual([ids1[4]]);
    expect(fit3.model.segmentIds).toContain('seg-006');
    expect(fit3.model.nextSegmentNumber).toBe(7);
    const ids3 = idByPersona(fit3.labels, third.truth, fit3.model.segmentIds, 6);
    expect(ids3.slice(0, 4)).toEqual(ids1.slice(0, 4));
    expect(ids3[4]).toBe('');
    expect(ids3[5]).toBe('seg-006');
    // The warm centroid of the vanished persona followed the new one beyond the alignment cap: its id retired.
    expect(fit3.diagnostics.continuity).toMatchObject({ chosen: 'warm', droppedSegments: [] });
  });

  test('a persona that shrinks below the minimum share: its warm segment is dropped, its id retires, the rest keep theirs', () => {
    const fourth = draw(ps, 2_000, 4, [1, 1, 1, 1, 0.02]);
    const fit4 = fit(fourth.rows, fit1.model);
    const ids1 = idByPersona(fit1.labels, first.truth, fit1.model.segmentIds, 5);
    expect(fit4.diagnostics.continuity).toMatchObject({ chosen: 'warm', droppedSegments: [ids1[4]] });
    expect(fit4.model.k).toBe(4);
    expect(fit4.model.retiredSegmentIds).toEqual([ids1[4]]);
    expect(idByPersona(fit4.labels, fourth.truth, fit4.model.segmentIds, 5).slice(0, 4)).toEqual(ids1.slice(0, 4));
  });
});

describe('fitSegmentation edge cases', () => {
  const ps = personas(4, createRng(5));

  test('a tiny sample is refused with a reason, not thrown', () => {
    const { rows } = draw(ps, 5, 9);
    const result = fit(rows, null);
    expect(result.gate).toEqual({ passed: false, reasons: ['sample too small: 5 placeable customers < 2·kMin = 6'] });
    expect(result.model.k).toBe(0);
    expect(Array.from(result.labels)).toEqual([-1, -1, -1, -1, -1]);
  });

  test('an empty sample is refused', () => {
    expect(fit([], null).gate.passed).toBe(false);
  });

  test('a malformed behaviour row is refused', () => {
    const { rows } = draw(ps, 50, 9);
    rows[3] = { ...rows[3]!, behaviour: [1, 2, 3] };
    expect(fit(rows, null).gate.reasons).toEqual([`behaviour row 3 has 3 values, expected ${B}`]);
  });

  test('segments under the minimum share are merged into a neighbour', () => {
    const { rows } = draw(personas(5, createRng(42)), 1_000, 4, [1, 1, 1, 1, 0.13]);
    const result = fit(rows, null, { kMin: 5, kMax: 5, minSegmentShare: 0.05 });
    expect(result.diagnostics.merged).toBe(1);
    expect(result.model.k).toBe(4);
    expect(Math.min(...result.model.profiles.map((p) => p.share))).toBeGreaterThanOrEqual(0.05);
  });

  test('a changed embedding dimension matches nothing: every previous id retires', () => {
    const { rows } = draw(ps, 400, 11);
    const base = fit(rows, null);
    const wider = rows.map((r) => ({ ...r, interest: [...r.interest!, 0, 0, 0, 0] }));
    const result = fit(wider, base.model, {}, EMBEDDING_DIM + 4);
    expect(result.model.retiredSegmentIds).toEqual(base.model.segmentIds);
    expect(result.model.segmentIds.every((id) => !base.model.segmentIds.includes(id))).toBe(true);
    expect(result.model.nextSegmentNumber).toBe(base.model.nextSegmentNumber + result.model.k);
    // Stability is still measured, with the previous model in its own space.
    expect(result.model.quality.stability).toBeGreaterThan(0.9);
  });

  test('customers without an interest vector still get a label', () => {
    const { rows } = draw(ps, 300, 12);
    const result = fit(
      rows.map((r, i) => (i % 3 === 0 ? { ...r, interest: null } : r)),
      null,
    );
    expect(result.gate.reasons.filter((r) => r.startsWith('sample'))).toEqual([]);
    expect(Array.from(result.labels).every((l) => l >= 0 && l < result.model.k)).toBe(true);
  });
});

/** Ids of `rows` under a model: nearest centroid, in the model's own space (what AssignShard computes). */
function idsUnder(model: SegmentationModel, rows: SampleRow[]): string[] {
  return rows.map((r) => {
    const v = buildVector(r.behaviour, r.interest, model);
    return model.segmentIds[softAssign(v, model).nearest]!;
  });
}

/** Personas whose behaviour means are squeezed together and whose interests share a common direction: they overlap. */
function overlapping(count: number, rng: Rng, squeeze: number): Persona[] {
  const common = Array.from({ length: EMBEDDING_DIM }, () => rng.normal());
  return personas(count, rng).map((p) => ({
    ...p,
    behaviour: p.behaviour.map((m) => squeeze * m),
    interest: p.interest.map((m, j) => common[j]! + squeeze * m),
  }));
}

describe('continuity: the nightly fit starts from the active model', () => {
  const ps = overlapping(5, createRng(11), 0.35);
  const panel = draw(ps, 1_000, 999).rows;
  const nights = Array.from({ length: 10 }, (_, night) => draw(ps, 1_500, 100 + night).rows);
  const models: SegmentationModel[] = [];
  const decisions: (ContinuityDecision | null)[] = [];
  for (const rows of nights) {
    const r = fit(rows, models.at(-1) ?? null);
    expect(r.gate.passed).toBe(true);
    models.push(r.model);
    decisions.push(r.diagnostics.continuity);
  }

  test('night 1 is a fresh fit; every later night keeps the warm start without searching k', () => {
    expect(decisions[0]).toMatchObject({ chosen: 'fresh', reason: 'no_previous', searched: true });
    for (const d of decisions.slice(1))
      expect(d).toMatchObject({ chosen: 'warm', reason: 'warm_kept', searched: false });
  });

  test('without drift the warm start keeps the active scaler: the space does not move under the segments', () => {
    for (const m of models.slice(1)) expect(m.scaler).toEqual(models[0]!.scaler);
  });

  test('on overlapping personas, ≤ 1 % of a fixed panel changes segment per night and no id is minted after night 1', () => {
    const labelled = models.map((m) => idsUnder(m, panel));
    for (let night = 1; night < models.length; night++) {
      const moved = labelled[night]!.filter((id, i) => id !== labelled[night - 1]![i]).length;
      expect(moved / panel.length).toBeLessThanOrEqual(0.01);
    }
    const distinct = new Set(models.flatMap((m) => m.segmentIds));
    expect(distinct.size).toBe(models.at(-1)!.k);
    expect(models.every((m) => m.retiredSegmentIds.length === 0)).toBe(true);
  });

  test('no drift is detected on re-samples of the same population (every feature PSI < 0.1)', () => {
    const r = fit(draw(ps, 1_500, 555).rows, models.at(-1)!);
    expect(r.diagnostics.drift).not.toBeNull();
    expect(r.diagnostics.drift!.detected).toBe(false);
    expect(Math.max(...r.diagnostics.drift!.features.map((f) => f.psi))).toBeLessThan(0.1);
    expect(r.diagnostics.drift!.sharePsi).toBeLessThan(0.1);
  });
});

describe('continuity: a different k is adopted only when clearly better', () => {
  const ps = personas(5, createRng(42));
  const first = draw(ps, 2_000, 1);
  const second = draw(ps, 2_000, 2);

  test('a 3-segment active model on 5 separated personas gives way to a fresh fit, and the report says by how much', () => {
    const forced = fit(first.rows, null, { kMin: 3, kMax: 3 });
    expect(forced.model.k).toBe(3);
    const next = fit(second.rows, forced.model);
    const c = next.diagnostics.continuity!;
    expect(c.searched).toBe(true);
    expect(c.chosen).toBe('fresh');
    expect(c.freshK).toBe(5);
    expect(next.model.k).toBe(5);
    expect(c.gain).not.toBeNull();
    expect(c.gain!).toBeGreaterThan(0.05);
    expect(c.freshSilhouette! - c.warmSilhouette!).toBeCloseTo(c.gain!, 12);
    expect(next.diagnostics.kScores.length).toBeGreaterThan(0);
  });

  test.each([
    {
      name: 'gain below the threshold: the warm start stays',
      input: { warmSilhouette: 0.4, freshSilhouette: 0.42, brokenSegments: [], drift: false },
      expected: { chosen: 'warm', reason: 'warm_kept' },
    },
    {
      name: 'gain above the threshold: the fresh fit wins',
      input: { warmSilhouette: 0.4, freshSilhouette: 0.46, brokenSegments: [], drift: false },
      expected: { chosen: 'fresh', reason: 'silhouette_gain' },
    },
    {
      name: 'a warm segment that no longer holds together: the fresh fit wins even when slightly worse',
      input: { warmSilhouette: 0.4, freshSilhouette: 0.39, brokenSegments: ['seg-002'], drift: false },
      expected: { chosen: 'fresh', reason: 'segment_broke' },
    },
    {
      name: 'drift and a clearly better fresh fit: k is re-fitted, reported as drift',
      input: { warmSilhouette: 0.4, freshSilhouette: 0.46, brokenSegments: [], drift: true },
      expected: { chosen: 'fresh', reason: 'drift' },
    },
    {
      name: 'drift does not lower the bar: a marginal gain keeps the warm start',
      input: { warmSilhouette: 0.4, freshSilhouette: 0.41, brokenSegments: [], drift: true },
      expected: { chosen: 'warm', reason: 'warm_kept' },
    },
    {
      name: 'no fresh fit was made: the warm start stays',
      input: { warmSilhouette: 0.4, freshSilhouette: null, brokenSegments: [], drift: false },
      expected: { chosen: 'warm', reason: 'warm_kept' },
    },
  ])('chooseCandidate: $name', ({ input, expected }) => {
    expect(chooseCandidate({ ...input, warm: true, incomparable: false, minSilhouetteGain: 0.05 })).toMatchObject(
      expected,
    );
  });
});

describe('drift and the early signal on the model', () => {
  const ps = personas(5, createRng(42));
  const first = draw(ps, 2_000, 1);
  const base = fit(first.rows, null);

  test('farDistance2 is the 99th percentile of the training d²: about 1 % of the sample lies beyond it', () => {
    const beyond = first.rows.filter((r) => {
      const soft = softAssign(buildVector(r.behaviour, r.interest, base.model), base.model);
      return soft.d2[soft.nearest]! > base.model.farDistance2!;
    }).length;
    expect(beyond / first.rows.length).toBeGreaterThan(0.005);
    expect(beyond / first.rows.length).toBeLessThanOrEqual(0.0101);
  });

  test('a behaviour feature shifted for everyone is detected with its PSI, and the run re-fits k', () => {
    const shifted = draw(ps, 2_000, 2).rows.map((r) => ({
      ...r,
      behaviour: r.behaviour.map((v, j) => (j === 2 ? v + 3 : v)),
    }));
    const r = fit(shifted, base.model);
    const drift = r.diagnostics.drift!;
    expect(drift.detected).toBe(true);
    expect(drift.drifting[0]!.feature).toBe(BEHAVIOUR_FEATURES[2]);
    expect(drift.drifting[0]!.psi).toBeGreaterThan(0.25);
    expect(drift.features.filter((f, j) => j !== 2).every((f) => f.psi < 0.1)).toBe(true);
    expect(r.diagnostics.continuity!.searched).toBe(true);
    // Drift says tonight's population is another one: the scaler is refitted on it.
    expect(r.model.scaler.center[2]).toBeCloseTo(base.model.scaler.center[2]! + 3, 0);
  });

  test('a kept id whose name changed is listed as renamed (id, old name, new name)', () => {
    const previous: SegmentationModel = {
      ...base.model,
      names: base.model.names.map((n, i) => (i === 0 ? 'Yesterday name' : n)),
      profiles: base.model.profiles.filter((_, i) => i !== 0),
    };
    const next = fit(draw(ps, 2_000, 2).rows, previous);
    const id = base.model.segmentIds[0]!;
    expect(next.model.renamedSegments).toEqual([
      { segmentId: id, oldName: 'Yesterday name', newName: next.model.names[next.model.segmentIds.indexOf(id)] },
    ]);
  });
});
