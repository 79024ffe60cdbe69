import type { Traits } from '../contracts/outbound';
import type { AssignOutput, AssignTask } from '../contracts/recluster';
import { evaluateCustomer } from '../customer/evaluate';
import { claimAndPublish } from '../customer/outbox';
import type { CustomerProfile } from '../customer/profile';
import { writeOptimistically } from '../customer/update';
import type { SegmentationModel } from '../segmentation/model';
import { mapLimit } from '../util/concurrency';
import { evaluationTime, featuresAsOf } from './as-of';
import type { ReclusterDeps } from './deps';

const CHUNK = 128;

export type AssignOutcome = 'moved' | 'updated' | 'unchanged' | 'newer' | 'gone';

export interface CustomerAssignResult {
  outcome: AssignOutcome;
  lifecycleChanged: boolean;
  conflicts: number;
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
 */
export async function assignCustomer(
  initial: CustomerProfile,
  model: SegmentationModel | null,
  asOf: Date,
  deps: ReclusterDeps,
  opts: { traitsOnly?: boolean } = {},
): Promise<CustomerAssignResult> {
  let outcome: AssignOutcome = 'unchanged';
  let lifecycleChanged = false;
  const { result, current, conflicts } = await writeOptimistically(
    initial.customerId,
    deps.profiles,
    initial,
    async (profile) => {
      if (!profile || profile.state.events === 0) {
        outcome = 'gone';
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
      if (evaluation.changes.length === 0 && !needsWrite(profile, evaluation.profile)) {
        outcome = 'unchanged';
        return null;
      }
      outcome = evaluation.segmentChanged ? 'moved' : 'updated';
      lifecycleChanged = evaluation.lifecycleChanged;
      return evaluation;
    },
  );
  return {
    outcome,
    lifecycleChanged: result ? lifecycleChanged : false,
    conflicts,
    toPublish: result ? result.profile : current && current.outbox.length ? current : null,
  };
}

/**
 * AssignShard: every customer of one parallel-scan segment, with the run's (not yet active) model version.
 * `assigned` counts customers that hold the new version afterwards (written now or by an earlier attempt), `moved`
 * those whose segment changed (first assignments included), `lifecycleChanged` those whose stage changed.
 * A rerun converges: customers already placed by this version are unchanged and not written again.
 */
export async function assignShard(task: AssignTask, deps: ReclusterDeps): Promise<AssignOutput> {
  const started = Date.now();
  const model = await deps.models.getVersion(task.modelVersion);
  if (!model) throw new Error(`model version ${task.modelVersion} is not stored`);
  if (model.runId !== task.runId) throw new Error(`model version ${task.modelVersion} belongs to run ${model.runId}`);
  const asOf = new Date(task.asOf);
  const tally: Record<AssignOutcome, number> = { moved: 0, updated: 0, unchanged: 0, newer: 0, gone: 0 };
  let lifecycleChanged = 0;
  let conflicts = 0;
  const run = async (chunk: CustomerProfile[]) => {
    const toPublish: CustomerProfile[] = [];
    await mapLimit(chunk, deps.concurrency ?? 16, async (profile) => {
      const r = await assignCustomer(profile, model, asOf, deps);
      tally[r.outcome] += 1;
      if (r.lifecycleChanged) lifecycleChanged += 1;
      conflicts += r.conflicts;
      if (r.toPublish) toPublish.push(r.toPublish);
    });
    // Lifecycle changes go out now (one PutEvents per 10 across the chunk, as the real-time path does); segment
    // changes of this run's model wait in the outbox until Publish activates it.
    const active = await deps.models.getActive().catch(() => null);
    await claimAndPublish(toPublish, deps, {
      now: deps.clock,
      activeVersion: active?.version ?? null,
      concurrency: deps.concurrency ?? 16,
    });
  };
  let chunk: CustomerProfile[] = [];
  for await (const profile of deps.profiles.scanShard(task.shard, task.totalShards)) {
    chunk.push(profile);
    if (chunk.length >= CHUNK) {
      await run(chunk);
      chunk = [];
    }
  }
  if (chunk.length) await run(chunk);

  const assigned = tally.moved + tally.updated + tally.unchanged;
  deps.metrics.count('ReclusterCustomersAssigned', assigned);
  deps.metrics.count('ReclusterCustomersMoved', tally.moved);
  deps.metrics.count('ReclusterProfilesWritten', tally.moved + tally.updated);
  deps.metrics.count('ReclusterWriteConflicts', conflicts);
  deps.log.info('shard assigned', {
    runId: task.runId,
    shard: task.shard,
    modelVersion: model.version,
    ...tally,
    lifecycleChanged,
    conflicts,
    ms: Date.now() - started,
  });
  return { shard: task.shard, assigned, moved: tally.moved, lifecycleChanged };
}
