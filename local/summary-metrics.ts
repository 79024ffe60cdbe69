/**
 * What consumers of Shoal's events feel, computed from the outbound events and the nightly run records of a local
 * run: moves per night by reason, moves per customer-night over all reasons (this replaces the event-only flapping
 * rate), the issue #10 targets, refused runs with the gate's reasons, drift, and the silhouette-against-k curves
 * that chose k. Pure: the caller collects the inputs (see `collectRunDiagnostics`) and prints or writes the result.
 */
import type { DriftDetected, ModelPublished, SegmentChanged } from '../shared/contracts/outbound';
import type { ObjectStore, RunRecord, RunStore } from '../shared/ports/stores';
import { getJson, runObjectKeys } from '../shared/recluster/artifacts';
import type { ModelArtifact } from '../shared/recluster/fit-model';
import { adjustedRandIndex } from '../shared/segmentation/metrics';
import { mapLimit } from '../shared/util/concurrency';
import { DynamoRunStore, documentClient } from '../shared/adapters/dynamo';
import { behaviourRow, buildVector } from '../shared/domain/vector';
import type { Settings } from '../shared/config/settings';
import { carriedFeatures, readPopulation } from '../shared/recluster/population';
import type { SegmentationModel } from '../shared/segmentation/model';
import type { ReportData } from './report';
import type { EmbeddedStack } from './stack';

const DAY_MS = 86_400_000;

/** Why a customer moved, as a consumer groups it. `retired`: its segment id was retired by the night's model. */
export const MOVE_REASONS = ['event', 'recluster', 'retired', 'drift', 'erasure'] as const;
export type MoveReason = (typeof MOVE_REASONS)[number];

/** One nightly run, as the summary and the report need it. */
export interface RunDiagnostics {
  runId: string;
  /** The instant the run evaluated customers at (ISO). */
  asOf: string | null;
  status: RunRecord['status'];
  modelVersion: number | null;
  published: boolean;
  /** The gate's reasons when it refused the model. */
  gateReasons: string[];
  population: number | null;
  /** Silhouette (on the subsample) of each candidate k; empty when k was not searched. */
  kScores: { k: number; silhouette: number }[];
  k: number | null;
  continuity: { chosen: string; reason: string; gain: number | null } | null;
  drift: {
    detected: boolean;
    reasons: string[];
    maxFeaturePsi: number;
    sharePsi: number;
    distanceInflation: number;
  } | null;
}

/**
 * Reads each run's record and its model artifact (kScores and the full gate) from the stores. Runs without a
 * record are left out; a missing artifact leaves kScores empty.
 */
export async function collectRunDiagnostics(
  runs: RunStore,
  objects: ObjectStore,
  runIds: readonly string[],
): Promise<RunDiagnostics[]> {
  const out = await mapLimit([...runIds], 8, async (runId): Promise<RunDiagnostics | null> => {
    const run = await runs.get(runId);
    if (!run) return null;
    const artifact = await getJson<ModelArtifact>(objects, runObjectKeys.model(runId)).catch(() => null);
    const gate = run.fit?.gate ?? artifact?.gate ?? null;
    return {
      runId,
      asOf: run.asOf,
      status: run.status,
      modelVersion: run.fit?.modelVersion ?? null,
      published: run.status === 'published',
      gateReasons: gate && !gate.passed ? gate.reasons : [],
      population: run.fit?.population ?? null,
      kScores: (artifact?.diagnostics.kScores ?? []).map((s) => ({ k: s.k, silhouette: s.silhouette })),
      k: run.fit?.k ?? null,
      continuity: run.fit?.continuity
        ? { chosen: run.fit.continuity.chosen, reason: run.fit.continuity.reason, gain: run.fit.continuity.gain }
        : null,
      drift: run.fit?.drift ?? null,
    };
  });
  return out.filter((r): r is RunDiagnostics => r !== null);
}

