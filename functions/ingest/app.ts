import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { processBatch, type IngestDeps } from '../../shared/ingest/process-batch';
import type { Telemetry } from '../../shared/runtime/powertools';

/** The ingest Lambda: a thin SQS adapter around `processBatch`. Partial batch failures go back to the queue. */
export function makeHandler(
  deps: IngestDeps,
  telemetry?: Telemetry,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const base = async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const outcome = await processBatch(
      event.Records.map((r) => ({ messageId: r.messageId, body: r.body })),
      deps,
    );
    deps.log.info('batch processed', { ...outcome.stats, failed: outcome.failedMessageIds.length });
    return { batchItemFailures: outcome.failedMessageIds.map((itemIdentifier) => ({ itemIdentifier })) };
  };
  if (!telemetry) return base;
  return middy(base)
    .use(captureLambdaHandler(telemetry.tracer))
    .use(injectLambdaContext(telemetry.logger))
    .use(logMetrics(telemetry.metrics));
}
