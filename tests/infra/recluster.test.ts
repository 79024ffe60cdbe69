import { Match, Template } from 'aws-cdk-lib/assertions';
import { stageConfig, STAGES } from '../../infra/config/stages';
import {
  findStateMachineDefinition,
  forEachState,
  RECLUSTER_STATE_MACHINE_LOGICAL_ID,
  RECLUSTER_TASK_STATES,
  type AslDefinition,
  type AslState,
} from '../../infra/state-machine-definition';
import { RECLUSTER_STATES, RECLUSTER_TASKS } from '../../shared/contracts/recluster';
import { resourcesOfType, stageTemplate, type TemplateJson } from './templates';

const LAMBDA_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];
const THROTTLING = ['ThrottlingException', 'ProvisionedThroughputExceededException'];

const config = stageConfig('dev');
let json: TemplateJson;
let template: Template;
let definition: AslDefinition;

beforeAll(async () => {
  json = await stageTemplate('dev');
  template = Template.fromJSON(json, { skipCyclicalDependenciesCheck: true });
  definition = findStateMachineDefinition(json).definition;
});

function topLevel(name: string): AslState {
  const state = definition.States[name];
  if (!state) throw new Error(`no state ${name}`);
  return state;
}

describe('state machine definition', () => {
  it('runs PlanShards -> ScanShards -> FitModel -> QualityGate -> AssignShards -> Publish', () => {
    expect(definition.StartAt).toBe('PlanShards');
    for (const state of RECLUSTER_STATES) expect(definition.States).toHaveProperty(state);
    expect(topLevel('PlanShards').Next).toBe('ScanShards');
    expect(topLevel('ScanShards').Next).toBe('FitModel');
    expect(topLevel('FitModel').Next).toBe('QualityGate');
    expect(topLevel('QualityGate')).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.fit.gate.passed', BooleanEquals: true, Next: 'AssignShards' }],
      Default: 'RefreshTraits',
    });
    expect(topLevel('AssignShards').Next).toBe('Publish');
    expect(topLevel('Publish').End).toBe(true);
  });

  it('uses JSONPath only', () => {
    expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    forEachState(definition, (_name, state) => expect(state.QueryLanguage ?? 'JSONPath').toBe('JSONPath'));
  });

  it.each(['ScanShards', 'AssignShards'])(
    '%s is a Distributed Map over $.plan.shards from the input, no reader or writer',
    (name) => {
      const map = topLevel(name);
      expect(map).toMatchObject({
        Type: 'Map',
        ItemsPath: '$.plan.shards',
        MaxConcurrency: config.recluster.mapConcurrency,
        ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
      });
      expect(map).not.toHaveProperty('ItemReader');
      expect(map).not.toHaveProperty('ResultWriter');
      expect(map).not.toHaveProperty('ItemBatcher');
    },
  );

  it('extends each AssignShards item with the new modelVersion', () => {
    expect(topLevel('AssignShards').ItemSelector).toEqual({
      'runId.$': '$$.Map.Item.Value.runId',
      'asOf.$': '$$.Map.Item.Value.asOf',
      'shard.$': '$$.Map.Item.Value.shard',
      'totalShards.$': '$$.Map.Item.Value.totalShards',
      'baseRunId.$': '$$.Map.Item.Value.baseRunId',
      'modelVersion.$': '$.fit.modelVersion',
    });
  });

  it('keeps runId, asOf, plan, scans, fit and assignments in the state data', () => {
    expect(topLevel('PlanShards').ResultSelector).toMatchObject({
      'runId.$': '$.Payload.runId',
      'asOf.$': '$.Payload.asOf',
      plan: expect.any(Object),
    });
    expect(topLevel('ScanShards').ResultPath).toBe('$.scans');
    expect(topLevel('FitModel').ResultPath).toBe('$.fit');
    expect(topLevel('AssignShards').ResultPath).toBe('$.assignments');
    expect(topLevel('Publish').ResultPath).toBeNull();
  });

  it('invokes a Lambda from every Task, with the transient-error and throttling retries', () => {
    const tasks: string[] = [];
    forEachState(definition, (name, state) => {
      if (state.Type !== 'Task') return;
      tasks.push(name);
      expect(state.Resource).toBe('arn:aws:states:::lambda:invoke');
      expect(state.Retry).toEqual([
        expect.objectContaining({ ErrorEquals: LAMBDA_ERRORS, BackoffRate: 2, JitterStrategy: 'FULL' }),
        expect.objectContaining({ ErrorEquals: THROTTLING, BackoffRate: 2, JitterStrategy: 'FULL' }),
        // Recording a failure is retried on anything: a run must not stay `running` for one bad moment.
        ...(name === 'MarkFailed' ? [expect.objectContaining({ ErrorEquals: ['States.ALL'], MaxAttempts: 3 })] : []),
      ]);
    });
    expect(tasks.sort()).toEqual(Object.keys(RECLUSTER_TASK_STATES).sort());
  });

  it('catches everything on every top-level Task and Map, recording which state failed, then MarkFailed -> Fail', () => {
    for (const [name, state] of Object.entries(definition.States)) {
      if (state.Type !== 'Task' && state.Type !== 'Map') continue;
      // A refused run's trait refresh that fails still records the gate's verdict.
      const expected =
        name === 'MarkFailed' ? 'Failed' : name === 'RefreshTraits' ? 'QualityGateRejected' : `${name}Failed`;
      expect({ name, Catch: state.Catch }).toEqual({
        name,
        Catch: [expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: expected })],
      });
      if (name === 'MarkFailed' || name === 'RefreshTraits') continue;
      const pass = topLevel(expected);
      expect(pass).toMatchObject({ Type: 'Pass', Next: 'MarkFailed' });
      expect(JSON.stringify(pass.Parameters)).toContain(name);
    }
    expect(topLevel('QualityGateRejected')).toMatchObject({
      Type: 'Pass',
      Next: 'MarkFailed',
      Parameters: {
        state: 'QualityGate',
        error: { Error: 'QualityGateRejected', 'Cause.$': 'States.JsonToString($.fit.gate.reasons)' },
      },
    });
    expect(topLevel('RefreshTraits')).toMatchObject({ Type: 'Map', Next: 'QualityGateRejected' });
    expect(topLevel('RunOutcome')).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.markFailed.published', BooleanEquals: true, Next: 'PublishedAfterAll' }],
      Default: 'Failed',
    });
    expect(topLevel('MarkFailed')).toMatchObject({
      Next: 'RunOutcome',
      Parameters: { Payload: { 'runId.$': '$.runId', 'state.$': '$.state', 'error.$': '$.error' } },
    });
    expect(topLevel('Failed')).toMatchObject({ Type: 'Fail', Error: 'ReclusterFailed' });
  });

  it('maps every Task state to its handler through the FunctionName', () => {
    const { functions } = findStateMachineDefinition(json);
    expect(Object.values(functions).sort()).toEqual([...RECLUSTER_TASKS].sort());
    for (const logicalId of Object.keys(functions))
      expect(json.Resources[logicalId]?.Type).toBe('AWS::Lambda::Function');
  });

  it('is found by its pinned logical id, and a template without it is an error', () => {
    expect(json.Resources[RECLUSTER_STATE_MACHINE_LOGICAL_ID]?.Type).toBe('AWS::StepFunctions::StateMachine');
    expect(() => findStateMachineDefinition({ Resources: {} })).toThrow(/ReclusterStateMachine/);
  });
});

