import { parseEnv, queryEnvSchema } from '../../shared/config/env';
import { ModelCache } from '../../shared/ports/models';
import { createAwsClients } from '../../shared/runtime/clients';
import { withPowertools } from '../../shared/runtime/middleware';
import { createTelemetry } from '../../shared/runtime/powertools';
import { queryAdapters } from '../../shared/runtime/wiring';
import { makeHandler } from './app';

// Composition point: everything below runs once per cold start.
const env = parseEnv(queryEnvSchema);
const clients = createAwsClients();
const telemetry = createTelemetry('query');
const settings = env.SHOAL_SETTINGS;
const stores = queryAdapters(telemetry.tracer.captureAWSv3Client(clients.dynamodb), env.TABLE_NAME, settings);

export const handler = withPowertools(
  makeHandler({
    profiles: stores.profiles,
    models: new ModelCache(stores.models),
    members: stores.members,
    settings,
    clock: () => new Date(),
    metrics: telemetry.metricsSink,
    log: telemetry.logSink,
  }),
  telemetry,
);
