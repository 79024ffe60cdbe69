import { z } from 'zod';
import { assignTaskSchema, refreshTaskSchema, type AssignOutput } from '../../../shared/contracts/recluster';
import { assignShard } from '../../../shared/recluster/assign';
import { refreshShard } from '../../../shared/recluster/refresh';
import type { ReclusterDeps } from '../../../shared/recluster/deps';
import { parseTaskInput, withTelemetry, type ReclusterLambda } from '../../../shared/recluster/lambda';
import type { Telemetry } from '../../../shared/runtime/powertools';

/** AssignShard's payload: a new model version to place customers with, or (gate refused) the ACTIVE one to refresh with. */
const assignShardInputSchema = z.union([assignTaskSchema, refreshTaskSchema]);

/**
 * AssignShard (one Map item): reassigns a shard's customers with the new model version and publishes their changes;
 * RefreshShard (same function, `activeVersion` instead of `modelVersion`): refreshes traits and stages only.
 */
export function makeHandler(deps: ReclusterDeps, telemetry?: Telemetry): ReclusterLambda<AssignOutput> {
  return withTelemetry(async (event) => {
    const task = parseTaskInput(assignShardInputSchema, event, 'AssignShard');
    return 'modelVersion' in task ? assignShard(task, deps) : refreshShard(task, deps);
  }, telemetry);
}
