import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config/stages';
import { ShoalData } from '../constructs/data';
import { INGEST_SERVICE_NAME, ShoalIngest } from '../constructs/ingest';
import { ShoalObservability } from '../constructs/observability';
import { ShoalPublishing } from '../constructs/publishing';
import { ShoalRecluster } from '../constructs/recluster';

export interface ShoalStackProps extends StackProps {
  config: StageConfig;
}

/** One stage of Shoal: one construct per concern, wired through typed props. Environment-agnostic. */
export class ShoalStack extends Stack {
  readonly data: ShoalData;
  readonly ingest: ShoalIngest;
  readonly recluster: ShoalRecluster;
  readonly publishing: ShoalPublishing;
  readonly observability: ShoalObservability;

  constructor(scope: Construct, id: string, props: ShoalStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.data = new ShoalData(this, 'Data', { config });
    this.ingest = new ShoalIngest(this, 'Ingest', { config, data: this.data });
    this.recluster = new ShoalRecluster(this, 'Recluster', { config, data: this.data, bus: this.ingest.bus });
    this.publishing = new ShoalPublishing(this, 'Publishing', {
      config,
      data: this.data,
      bus: this.ingest.bus,
      publishers: [this.ingest.handler.role, ...Object.values(this.recluster.functions).map((fn) => fn.role)],
    });
    this.observability = new ShoalObservability(this, 'Observability', {
      config,
      key: this.data.key,
      ingestQueue: this.ingest.queue,
      deadLetterQueue: this.ingest.deadLetterQueue,
      ingestFunction: this.ingest.handler.function,
      ingestServiceName: INGEST_SERVICE_NAME,
      outboxFunction: this.publishing.sweeper.function,
      stateMachine: this.recluster.stateMachine,
    });

    new CfnOutput(this, 'EventBusName', {
      value: this.ingest.bus.eventBusName,
      description: 'Storefronts PutEvents here; Shoal publishes here',
    });
    new CfnOutput(this, 'TableName', { value: this.data.table.tableName });
    new CfnOutput(this, 'BucketName', { value: this.recluster.bucket.bucketName });
    new CfnOutput(this, 'StateMachineArn', { value: this.recluster.stateMachine.stateMachineArn });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.observability.topic.topicArn });
    new CfnOutput(this, 'IngestDeadLetterQueueUrl', { value: this.ingest.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'DashboardName', { value: this.observability.dashboard.dashboardName });
  }
}
