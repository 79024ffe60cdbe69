import { stageConfig, stageConfigSchema } from '../../infra/config/stages';
import { synthTemplate } from '../../infra/app';
import { OUTBOUND_SOURCE } from '../../shared/contracts/outbound';
import { INGEST_QUEUE_MAX_MESSAGE_BYTES } from '../../shared/events/entry-size';
import { QUARANTINE_TABLE, TABLE } from '../../shared/contracts/table';
import { resourcesOfType, stageTemplate, type TemplateJson } from './templates';

/**
 * Least privilege, one test per permission: for every role, what it can do on each resource that holds customer
 * data or speaks for someone, and what it cannot. Read from the synthesized dev template, as the other infra tests.
 */
const config = stageConfig('dev');
let json: TemplateJson;
beforeAll(async () => {
  json = await stageTemplate('dev');
});

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, unknown> };

function idStartingWith(type: string, prefix: string): string {
  const ids = resourcesOfType(json, type)
    .map(([id]) => id)
    .filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`${ids.length} ${type} resources start with ${prefix}`);
  return ids[0]!;
}

const ROLES = {
  ingest: 'IngestFunctionRole',
  sweeper: 'PublishingOutboxSweeperRole',
  'plan-shards': 'ReclusterPlanShardsRole',
  'scan-shard': 'ReclusterScanShardRole',
  'fit-model': 'ReclusterFitModelRole',
  'assign-shard': 'ReclusterAssignShardRole',
  publish: 'ReclusterPublishRole',
  'mark-failed': 'ReclusterMarkFailedRole',
  operator: 'OperatorRole',
} as const;
type Role = keyof typeof ROLES;

/** Allow statements of the identity policies attached to `role`. */
function statementsOf(role: Role): Statement[] {
  const roleId = idStartingWith('AWS::IAM::Role', ROLES[role]);
  return resourcesOfType(json, 'AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify(p.Roles).includes(`"${roleId}"`))
    .flatMap(([, p]) => (p.PolicyDocument as { Statement: Statement[] }).Statement)
    .filter((s) => s.Effect === 'Allow');
}

const arn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const objects = (bucketId: string, prefix: string) => ({ 'Fn::Join': ['', [arn(bucketId), `/${prefix}*`]] });
const index = (tableId: string, name: string) => ({ 'Fn::Join': ['', [arn(tableId), `/index/${name}`]] });

type Target =
  | 'table'
  | 'quarantine'
  | 'quarantine index'
  | 'bySegment index'
  | 'Shoal bus'
  | 'storefront bus'
  | 'runs/ objects'
  | 'reports/ objects';
function resourceOf(target: Target): unknown {
  const table = () => idStartingWith('AWS::DynamoDB::Table', 'DataTable');
  const quarantine = () => idStartingWith('AWS::DynamoDB::Table', 'DataQuarantineTable');
  const bucket = () => idStartingWith('AWS::S3::Bucket', 'ReclusterBucket');
  switch (target) {
    case 'table':
      return arn(table());
    case 'quarantine':
      return arn(quarantine());
    case 'quarantine index':
      return index(quarantine(), QUARANTINE_TABLE.byCustomerIndex.name);
    case 'bySegment index':
      return index(table(), TABLE.bySegmentIndex.name);
    case 'Shoal bus':
      return arn(idStartingWith('AWS::Events::EventBus', 'BusesShoalBus'));
    case 'storefront bus':
      return arn(idStartingWith('AWS::Events::EventBus', 'BusesStorefrontBus'));
    case 'runs/ objects':
      return objects(bucket(), 'runs/');
    case 'reports/ objects':
      return objects(bucket(), 'reports/');
  }
}

/** The statements letting `role` do `action` on `target` (empty: it cannot). */
function grants(role: Role, action: string, target: Target): Statement[] {
  const wanted = JSON.stringify(resourceOf(target));
  return statementsOf(role).filter(
    (s) =>
      [s.Action].flat().includes(action) && [s.Resource].flat().some((r) => JSON.stringify(r) === wanted || r === '*'),
  );
}

const TABLE_ACTIONS = ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'Scan'] as const;
type TableAction = (typeof TABLE_ACTIONS)[number];

