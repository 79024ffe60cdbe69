import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { DynamoModelStore } from '../shared/adapters/dynamo';
import type { Settings } from '../shared/config/settings';
import { busRules } from '../shared/events/rules';
import type { IngestDeps } from '../shared/ingest/process-batch';
import { ModelCache } from '../shared/ports/models';
import { noLogs, TallyMetrics, type LogSink } from '../shared/ports/telemetry';
import { busPublisher, embedderOf, tableAdapters } from '../shared/runtime/wiring';
import { LocalEventBus, type ListeningBus } from './bus';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startLocalDynamo, type LocalDynamo } from './dynamodb';
import { LocalQueue } from './queue';
import { startLocalEmbeddingServer, type LocalEmbeddingServer } from './sagemaker-server';

export const LOCAL_BUS_NAME = 'shoal-local';

export interface EmbeddedStack {
  settings: Settings;
  dynamo: LocalDynamo;
  embeddingServer: LocalEmbeddingServer;
  bus: LocalEventBus;
  busServer: ListeningBus;
  queue: LocalQueue;
  clients: { eventbridge: EventBridgeClient; sagemaker: SageMakerRuntimeClient };
  metrics: TallyMetrics;
  models: ModelCache;
  modelStore: DynamoModelStore;
  /** Every store on the table, wired as the Lambdas wire them. */
  table: ReturnType<typeof tableAdapters>;
  /** The ingest dependencies, wired with the same adapters as the Lambda, pointed at the embedded servers. */
  ingestDeps(overrides?: Partial<IngestDeps>): IngestDeps;
  close(): Promise<void>;
}

/**
 * Starts every embedded stand-in on 127.0.0.1: dynalite with the Shoal table, the SageMaker-protocol
 * embedding server, the EventBridge-protocol bus (routing by the same rules as the CDK app) and the
 * ingest queue with SQS batch semantics.
 */
export async function startEmbeddedStack(opts: {
  settings: Settings;
  clock?: () => Date;
  log?: LogSink;
  dynamoPath?: string;
  /** Run dynalite in a child process (its own core). */
  dynamoChildProcess?: boolean;
  batchSize?: number;
  maxReceiveCount?: number;
}): Promise<EmbeddedStack> {
  const { settings } = opts;
  const dynamo = await startLocalDynamo({ path: opts.dynamoPath, childProcess: opts.dynamoChildProcess });
  const embeddingServer = await startLocalEmbeddingServer({
    dimension: settings.embedding.dimension,
    contract: settings.embedding.contract,
  });
  const clock = opts.clock ?? (() => new Date());
  const bus = new LocalEventBus({ name: LOCAL_BUS_NAME, now: () => clock().getTime() });
  const busServer = await bus.listen();
  const queue = new LocalQueue({
    name: 'shoal-ingest',
    batchSize: opts.batchSize ?? 100,
    maxReceiveCount: opts.maxReceiveCount ?? 5,
    now: () => clock().getTime(),
  });
  for (const rule of busRules(settings.source)) {
    bus.addRule({
      name: rule.id,
      eventPattern: rule.eventPattern,
      target: (event) => {
        queue.send(JSON.stringify(event));
      },
    });
  }
  const eventbridge = new EventBridgeClient({
    endpoint: busServer.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const sagemaker = new SageMakerRuntimeClient({
    endpoint: embeddingServer.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  const table = tableAdapters(dynamo.client, dynamo.tableName, settings);
  const metrics = new TallyMetrics();
  const modelStore = table.models;
  const models = new ModelCache(modelStore, 1_000);
  const embedder = embedderOf(sagemaker, settings);

  return {
    settings,
    dynamo,
    embeddingServer,
    bus,
    busServer,
    queue,
    clients: { eventbridge, sagemaker },
    metrics,
    models,
    modelStore,
    table,
    ingestDeps: (overrides = {}) => ({
      eventLog: table.eventLog,
      profiles: table.profiles,
      models,
      embedder,
      publisher: busPublisher(eventbridge, LOCAL_BUS_NAME),
      quarantine: table.quarantine,
      settings,
      clock,
      metrics,
      log: opts.log ?? noLogs,
      ...overrides,
    }),
    close: async () => {
      eventbridge.destroy();
      sagemaker.destroy();
      await Promise.all([busServer.close(), embeddingServer.close(), dynamo.close()]);
    },
  };
}