export interface NightMoves {
  /** UTC day of the changes (YYYY-MM-DD). */
  day: string;
  byReason: Record<MoveReason, number>;
  /** Moves over all reasons (first assignments are not moves). */
  moves: number;
  /** Customers known that night (the run's population, else the largest known so far). */
  customers: number;
  /** moves / customers. */
  movesPerCustomer: number;
}

export interface Target {
  name: string;
  value: number | null;
  threshold: string;
  met: boolean | null;
}

export interface ConsumerMetrics {
  nights: NightMoves[];
  /** Moves over all reasons per customer-night, all nights. */
  movesPerCustomerNight: number;
  /**
   * The same after the first week, among customers whose persona did not switch, per customer-night in a segment
   * (customers before the placement gate cannot move and are not counted); null without truth.
   */
  nonSwitcherMovesPerCustomerNightAfterFirstWeek: number | null;
  /**
   * Customers whose persona switched at least 7 days before the run ended (`count`), and the share of them that moved
   * within 7 days of the switch. `censored` switched later: their week is not over, so they are left out of the share
   * (right-censoring; counting them as failures would charge the system for days the run never had).
   */
  switchers: {
    count: number;
    movedWithin7DaysShare: number;
    censored: number;
    /** The oracle bound (see `switchOracleNight`): its share of hits and the switchers it judged; absent if not given. */
    bound?: { share: number; judged: number };
  } | null;
  /** Distinct segment ids any published model carried, and the final model's k. */
  distinctSegmentIds: number;
  finalK: number | null;
  /**
   * The ids target's window: the distinct ids of the models published in the ID_WINDOW_DAYS (45) days up to `endsAt`,
   * and that night's k, for the window with the highest ids / k. A run of at most 45 days has one window, the whole
   * run (`ids` = distinctSegmentIds, `k` = finalK); a longer run is judged on every full window, as an id's meaning
   * over 45 nights is what the target asks about. Null when no model was published.
   */
  idWindow: { ids: number; k: number; endsAt: string; windows: number } | null;
  refusedRuns: { runId: string; day: string | null; reasons: string[] }[];
  /** Runs that kept the active model (nothing fitted; a new version with the same centroids), with the reason. */
  keptRuns: { runId: string; day: string | null; reason: string }[];
  drift: ({ runId: string; day: string | null } & NonNullable<RunDiagnostics['drift']>)[];
  driftEvents: number;
  targets: Target[];
}

export interface ConsumerMetricsInput {
  segmentChanged: readonly SegmentChanged[];
  modelPublished: readonly ModelPublished[];
  driftDetected: readonly DriftDetected[];
  runs: readonly RunDiagnostics[];
  /** Customers known at the end (denominator fallback). */
  customers: number;
  /** Start of the simulated period (the first week is counted from it). */
  start: Date;
  /** Simulator truth: when each switching customer switched (absent for replays). */
  switchedAt?: ReadonlyMap<string, Date | undefined>;
  /** Planted-persona ARI over customers with ≥ 10 events, when the caller computed it. */
  ari?: number | null;
  /** Supervised upper bound on that ARI from the same features (see supervisedAriBound). */
  ariBound?: number | null;
  /** The switchers target's oracle bound, summed over the nights (see switchOracleNight). */
  switchOracle?: { hit: number; total: number } | null;
}

const dayOf = (iso: string) => iso.slice(0, 10);
/** The ids target's window, in days (issue #10: distinct ids over 45 nights ≤ 2 × k). */
export const ID_WINDOW_DAYS = 45;

/**
 * The window of ID_WINDOW_DAYS with the most distinct segment ids per k (see ConsumerMetrics.idWindow). A window
 * ending at a model's `publishedAt` holds the models published in the 45 days up to it, that is 45 nightly runs. The
 * windows end at each model published 44 days or more after the first one (the first full window), and at the last
 * model, so a short run has exactly one window, the whole run.
 */