/**
 * What each role may do. `table` lists its allowed actions on the main table (every other one is asserted absent),
 * `leadingKeys` the partition keys those actions are limited to, and the rest are yes/no per resource.
 */
const EXPECTED: Record<
  Role,
  {
    table: readonly TableAction[];
    leadingKeys?: readonly string[];
    quarantine: readonly string[];
    shoalBus: boolean;
    storefrontBus: boolean;
    runsRead: boolean;
    runsWrite: boolean;
    reportsRead: boolean;
    reportsWrite: boolean;
  }
> = {
  ingest: {
    table: ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'],
    // Stores rejects and erases a customer's entries; reads no raw payload back.
    quarantine: ['PutItem', 'BatchWriteItem'],
    shoalBus: true,
    storefrontBus: false,
    runsRead: false,
    runsWrite: false,
    reportsRead: false,
    reportsWrite: false,
  },
  sweeper: {
    table: ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'BatchWriteItem'],
    quarantine: [],
    shoalBus: true,
    storefrontBus: false,
    runsRead: false,
    runsWrite: false,
    reportsRead: false,
    reportsWrite: false,
  },
  'plan-shards': {
    table: ['GetItem', 'Query', 'PutItem'],
    leadingKeys: ['RUN#*'],
    quarantine: [],
    shoalBus: false,
    storefrontBus: false,
    runsRead: false,
    runsWrite: false,
    reportsRead: false,
    reportsWrite: false,
  },
  'scan-shard': {
    // The due customers of its shard from the nightly change index, read by key; no Scan, no writes.
    table: ['GetItem', 'Query'],
    leadingKeys: ['C#*'],
    quarantine: [],
    shoalBus: false,
    storefrontBus: false,
    runsRead: true,
    runsWrite: true,
    reportsRead: false,
    reportsWrite: false,
  },
  'fit-model': {
    table: ['GetItem', 'Query', 'PutItem'],
    leadingKeys: ['RUN#*', 'MODEL'],
    quarantine: [],
    shoalBus: false,
    storefrontBus: false,
    runsRead: true,
    runsWrite: true,
    reportsRead: false,
    reportsWrite: false,
  },
  'assign-shard': {
    table: ['GetItem', 'Query', 'PutItem', 'UpdateItem'],
    quarantine: [],
    shoalBus: false,
    storefrontBus: false,
    runsRead: true,
    runsWrite: false,
    reportsRead: false,
    reportsWrite: false,
  },
  publish: {
    table: ['GetItem', 'Query', 'PutItem'],
    leadingKeys: ['RUN#*', 'MODEL'],
    quarantine: [],
    shoalBus: true,
    storefrontBus: false,
    runsRead: false,
    runsWrite: false,
    reportsRead: false,
    reportsWrite: true,
  },
  'mark-failed': {
    table: ['GetItem', 'Query', 'PutItem'],
    leadingKeys: ['RUN#*'],
    quarantine: [],
    shoalBus: true,
    storefrontBus: false,
    runsRead: false,
    runsWrite: false,
    reportsRead: false,
    reportsWrite: false,
  },
  operator: {
    table: [],
    quarantine: ['GetItem', 'Query', 'Scan', 'BatchWriteItem'],
    shoalBus: false,
    storefrontBus: true,
    runsRead: false,
    runsWrite: false,
    reportsRead: false,
    reportsWrite: false,
  },
};

const roles = Object.keys(EXPECTED) as Role[];
const verb = (allowed: boolean) => (allowed ? 'can' : 'cannot');

