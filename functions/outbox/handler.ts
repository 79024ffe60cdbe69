import { DynamoProfileStore, documentClient } from '../../shared/adapters/dynamo';
import { EventBridgePublisher } from '../../shared/adapters/eventbridge-publisher';
import { outboxEnvSchema, parseEnv } from '../../shared/config/env';
import { createAwsClients } from '../../shared/runtime/clients';
import { withPowertools } from '../../shared/runtime/middleware';
import { createTelemetry } from '../../shared/runtime/powertools';
import { makeHandler } from './app';

const env = parseEnv(outboxEnvSchema);
const clients = createAwsClients();
const telemetry = createTelemetry('outbox');
const doc = documentClient(telemetry.tracer.captureAWSv3Client(clients.dynamodb));

export const handler = withPowertools(
  makeHandler({
    profiles: new DynamoProfileStore(doc, env.TABLE_NAME, env.HISTORY_DAYS),
    publisher: new EventBridgePublisher({
      client: telemetry.tracer.captureAWSv3Client(clients.eventbridge),
      eventBusName: env.EVENT_BUS_NAME,
    }),
    metrics: telemetry.metricsSink,
    log: telemetry.logSink,
  }),
  telemetry,
);
