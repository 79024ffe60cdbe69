import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { flushOutbox } from '../../shared/ingest/process-batch';
import type { ProfileStore, Publisher } from '../../shared/ports/stores';
import type { LogSink, MetricsSink } from '../../shared/ports/telemetry';
import type { Telemetry } from '../../shared/runtime/powertools';

export interface OutboxDeps {
  profiles: ProfileStore;
  publisher: Publisher;
  metrics: MetricsSink;
  log: LogSink;
  batchLimit?: number;
}

/** Sweeper: republishes changes left in an outbox by a crash or an EventBridge outage. */
export function makeHandler(deps: OutboxDeps, telemetry?: Telemetry): () => Promise<{ profiles: number; published: number }> {
  const base = async (): Promise<{ profiles: number; published: number }> => {
    const pending = await deps.profiles.pendingOutbox(deps.batchLimit ?? 500);
    let published = 0;
    for (const profile of pending) published += await flushOutbox(profile.customerId, profile.outbox, deps);
    deps.metrics.count('OutboxRepublished', published);
    deps.log.info('outbox swept', { profiles: pending.length, published });
    return { profiles: pending.length, published };
  };
  if (!telemetry) return base;
  const wrapped = middy(base).use(injectLambdaContext(telemetry.logger)).use(logMetrics(telemetry.metrics));
  return () => wrapped(undefined, {} as never);
}