describe.each(roles)('%s role', (role) => {
  const e = EXPECTED[role];

  it.each(
    TABLE_ACTIONS.map((action) => ({
      action,
      allowed: e.table.includes(action),
      verb: verb(e.table.includes(action)),
    })),
  )('$verb dynamodb:$action on the table', ({ action, allowed }) => {
    const found = grants(role, `dynamodb:${action}`, 'table');
    expect(found.length > 0).toBe(allowed);
    if (allowed && e.leadingKeys && action !== 'Scan') {
      for (const s of found) {
        expect(s.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...e.leadingKeys] } });
      }
    }
    if (allowed && !e.leadingKeys) for (const s of found) expect(s.Condition).toBeUndefined();
  });

  it.each(
    ['PutItem', 'GetItem', 'Query', 'Scan', 'BatchWriteItem', 'DeleteItem', 'UpdateItem'].map((action) => ({
      action,
      allowed: e.quarantine.includes(action),
      verb: verb(e.quarantine.includes(action)),
    })),
  )('$verb dynamodb:$action on the quarantine table (raw payloads)', ({ action, allowed }) => {
    expect(grants(role, `dynamodb:${action}`, 'quarantine').length > 0).toBe(allowed);
  });

  it(`${verb(e.quarantine.includes('BatchWriteItem'))} find a customer's quarantine entries (Query byCustomer)`, () => {
    expect(grants(role, 'dynamodb:Query', 'quarantine index').length > 0).toBe(e.quarantine.includes('BatchWriteItem'));
  });

  it(
    e.shoalBus
      ? `can put events on the Shoal bus, with source "${OUTBOUND_SOURCE}" only`
      : 'cannot put events on the Shoal bus',
    () => {
      const found = grants(role, 'events:PutEvents', 'Shoal bus');
      expect(found.length > 0).toBe(e.shoalBus);
      for (const s of found) expect(s.Condition).toEqual({ StringEquals: { 'events:source': [OUTBOUND_SOURCE] } });
    },
  );

  it(
    e.storefrontBus
      ? 'can put events on the storefront bus, with the storefront source only'
      : 'cannot put events on the storefront bus',
    () => {
      const found = grants(role, 'events:PutEvents', 'storefront bus');
      expect(found.length > 0).toBe(e.storefrontBus);
      for (const s of found)
        expect(s.Condition).toEqual({ StringEquals: { 'events:source': [config.settings.source] } });
    },
  );

  it(`${verb(e.runsRead)} read run artifacts (runs/: customer ids and vectors)`, () => {
    expect(grants(role, 's3:GetObject', 'runs/ objects').length > 0).toBe(e.runsRead);
  });

  it(`${verb(e.runsWrite)} write run artifacts (runs/)`, () => {
    expect(grants(role, 's3:PutObject', 'runs/ objects').length > 0).toBe(e.runsWrite);
  });

  it(`${verb(e.reportsRead)} read reports (reports/)`, () => {
    expect(grants(role, 's3:GetObject', 'reports/ objects').length > 0).toBe(e.reportsRead);
  });

  it(`${verb(e.reportsWrite)} write reports (reports/)`, () => {
    expect(grants(role, 's3:PutObject', 'reports/ objects').length > 0).toBe(e.reportsWrite);
  });
});

