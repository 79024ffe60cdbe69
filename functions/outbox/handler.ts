import { outboxEnvSchema, parseEnv } from '../../shared/config/env';
import { createAwsClients } from '../../shared/runtime/clients';
import { withPowertools } from '../../shared/runtime/middleware';
import { createTelemetry } from '../../shared/runtime/powertools';
import { busPublisher, tableAdapters } from '../../shared/runtime/wiring';
import { makeHandler } from './app';

// Composition point: everything below runs once per cold start.
const env = parseEnv(outboxEnvSchema);
const clients = createAwsClients();
const telemetry = createTelemetry('outbox');
const table = tableAdapters(telemetry.tracer.captureAWSv3Client(clients.dynamodb), env.TABLE_NAME, env.SHOAL_SETTINGS);

export const handler = withPowertools(
  makeHandler({
    profiles: table.profiles,
    models: table.models,
    publisher: busPublisher(telemetry.tracer.captureAWSv3Client(clients.eventbridge), env.EVENT_BUS_NAME),
    clock: () => new Date(),
    metrics: telemetry.metricsSink,
    log: telemetry.logSink,
  }),
  telemetry,
);
