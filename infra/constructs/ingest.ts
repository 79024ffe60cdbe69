import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ingestEnvSchema, type IngestEnv } from '../../shared/config/env';
import { INGEST_QUEUE_MAX_MESSAGE_BYTES } from '../../shared/events/entry-size';
import { ingestRule } from '../../shared/events/rules';
import type { StageConfig } from '../config/stages';
import type { ShoalBuses } from './buses';
import type { ShoalData } from './data';
import { ShoalFunction } from './shoal-function';
import { removalPolicyOf } from './util';

export interface ShoalIngestProps {
  config: StageConfig;
  data: ShoalData;
  buses: ShoalBuses;
}

export const INGEST_SERVICE_NAME = 'ingest';

/**
 * Storefront events in: storefront bus -> rule (pattern from shared/events/rules.ts, verbatim: every storefront event,
 * whatever its detail-type) -> SQS (+DLQ) -> ingest Lambda in batches with partial-batch failure reporting. The
 * Lambda publishes its changes on the Shoal bus.
 *
 * The queues use SQS-managed encryption: EventBridge can deliver to them with no key policy, whereas a customer key
 * would need a key policy naming the rule, and the rule names the queue that names the key (a dependency cycle).
 */
export class ShoalIngest extends Construct {
  readonly bus: events.IEventBus;
  readonly rule: events.CfnRule;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly handler: ShoalFunction<IngestEnv>;

  constructor(scope: Construct, id: string, props: ShoalIngestProps) {
    super(scope, id);
    const { config, data, buses } = props;
    const settings = config.settings;
    const removalPolicy = removalPolicyOf(config);

    this.bus = buses.storefrontBus;

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      maxMessageSizeBytes: INGEST_QUEUE_MAX_MESSAGE_BYTES,
      removalPolicy,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(config.ingest.visibilityTimeoutSeconds),
      retentionPeriod: Duration.days(4),
      // EventBridge delivers the whole envelope: a 256 KiB entry arrives a few hundred bytes larger.
      maxMessageSizeBytes: INGEST_QUEUE_MAX_MESSAGE_BYTES,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: config.ingest.maxReceiveCount },
      removalPolicy,
    });

    const definition = ingestRule(settings.source);
    this.rule = new events.CfnRule(this, 'Rule', {
      description: definition.description,
      eventBusName: this.bus.eventBusName,
      eventPattern: definition.eventPattern,
      state: 'ENABLED',
      targets: [
        {
          id: 'IngestQueue',
          arn: this.queue.queueArn,
          // Undeliverable events land in the same DLQ as poison messages: both carry the event JSON as the body,
          // so one redrive path serves both.
          deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
          retryPolicy: { maximumEventAgeInSeconds: 24 * 60 * 60, maximumRetryAttempts: 185 },
        },
      ],
    });
    for (const queue of [this.queue, this.deadLetterQueue]) {
      queue.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'OnlyTheIngestRuleSends',
          principals: [new iam.ServicePrincipal('events.amazonaws.com')],
          actions: ['sqs:SendMessage'],
          resources: [queue.queueArn],
          conditions: { ArnEquals: { 'aws:SourceArn': this.rule.attrArn } },
        }),
      );
    }

    this.handler = new ShoalFunction(this, 'Function', {
      entry: 'functions/ingest/handler.ts',
      serviceName: INGEST_SERVICE_NAME,
      description: 'Validates, logs, embeds and assigns storefront events',
      config,
      envSchema: ingestEnvSchema,
      environment: {
        TABLE_NAME: data.table.tableName,
        QUARANTINE_TABLE_NAME: data.quarantineTable.tableName,
        EVENT_BUS_NAME: buses.shoalBus.eventBusName,
        SHOAL_SETTINGS: JSON.stringify(settings),
      },
      memorySize: config.ingest.memoryMb,
      // AWS's guidance: the queue's visibility timeout is at least six times the function timeout.
      timeout: Duration.seconds(Math.floor(config.ingest.visibilityTimeoutSeconds / 6)),
      reservedConcurrentExecutions: config.ingest.reservedConcurrency,
    });
    this.handler.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: config.ingest.batchSize,
        maxBatchingWindow: Duration.seconds(config.ingest.maxBatchingWindowSeconds),
        reportBatchItemFailures: true,
        // Pollers above the reserved concurrency only get throttled, and throttled receives count towards the DLQ.
        maxConcurrency: Math.max(2, Math.min(1000, config.ingest.reservedConcurrency)),
      }),
    );

    // Customer partitions: the log (batched appends), the profile, erasure (batched deletes). Query on the base table
    // only. The quarantine: stores rejects and erases a customer's entries; reading raw payloads back is the
    // operator's.
    data.grantTable(this.handler.role, { read: true, write: true, batchWrite: true, delete: true });
    data.grantQuarantine(this.handler.role, { write: true, erase: true });
    this.handler.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'InvokeEmbeddingEndpoint',
        actions: ['sagemaker:InvokeEndpoint'],
        resources: [embeddingEndpointArn(this, settings.embedding.endpointName)],
      }),
    );
  }
}

/** SageMaker stores endpoint names in lower case in ARNs, whatever case they were created with. */
export function embeddingEndpointArn(scope: Construct, endpointName: string): string {
  return Stack.of(scope).formatArn({
    service: 'sagemaker',
    resource: 'endpoint',
    resourceName: endpointName.toLowerCase(),
  });
}