export function worstIdWindow(published: readonly ModelPublished[]): ConsumerMetrics['idWindow'] {
  const models = [...published].sort((a, b) => Date.parse(a.publishedAt) - Date.parse(b.publishedAt));
  if (!models.length) return null;
  const span = ID_WINDOW_DAYS * DAY_MS;
  const first = Date.parse(models[0]!.publishedAt);
  let worst: NonNullable<ConsumerMetrics['idWindow']> | null = null;
  let from = 0;
  let windows = 0;
  for (let i = 0; i < models.length; i++) {
    const end = Date.parse(models[i]!.publishedAt);
    if (i < models.length - 1 && end - first < span - DAY_MS) continue;
    while (Date.parse(models[from]!.publishedAt) <= end - span) from += 1;
    const ids = new Set(models.slice(from, i + 1).flatMap((m) => m.segments.map((s) => s.segmentId)));
    windows += 1;
    const window = { ids: ids.size, k: models[i]!.k, endsAt: models[i]!.publishedAt, windows: 0 };
    if (!worst || window.ids / window.k > worst.ids / worst.k) worst = window;
  }
  return worst && { ...worst, windows };
}

/**
 * Moves by reason per UTC day and the issue #10 targets. A recluster move whose `from` id the night's model retired
 * counts as `retired`; one made by a model fitted after drift was detected counts as `drift`.
 * Targets: moves ≤ 1 % of non-switching customers per night after the first week; ≥ 95 % of switchers move within
 * 7 days of their switch; distinct ids ≤ 2 × final k; ARI ≥ 0.9, or ≥ 95 % of the supervised bound (when given).
 */
