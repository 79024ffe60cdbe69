import { Match, Template } from 'aws-cdk-lib/assertions';
import { stageConfig } from '../../infra/config/stages';
import { settingsSchema } from '../../shared/config/settings';
import { QUARANTINE_TABLE, TABLE } from '../../shared/contracts/table';
import { ingestRule } from '../../shared/events/rules';
import { resourcesOfType, stageTemplate, type TemplateJson } from './templates';

const config = stageConfig('dev');
let json: TemplateJson;
let template: Template;

beforeAll(async () => {
  json = await stageTemplate('dev');
  template = Template.fromJSON(json, { skipCyclicalDependenciesCheck: true });
});

const ref = (logicalId: string) => ({ Ref: logicalId });
const arnOf = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });
function onlyLogicalId(type: string, props: Record<string, unknown> = {}): string {
  const ids = Object.keys(template.findResources(type, { Properties: Match.objectLike(props) }));
  expect(ids).toHaveLength(1);
  return ids[0]!;
}
/** The main table (the one with the bySegment index; the quarantine has its own table). */
const mainTableId = () =>
  onlyLogicalId('AWS::DynamoDB::Table', {
    GlobalSecondaryIndexes: Match.arrayWith([Match.objectLike({ IndexName: TABLE.bySegmentIndex.name })]),
  });
/** The storefront bus (inbound) or the Shoal bus (outbound), by its construct id. */
const busId = (which: 'Storefront' | 'Shoal') => {
  const ids = resourcesOfType(json, 'AWS::Events::EventBus')
    .map(([id]) => id)
    .filter((id) => id.startsWith(`Buses${which}Bus`));
  expect(ids).toHaveLength(1);
  return ids[0]!;
};

describe('data', () => {
  it('is one on-demand table with PITR, a customer-managed key, TTL and both GSIs (plus the quarantine table)', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 2);
    mainTableId();
    const keyId = onlyLogicalId('AWS::KMS::Key');
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: config.pointInTimeRecovery },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: arnOf(keyId) },
      TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({
          IndexName: TABLE.bySegmentIndex.name,
          KeySchema: [
            { AttributeName: TABLE.bySegmentIndex.partitionKey, KeyType: 'HASH' },
            { AttributeName: TABLE.bySegmentIndex.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        }),
        Match.objectLike({
          IndexName: TABLE.outboxIndex.name,
          KeySchema: [
            { AttributeName: TABLE.outboxIndex.partitionKey, KeyType: 'HASH' },
            { AttributeName: TABLE.outboxIndex.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        }),
      ]),
    });
  });

  it('the nightly change index: three sparse keys-only GSIs on the bucket key, with numeric dueAt, breakAt and valueBreakAt', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: TABLE.nightlyDueIndex.partitionKey, AttributeType: 'S' },
        { AttributeName: TABLE.nightlyDueIndex.sortKey, AttributeType: 'N' },
        { AttributeName: TABLE.nightlyBreakIndex.sortKey, AttributeType: 'N' },
        { AttributeName: TABLE.nightlyValueIndex.sortKey, AttributeType: 'N' },
      ]),
      GlobalSecondaryIndexes: Match.arrayWith(
        [TABLE.nightlyDueIndex, TABLE.nightlyBreakIndex, TABLE.nightlyValueIndex].map((ix) =>
          Match.objectLike({
            IndexName: ix.name,
            KeySchema: [
              { AttributeName: ix.partitionKey, KeyType: 'HASH' },
              { AttributeName: ix.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          }),
        ),
      ),
    });
  });
});

describe('ingest', () => {
  it('routes with the shared rule pattern, verbatim, from the storefront bus to the queue', () => {
    const storefrontBusId = busId('Storefront');
    const queueId = onlyLogicalId('AWS::SQS::Queue', { VisibilityTimeout: config.ingest.visibilityTimeoutSeconds });
    const dlqId = onlyLogicalId('AWS::SQS::Queue', { MessageRetentionPeriod: 14 * 24 * 3600 });
    const [, rule] = resourcesOfType(json, 'AWS::Events::Rule')[0]!;
    expect(rule.EventPattern).toEqual(ingestRule('storefront').eventPattern);
    expect(rule).toMatchObject({
      EventBusName: ref(storefrontBusId),
      State: 'ENABLED',
      Targets: [{ Arn: arnOf(queueId), DeadLetterConfig: { Arn: arnOf(dlqId) } }],
    });
  });

  it('has an encrypted queue with a DLQ after maxReceiveCount, and an encrypted DLQ', () => {
    const dlqId = onlyLogicalId('AWS::SQS::Queue', { MessageRetentionPeriod: 14 * 24 * 3600 });
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      VisibilityTimeout: config.ingest.visibilityTimeoutSeconds,
      RedrivePolicy: { deadLetterTargetArn: arnOf(dlqId), maxReceiveCount: config.ingest.maxReceiveCount },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
  });

  it('lets only the rule send to the queues, and only over TLS', () => {
    const ruleId = onlyLogicalId('AWS::Events::Rule');
    const policies = resourcesOfType(json, 'AWS::SQS::QueuePolicy');
    expect(policies).toHaveLength(2);
    for (const [, policy] of policies) {
      const statements = (policy.PolicyDocument as { Statement: unknown[] }).Statement;
      expect(statements).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Deny',
            Action: 'sqs:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          expect.objectContaining({
            Effect: 'Allow',
            Action: 'sqs:SendMessage',
            Principal: { Service: 'events.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': arnOf(ruleId) } },
          }),
        ]),
      );
      expect(statements).toHaveLength(2);
    }
  });

  it('feeds the ingest function in batches with partial batch failures', () => {
    const queueId = onlyLogicalId('AWS::SQS::Queue', { VisibilityTimeout: config.ingest.visibilityTimeoutSeconds });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(queueId),
      BatchSize: config.ingest.batchSize,
      MaximumBatchingWindowInSeconds: config.ingest.maxBatchingWindowSeconds,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'ingest' }) },
      ReservedConcurrentExecutions: config.ingest.reservedConcurrency,
      MemorySize: config.ingest.memoryMb,
      Timeout: config.ingest.visibilityTimeoutSeconds / 6,
    });
  });
});

