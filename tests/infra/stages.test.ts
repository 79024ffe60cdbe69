import { App, Stack } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { buildApp, cdkJsonContext } from '../../infra/app';
import { stageConfig, STAGES, type StageName } from '../../infra/config/stages';
import { ShoalFunction } from '../../infra/constructs/shoal-function';
import { findStateMachineDefinition } from '../../infra/state-machine-definition';
import { ingestEnvSchema } from '../../shared/config/env';
import { resourcesOfType, stageTemplate, type TemplateJson } from './templates';

const templates = {} as Record<StageName, TemplateJson>;
beforeAll(async () => {
  for (const stage of STAGES) templates[stage] = await stageTemplate(stage);
});

/** Resources whose deletion loses data or history. */
const STATEFUL = ['AWS::DynamoDB::Table', 'AWS::KMS::Key', 'AWS::S3::Bucket', 'AWS::SQS::Queue', 'AWS::Logs::LogGroup'];

describe('per-stage differences', () => {
  it.each([
    ['prod', 'Retain'],
    ['staging', 'Delete'],
    ['dev', 'Delete'],
  ] as const)('%s stateful resources: DeletionPolicy %s', (stage, policy) => {
    const stateful = Object.values(templates[stage].Resources).filter((r) => STATEFUL.includes(r.Type));
    expect(stateful.length).toBeGreaterThan(10);
    for (const resource of stateful)
      expect({ type: resource.Type, policy: resource.DeletionPolicy }).toEqual({ type: resource.Type, policy });
  });

  it('protects only the prod table from deletion', () => {
    const protection = (stage: StageName) =>
      resourcesOfType(templates[stage], 'AWS::DynamoDB::Table')[0]![1].DeletionProtectionEnabled;
    expect(protection('prod')).toBe(true);
    expect(protection('dev')).toBe(false);
  });

  it.each(STAGES)('%s takes concurrency, retention and memory from its config', (stage) => {
    const config = stageConfig(stage);
    const json = JSON.stringify(templates[stage]);
    const { definition } = findStateMachineDefinition(templates[stage]);
    expect(definition.States.ScanShards?.MaxConcurrency).toBe(config.recluster.mapConcurrency);
    expect(definition.States.AssignShards?.MaxConcurrency).toBe(config.recluster.mapConcurrency);
    expect(json).toContain(`"ReservedConcurrentExecutions":${config.ingest.reservedConcurrency}`);
    expect(json).toContain(`"MemorySize":${config.recluster.fitMemoryMb}`);
    for (const [, group] of resourcesOfType(templates[stage], 'AWS::Logs::LogGroup'))
      expect(group.RetentionInDays).toBe(config.logRetentionDays);
  });

  it('names no resources by hand: every stage can deploy side by side in one account', () => {
    const nameKeys = [
      'TableName',
      'QueueName',
      'FunctionName',
      'TopicName',
      'BucketName',
      'StateMachineName',
      'RoleName',
      'DashboardName',
      'LogGroupName',
      'Name',
    ];
    for (const stage of STAGES) {
      for (const [id, resource] of Object.entries(templates[stage].Resources)) {
        for (const key of nameKeys) {
          const value = resource.Properties?.[key];
          if (typeof value !== 'string') continue;
          // An HTTP API's name is a label, not a key (names may repeat in an account): it names the stage.
          if (resource.Type === 'AWS::ApiGatewayV2::Api') {
            expect(value).toBe(`shoal-${stage}-query`);
            continue;
          }
          // The literal names are the buses', which CDK generates from the construct path (stage included).
          expect({ id, key, value }).toEqual({
            id,
            key: 'Name',
            value: expect.stringMatching(new RegExp(`^Shoal${stage}Buses(Storefront|Shoal)Bus[0-9A-F]{8}$`)),
          });
        }
      }
    }
  });
});

describe('app', () => {
  it('passes cdk.json context, feature flags included, to every app it builds', () => {
    const { app, stack } = buildApp('staging', { extra: 1, 'aws:cdk:bundling-stacks': [] });
    expect(stack.stackName).toBe('Shoal-staging');
    expect(app.node.tryGetContext('@aws-cdk/aws-stepfunctions:useDistributedMapResultWriterV2')).toBe(true);
    expect(app.node.tryGetContext('extra')).toBe(1);
    expect(Object.keys(cdkJsonContext()).length).toBeGreaterThan(50);
  });

  it('fails synth on an unacknowledged cdk-nag finding', () => {
    const { app, stack } = buildApp(
      'dev',
      { 'aws:cdk:bundling-stacks': [] },
      { builtinCloudFormationValidation: false },
    );
    new sqs.Queue(stack, 'UnencryptedQueueWithoutDlq', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS2[\s\S]*AwsSolutions-SQS3[\s\S]*AwsSolutions-SQS4/);
  });
});

describe('ShoalFunction', () => {
  it('checks the environment against the function contract (at compile time, and at synth for known values)', () => {
    const stack = new Stack(new App(), 'T');
    const make = () =>
      new ShoalFunction(stack, 'Ingest', {
        entry: 'functions/ingest/handler.ts',
        serviceName: 'ingest',
        description: 'test',
        config: stageConfig('dev'),
        envSchema: ingestEnvSchema,
        // @ts-expect-error EVENT_BUS_NAME is missing, so this does not compile
        environment: { TABLE_NAME: 'table', SHOAL_SETTINGS: JSON.stringify(stageConfig('dev').settings) },
        memorySize: 128,
        timeout: undefined as never,
      });
    expect(make).toThrow(/EVENT_BUS_NAME/);
  });
});
