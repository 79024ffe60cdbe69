import { publishInputSchema } from '../../../shared/contracts/recluster';
import { publishModel, type PublishOutput } from '../../../shared/recluster/publish';
import type { ReclusterDeps } from '../../../shared/recluster/deps';
import { parseTaskInput, withTelemetry, type ReclusterLambda } from '../../../shared/recluster/lambda';
import type { Telemetry } from '../../../shared/runtime/powertools';

/** Publish: flips MODEL/ACTIVE, writes the report and emits segmentation.model.published (the state discards the result). */
export function makeHandler(deps: ReclusterDeps, telemetry?: Telemetry): ReclusterLambda<PublishOutput> {
  return withTelemetry(
    async (event) => publishModel(parseTaskInput(publishInputSchema, event, 'Publish'), deps),
    telemetry,
  );
}
