import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { processBatch, type IngestDeps } from '../../shared/ingest/process-batch';

/** The ingest Lambda: a thin SQS adapter around `processBatch`. Partial batch failures go back to the queue. */
export function makeHandler(deps: IngestDeps): (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse> {
  return async (event) => {
    const outcome = await processBatch(
      event.Records.map((r) => ({ messageId: r.messageId, body: r.body })),
      deps,
    );
    deps.log.info('batch processed', { ...outcome.stats, failed: outcome.failedMessageIds.length });
    return { batchItemFailures: outcome.failedMessageIds.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}
