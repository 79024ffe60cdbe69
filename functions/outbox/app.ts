import { publishOutboxes } from '../../shared/ingest/process-batch';
import type { ProfileStore, Publisher } from '../../shared/ports/stores';
import type { LogSink, MetricsSink } from '../../shared/ports/telemetry';

export interface OutboxDeps {
  profiles: ProfileStore;
  publisher: Publisher;
  metrics: MetricsSink;
  log: LogSink;
  batchLimit?: number;
}

/** Sweeper: republishes changes left in an outbox by a crash or an EventBridge outage. */
export function makeHandler(deps: OutboxDeps): () => Promise<{ profiles: number; published: number }> {
  return async (): Promise<{ profiles: number; published: number }> => {
    const pending = await deps.profiles.pendingOutbox(deps.batchLimit ?? 500);
    const entries = pending.reduce((n, p) => n + p.outbox.length, 0);
    const published = entries - (await publishOutboxes(pending, deps));
    deps.metrics.count('OutboxRepublished', published);
    deps.log.info('outbox swept', { profiles: pending.length, published });
    return { profiles: pending.length, published };
  };
}
