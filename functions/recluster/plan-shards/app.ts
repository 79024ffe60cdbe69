import type { PlanOutput } from '../../../shared/contracts/recluster';
import { planInputSchema, planShards } from '../../../shared/recluster/plan';
import type { ReclusterDeps } from '../../../shared/recluster/deps';
import { parseTaskInput, withTelemetry, type ReclusterLambda } from '../../../shared/recluster/lambda';
import type { Telemetry } from '../../../shared/runtime/powertools';

/** PlanShards: records the run and returns its shards. Payload: the execution input plus `executionName`. */
export function makeHandler(deps: ReclusterDeps, telemetry?: Telemetry): ReclusterLambda<PlanOutput> {
  return withTelemetry(
    async (event) => planShards(parseTaskInput(planInputSchema, event, 'PlanShards'), deps),
    telemetry,
  );
}
