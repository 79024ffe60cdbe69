import { sweepOutboxes, type OutboxDeps } from '../../shared/customer/outbox';
import type { ModelStore } from '../../shared/ports/stores';

export interface SweeperDeps extends OutboxDeps {
  models: Pick<ModelStore, 'getActive'>;
  clock: () => Date;
  batchLimit?: number;
}

/**
 * Sweeper: publishes outbox entries nobody is publishing (a crash, an EventBridge outage, a claim past its lease),
 * and a nightly run's segment changes once its model is active.
 */
export function makeHandler(deps: SweeperDeps): () => Promise<{ profiles: number; published: number }> {
  return async () => {
    const active = await deps.models.getActive();
    const result = await sweepOutboxes(deps, {
      now: deps.clock,
      activeVersion: active?.version ?? null,
      limit: deps.batchLimit ?? 500,
    });
    deps.metrics.count('OutboxRepublished', result.published);
    deps.log.info('outbox swept', result);
    return result;
  };
}