export function consumerMetrics(input: ConsumerMetricsInput): ConsumerMetrics {
  const retiredBy = new Map<number, Set<string>>();
  for (const m of input.modelPublished) retiredBy.set(m.modelVersion, new Set(m.retiredSegmentIds));
  const driftVersions = new Set<number>();
  for (const r of input.runs) if (r.drift?.detected && r.modelVersion !== null) driftVersions.add(r.modelVersion);

  const reasonOf = (e: SegmentChanged): MoveReason => {
    if (e.reason === 'event' || e.reason === 'erasure' || e.reason === 'drift') return e.reason;
    if (e.from && retiredBy.get(e.modelVersion)?.has(e.from.segmentId)) return 'retired';
    if (driftVersions.has(e.modelVersion)) return 'drift';
    return 'recluster';
  };

  const moves = input.segmentChanged.filter((e) => e.from !== null);
  const populationByDay = new Map<string, number>();
  for (const r of input.runs) if (r.asOf && r.population !== null) populationByDay.set(dayOf(r.asOf), r.population);
  const byDay = new Map<string, Record<MoveReason, number>>();
  for (const e of moves) {
    const day = dayOf(e.changedAt);
    const tally = byDay.get(day) ?? (Object.fromEntries(MOVE_REASONS.map((r) => [r, 0])) as Record<MoveReason, number>);
    tally[reasonOf(e)] += 1;
    byDay.set(day, tally);
  }
  const days = [...new Set([...byDay.keys(), ...populationByDay.keys()])].sort();
  let known = 0;
  const nights: NightMoves[] = days.map((day) => {
    known = Math.max(known, populationByDay.get(day) ?? 0);
    const byReason =
      byDay.get(day) ?? (Object.fromEntries(MOVE_REASONS.map((r) => [r, 0])) as Record<MoveReason, number>);
    const total = MOVE_REASONS.reduce((s, r) => s + byReason[r], 0);
    const customers = known || input.customers;
    return { day, byReason, moves: total, customers, movesPerCustomer: customers ? total / customers : 0 };
  });
  const customerNights = nights.reduce((s, n) => s + n.customers, 0);
  const movesPerCustomerNight = customerNights ? moves.length / customerNights : 0;

  let nonSwitcherRate: number | null = null;
  let switchers: ConsumerMetrics['switchers'] = null;
  if (input.switchedAt) {
    const switched = new Map([...input.switchedAt].filter((e): e is [string, Date] => e[1] instanceof Date));
    // The run observed customers until its last nightly run (or its last move, whichever is later).
    let observedUntil = Number.NEGATIVE_INFINITY;
    for (const r of input.runs) if (r.asOf) observedUntil = Math.max(observedUntil, Date.parse(r.asOf));
    for (const e of moves) observedUntil = Math.max(observedUntil, Date.parse(e.changedAt));
    const weekEnd = input.start.getTime() + 7 * DAY_MS;
    const late = nights.filter((n) => Date.parse(n.day) >= weekEnd);
    const lateMoves = moves.filter((e) => Date.parse(e.changedAt) >= weekEnd && !switched.has(e.customerId)).length;
    // Customer-nights of non-switchers that held a segment: a customer counts from its first placement (or its first
    // move, if the run did not see it placed). Customers still before the placement gate cannot move; counting them
    // would flatter the rate.
    const placedAt = new Map<string, number>();
    for (const e of input.segmentChanged) {
      if (switched.has(e.customerId)) continue;
      const t = Date.parse(e.changedAt);
      placedAt.set(e.customerId, Math.min(placedAt.get(e.customerId) ?? Infinity, t));
    }
    const placedTimes = [...placedAt.values()].sort((a, b) => a - b);
    let placedIndex = 0;
    const lateCustomerNights = late.reduce((s, n) => {
      const nightEnd = Date.parse(n.day) + DAY_MS;
      while (placedIndex < placedTimes.length && placedTimes[placedIndex]! < nightEnd) placedIndex += 1;
      return s + placedIndex;
    }, 0);
    nonSwitcherRate = lateCustomerNights ? lateMoves / lateCustomerNights : 0;
    let movedInTime = 0;
    let observed = 0;
    for (const [id, at] of switched) {
      const from = at.getTime();
      if (from + 7 * DAY_MS > observedUntil) continue;
      observed += 1;
      if (
        moves.some(
          (e) => e.customerId === id && Date.parse(e.changedAt) >= from && Date.parse(e.changedAt) <= from + 7 * DAY_MS,
        )
      ) {
        movedInTime += 1;
      }
    }
    switchers = {
      count: observed,
      movedWithin7DaysShare: observed ? movedInTime / observed : 0,
      censored: switched.size - observed,
      ...(input.switchOracle?.total
        ? { bound: { share: input.switchOracle.hit / input.switchOracle.total, judged: input.switchOracle.total } }
        : {}),
    };
  }

  const ids = new Set(input.modelPublished.flatMap((m) => m.segments.map((s) => s.segmentId)));
  const finalK = input.modelPublished.length ? input.modelPublished[input.modelPublished.length - 1]!.k : null;
  const idWindow = worstIdWindow(input.modelPublished);
  const refusedRuns = input.runs
    .filter((r) => r.gateReasons.length > 0)
    .map((r) => ({ runId: r.runId, day: r.asOf ? dayOf(r.asOf) : null, reasons: r.gateReasons }));
  const keptRuns = input.runs
    .filter((r) => r.continuity?.chosen === 'kept')
    .map((r) => ({ runId: r.runId, day: r.asOf ? dayOf(r.asOf) : null, reason: r.continuity!.reason }));
  const drift = input.runs
    .filter((r) => r.drift !== null)
    .map((r) => ({ runId: r.runId, day: r.asOf ? dayOf(r.asOf) : null, ...r.drift! }));

  const targets: Target[] = [
    {
      name: 'moves per customer-night after the first week, non-switchers',
      value: nonSwitcherRate,
      threshold: '≤ 0.01',
      met: nonSwitcherRate === null ? null : nonSwitcherRate <= 0.01,
    },
    {
      name: 'switchers moved within 7 days',
      value: switchers?.movedWithin7DaysShare ?? null,
      threshold: switchers?.bound
        ? `≥ 0.95; oracle bound ${Number(switchers.bound.share.toPrecision(3))}, see above`
        : '≥ 0.95',
      met: switchers && switchers.count > 0 ? switchers.movedWithin7DaysShare >= 0.95 : null,
    },
    {
      name:
        (idWindow?.windows ?? 1) > 1
          ? `distinct segment ids / k, worst ${ID_WINDOW_DAYS} nights`
          : 'distinct segment ids / final k',
      value: idWindow ? idWindow.ids / idWindow.k : null,
      threshold: '≤ 2',
      met: idWindow ? idWindow.ids <= 2 * idWindow.k : null,
    },
    {
      name: 'planted-persona ARI (customers with ≥ 10 events)',
      value: input.ari ?? null,
      threshold:
        input.ariBound === undefined || input.ariBound === null
          ? '≥ 0.9'
          : `≥ 0.9, or ≥ 95 % of the supervised bound ${Number(input.ariBound.toPrecision(4))} = ${Number((0.95 * input.ariBound).toPrecision(4))}`,
      met:
        input.ari === undefined || input.ari === null
          ? null
          : input.ari >= 0.9 ||
            (input.ariBound !== undefined && input.ariBound !== null && input.ari >= 0.95 * input.ariBound),
    },
  ];
  return {
    nights,
    movesPerCustomerNight,
    nonSwitcherMovesPerCustomerNightAfterFirstWeek: nonSwitcherRate,
    switchers,
    distinctSegmentIds: ids.size,
    finalK,
    idWindow,
    refusedRuns,
    keptRuns,
    drift,
    driftEvents: input.driftDetected.length,
    targets,
  };
}

