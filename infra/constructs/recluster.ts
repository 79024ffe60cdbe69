import { Duration, Stack, TimeZone, Validations, type Acknowledgment } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { reclusterEnvSchema, type ReclusterEnv } from '../../shared/config/env';
import { RECLUSTER_TASKS, RUN_OBJECT_RETENTION, type ReclusterTask } from '../../shared/contracts/recluster';
import { TABLE } from '../../shared/contracts/table';
import type { StageConfig } from '../config/stages';
import { RECLUSTER_STATE_MACHINE_LOGICAL_ID } from '../state-machine-definition';
import type { ShoalBuses } from './buses';
import type { ShoalData, TableAccess } from './data';
import { ReclusterWorkflow } from './recluster-workflow';
import { ShoalFunction, retentionDays } from './shoal-function';
import { logicalIdOf, removalPolicyOf } from './util';

export interface ShoalReclusterProps {
  config: StageConfig;
  data: ShoalData;
  buses: ShoalBuses;
}

/** Bucket access of a task: object key prefixes it may read and write (`runs/`, `reports/`). */
interface BucketAccess {
  read: readonly string[];
  write: readonly string[];
}

interface TaskSpec {
  description: string;
  memoryMb: (config: StageConfig) => number;
  timeout: Duration;
  table: TableAccess;
  bucket: BucketAccess;
}

/** Run artifacts (shard samples and vectors hold customer ids): kept as long as a run needs them, then expired. */
const RUN_ARTIFACTS_PREFIX = RUN_OBJECT_RETENTION.artifacts.prefix;
/** Run reports (aggregates only: segment sizes, medians, quality): kept for recluster.reportRetentionDays. */
const REPORTS_PREFIX = RUN_OBJECT_RETENTION.reports.prefix;

/** Partition keys of the run-only tasks: their run record and the model items. */
const RUN_KEYS = ['RUN#*'];
const RUN_AND_MODEL_KEYS = ['RUN#*', 'MODEL'];
const NO_BUCKET: BucketAccess = { read: [], write: [] };

/** What each nightly task does, and so what it may touch. */
const TASKS: Record<ReclusterTask, TaskSpec> = {
  'plan-shards': {
    description: 'Plans the parallel-scan shards of a recluster run and records the run',
    memoryMb: () => 512,
    timeout: Duration.minutes(1),
    // The run record only (RUN#<runId>): read, conditional put (run records are replaced whole).
    table: { read: true, put: true, leadingKeys: RUN_KEYS },
    bucket: NO_BUCKET,
  },
  'scan-shard': {
    description: 'Folds one shard of profiles into vectors and a reservoir sample in S3',
    memoryMb: () => 1769,
    timeout: Duration.minutes(15),
    // The shard's due and touched customers from the nightly change index, read by key; no writes, no Scan. It
    // carries the previous run's population file (runs/) forward.
    table: {
      read: true,
      indexes: [TABLE.nightlyDueIndex.name, TABLE.nightlyTouchedIndex.name],
      leadingKeys: ['C#*'],
    },
    bucket: { read: [RUN_ARTIFACTS_PREFIX], write: [RUN_ARTIFACTS_PREFIX] },
  },
  'fit-model': {
    description: 'Fits scaler, k-means, alignment, profiles, names, value model and quality on the sample',
    memoryMb: (config) => config.recluster.fitMemoryMb,
    timeout: Duration.minutes(15),
    // Its run record, the previous model and the new version (MODEL partition).
    table: { read: true, put: true, leadingKeys: RUN_AND_MODEL_KEYS },
    bucket: { read: [RUN_ARTIFACTS_PREFIX], write: [RUN_ARTIFACTS_PREFIX] },
  },
  'assign-shard': {
    description: 'Reassigns one shard of customers to the new model and queues their change events',
    memoryMb: () => 1769,
    timeout: Duration.minutes(15),
    // Queries the nightly change index (due by time, broken by the model change), rewrites those profiles
    // conditionally, reads the model; no Scan, no deletes, no batch writes.
    table: {
      read: true,
      write: true,
      indexes: [TABLE.nightlyDueIndex.name, TABLE.nightlyBreakIndex.name, TABLE.nightlyValueIndex.name],
    },
    // The model comes from the table (MODEL/V#n); tonight's population file (which revisions ScanShard read) from
    // the run's objects.
    bucket: { read: [RUN_ARTIFACTS_PREFIX], write: [] },
  },
  publish: {
    description: 'Activates the new model, emits segmentation.model.published and writes the run report',
    memoryMb: () => 1024,
    timeout: Duration.minutes(5),
    // Its run record and the model pointer (MODEL/ACTIVE) and versions.
    table: { read: true, put: true, leadingKeys: RUN_AND_MODEL_KEYS },
    // Writes the report; reads nothing from the bucket.
    bucket: { read: [], write: [REPORTS_PREFIX] },
  },
  'mark-failed': {
    description: 'Records a failed run and emits segmentation.run.failed',
    memoryMb: () => 256,
    timeout: Duration.minutes(1),
    table: { read: true, put: true, leadingKeys: RUN_KEYS },
    bucket: NO_BUCKET,
  },
};

