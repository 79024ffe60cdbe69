import { shardTaskSchema, type ScanOutput } from '../../../shared/contracts/recluster';
import { scanShard } from '../../../shared/recluster/scan';
import type { ReclusterDeps } from '../../../shared/recluster/deps';
import { parseTaskInput, withTelemetry, type ReclusterLambda } from '../../../shared/recluster/lambda';
import type { Telemetry } from '../../../shared/runtime/powertools';

/** ScanShard (one Map item): folds a shard's profiles into vectors and a reservoir sample in the object store. */
export function makeHandler(deps: ReclusterDeps, telemetry?: Telemetry): ReclusterLambda<ScanOutput> {
  return withTelemetry(
    async (event) => scanShard(parseTaskInput(shardTaskSchema, event, 'ScanShard'), deps),
    telemetry,
  );
}