/** Simulator truth of one customer, as the local run keeps it. */
export interface PlantedTruth {
  persona: string;
  switchedTo?: string;
  switchedAt?: Date;
  kind: string;
}

/** Whether a switcher's week (`switchedAt` + 7 days) ends in (night − 1 day, night]: the night that judges it. */
export function switchWeekEndsTonight(t: Pick<PlantedTruth, 'switchedAt'>, night: Date): boolean {
  const end = (t.switchedAt?.getTime() ?? Number.NEGATIVE_INFINITY) + 7 * DAY_MS;
  return end > night.getTime() - DAY_MS && end <= night.getTime();
}

/**
 * The switchers target's oracle bound for one night. Each switcher whose week ends tonight (`switchedAt` + 7 days in
 * (night − 1 day, night]) is placed at the nearest planted-persona mean of tonight's vectors, the means taken over
 * the non-switchers with at least 10 events; a hit is its new persona. The persona means are knowledge no
 * segmentation has: over the nights, the share of hits bounds the share of switchers that any placement of the same
 * vectors can move into their new persona within 7 days. Returns the hits, the switchers judged tonight (those
 * without a vector tonight are not judged) and, for each miss, its switch and the persona whose mean was nearest.
 */
export function switchOracleNight(input: {
  night: Date;
  /** Tonight's vector (`buildVector` with the active model) of every customer of the population. */
  vectors: ReadonlyMap<string, ArrayLike<number>>;
  truth: ReadonlyMap<string, PlantedTruth>;
  eventCounts: ReadonlyMap<string, number>;
}): { hit: number; total: number; misses: { from: string; to: string; nearest: string }[] } {
  const due = [...input.truth].filter(([id, t]) => switchWeekEndsTonight(t, input.night) && input.vectors.has(id));
  const misses: { from: string; to: string; nearest: string }[] = [];
  if (!due.length) return { hit: 0, total: 0, misses };
  const sums = new Map<string, { v: Float64Array; n: number }>();
  for (const [id, v] of input.vectors) {
    const t = input.truth.get(id);
    if (!t || t.kind !== 'customer' || t.switchedAt || (input.eventCounts.get(id) ?? 0) < 10) continue;
    const e = sums.get(t.persona) ?? { v: new Float64Array(v.length), n: 0 };
    for (let j = 0; j < v.length; j++) e.v[j]! += v[j]!;
    e.n += 1;
    sums.set(t.persona, e);
  }
  let hit = 0;
  for (const [id, t] of due) {
    const v = input.vectors.get(id)!;
    let best = '';
    let bestD = Number.POSITIVE_INFINITY;
    for (const [persona, e] of sums) {
      let d = 0;
      for (let j = 0; j < v.length; j++) d += (v[j]! - e.v[j]! / e.n) ** 2;
      if (d < bestD) [best, bestD] = [persona, d];
    }
    if (best === t.switchedTo) hit += 1;
    else misses.push({ from: t.persona, to: t.switchedTo ?? t.persona, nearest: best });
  }
  return { hit, total: due.length, misses };
}