describe('functions', () => {
  const functions = () => resourcesOfType(json, 'AWS::Lambda::Function');

  it('all run Node.js 22 on arm64 with tracing, JSON logs into their own log group and merged env defaults', () => {
    expect(functions()).toHaveLength(9);
    for (const [, fn] of functions()) {
      // Every function but the query API (read-only: it publishes nothing) knows the Shoal bus.
      const readOnly =
        (fn.Environment as { Variables: Record<string, unknown> }).Variables.POWERTOOLS_SERVICE_NAME === 'query';
      expect(fn).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: expect.any(String) } },
        Environment: {
          Variables: expect.objectContaining({
            POWERTOOLS_SERVICE_NAME: expect.any(String),
            POWERTOOLS_METRICS_NAMESPACE: 'Shoal',
            NODE_OPTIONS: '--enable-source-maps',
            TABLE_NAME: ref(mainTableId()),
            ...(readOnly ? {} : { EVENT_BUS_NAME: ref(busId('Shoal')) }),
          }),
        },
      });
    }
    for (const [, group] of resourcesOfType(json, 'AWS::Logs::LogGroup')) {
      expect(group.RetentionInDays).toBe(config.logRetentionDays);
    }
  });

  it('hand the stage settings to ingest and recluster functions as SHOAL_SETTINGS, parseable by the runtime schema', () => {
    const withSettings = functions().filter(
      ([, fn]) => 'SHOAL_SETTINGS' in (fn.Environment as { Variables: object }).Variables,
    );
    expect(withSettings).toHaveLength(9); // ingest, the outbox sweeper, the query API and six recluster tasks
    for (const [, fn] of withSettings) {
      const raw = (fn.Environment as { Variables: Record<string, string> }).Variables.SHOAL_SETTINGS!;
      expect(settingsSchema.parse(JSON.parse(raw))).toEqual(config.settings);
    }
  });

  it('use roles without managed policies', () => {
    for (const [, role] of resourcesOfType(json, 'AWS::IAM::Role')) {
      expect(role.ManagedPolicyArns).toBeUndefined();
    }
  });
});

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
function statementsWith(action: string): Array<{ policy: string; statement: Statement }> {
  return resourcesOfType(json, 'AWS::IAM::Policy').flatMap(([policy, props]) =>
    (props.PolicyDocument as { Statement: Statement[] }).Statement.filter((s) =>
      [s.Action].flat().includes(action),
    ).map((statement) => ({ policy, statement })),
  );
}

describe('least privilege', () => {
  it('grants events:PutEvents on the Shoal bus to the four publishers only, and on the storefront bus to the operator', () => {
    const grants = statementsWith('events:PutEvents');
    const onShoal = grants.filter(
      (g) => JSON.stringify(g.statement.Resource) === JSON.stringify(arnOf(busId('Shoal'))),
    );
    const onStorefront = grants.filter(
      (g) => JSON.stringify(g.statement.Resource) === JSON.stringify(arnOf(busId('Storefront'))),
    );
    expect(onShoal.map((g) => g.policy.replace(/(Function)?RoleDefaultPolicy.*$/, '')).sort()).toEqual(
      ['Ingest', 'PublishingOutboxSweeper', 'ReclusterMarkFailed', 'ReclusterPublish'].sort(),
    );
    expect(onStorefront.map((g) => g.policy)).toEqual([expect.stringMatching(/^OperatorRole/)]);
    expect(grants).toHaveLength(onShoal.length + onStorefront.length);
  });

  it('grants sagemaker:InvokeEndpoint on the configured endpoint only (lower-cased), to ingest only', () => {
    const grants = statementsWith('sagemaker:InvokeEndpoint');
    expect(grants).toHaveLength(1);
    expect(grants[0]!.statement.Resource).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':sagemaker:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          `:endpoint/${config.settings.embedding.endpointName.toLowerCase()}`,
        ],
      ],
    });
    expect(grants[0]!.policy).toMatch(/^IngestFunction/);
  });

  it('uses "*" resources only for X-Ray and CloudWatch Logs delivery, which have no resource-level permissions', () => {
    const wildcardActions = resourcesOfType(json, 'AWS::IAM::Policy')
      .flatMap(([, p]) => (p.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((s) => s.Resource === '*')
      .flatMap((s) => [s.Action].flat());
    expect(wildcardActions.length).toBeGreaterThan(0);
    for (const action of wildcardActions) expect(action).toMatch(/^(xray|logs):/);
  });

  it('queries table indexes by name, never index/*', () => {
    const indexResources = JSON.stringify(json.Resources).match(/\/index\/[^"]*/g) ?? [];
    expect(indexResources.length).toBeGreaterThan(0);
    for (const resource of indexResources)
      expect(resource).toMatch(
        new RegExp(
          `^/index/(${[
            TABLE.bySegmentIndex.name,
            TABLE.outboxIndex.name,
            TABLE.nightlyDueIndex.name,
            TABLE.nightlyBreakIndex.name,
            TABLE.nightlyValueIndex.name,
            TABLE.nightlyTouchedIndex.name,
            QUARANTINE_TABLE.byCustomerIndex.name,
          ].join('|')})$`,
        ),
      );
  });
});
