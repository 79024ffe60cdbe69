import type { Traits } from '../contracts/outbound';
import type { AssignOutput, AssignTask } from '../contracts/recluster';
import { nightlyMarks } from '../customer/due';
import { evaluateCustomer } from '../customer/evaluate';
import { claimAndPublish } from '../customer/outbox';
import type { CustomerProfile, NightlyMarks } from '../customer/profile';
import { writeOptimistically } from '../customer/update';
import type { SegmentationModel } from '../segmentation/model';
import { mapLimit } from '../util/concurrency';
import { refreshFeatures } from '../domain/features';
import { evaluationTime, featuresAsOf } from './as-of';
import type { ReclusterDeps } from './deps';
import { isLive, readRevisions, stateHashOf } from './population';
import { readProfiles } from './scan';

const CHUNK = 128;

export type AssignOutcome = 'moved' | 'updated' | 'unchanged' | 'newer' | 'gone';

/**
 * How the night indexes a customer it evaluated: `model` and `clock` are the model its marks are computed with (the
 * run's, or the ACTIVE one on a traits-only night) and its model clock; `agreed` says whether tonight's sample saw the
 * revision (or the state) being evaluated. Only then are the marks advanced: otherwise the customer stays due, so
 * the next ScanShard re-reads it and no stale row is carried into another night.
 */
export interface MarkContext {
  model: SegmentationModel | null;
  clock: number;
  valueClock: number;
  agreed: (profile: CustomerProfile) => boolean;
}

export interface CustomerAssignResult {
  outcome: AssignOutcome;
  lifecycleChanged: boolean;
  conflicts: number;
  /** Whether a marks-only update moved the customer's place in the nightly change index. */
  marked: boolean;
  /** The profile as written (or as stored, when only its outbox is pending): its outbox is published by the caller. */
  toPublish: CustomerProfile | null;
}

/** Trait drift below these is not worth a write: consumers see traits at most this stale between material moves. */
export const TRAIT_TOLERANCE = { probability: 0.01, relative: 0.05 } as const;

function near(a: number | null, b: number | null, abs: number, rel: number): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) <= Math.max(abs, rel * Math.max(Math.abs(a), Math.abs(b)));
}

function similarTraits(a: Traits | null, b: Traits | null): boolean {
  if (a === null || b === null) return a === b;
  const { probability: p, relative: r } = TRAIT_TOLERANCE;
  return (
    a.lifecycleStage === b.lifecycleStage &&
    near(a.pAlive, b.pAlive, p, 0) &&
    near(a.churnRisk, b.churnRisk, p, 0) &&
    near(a.expectedOrders90d, b.expectedOrders90d, 0.01, r) &&
    near(a.expectedSpend, b.expectedSpend, 0.01, r) &&
    near(a.clv, b.clv, 0.01, r)
  );
}

/**
 * Whether a re-evaluated profile differs from the stored one in anything a consumer reads: the segment, the
 * lifecycle stage, or a trait beyond TRAIT_TOLERANCE. A new model version alone is not worth a write: a customer
 * the run leaves in the same (aligned) segment keeps its stored assignment, and the real-time path applies
 * hysteresis to it as usual. Features refreshed to the run's asOf alone are not worth one either (every consumer
 * re-evaluates time-dependent features at read time). This is what keeps a night's writes proportional to what moved.
 */
export function needsWrite(stored: CustomerProfile, next: CustomerProfile): boolean {
  const a = stored.assignment;
  const b = next.assignment;
  if (a === null || b === null) return a !== b;
  return (
    a.segmentId !== b.segmentId ||
    stored.lifecycleStage !== next.lifecycleStage ||
    !similarTraits(stored.traits, next.traits)
  );
}

/**
 * Re-evaluates one customer with the run's model: the same `evaluateCustomer` as the real-time path (reason
 * 'recluster'; across versions the aligned id decides), features from the state as of the run's asOf, then the one
 * optimistic write of the customer aggregate. A concurrent real-time write wins the race: the profile is re-read and
 * re-evaluated. A profile already placed by a newer model version is left alone (an older run never overwrites a
 * newer one). The changes are queued for the run's model version, which is not active yet: they are held in the
 * outbox until Publish activates it and releases them.
 *
 * With `marks`, the customer's place in the nightly change index moves on with the evaluation (`nightlyMarks`): in
 * the profile write, or, when nothing else changed, in a marks-only update conditional on the revision read. An
 * erased, merged-away or emptied profile that tonight's population no longer holds leaves the index.
 */
