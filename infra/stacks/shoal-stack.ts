import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config/stages';
import { ShoalBuses } from '../constructs/buses';
import { ShoalData } from '../constructs/data';
import { TABLE } from '../../shared/contracts/table';
import { INGEST_SERVICE_NAME, ShoalIngest } from '../constructs/ingest';
import { ShoalObservability } from '../constructs/observability';
import { ShoalPublishing } from '../constructs/publishing';
import { ShoalQueryApi } from '../constructs/query-api';
import { ShoalRecluster } from '../constructs/recluster';

export interface ShoalStackProps extends StackProps {
  config: StageConfig;
}

/** One stage of Shoal: one construct per concern, wired through typed props. Environment-agnostic. */
export class ShoalStack extends Stack {
  readonly data: ShoalData;
  readonly buses: ShoalBuses;
  /** Assumable by the account's administrators: reads and erases quarantined payloads, backfills, exports audiences. */
  readonly operatorRole: iam.Role;
  readonly ingest: ShoalIngest;
  readonly recluster: ShoalRecluster;
  readonly publishing: ShoalPublishing;
  readonly observability: ShoalObservability;
  readonly queryApi: ShoalQueryApi;

  constructor(scope: Construct, id: string, props: ShoalStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.data = new ShoalData(this, 'Data', { config });
    this.buses = new ShoalBuses(this, 'Buses', { config, data: this.data });
    this.ingest = new ShoalIngest(this, 'Ingest', { config, data: this.data, buses: this.buses });
    this.recluster = new ShoalRecluster(this, 'Recluster', { config, data: this.data, buses: this.buses });
    this.publishing = new ShoalPublishing(this, 'Publishing', {
      config,
      data: this.data,
      buses: this.buses,
      // Only the roles whose code calls PutEvents: PlanShards, ScanShard, FitModel and AssignShard never publish
      // (AssignShard queues changes in the profiles' outboxes; the sweeper publishes them).
      publishers: [
        this.ingest.handler.role,
        this.recluster.functions.publish.role,
        this.recluster.functions['mark-failed'].role,
      ],
    });

    this.operatorRole = new iam.Role(this, 'OperatorRole', {
      assumedBy: new iam.AccountRootPrincipal(),
      description: `Shoal ${config.stage} operator: reads and erases quarantined payloads, backfills, exports audiences`,
    });
    this.data.grantQuarantine(this.operatorRole, { read: true, erase: true });
    this.data.grantTable(this.operatorRole, { indexes: [TABLE.bySegmentIndex.name] });
    this.buses.grantStorefrontPut(this.operatorRole);
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

    this.queryApi = new ShoalQueryApi(this, 'QueryApi', {
      config,
      data: this.data,
      alarmTopic: this.observability.topic,
    });
    this.queryApi.grantInvoke(this.operatorRole);

    const exported = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description, exportName: `${this.stackName}-${id}` });
    exported(
      'StorefrontBusName',
      this.buses.storefrontBus.eventBusName,
      'Storefronts PutEvents here (source storefront)',
    );
    exported(
      'StorefrontBusArn',
      this.buses.storefrontBus.eventBusArn,
      'Storefronts PutEvents here (source storefront)',
    );
    exported(
      'ShoalBusName',
      this.buses.shoalBus.eventBusName,
      'Shoal publishes here (source shoal); consumers add rules',
    );
    exported(
      'ShoalBusArn',
      this.buses.shoalBus.eventBusArn,
      'Shoal publishes here (source shoal); consumers add rules',
    );
    new CfnOutput(this, 'OperatorRoleArn', { value: this.operatorRole.roleArn });
    new CfnOutput(this, 'QuarantineTableName', { value: this.data.quarantineTable.tableName });
    new CfnOutput(this, 'TableName', { value: this.data.table.tableName });
    new CfnOutput(this, 'BucketName', { value: this.recluster.bucket.bucketName });
    new CfnOutput(this, 'StateMachineArn', { value: this.recluster.stateMachine.stateMachineArn });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.observability.topic.topicArn });
    new CfnOutput(this, 'IngestDeadLetterQueueUrl', { value: this.ingest.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'QueryApiUrl', {
      value: this.queryApi.api.apiEndpoint,
      description: 'The query API (IAM auth): npx shoal customer --id X --endpoint <this>',
    });
    new CfnOutput(this, 'DashboardName', { value: this.observability.dashboard.dashboardName });
  }
}
