import { ingestEnvSchema, parseEnv } from '../../shared/config/env';
import { ModelCache } from '../../shared/ports/models';
import { busPublisher, embedderOf, tableAdapters } from '../../shared/runtime/wiring';
import { createAwsClients } from '../../shared/runtime/clients';
import { withPowertools } from '../../shared/runtime/middleware';
import { createTelemetry } from '../../shared/runtime/powertools';
import { makeHandler } from './app';

// Composition point: everything below runs once per cold start.
const env = parseEnv(ingestEnvSchema);
const clients = createAwsClients();
const telemetry = createTelemetry('ingest');
const settings = env.SHOAL_SETTINGS;
const table = tableAdapters(telemetry.tracer.captureAWSv3Client(clients.dynamodb), env.TABLE_NAME, settings);

export const handler = withPowertools(
  makeHandler({
    eventLog: table.eventLog,
    profiles: table.profiles,
    models: new ModelCache(table.models),
    embedder: embedderOf(telemetry.tracer.captureAWSv3Client(clients.sagemaker), settings),
    publisher: busPublisher(telemetry.tracer.captureAWSv3Client(clients.eventbridge), env.EVENT_BUS_NAME),
    quarantine: table.quarantine,
    settings,
    clock: () => new Date(),
    metrics: telemetry.metricsSink,
    log: telemetry.logSink,
  }),
  telemetry,
);
