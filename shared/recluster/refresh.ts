import type { AssignOutput, RefreshTask } from '../contracts/recluster';
import { claimAndPublish } from '../customer/outbox';
import type { CustomerProfile } from '../ports/stores';
import { mapLimit } from '../util/concurrency';
import { assignCustomer, type AssignOutcome } from './assign';
import type { ReclusterDeps } from './deps';

const CHUNK = 128;

/**
 * RefreshShard: the nightly path when the quality gate refused tonight's model. Stages and traits are refreshed every
 * night whether or not a model is published (P(alive) falls while a customer is silent), with the ACTIVE model's
 * value parameters (none active: the priors); nothing about segments changes (assignments are kept, no
 * segment.changed). It is AssignShard's re-evaluation in traits-only mode, through the customer aggregate's one
 * optimistic write: only profiles whose stage or a material trait moved are written, and their lifecycle.changed
 * events are published. `assigned` counts the customers scanned, `moved` is always 0.
 */
export async function refreshShard(task: RefreshTask, deps: ReclusterDeps): Promise<AssignOutput> {
  const started = Date.now();
  const model = task.activeVersion === null ? null : await deps.models.getVersion(task.activeVersion);
  if (task.activeVersion !== null && !model)
    throw new Error(`active model version ${task.activeVersion} is not stored`);
  const asOf = new Date(task.asOf);
  const tally: Record<AssignOutcome, number> = { moved: 0, updated: 0, unchanged: 0, newer: 0, gone: 0 };
  let scanned = 0;
  let lifecycleChanged = 0;
  const run = async (chunk: CustomerProfile[]) => {
    const toPublish: CustomerProfile[] = [];
    await mapLimit(chunk, deps.concurrency ?? 16, async (p) => {
      const r = await assignCustomer(p, model, asOf, deps, { traitsOnly: true });
      tally[r.outcome] += 1;
      if (r.lifecycleChanged) lifecycleChanged += 1;
      if (r.toPublish) toPublish.push(r.toPublish);
    });
    await claimAndPublish(toPublish, deps, {
      now: deps.clock,
      activeVersion: task.activeVersion,
      concurrency: deps.concurrency ?? 16,
    });
  };
  let chunk: CustomerProfile[] = [];
  for await (const profile of deps.profiles.scanShard(task.shard, task.totalShards)) {
    scanned += 1;
    chunk.push(profile);
    if (chunk.length >= CHUNK) {
      await run(chunk);
      chunk = [];
    }
  }
  if (chunk.length) await run(chunk);
  const written = tally.updated + tally.moved;
  deps.metrics.count('ReclusterProfilesRefreshed', written);
  deps.log.info('shard refreshed', {
    runId: task.runId,
    shard: task.shard,
    activeVersion: task.activeVersion,
    scanned,
    written,
    lifecycleChanged,
    ms: Date.now() - started,
  });
  return { shard: task.shard, assigned: scanned, moved: 0, lifecycleChanged };
}