export async function assignCustomer(
  initial: CustomerProfile,
  model: SegmentationModel | null,
  asOf: Date,
  deps: ReclusterDeps,
  opts: { traitsOnly?: boolean; marks?: MarkContext } = {},
): Promise<CustomerAssignResult> {
  let outcome: AssignOutcome = 'unchanged';
  let lifecycleChanged = false;
  // The marks-only update to make after the optimistic write, when the evaluation wrote nothing.
  const marksUpdate: {
    next: { rev: number; marks: NightlyMarks | null; current: NightlyMarks | null | undefined } | null;
  } = { next: null };
  const { result, current, conflicts } = await writeOptimistically(
    initial.customerId,
    deps.profiles,
    initial,
    async (profile) => {
      marksUpdate.next = null;
      if (!profile || profile.state.events === 0) {
        outcome = 'gone';
        if (profile && opts.marks && !isLive(profile) && !opts.marks.agreed(profile) && profile.nightly !== null)
          marksUpdate.next = { rev: profile.rev, marks: null, current: profile.nightly };
        return null;
      }
      if (model && !opts.traitsOnly && (profile.assignment?.modelVersion ?? 0) > model.version) {
        outcome = 'newer';
        return null;
      }
      const at = evaluationTime(asOf, profile.updatedAt);
      const evaluation = evaluateCustomer({
        customerId: profile.customerId,
        state: profile.state,
        features: featuresAsOf(profile, asOf, deps.settings),
        previous: profile,
        epoch: profile.epoch,
        erasedAt: profile.erasedAt,
        model,
        now: at,
        settings: deps.settings,
        reason: 'recluster',
        claim: false,
        traitsOnly: opts.traitsOnly ?? false,
        ...(model ? { cause: model.runId } : {}),
      });
      const m = opts.marks;
      // The probes bring tonight's features forward with the as-of function (no re-derivation from the state).
      const tonight = m ? featuresAsOf(profile, asOf, deps.settings) : null;
      const marks =
        m && tonight && m.agreed(profile)
          ? nightlyMarks({
              featuresAt: (t) =>
                refreshFeatures(tonight, evaluationTime(asOf, profile.updatedAt), t, deps.settings.features),
              assignment: evaluation.profile.assignment,
              stage: evaluation.profile.lifecycleStage,
              model: m.model,
              // The night's instant, not the profile's: a rerun computes the same marks.
              at: asOf,
              clock: m.clock,
              valueClock: m.valueClock,
              settings: deps.settings,
            })
          : undefined;
      if (evaluation.changes.length === 0 && !needsWrite(profile, evaluation.profile)) {
        outcome = 'unchanged';
        if (marks) marksUpdate.next = { rev: profile.rev, marks, current: profile.nightly };
        return null;
      }
      outcome = evaluation.segmentChanged ? 'moved' : 'updated';
      lifecycleChanged = evaluation.lifecycleChanged;
      // Absent marks (the sample saw another revision): due at the next night.
      if (marks) evaluation.profile.nightly = marks;
      return evaluation;
    },
  );
  const p = marksUpdate.next;
  let marked = false;
  if (p && !sameMarks(p.current, p.marks) && !stillDueTomorrow(p.current, p.marks, asOf)) {
    // A conflict means another writer came in between: its write marked the customer due, which is what we want.
    marked = (await deps.profiles.markNightly(initial.customerId, p.rev, p.marks)) === 'written';
  }
  return {
    outcome,
    lifecycleChanged: result ? lifecycleChanged : false,
    conflicts,
    marked,
    toPublish: result ? result.profile : current && current.outbox.length ? current : null,
  };
}

/**
 * A marks-only update that would change nothing for the next night: the stored marks already make the customer due
 * (it was due or broken tonight, and nothing moved them) and the new ones make it due by the next night anyway. It is
 * evaluated tomorrow either way, and its marks are written then; a young store, whose customers are mostly due night
 * after night, saves a write per customer-night.
 */
function stillDueTomorrow(current: NightlyMarks | null | undefined, next: NightlyMarks | null, asOf: Date): boolean {
  if (!current || !next) return false;
  return current.dueAt <= asOf.getTime() && next.dueAt <= asOf.getTime() + 86_400_000;
}

function sameMarks(a: NightlyMarks | null | undefined, b: NightlyMarks | null): boolean {
  if (a === undefined) return false;
  if (a === null || b === null) return a === b;
  // Clocks compare within rounding: a rerun's evaluation may differ in the last bit, and is not worth a write.
  const close = (x: number | null, y: number | null) =>
    x === null || y === null ? x === y : Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x));
  return a.dueAt === b.dueAt && close(a.breakAt, b.breakAt) && close(a.valueBreakAt, b.valueBreakAt);
}

/** What a shard's nightly placement did: outcomes, and the table work (profiles read, evaluated, written). */
export interface ShardPlacement {
  tally: Record<AssignOutcome, number>;
  lifecycleChanged: number;
  conflicts: number;
  read: number;
  evaluated: number;
  written: number;
  marked: number;
  /** Why every customer of the shard was re-placed (null: only those due or broken). */
  full: string | null;
}

/**
 * Re-places the customers of one nightly shard that could have changed: those the change index says are due by the
 * run's asOf, and those whose breakAt the model clock passed; on a full night, every indexed profile of the shard.
 * Customers are read by key (strongly consistent), evaluated with `assignCustomer` in chunks, and their lifecycle
 * changes published per chunk (segment changes wait in the outbox for Publish when `holdSegments`).
 */