/**
 * Nightly re-clustering: the run bucket (samples, vectors, reports), the six task functions, the state machine and its
 * per-stage schedule.
 */
export class ShoalRecluster extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogBucket: s3.Bucket;
  readonly functions: Record<ReclusterTask, ShoalFunction<ReclusterEnv>>;
  readonly stateMachine: sfn.StateMachine;
  readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: ShoalReclusterProps) {
    super(scope, id);
    const { config, data, buses } = props;
    const removalPolicy = removalPolicyOf(config);

    this.accessLogBucket = new s3.Bucket(this, 'AccessLogBucket', {
      // S3 server access logging can deliver only to SSE-S3 buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(Math.max(90, config.recluster.reportRetentionDays)) }],
      removalPolicy,
    });
    Validations.of(this.accessLogBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the server access log bucket of the recluster bucket; logging it into itself would loop.',
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: data.key,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'recluster/',
      lifecycleRules: [
        {
          // Shard samples and vectors hold customer ids and vectors: kept only while a run needs them. The model
          // itself lives in the table.
          id: 'ExpireRunArtifacts',
          prefix: RUN_ARTIFACTS_PREFIX,
          expiration: Duration.days(RUN_OBJECT_RETENTION.artifacts.days),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        {
          id: 'ExpireReports',
          prefix: REPORTS_PREFIX,
          expiration: Duration.days(config.recluster.reportRetentionDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        {
          // Anything else written by hand: no longer than the reports.
          id: 'ExpireEverythingElse',
          expiration: Duration.days(config.recluster.reportRetentionDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy,
    });

    const environment: ReclusterEnv = {
      TABLE_NAME: data.table.tableName,
      EVENT_BUS_NAME: buses.shoalBus.eventBusName,
      BUCKET_NAME: this.bucket.bucketName,
      SHOAL_SETTINGS: JSON.stringify(config.settings),
    };
    const functions = {} as Record<ReclusterTask, ShoalFunction<ReclusterEnv>>;
    for (const task of RECLUSTER_TASKS) {
      const spec = TASKS[task];
      const fn = new ShoalFunction(this, pascal(task), {
        entry: `functions/recluster/${task}/handler.ts`,
        serviceName: `recluster-${task}`,
        description: spec.description,
        config,
        envSchema: reclusterEnvSchema,
        environment,
        memorySize: spec.memoryMb(config),
        timeout: spec.timeout,
      });
      data.grantTable(fn.role, spec.table);
      this.grantBucket(fn, spec.bucket, data);
      functions[task] = fn;
    }
    this.functions = functions;
    if (config.settings.narration) {
      grantNarrationEndpoint(functions['fit-model'].role, this, config.settings.narration.endpointName);
    }

    const workflow = new ReclusterWorkflow(this, 'Workflow', {
      functions: Object.fromEntries(RECLUSTER_TASKS.map((t) => [t, functions[t].function])) as Record<
        ReclusterTask,
        ShoalFunction<ReclusterEnv>['function']
      >,
      mapConcurrency: config.recluster.mapConcurrency,
    });

    const logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      retention: retentionDays(config.logRetentionDays),
      removalPolicy,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment:
        'Shoal nightly re-clustering: PlanShards -> ScanShards -> FitModel -> QualityGate -> AssignShards -> Publish',
      definitionBody: sfn.DefinitionBody.fromChainable(workflow.definition),
      stateMachineType: sfn.StateMachineType.STANDARD,
      tracingEnabled: true,
      // Execution data holds customer ids and sample keys only, yet stays out of the logs: state names, timings and
      // errors are enough to operate, and the run report has the numbers.
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      removalPolicy,
    });
    (this.stateMachine.node.defaultChild as sfn.CfnStateMachine).overrideLogicalId(RECLUSTER_STATE_MACHINE_LOGICAL_ID);

    const scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'Starts the nightly recluster run',
    });
    this.schedule = new scheduler.Schedule(this, 'NightlySchedule', {
      description: `Nightly recluster run (${config.recluster.schedule} ${config.recluster.timeZone})`,
      schedule: scheduler.ScheduleExpression.expression(
        config.recluster.schedule,
        TimeZone.of(config.recluster.timeZone),
      ),
      target: new schedulerTargets.StepFunctionsStartExecution(this.stateMachine, {
        role: scheduleRole,
        // e.g. nightly-2022-03-22T18:59:43Z: letters, digits, '-' and ':' only, so it satisfies the runId pattern.
        input: scheduler.ScheduleTargetInput.fromObject({
          runId: `nightly-${scheduler.ContextAttribute.scheduledTime}`,
        }),
        retryAttempts: 3,
        maxEventAge: Duration.hours(2),
      }),
    });

    this.acknowledgeStateMachineFindings(functions);
  }

  private grantBucket(fn: ShoalFunction<ReclusterEnv>, access: BucketAccess, data: ShoalData): void {
    if (access.read.length === 0 && access.write.length === 0) return;
    const objects = (prefixes: readonly string[]) => prefixes.map((p) => this.bucket.arnForObjects(`${p}*`));
    if (access.read.length > 0) {
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: objects(access.read) }),
      );
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [this.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': access.read.map((p) => `${p}*`) } },
        }),
      );
    }
    if (access.write.length > 0) {
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
          resources: objects(access.write),
        }),
      );
    }
    data.grantKey(fn.role, { write: access.write.length > 0 });
    Validations.of(fn).acknowledge(
      ...[...new Set([...access.read, ...access.write])].map((prefix) => ({
        id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(this.bucket)}.Arn>/${prefix}*]`,
        reason: `Run objects under ${prefix} are keyed by runId and shard, which exist only at run time; this one bucket and prefix only.`,
      })),
    );
  }

  private acknowledgeStateMachineFindings(functions: Record<ReclusterTask, ShoalFunction<ReclusterEnv>>): void {
    const acknowledgements: Acknowledgment[] = RECLUSTER_TASKS.map((task) => ({
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(functions[task].function)}.Arn>:*]`,
      reason: 'The Lambda invoke integration grants the function and its versions/aliases (":*"); only this function.',
    }));
    // The Distributed Map lets the state machine describe and stop its own child executions and map runs, whose
    // names Step Functions generates per run.
    const executions = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${RECLUSTER_STATE_MACHINE_LOGICAL_ID}"}]}]}`;
    for (const suffix of [':*', '/ScanShards:*', '/AssignShards:*']) {
      acknowledgements.push({
        id: `AwsSolutions-IAM5[Resource::${executions}${suffix}]`,
        reason:
          'Distributed Map child executions and map runs of this state machine only; their names are generated per run.',
      });
    }
    Validations.of(this.stateMachine).acknowledge(...acknowledgements, {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray tracing (xray:PutTraceSegments, PutTelemetryRecords, GetSampling*) and CloudWatch Logs vended delivery (logs:CreateLogDelivery and friends) support no resource-level permissions.',
    });
  }
}

function pascal(kebab: string): string {
  return kebab.replace(/(^|-)([a-z])/g, (_m, _d: string, c: string) => c.toUpperCase());
}

/**
 * Lets FitModel call the catalogue's narration endpoint (issue #12): `sagemaker:InvokeEndpoint` on that one
 * endpoint, whose ARN SageMaker stores in lower case.
 */
export function grantNarrationEndpoint(role: iam.IRole, scope: Construct, endpointName: string): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'InvokeNarrationEndpoint',
      actions: ['sagemaker:InvokeEndpoint'],
      resources: [
        Stack.of(scope).formatArn({
          service: 'sagemaker',
          resource: 'endpoint',
          resourceName: endpointName.toLowerCase(),
        }),
      ],
    }),
  );
}
