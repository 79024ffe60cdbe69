import { markFailedInputSchema } from '../../../shared/contracts/recluster';
import { markFailed, type MarkFailedOutput } from '../../../shared/recluster/mark-failed';
import type { ReclusterDeps } from '../../../shared/recluster/deps';
import { parseTaskInput, withTelemetry, type ReclusterLambda } from '../../../shared/recluster/lambda';
import type { Telemetry } from '../../../shared/runtime/powertools';

/** MarkFailed: records the failed run and emits segmentation.run.failed once; never touches MODEL/ACTIVE. */
export function makeHandler(deps: ReclusterDeps, telemetry?: Telemetry): ReclusterLambda<MarkFailedOutput> {
  return withTelemetry(
    async (event) => markFailed(parseTaskInput(markFailedInputSchema, event, 'MarkFailed'), deps),
    telemetry,
  );
}