describe('who reaches what, across all roles', () => {
  it('only the ingest and operator roles name the quarantine table in any policy; only the operator reads it', () => {
    const quarantineId = idStartingWith('AWS::DynamoDB::Table', 'DataQuarantineTable');
    const naming = resourcesOfType(json, 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.PolicyDocument).includes(`"${quarantineId}"`))
      .map(([id]) => id.replace(/(Function)?RoleDefaultPolicy.*$/, ''));
    expect(naming.sort()).toEqual(['Ingest', 'Operator']);
  });

  it('no role may read the bucket but FitModel, ScanShard and AssignShard, and then only runs/', () => {
    const readers = resourcesOfType(json, 'AWS::IAM::Policy').filter(([, p]) =>
      (p.PolicyDocument as { Statement: Statement[] }).Statement.some((s) =>
        [s.Action].flat().some((a) => a === 's3:GetObject' || a === 's3:ListBucket'),
      ),
    );
    expect(readers.map(([id]) => id.replace(/Role.*$/, '')).sort()).toEqual([
      'ReclusterAssignShard',
      'ReclusterFitModel',
      'ReclusterScanShard',
    ]);
    for (const role of ['fit-model', 'scan-shard', 'assign-shard'] as const) {
      const list = statementsOf(role).find((s) => [s.Action].flat().includes('s3:ListBucket'));
      if (list) expect(list.Condition).toEqual({ StringLike: { 's3:prefix': ['runs/*'] } });
    }
  });

  it('only ScanShard and AssignShard Query the nightly change index (due); only AssignShard the break indexes; no role Scans the table', () => {
    const table = idStartingWith('AWS::DynamoDB::Table', 'DataTable');
    const queriers = (name: string) =>
      roles.filter((role) =>
        statementsOf(role).some(
          (s) =>
            [s.Action].flat().includes('dynamodb:Query') &&
            [s.Resource].flat().some((r) => JSON.stringify(r) === JSON.stringify(index(table, name))),
        ),
      );
    expect(queriers(TABLE.nightlyDueIndex.name).sort()).toEqual(['assign-shard', 'scan-shard']);
    expect(queriers(TABLE.nightlyBreakIndex.name)).toEqual(['assign-shard']);
    expect(queriers(TABLE.nightlyValueIndex.name)).toEqual(['assign-shard']);
    expect(roles.filter((role) => grants(role, 'dynamodb:Scan', 'table').length > 0)).toEqual([]);
  });

  it('the operator role is assumable by the account only, and may Query the bySegment index (audience export)', () => {
    const roleId = idStartingWith('AWS::IAM::Role', 'OperatorRole');
    const role = json.Resources[roleId]!.Properties as { AssumeRolePolicyDocument: { Statement: Statement[] } };
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: {
          AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] },
        },
      }),
    ]);
    expect(grants('operator', 'dynamodb:Query', 'bySegment index')).toHaveLength(1);
  });
});

type BusPolicy = { EventBusName: { Ref: string }; Statement: Statement & { Principal: unknown; Sid: string } };
function busPolicies(template: TemplateJson, busPrefix: string): BusPolicy['Statement'][] {
  const busId = Object.keys(template.Resources).find(
    (id) => id.startsWith(busPrefix) && template.Resources[id]!.Type === 'AWS::Events::EventBus',
  )!;
  return Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::Events::EventBusPolicy')
    .map((r) => r.Properties as unknown as BusPolicy)
    .filter((p) => p.EventBusName.Ref === busId)
    .map((p) => p.Statement);
}

describe('bus resource policies', () => {
  it('the storefront bus denies PutEvents with any source but the storefront one, to every principal', () => {
    expect(busPolicies(json, 'BusesStorefrontBus')).toEqual([
      expect.objectContaining({
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'events:PutEvents',
        Condition: { StringNotEquals: { 'events:source': [config.settings.source] } },
      }),
    ]);
  });

  it(`the Shoal bus denies PutEvents with any source but "${OUTBOUND_SOURCE}", to every principal`, () => {
    expect(busPolicies(json, 'BusesShoalBus')).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'events:PutEvents',
        Condition: { StringNotEquals: { 'events:source': [OUTBOUND_SOURCE] } },
      }),
    );
  });

  it('the Shoal bus denies PutEvents to every principal but the four publishing roles', () => {
    const deny = busPolicies(json, 'BusesShoalBus').find((s) => s.Condition && 'ArnNotEquals' in s.Condition);
    const roleArns = (['ingest', 'publish', 'mark-failed', 'sweeper'] as const).map((r) =>
      arn(idStartingWith('AWS::IAM::Role', ROLES[r])),
    );
    expect(deny).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'events:PutEvents' });
    const listed = (deny!.Condition as { ArnNotEquals: { 'aws:PrincipalArn': unknown[] } }).ArnNotEquals[
      'aws:PrincipalArn'
    ];
    expect(listed).toHaveLength(4);
    expect(listed).toEqual(expect.arrayContaining(roleArns));
  });

  it('a cross-account storefront named in the stage config may put storefront events, and only those', () => {
    const producers = ['111122223333', 'arn:aws:iam::444455556666:role/shop-backend'];
    const template = synthTemplate('dev', { storefrontProducers: producers.join(',') }) as TemplateJson;
    const allow = busPolicies(template, 'BusesStorefrontBus').find((s) => s.Effect === 'Allow');
    expect(allow).toMatchObject({
      Action: 'events:PutEvents',
      Condition: { StringEquals: { 'events:source': [config.settings.source] } },
    });
    expect(JSON.stringify(allow!.Principal)).toContain(':iam::111122223333:root');
    expect(JSON.stringify(allow!.Principal)).toContain('arn:aws:iam::444455556666:role/shop-backend');
  });

  it.each([
    { name: 'an account id', producer: '111122223333', ok: true },
    { name: 'a role ARN', producer: 'arn:aws:iam::111122223333:role/storefront', ok: true },
    { name: 'a wildcard', producer: '*', ok: false },
    { name: 'a user ARN', producer: 'arn:aws:iam::111122223333:user/bob', ok: false },
    { name: 'a short account id', producer: '12345', ok: false },
  ])('the stage config accepts $name as a storefront producer: $ok', ({ producer, ok }) => {
    const parsed = stageConfigSchema.safeParse({ ...stageConfig('dev'), storefrontProducers: [producer] });
    expect(parsed.success).toBe(ok);
  });
});

