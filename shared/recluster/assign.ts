import type { Traits } from '../contracts/outbound';
import type { AssignOutput, AssignTask } from '../contracts/recluster';
import { evaluateCustomer } from '../domain/evaluate';
import { publishOutboxes } from '../ingest/process-batch';
import type { CustomerProfile } from '../ports/stores';
import type { SegmentationModel } from '../segmentation/model';
import { mapLimit } from '../util/concurrency';
import { evaluationTime, refreshFeatures } from './as-of';
import type { ReclusterDeps } from './deps';

export const MAX_ASSIGN_WRITE_ATTEMPTS = 6;
const CHUNK = 128;

export type AssignOutcome = 'moved' | 'updated' | 'unchanged' | 'newer' | 'gone';

export interface CustomerAssignResult {
  outcome: AssignOutcome;
  lifecycleChanged: boolean;
  conflicts: number;
  /** The profile as written (or as stored, when only its outbox is pending): its outbox is published by the caller. */
  toPublish: CustomerProfile | null;
}

function closeEnough(a: number, b: number): boolean {
  return a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

function sameTraits(a: Traits | null, b: Traits | null): boolean {
  if (a === null || b === null) return a === b;
  return (
    a.lifecycleStage === b.lifecycleStage &&
    closeEnough(a.pAlive, b.pAlive) &&
    closeEnough(a.churnRisk, b.churnRisk) &&
    closeEnough(a.expectedOrders90d, b.expectedOrders90d) &&
    closeEnough(a.expectedSpend, b.expectedSpend) &&
    closeEnough(a.clv, b.clv)
  );
}

/**
 * Whether a re-evaluated profile differs from the stored one in anything a consumer reads: the segment or the model
 * version it was placed with, the lifecycle stage, or a trait. Features refreshed to the run's asOf alone are not
 * worth a write (every consumer re-evaluates time-dependent features at read time).
 */
export function needsWrite(stored: CustomerProfile, next: CustomerProfile): boolean {
  const a = stored.assignment;
  const b = next.assignment;
  if (a === null || b === null) return a !== b;
  return (
    a.segmentId !== b.segmentId ||
    a.modelVersion !== b.modelVersion ||
    stored.lifecycleStage !== next.lifecycleStage ||
    !sameTraits(stored.traits, next.traits)
  );
}

/**
 * Re-evaluates one customer with the run's model: the same `evaluateCustomer` as the real-time path (reason
 * 'recluster'; across versions the aligned id decides, hysteresis does not apply), features refreshed to the run's
 * asOf, then a conditional write on `rev`. A concurrent real-time write wins the race: the profile is re-read and
 * re-evaluated. A profile already placed by a newer model version is left alone (an older run never overwrites a
 * newer one). Pending outbox entries, new or left over, are returned for the shard to publish with their dedupe keys.
 */
export async function assignCustomer(
  initial: CustomerProfile,
  model: SegmentationModel,
  asOf: Date,
  deps: ReclusterDeps,
): Promise<CustomerAssignResult> {
  let profile: CustomerProfile | null = initial;
  let conflicts = 0;
  for (let attempt = 0; attempt < MAX_ASSIGN_WRITE_ATTEMPTS; attempt++) {
    if (!profile) return { outcome: 'gone', lifecycleChanged: false, conflicts, toPublish: null };
    if ((profile.assignment?.modelVersion ?? 0) > model.version) {
      return { outcome: 'newer', lifecycleChanged: false, conflicts, toPublish: null };
    }
    const at = evaluationTime(asOf, profile.updatedAt);
    const features = refreshFeatures(profile.features, new Date(profile.updatedAt), at, deps.settings.features);
    const evaluation = evaluateCustomer({
      customerId: profile.customerId,
      features,
      previous: profile,
      model,
      now: at,
      settings: deps.settings,
      reason: 'recluster',
    });
    if (evaluation.changes.length === 0 && !needsWrite(profile, evaluation.profile)) {
      return {
        outcome: 'unchanged',
        lifecycleChanged: false,
        conflicts,
        toPublish: profile.outbox.length ? profile : null,
      };
    }
    if ((await deps.profiles.put(evaluation.profile, profile.rev)) === 'conflict') {
      conflicts += 1;
      profile = await deps.profiles.get(profile.customerId);
      continue;
    }
    return {
      outcome: evaluation.segmentChanged ? 'moved' : 'updated',
      lifecycleChanged: evaluation.lifecycleChanged,
      conflicts,
      toPublish: evaluation.profile,
    };
  }
  throw new Error(`customer ${initial.customerId}: profile write kept conflicting`);
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
    // One PutEvents per 10 changes across the chunk, as the real-time path does.
    await publishOutboxes(toPublish, deps, deps.concurrency ?? 16);
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