export async function placeShard(
  task: { runId: string; asOf: string; shard: number; totalShards: number },
  model: SegmentationModel | null,
  opts: { traitsOnly: boolean; marksModel: SegmentationModel | null; fullReason: string | null },
  deps: ReclusterDeps,
): Promise<ShardPlacement> {
  const asOf = new Date(task.asOf);
  const population = await readRevisions(deps.objects, task.runId, task.shard);
  const entries = population?.byId ?? new Map<string, { rev: number; stateHash: string }>();
  const full =
    opts.fullReason ??
    (deps.settings.recluster.fullNights
      ? 'full nights configured'
      : population === null
        ? 'no population file for tonight'
        : population.mode === 'full'
          ? (population.reason ?? 'full scan')
          : null);
  const clock = opts.marksModel?.placement?.clock ?? 0;
  const valueClock = opts.marksModel?.placement?.valueClock ?? 0;
  const marks: MarkContext = {
    model: opts.marksModel,
    clock,
    valueClock,
    agreed: (p) => {
      const e = entries.get(p.customerId);
      return e !== undefined && (e.rev === p.rev || e.stateHash === stateHashOf(p.state));
    },
  };
  const ids = await deps.profiles.nightlyIds(
    task.shard,
    task.totalShards,
    full === null ? { dueBy: asOf.getTime(), brokenBy: clock, valueBrokenBy: valueClock } : {},
  );
  const out: ShardPlacement = {
    tally: { moved: 0, updated: 0, unchanged: 0, newer: 0, gone: 0 },
    lifecycleChanged: 0,
    conflicts: 0,
    read: 0,
    evaluated: 0,
    written: 0,
    marked: 0,
    full,
  };
  const active = opts.traitsOnly ? null : await deps.models.getActive().catch(() => null);
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunkIds = ids.slice(i, i + CHUNK);
    const read = await readProfiles(chunkIds, deps);
    out.read += read.size;
    const toPublish: CustomerProfile[] = [];
    await mapLimit([...read.values()], deps.concurrency ?? 16, async (profile) => {
      const r = await assignCustomer(profile, model, asOf, deps, { traitsOnly: opts.traitsOnly, marks });
      out.tally[r.outcome] += 1;
      if (r.outcome === 'moved' || r.outcome === 'updated' || r.outcome === 'unchanged') out.evaluated += 1;
      if (r.lifecycleChanged) out.lifecycleChanged += 1;
      if (r.marked) out.marked += 1;
      out.conflicts += r.conflicts;
      if (r.toPublish) toPublish.push(r.toPublish);
    });
    // Lifecycle changes go out now (one PutEvents per 10 across the chunk, as the real-time path does); segment
    // changes of this run's model wait in the outbox until Publish activates it.
    await claimAndPublish(toPublish, deps, {
      now: deps.clock,
      activeVersion: opts.traitsOnly ? (model?.version ?? null) : (active?.version ?? null),
      concurrency: deps.concurrency ?? 16,
    });
  }
  out.written = out.tally.moved + out.tally.updated;
  return out;
}

/**
 * AssignShard: the customers of one nightly shard that could have changed (see `placeShard`), with the run's (not yet
 * active) model version. Everyone is re-placed when the model says so (`placement.full`: a fresh fit, other segment
 * ids, another vector space) or tonight's ScanShard read everyone. `assigned` counts customers evaluated that hold
 * the new version's decision afterwards, `moved` those whose segment changed (first assignments included),
 * `lifecycleChanged` those whose stage changed. A rerun converges: customers already placed by this version are
 * unchanged and not written again.
 */
export async function assignShard(task: AssignTask, deps: ReclusterDeps): Promise<AssignOutput> {
  const started = Date.now();
  const model = await deps.models.getVersion(task.modelVersion);
  if (!model) throw new Error(`model version ${task.modelVersion} is not stored`);
  if (model.runId !== task.runId) throw new Error(`model version ${task.modelVersion} belongs to run ${model.runId}`);
  const fullReason = model.placement ? model.placement.full : 'model has no placement clock';
  const r = await placeShard(task, model, { traitsOnly: false, marksModel: model, fullReason }, deps);
  const { tally } = r;
  const assigned = tally.moved + tally.updated + tally.unchanged;
  deps.metrics.count('ReclusterCustomersAssigned', assigned);
  deps.metrics.count('ReclusterCustomersMoved', tally.moved);
  deps.metrics.count('ReclusterProfilesWritten', r.written);
  deps.metrics.count('ReclusterProfilesRead', r.read);
  deps.metrics.count('ReclusterProfilesEvaluated', r.evaluated);
  deps.metrics.count('ReclusterMarksUpdated', r.marked);
  deps.metrics.count('ReclusterWriteConflicts', r.conflicts);
  if (r.full) deps.metrics.count('ReclusterFullShards');
  deps.log.info('shard assigned', {
    runId: task.runId,
    shard: task.shard,
    modelVersion: model.version,
    ...tally,
    lifecycleChanged: r.lifecycleChanged,
    conflicts: r.conflicts,
    read: r.read,
    marked: r.marked,
    full: r.full,
    ms: Date.now() - started,
  });
  return {
    shard: task.shard,
    assigned,
    moved: tally.moved,
    lifecycleChanged: r.lifecycleChanged,
    read: r.read,
    evaluated: r.evaluated,
    written: r.written,
    full: r.full !== null,
  };
}
