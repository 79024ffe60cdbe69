import type { AssignOutput, RefreshTask } from '../contracts/recluster';
import { placeShard } from './assign';
import type { ReclusterDeps } from './deps';

/**
 * RefreshShard: the nightly path when the quality gate refused tonight's model. Stages and traits are refreshed every
 * night whether or not a model is published (P(alive) falls while a customer is silent), with the ACTIVE model's
 * value parameters (none active: the priors); nothing about segments changes (assignments are kept, no
 * segment.changed). It is AssignShard's re-evaluation in traits-only mode over the same customers (those the change
 * index says are due tonight), through the customer aggregate's one optimistic write: only profiles whose stage or a
 * material trait moved are written, and their lifecycle.changed events are published. `assigned` counts the
 * customers evaluated, `moved` is always 0.
 */
export async function refreshShard(task: RefreshTask, deps: ReclusterDeps): Promise<AssignOutput> {
  const started = Date.now();
  const model = task.activeVersion === null ? null : await deps.models.getVersion(task.activeVersion);
  if (task.activeVersion !== null && !model)
    throw new Error(`active model version ${task.activeVersion} is not stored`);
  const r = await placeShard(task, model, { traitsOnly: true, marksModel: model, fullReason: null }, deps);
  deps.metrics.count('ReclusterProfilesRefreshed', r.written);
  deps.metrics.count('ReclusterProfilesRead', r.read);
  deps.metrics.count('ReclusterProfilesEvaluated', r.evaluated);
  deps.metrics.count('ReclusterMarksUpdated', r.marked);
  if (r.full) deps.metrics.count('ReclusterFullShards');
  deps.log.info('shard refreshed', {
    runId: task.runId,
    shard: task.shard,
    activeVersion: task.activeVersion,
    read: r.read,
    written: r.written,
    lifecycleChanged: r.lifecycleChanged,
    full: r.full,
    ms: Date.now() - started,
  });
  return {
    shard: task.shard,
    assigned: r.evaluated,
    moved: 0,
    lifecycleChanged: r.lifecycleChanged,
    read: r.read,
    evaluated: r.evaluated,
    written: r.written,
    full: r.full !== null,
  };
}