/**
 * Tonight's vectors of every customer of a nightly run's population files (each entry brought to the run's asOf by
 * `carriedFeatures`), in the active model's space. Null when a shard's file is missing (the run stopped before it).
 */
export async function populationVectors(
  objects: ObjectStore,
  runId: string,
  model: SegmentationModel,
  settings: Settings,
): Promise<Map<string, ArrayLike<number>> | null> {
  const first = await readPopulation(objects, runId, 0);
  if (!first) return null;
  const vectors = new Map<string, ArrayLike<number>>();
  for (let shard = 0; shard < first.totalShards; shard++) {
    const file = shard === 0 ? first : await readPopulation(objects, runId, shard);
    if (!file) return null;
    const asOf = new Date(file.asOf);
    for (const e of file.customers) {
      const f = carriedFeatures(e, asOf, settings);
      vectors.set(e.id, buildVector(behaviourRow(f), f.interest, model));
    }
  }
  return vectors;
}

/** One line per target, as a run prints them: "✓ name: value (threshold)". */
export function formatTargets(targets: readonly Target[]): string[] {
  return targets.map((t) => {
    const mark = t.met === null ? '–' : t.met ? '✓' : '✗';
    const value = t.value === null ? 'n/a' : Number(t.value.toPrecision(4)).toString();
    return `${mark} ${t.name}: ${value} (target ${t.threshold})`;
  });
}

/**
 * Planted-persona ARI over the customers with at least `minEvents` events (fewer events cannot say who a customer
 * is): `persona` is the customer's planted persona at the end (after any switch), `segmentId` its assigned segment.
 * Null when fewer than two such customers are assigned.
 */
export function plantedAri(
  customers: Iterable<{ customerId: string; segmentId: string | null }>,
  persona: ReadonlyMap<string, string>,
  eventCounts: ReadonlyMap<string, number>,
  minEvents = 10,
): number | null {
  const planted: string[] = [];
  const found: string[] = [];
  for (const c of customers) {
    const p = persona.get(c.customerId);
    if (c.segmentId === null || p === undefined || (eventCounts.get(c.customerId) ?? 0) < minEvents) continue;
    planted.push(p);
    found.push(c.segmentId);
  }
  if (planted.length < 2) return null;
  const index = (xs: string[]) => {
    const ids = new Map<string, number>();
    return xs.map((x) => ids.get(x) ?? (ids.set(x, ids.size), ids.size - 1));
  };
  return adjustedRandIndex(index(planted), index(found));
}

/**
 * The report's moves, refused-run, kept-run and silhouette-against-k data (ReportData.movesByNight, refusedRuns,
 * keptRuns, kScores).
 */
export function reportExtras(
  metrics: ConsumerMetrics,
  runs: readonly RunDiagnostics[],
): Required<Pick<ReportData, 'movesByNight' | 'refusedRuns' | 'keptRuns' | 'kScores'>> {
  const movesByNight = metrics.nights.flatMap((n) =>
    MOVE_REASONS.filter((r) => n.byReason[r] > 0).map((reason) => ({ day: n.day, reason, count: n.byReason[reason] })),
  );
  const refusedRuns = metrics.refusedRuns
    .filter((r): r is typeof r & { day: string } => r.day !== null)
    .map((r) => ({ day: r.day, reasons: r.reasons.join('; ') }));
  const keptRuns = metrics.keptRuns
    .filter((r): r is typeof r & { day: string } => r.day !== null)
    .map((r) => ({ day: r.day, reason: r.reason }));
  const kScores = runs.flatMap((r, run) => {
    if (r.kScores.length === 0) return [];
    const best = r.kScores.reduce((a, b) => (b.silhouette > a.silhouette ? b : a));
    return r.kScores.map((s) => ({
      run: run + 1,
      day: r.asOf ? dayOf(r.asOf) : r.runId,
      k: s.k,
      silhouette: s.silhouette,
      chosen: s.k === best.k,
    }));
  });
  return { movesByNight, refusedRuns, keptRuns, kScores };
}