describe('keys, archive, queues, outputs', () => {
  it("the key's CloudWatch statement is limited to this account's alarms (aws:SourceAccount, aws:SourceArn)", () => {
    const [, key] = resourcesOfType(json, 'AWS::KMS::Key')[0]!;
    const statements = (key.KeyPolicy as { Statement: (Statement & { Principal: unknown })[] }).Statement;
    const cloudwatch = statements.filter((s) => JSON.stringify(s.Principal).includes('cloudwatch.amazonaws.com'));
    expect(cloudwatch).toHaveLength(1);
    expect(cloudwatch[0]!.Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      ArnLike: {
        'aws:SourceArn': {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':cloudwatch:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':alarm:*',
            ],
          ],
        },
      },
    });
  });

  it("the archive keeps storefront events for retention.eventDays under the stack's customer-managed key", () => {
    const keyId = resourcesOfType(json, 'AWS::KMS::Key')[0]![0];
    const archives = resourcesOfType(json, 'AWS::Events::Archive');
    expect(archives).toHaveLength(1);
    expect(archives[0]![1]).toMatchObject({
      RetentionDays: config.settings.retention.eventDays,
      KmsKeyIdentifier: arn(keyId),
      SourceArn: resourceOf('storefront bus'),
      EventPattern: { source: [config.settings.source] },
    });
  });

  it('the quarantine table is encrypted with the stack key, TTL-bounded, with a keys-only sparse byCustomer index', () => {
    const [, table] = resourcesOfType(json, 'AWS::DynamoDB::Table').find(([id]) =>
      id.startsWith('DataQuarantineTable'),
    )!;
    expect(table).toMatchObject({
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      TimeToLiveSpecification: { AttributeName: QUARANTINE_TABLE.ttlAttribute, Enabled: true },
      GlobalSecondaryIndexes: [
        {
          IndexName: QUARANTINE_TABLE.byCustomerIndex.name,
          KeySchema: [
            { AttributeName: QUARANTINE_TABLE.byCustomerIndex.partitionKey, KeyType: 'HASH' },
            { AttributeName: QUARANTINE_TABLE.byCustomerIndex.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
    });
  });

  it('the ingest queue and its DLQ take 1 MiB messages (a 256 KiB entry plus its envelope)', () => {
    const queues = resourcesOfType(json, 'AWS::SQS::Queue');
    expect(queues).toHaveLength(2);
    for (const [, q] of queues) expect(q.MaximumMessageSize).toBe(INGEST_QUEUE_MAX_MESSAGE_BYTES);
  });

  it('exports both bus names and ARNs', () => {
    const outputs = json.Outputs as Record<string, { Export?: { Name: unknown } }>;
    for (const id of ['StorefrontBusName', 'StorefrontBusArn', 'ShoalBusName', 'ShoalBusArn']) {
      expect(outputs[id]?.Export?.Name).toBe(`Shoal-dev-${id}`);
    }
  });
});
