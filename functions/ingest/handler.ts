import {
  DynamoEventLog,
  DynamoModelStore,
  DynamoProfileStore,
  DynamoQuarantine,
  documentClient,
} from '../../shared/adapters/dynamo';
import { EventBridgePublisher } from '../../shared/adapters/eventbridge-publisher';
import { SageMakerEmbedder } from '../../shared/adapters/sagemaker-embedder';
import { ingestEnvSchema, parseEnv } from '../../shared/config/env';
import { ModelCache } from '../../shared/ports/models';
import { createAwsClients } from '../../shared/runtime/clients';
import { withPowertools } from '../../shared/runtime/middleware';
import { createTelemetry } from '../../shared/runtime/powertools';
import { makeHandler } from './app';

// Composition point: everything below runs once per cold start.
const env = parseEnv(ingestEnvSchema);
const clients = createAwsClients();
const telemetry = createTelemetry('ingest');
const doc = documentClient(telemetry.tracer.captureAWSv3Client(clients.dynamodb));
const settings = env.SHOAL_SETTINGS;

export const handler = withPowertools(
  makeHandler({
    eventLog: new DynamoEventLog(doc, env.TABLE_NAME),
    profiles: new DynamoProfileStore(doc, env.TABLE_NAME, settings.retention.historyDays),
    models: new ModelCache(new DynamoModelStore(doc, env.TABLE_NAME)),
    embedder: new SageMakerEmbedder({
      ...settings.embedding,
      client: telemetry.tracer.captureAWSv3Client(clients.sagemaker),
    }),
    publisher: new EventBridgePublisher({
      client: telemetry.tracer.captureAWSv3Client(clients.eventbridge),
      eventBusName: env.EVENT_BUS_NAME,
    }),
    quarantine: new DynamoQuarantine(doc, env.TABLE_NAME, settings.retention.quarantineDays),
    settings,
    clock: () => new Date(),
    metrics: telemetry.metricsSink,
    log: telemetry.logSink,
  }),
  telemetry,
);
