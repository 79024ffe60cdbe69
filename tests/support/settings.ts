import { settingsSchema, type Settings } from '../../shared/config/settings';
import { stageConfig } from '../../infra/config/stages';

/**
 * The dev stage's settings with a small embedding dimension, as the tests' embedded stack uses, and no placement gate
 * (a customer is placed on its first event): tests of everything else place a customer from a handful of events.
 * The gate's own tests (tests/unit/customer/placement-gate.test.ts) set `placement` explicitly.
 */
export function testSettings(overrides: Partial<Settings> = {}): Settings {
  const dev = stageConfig('dev').settings;
  return settingsSchema.parse({
    ...dev,
    embedding: { ...dev.embedding, dimension: 32, maxBatchSize: 64, timeoutMs: 2_000, maxRetries: 1 },
    placement: { minTenureDays: 0, minEvents: 0 },
    ...overrides,
  });
}
