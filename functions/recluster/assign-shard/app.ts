import { assignTaskSchema, type AssignOutput } from '../../../shared/contracts/recluster';
import { assignShard } from '../../../shared/recluster/assign';
import type { ReclusterDeps } from '../../../shared/recluster/deps';
import { parseTaskInput, withTelemetry, type ReclusterLambda } from '../../../shared/recluster/lambda';
import type { Telemetry } from '../../../shared/runtime/powertools';

/** AssignShard (one Map item): reassigns a shard's customers with the new model version and publishes their changes. */
export function makeHandler(deps: ReclusterDeps, telemetry?: Telemetry): ReclusterLambda<AssignOutput> {
  return withTelemetry(
    async (event) => assignShard(parseTaskInput(assignTaskSchema, event, 'AssignShard'), deps),
    telemetry,
  );
}
