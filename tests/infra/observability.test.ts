import { Match, Template } from 'aws-cdk-lib/assertions';
import { stageConfig, STAGES, type StageName } from '../../infra/config/stages';
import { RECLUSTER_STATE_MACHINE_LOGICAL_ID } from '../../infra/state-machine-definition';
import { resourcesOfType, stageTemplate, type TemplateJson } from './templates';

const templates = {} as Record<StageName, TemplateJson>;
beforeAll(async () => {
  for (const stage of STAGES) templates[stage] = await stageTemplate(stage);
});
const assertions = (stage: StageName) => Template.fromJSON(templates[stage], { skipCyclicalDependenciesCheck: true });

describe.each(STAGES)('alarms (%s)', (stage) => {
  const thresholds = stageConfig(stage).alarms;

  it.each([
    [
      'ingest DLQ depth',
      { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Statistic: 'Maximum' },
      thresholds.dlqDepth,
    ],
    [
      'ingest queue age',
      { Namespace: 'AWS/SQS', MetricName: 'ApproximateAgeOfOldestMessage', Statistic: 'Maximum' },
      thresholds.ageOfOldestMessageSeconds,
    ],
    [
      'ingest errors',
      { Namespace: 'AWS/Lambda', MetricName: 'Errors', Statistic: 'Sum' },
      thresholds.functionErrorsPerFiveMinutes,
    ],
    [
      'quarantine rate',
      {
        Namespace: 'Shoal',
        MetricName: 'QuarantinedEvents',
        Statistic: 'Sum',
        Dimensions: [{ Name: 'service', Value: 'ingest' }],
      },
      thresholds.quarantinedPerFiveMinutes,
    ],
    [
      'embedding failures',
      {
        Namespace: 'Shoal',
        MetricName: 'EmbeddingFailures',
        Statistic: 'Sum',
        Dimensions: [{ Name: 'service', Value: 'ingest' }],
      },
      thresholds.embeddingFailuresPerFiveMinutes,
    ],
    [
      'recluster failures',
      {
        Namespace: 'AWS/States',
        MetricName: 'ExecutionsFailed',
        Statistic: 'Sum',
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: RECLUSTER_STATE_MACHINE_LOGICAL_ID } }],
      },
      1,
    ],
  ] as const)('%s alarms at the stage threshold and notifies the alarm topic', (_name, metric, threshold) => {
    const topicId = Object.keys(assertions(stage).findResources('AWS::SNS::Topic'))[0]!;
    assertions(stage).hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...metric,
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: topicId }],
      OKActions: [{ Ref: topicId }],
    });
  });
});

describe('alarm topic and dashboard', () => {
  it('encrypts the topic with the stack key, which CloudWatch may use, and requires TLS', () => {
    const template = assertions('prod');
    const keyId = Object.keys(template.findResources('AWS::KMS::Key'))[0]!;
    const topicId = resourcesOfType(templates.prod, 'AWS::SNS::Topic')[0]![0];
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          }),
        ]),
      },
    });
  });

  it('has one dashboard with the ingest, quarantine and recluster widgets', () => {
    const dashboards = resourcesOfType(templates.dev, 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]![1].DashboardBody);
    for (const title of [
      'Alarms',
      'Ingest queue',
      'Ingest function',
      'Quarantine and embedding failures',
      'Nightly recluster',
      'Outbox sweeper',
    ]) {
      expect(body).toContain(title);
    }
  });

  it('outputs both buses, table, bucket, state machine and alarm topic', () => {
    expect(Object.keys(templates.dev.Outputs ?? {})).toEqual(
      expect.arrayContaining([
        'StorefrontBusName',
        'ShoalBusName',
        'TableName',
        'BucketName',
        'StateMachineArn',
        'AlarmTopicArn',
      ]),
    );
  });
});