describe('state machine resource', () => {
  it('logs ALL without execution data and traces', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: false,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } } }],
      },
    });
  });

  it('gives FitModel the configured memory and 15 minutes', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: config.recluster.fitMemoryMb,
      Timeout: 900,
      Environment: {
        Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'recluster-fit-model', BUCKET_NAME: Match.anyValue() }),
      },
    });
  });
});

describe('schedule', () => {
  it.each(STAGES)(
    '%s starts a run on its cron in its time zone, with a runId from the scheduled time',
    async (stage) => {
      const stageJson = await stageTemplate(stage);
      const cfg = stageConfig(stage);
      const schedules = resourcesOfType(stageJson, 'AWS::Scheduler::Schedule').filter(([, s]) =>
        String(s.ScheduleExpression).startsWith('cron('),
      );
      expect(schedules).toHaveLength(1);
      const [, schedule] = schedules[0]!;
      expect(schedule).toMatchObject({
        ScheduleExpression: cfg.recluster.schedule,
        ScheduleExpressionTimezone: cfg.recluster.timeZone,
        State: 'ENABLED',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: { Ref: RECLUSTER_STATE_MACHINE_LOGICAL_ID }, RetryPolicy: { MaximumRetryAttempts: 3 } },
      });
      const input = JSON.parse((schedule.Target as { Input: string }).Input) as { runId: string };
      expect(input).toEqual({ runId: 'nightly-<aws.scheduler.scheduled-time>' });
      // What Scheduler substitutes (e.g. 2022-03-22T18:59:43Z) keeps the runId within its pattern.
      expect(input.runId.replace('<aws.scheduler.scheduled-time>', '2022-03-22T18:59:43Z')).toMatch(
        /^[A-Za-z0-9._:-]{1,80}$/,
      );
    },
  );

  it('sweeps the outbox every five minutes', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(5 minutes)',
      Target: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PublishingOutboxSweeper'), 'Arn'] } },
    });
  });
});

describe('run bucket', () => {
  it('is KMS-encrypted, TLS-only, private, logged; run artifacts expire after 1 day, reports after their retention', () => {
    const bucketId = resourcesOfType(json, 'AWS::S3::Bucket').filter(([, b]) => b.LoggingConfiguration)[0]![0];
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' }, BucketKeyEnabled: true },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { DestinationBucketName: Match.anyValue() },
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({ Id: 'ExpireRunArtifacts', Prefix: 'runs/', ExpirationInDays: 1, Status: 'Enabled' }),
          Match.objectLike({
            Id: 'ExpireReports',
            Prefix: 'reports/',
            ExpirationInDays: config.recluster.reportRetentionDays,
            Status: 'Enabled',
          }),
          Match.objectLike({ Id: 'ExpireEverythingElse', ExpirationInDays: config.recluster.reportRetentionDays }),
        ],
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});