/**
 * An upper bound on planted-persona ARI from the same features: supervised classifiers that know the personas, scored
 * honestly (each customer predicted without its own label), the better of
 * - leave-one-out k-nearest-neighbours (k = `neighbours`, majority vote, ties to the nearest), and
 * - leave-one-out nearest class mean (the best any centroid segmentation of these vectors could do).
 * `vectors` are rows of length `dim` in the model's space; `labels` the planted personas. If even a classifier that
 * knows the answer cannot reach ARI 0.9, the unsupervised target is 95 % of this bound (issue #10).
 */
export function supervisedAriBound(
  vectors: readonly ArrayLike<number>[],
  labels: readonly string[],
  neighbours = 5,
): { bound: number; knn: number; nearestMean: number } | null {
  const n = vectors.length;
  if (n < 3 || labels.length !== n) return null;
  const dim = vectors[0]!.length;
  const ids = new Map<string, number>();
  const y = labels.map((l) => ids.get(l) ?? (ids.set(l, ids.size), ids.size - 1));
  const c = ids.size;
  const d2 = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let s = 0;
    for (let j = 0; j < dim; j++) s += ((a[j] ?? 0) - (b[j] ?? 0)) ** 2;
    return s;
  };
  // Leave-one-out k-NN.
  const knn = vectors.map((v, i) => {
    const near: { d: number; y: number }[] = [];
    for (let o = 0; o < n; o++) if (o !== i) near.push({ d: d2(v, vectors[o]!), y: y[o]! });
    near.sort((a, b) => a.d - b.d);
    const votes = new Array<number>(c).fill(0);
    for (const e of near.slice(0, neighbours)) votes[e.y]! += 1;
    const top = Math.max(...votes);
    return near.find((e) => votes[e.y] === top)!.y;
  });
  // Leave-one-out nearest class mean.
  const sums = Array.from({ length: c }, () => new Float64Array(dim));
  const counts = new Array<number>(c).fill(0);
  vectors.forEach((v, i) => {
    counts[y[i]!]! += 1;
    for (let j = 0; j < dim; j++) sums[y[i]!]![j]! += v[j] ?? 0;
  });
  const nearestMean = vectors.map((v, i) => {
    let best = -1;
    let bestD = Number.POSITIVE_INFINITY;
    for (let k = 0; k < c; k++) {
      const m = counts[k]! - (k === y[i] ? 1 : 0);
      if (m <= 0) continue;
      let s = 0;
      for (let j = 0; j < dim; j++) {
        const mean = (sums[k]![j]! - (k === y[i] ? (v[j] ?? 0) : 0)) / m;
        s += ((v[j] ?? 0) - mean) ** 2;
      }
      if (s < bestD) {
        bestD = s;
        best = k;
      }
    }
    return best;
  });
  const knnAri = adjustedRandIndex(y, knn);
  const meanAri = adjustedRandIndex(y, nearestMean);
  return { bound: Math.max(knnAri, meanAri), knn: knnAri, nearestMean: meanAri };
}

/** What `consumerMetricsForStack` needs besides the stack: the nights' run ids and, for a simulation, its truth. */
export interface LocalRunContext {
  /** Where FitModel left its artifacts (kScores). */
  objects: ObjectStore;
  runIds: readonly string[];
  /** Start of the simulated period (or of the replay). */
  start: Date;
  /** Simulator truth: planted persona (after any switch) and switch instant per customer. */
  truth?: ReadonlyMap<string, PlantedTruth>;
  /** Events delivered per customer (for the ≥ 10-events ARI). */
  eventCounts?: ReadonlyMap<string, number>;
  /** The switchers target's oracle bound, summed over the run's nights (see switchOracleNight). */
  switchOracle?: { hit: number; total: number };
}

