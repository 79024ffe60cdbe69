import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { StageConfig } from '../config/stages';
import { METRICS_NAMESPACE } from './shoal-function';

export interface ShoalObservabilityProps {
  config: StageConfig;
  key: kms.IKey;
  ingestQueue: sqs.IQueue;
  deadLetterQueue: sqs.IQueue;
  ingestFunction: lambda.IFunction;
  /** Powertools service name of the ingest function: the `service` dimension of its metrics. */
  ingestServiceName: string;
  outboxFunction: lambda.IFunction;
  stateMachine: sfn.IStateMachine;
}

/** Powertools metrics the ingest handler emits (namespace Shoal, dimension service). */
export const INGEST_METRICS = {
  quarantined: 'QuarantinedEvents',
  embeddingFailures: 'EmbeddingFailures',
} as const;

const FIVE_MINUTES = Duration.minutes(5);

/** Alarms into an encrypted SNS topic, and one dashboard per stage. */
export class ShoalObservability extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: Record<
    'dlqDepth' | 'ingestErrors' | 'ingestAge' | 'quarantine' | 'embeddingFailures' | 'reclusterFailures',
    cloudwatch.Alarm
  >;
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ShoalObservabilityProps) {
    super(scope, id);
    const { config } = props;
    const thresholds = config.alarms;

    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `Shoal ${config.stage} alarms`,
      masterKey: props.key,
      enforceSSL: true,
    });
    // CloudWatch publishes to an encrypted topic only if the key lets it; only for this account's alarms (the
    // confused-deputy guard: the service acts for the alarm named in aws:SourceArn).
    const stack = Stack.of(this);
    props.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublishToTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );

    const ingestMetric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: props.ingestServiceName },
        statistic: cloudwatch.Stats.SUM,
        period: FIVE_MINUTES,
      });
    const quarantined = ingestMetric(INGEST_METRICS.quarantined);
    const embeddingFailures = ingestMetric(INGEST_METRICS.embeddingFailures);
    const dlqDepth = props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: FIVE_MINUTES,
      statistic: cloudwatch.Stats.MAXIMUM,
    });
    const queueAge = props.ingestQueue.metricApproximateAgeOfOldestMessage({
      period: FIVE_MINUTES,
      statistic: cloudwatch.Stats.MAXIMUM,
    });
    const ingestErrors = props.ingestFunction.metricErrors({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM });
    const reclusterFailed = props.stateMachine.metricFailed({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM });

    const alarm = (
      alarmId: string,
      description: string,
      metric: cloudwatch.Metric,
      threshold: number,
    ): cloudwatch.Alarm => {
      const created = metric.createAlarm(this, alarmId, {
        alarmDescription: `Shoal ${config.stage}: ${description}`,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(new actions.SnsAction(this.topic));
      created.addOkAction(new actions.SnsAction(this.topic));
      return created;
    };
    this.alarms = {
      dlqDepth: alarm('DlqDepthAlarm', 'messages in the ingest dead-letter queue', dlqDepth, thresholds.dlqDepth),
      ingestErrors: alarm(
        'IngestErrorsAlarm',
        'ingest function errors',
        ingestErrors,
        thresholds.functionErrorsPerFiveMinutes,
      ),
      ingestAge: alarm(
        'IngestQueueAgeAlarm',
        'ingest queue falling behind',
        queueAge,
        thresholds.ageOfOldestMessageSeconds,
      ),
      quarantine: alarm(
        'QuarantineAlarm',
        'inbound events quarantined',
        quarantined,
        thresholds.quarantinedPerFiveMinutes,
      ),
      embeddingFailures: alarm(
        'EmbeddingFailuresAlarm',
        'embedding endpoint failures',
        embeddingFailures,
        thresholds.embeddingFailuresPerFiveMinutes,
      ),
      reclusterFailures: alarm('ReclusterFailedAlarm', 'nightly recluster run failed', reclusterFailed, 1),
    };

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(24) });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: Object.values(this.alarms), width: 24, height: 3 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Ingest queue',
        left: [props.ingestQueue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES }), dlqDepth],
        right: [queueAge],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Ingest function',
        left: [
          props.ingestFunction.metricInvocations({ period: FIVE_MINUTES }),
          ingestErrors,
          props.ingestFunction.metricThrottles({ period: FIVE_MINUTES }),
        ],
        right: [props.ingestFunction.metricDuration({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.p(95) })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Quarantine and embedding failures',
        left: [quarantined, embeddingFailures],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Nightly recluster',
        left: [
          props.stateMachine.metricStarted({ period: FIVE_MINUTES }),
          props.stateMachine.metricSucceeded({ period: FIVE_MINUTES }),
          reclusterFailed,
        ],
        right: [props.stateMachine.metricTime({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.MAXIMUM })],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Outbox sweeper',
        left: [
          props.outboxFunction.metricInvocations({ period: FIVE_MINUTES }),
          props.outboxFunction.metricErrors({ period: FIVE_MINUTES }),
        ],
        width: 12,
      }),
    );
  }
}
