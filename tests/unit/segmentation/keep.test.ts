import type { Settings } from '../../../shared/config/settings';
import { BEHAVIOUR_FEATURES } from '../../../shared/domain/vector';
import { placementOf } from '../../../shared/recluster/placement';
import { fitSegmentation, type SampleRow } from '../../../shared/segmentation/fit';
import { assessKeep, keptModel } from '../../../shared/segmentation/keep';
import type { SegmentationModel, StoredValueModel } from '../../../shared/segmentation/model';
import { createRng } from '../../../shared/util/rng';
import { PRIOR_VALUE, reclusterSettings } from '../../support/segmentation';

const B = BEHAVIOUR_FEATURES.length;
const EMBEDDING_DIM = 8;
const DAY_MS = 86_400_000;
const FITTED_AT = '2026-11-10T03:00:00.000Z';

const settings: Settings['recluster'] = reclusterSettings({ kMax: 6, silhouetteSubsample: 400 });
const value: StoredValueModel = PRIOR_VALUE;

/** Four planted personas, well separated in behaviour and interest; `shift` moves every behaviour value. */
function sample(n: number, seed: number, shift = 0): SampleRow[] {
  const personas = createRng(1);
  const centres = Array.from({ length: 4 }, () => ({
    behaviour: Array.from({ length: B }, () => -3 + 6 * personas.next()),
    interest: Array.from({ length: EMBEDDING_DIM }, () => personas.normal()),
  }));
  const rng = createRng(seed);
  return Array.from({ length: n }, (_, i) => {
    const c = centres[i % centres.length]!;
    const interest = c.interest.map((m) => m + 0.15 * rng.normal());
    const norm = Math.hypot(...interest);
    return {
      customerId: `c-${seed}-${i}`,
      behaviour: c.behaviour.map((m) => m + shift + 0.35 * rng.normal()),
      interest: interest.map((x) => x / norm),
      natural: { orders: 1 + (i % 4), revenue: 10 * (1 + (i % 4)) },
      topCategories: ['home'],
      channelShares: { web: 1 },
      traits: null,
    };
  });
}

/** The active model, as FitModel stores it: fitted on night 0, with its placement clocks. */
function activeModel(): SegmentationModel {
  const fit = fitSegmentation({
    sample: sample(800, 11),
    previous: null,
    settings,
    weights: { behaviour: 1, interest: 2.5 },
    embeddingDim: EMBEDDING_DIM,
    version: 1,
    runId: 'run-1',
    createdAt: FITTED_AT,
    asOf: FITTED_AT,
    value,
  });
  expect(fit.gate.passed).toBe(true);
  return { ...fit.model, placement: { clock: 0, valueClock: 0, full: null, centroidShift: null, pAliveShift: null } };
}

const nightsLater = (nights: number) => new Date(Date.parse(FITTED_AT) + nights * DAY_MS).toISOString();

describe('a night that keeps the model (assessKeep)', () => {
  const previous = activeModel();

  test('a quiet night keeps the model: no drift, every segment holds, the refit not yet due', () => {
    const keep = assessKeep({
      sample: sample(800, 12),
      previous,
      settings,
      embeddingDim: EMBEDDING_DIM,
      asOf: nightsLater(4),
    });
    expect(keep).toMatchObject({ keep: true, reason: 'no drift, refit in 3 nights', nightsSinceFit: 4 });
    expect(keep.keep && keep.drift.detected).toBe(false);
  });

  test('a drift night refits', () => {
    const keep = assessKeep({
      sample: sample(800, 12, 2.5),
      previous,
      settings,
      embeddingDim: EMBEDDING_DIM,
      asOf: nightsLater(1),
    });
    expect(keep).toEqual({ keep: false, why: 'drift' });
  });

  test.each([
    { name: 'the night before the refit is due keeps', nights: 6, refitEveryNights: 7, expected: true },
    { name: 'the refit schedule refits after N nights', nights: 7, refitEveryNights: 7, expected: false },
    { name: 'and after more', nights: 30, refitEveryNights: 7, expected: false },
    { name: 'refitEveryNights 1 refits every night, as before', nights: 1, refitEveryNights: 1, expected: false },
  ])('$name', ({ nights, refitEveryNights, expected }) => {
    const keep = assessKeep({
      sample: sample(800, 12),
      previous,
      settings: { ...settings, refitEveryNights },
      embeddingDim: EMBEDDING_DIM,
      asOf: nightsLater(nights),
    });
    expect(keep.keep).toBe(expected);
  });

  test('a night whose sample lost a segment refits (share drift, or the segment under its share)', () => {
    // Tonight's sample lacks one persona: its segment is empty.
    const keep = assessKeep({
      sample: sample(800, 12).filter((_, i) => i % 4 !== 0),
      previous,
      settings,
      embeddingDim: EMBEDDING_DIM,
      asOf: nightsLater(1),
    });
    expect(keep.keep).toBe(false);
  });

  test('a sample that grew by more than 10 % since the fit refits (a young store)', () => {
    const keep = assessKeep({
      sample: sample(900, 12),
      previous,
      settings,
      embeddingDim: EMBEDDING_DIM,
      asOf: nightsLater(1),
    });
    expect(keep).toEqual({ keep: false, why: 'sample 900 against 800 at the fit' });
  });

  test("segments whose members moved refit: tonight's Lloyd step would move a centroid too far", () => {
    // One persona's customers moved a little (no drift by PSI, every segment holds), its centroid would follow.
    const moved = sample(800, 12).map((r, i) =>
      i % 4 === 0 ? { ...r, behaviour: r.behaviour.map((x, j) => (j < 3 ? x + 0.6 : x)) } : r,
    );
    const keep = assessKeep({ sample: moved, previous, settings, embeddingDim: EMBEDDING_DIM, asOf: nightsLater(1) });
    expect(keep.keep).toBe(false);
    expect(keep.keep ? '' : keep.why).toMatch(/Lloyd step would move a centroid|drift/);
  });

  test('no active model, or one in another space: the night fits', () => {
    const input = { sample: sample(800, 12), settings, asOf: nightsLater(1) };
    expect(assessKeep({ ...input, previous: null, embeddingDim: EMBEDDING_DIM })).toEqual({
      keep: false,
      why: 'no active model',
    });
    expect(assessKeep({ ...input, previous, embeddingDim: EMBEDDING_DIM + 1 }).keep).toBe(false);
  });

  test('the kept version places like the active one: same centroids, ids, names, scaler, value; clocks do not move', () => {
    const kept = keptModel(previous, { version: 2, runId: 'run-2', createdAt: nightsLater(1) });
    expect(kept).toMatchObject({ version: 2, runId: 'run-2', retiredSegmentIds: [], renamedSegments: [] });
    for (const field of ['centroids', 'segmentIds', 'names', 'scaler', 'weights', 'tau', 'value', 'driftReference'])
      expect(kept[field as keyof SegmentationModel]).toEqual(previous[field as keyof SegmentationModel]);
    const placement = placementOf(previous, kept, [{ x: 2, tx: 10, T: 20, meanSpend: 30 }]);
    expect(placement).toEqual({ clock: 0, valueClock: 0, full: null, centroidShift: 0, pAliveShift: 0 });
  });
});