/**
 * Everything the summary and the report need about what consumers felt, read from the embedded stack at the end of a
 * local run: the bus's outbound events, the run records and artifacts, the profiles and the active model.
 * Returns the metrics, the report's extra datasets and the lines to print.
 */
export async function consumerMetricsForStack(
  stack: EmbeddedStack,
  context: LocalRunContext,
): Promise<{
  metrics: ConsumerMetrics;
  report: ReturnType<typeof reportExtras>;
  runs: RunDiagnostics[];
  lines: string[];
}> {
  const doc = documentClient(stack.dynamo.client);
  const runs = await collectRunDiagnostics(
    new DynamoRunStore(doc, stack.dynamo.tableName),
    context.objects,
    context.runIds,
  );
  const persona = new Map(
    [...(context.truth ?? [])]
      .filter(([, t]) => t.kind === 'customer')
      .map(([id, t]) => [id, t.switchedTo ?? t.persona]),
  );
  const model = await stack.modelStore.getActive();
  const profiles = stack.table.profiles;
  const assigned: { customerId: string; segmentId: string | null }[] = [];
  const vectors: number[][] = [];
  const labels: string[] = [];
  for await (const p of profiles.scanShard(0, 1)) {
    assigned.push({ customerId: p.customerId, segmentId: p.assignment?.segmentId ?? null });
    const planted = persona.get(p.customerId);
    if (model && planted !== undefined && (context.eventCounts?.get(p.customerId) ?? 0) >= 10) {
      vectors.push(Array.from(buildVector(behaviourRow(p.features), p.features.interest, model)));
      labels.push(planted);
    }
  }
  const bound = context.truth ? supervisedAriBound(vectors, labels) : null;
  const metrics = consumerMetrics({
    segmentChanged: stack.bus.eventsOf<SegmentChanged>('segment.changed').map((e) => e.detail),
    modelPublished: stack.bus.eventsOf<ModelPublished>('segmentation.model.published').map((e) => e.detail),
    driftDetected: stack.bus.eventsOf<DriftDetected>('segmentation.drift.detected').map((e) => e.detail),
    runs,
    customers: assigned.length,
    start: context.start,
    ...(context.truth
      ? {
          switchedAt: new Map([...context.truth].map(([id, t]) => [id, t.switchedAt])),
          ari: context.eventCounts ? plantedAri(assigned, persona, context.eventCounts) : null,
          ariBound: bound?.bound ?? null,
          switchOracle: context.switchOracle ?? null,
        }
      : {}),
  });
  const lines = [
    `moves per customer-night (all reasons): ${metrics.movesPerCustomerNight.toFixed(4)}`,
    `distinct segment ids ${metrics.distinctSegmentIds}, final k ${metrics.finalK ?? '-'}, drift events ${metrics.driftEvents}, refused runs ${metrics.refusedRuns.length}, kept runs ${metrics.keptRuns.length} of ${runs.length} (the active model kept: no drift, segments hold, refit not due)`,
    ...(bound
      ? [
          `supervised ARI bound (${labels.length} customers with ≥ 10 events): k-NN ${bound.knn.toFixed(4)}, nearest class mean ${bound.nearestMean.toFixed(4)}`,
        ]
      : []),
    ...(metrics.switchers?.bound
      ? [
          `switchers' oracle bound: on the night each of ${metrics.switchers.bound.judged} switchers' week ended, the nearest planted-persona mean (non-switchers with ≥ 10 events) was its new persona for ${Number(metrics.switchers.bound.share.toPrecision(3))} of them; no segmentation of these features knows those means`,
        ]
      : []),
    ...formatTargets(metrics.targets),
  ];
  return { metrics, report: reportExtras(metrics, runs), runs, lines };
}
