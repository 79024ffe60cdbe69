import { fitInputSchema, type FitOutput } from '../../../shared/contracts/recluster';
import { fitModel } from '../../../shared/recluster/fit-model';
import type { ReclusterDeps } from '../../../shared/recluster/deps';
import { parseTaskInput, withTelemetry, type ReclusterLambda } from '../../../shared/recluster/lambda';
import type { Telemetry } from '../../../shared/runtime/powertools';

/** FitModel: merges the shard samples, fits the value and segmentation models, stores the version if it passes the gate. */
export function makeHandler(deps: ReclusterDeps, telemetry?: Telemetry): ReclusterLambda<FitOutput> {
  return withTelemetry(async (event) => fitModel(parseTaskInput(fitInputSchema, event, 'FitModel'), deps), telemetry);
}
