import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { TABLE } from '../../shared/contracts/table';
import type { StageConfig } from '../config/stages';
import { removalPolicyOf } from './util';

export interface ShoalDataProps {
  config: StageConfig;
}

export type TableIndexName = (typeof TABLE)['bySegmentIndex']['name'] | (typeof TABLE)['outboxIndex']['name'];

/** What a function may do with the table. Index access is granted per named index, never `index/*`. */
export interface TableAccess {
  read?: boolean;
  write?: boolean;
  /** Parallel Scan (Segment/TotalSegments) over the base table: the nightly shards. */
  scan?: boolean;
  indexes?: readonly TableIndexName[];
}

const READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
];
const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
/** DynamoDB and S3 call KMS on the caller's behalf with exactly these; no `GenerateDataKey*`/`ReEncrypt*` wildcards. */
const KEY_READ_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey'];
const KEY_WRITE_ACTIONS = ['kms:Encrypt', 'kms:GenerateDataKey'];

/**
 * The single table (see shared/contracts/table.ts) and the stack's customer-managed key. The key also encrypts the
 * recluster bucket and the alarm topic: one key with rotation, one key policy to audit, and CloudWatch alarms can
 * publish to a topic under a customer-managed key, which the AWS-managed SNS key does not allow.
 */
export class ShoalData extends Construct {
  readonly key: kms.Key;
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: ShoalDataProps) {
    super(scope, id);
    const { config } = props;
    const removalPolicy = removalPolicyOf(config);

    this.key = new kms.Key(this, 'Key', {
      description: `Shoal ${config.stage}: table, recluster bucket and alarm topic`,
      enableKeyRotation: true,
      removalPolicy,
    });

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: config.pointInTimeRecovery },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      timeToLiveAttribute: TABLE.ttlAttribute,
      deletionProtection: config.removalPolicy === 'retain',
      removalPolicy,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: TABLE.bySegmentIndex.name,
      partitionKey: { name: TABLE.bySegmentIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE.bySegmentIndex.sortKey, type: dynamodb.AttributeType.STRING },
      // Keys only: the customer id is the sort key, and an audience export needs nothing else. Projecting ALL would
      // copy every ~5 KB profile on every write (the nightly run rewrites each one).
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
    // Sparse: only profiles with unpublished outbox entries carry obpk/obsk.
    this.table.addGlobalSecondaryIndex({
      indexName: TABLE.outboxIndex.name,
      partitionKey: { name: TABLE.outboxIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE.outboxIndex.sortKey, type: dynamodb.AttributeType.STRING },
      // Keys only: the sweeper re-reads each profile for its current outbox anyway.
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
  }

  /** Grants exactly the table actions asked for, on the table and the named indexes, plus the key use they need. */
  grantTable(grantee: iam.IGrantable, access: TableAccess): void {
    const baseActions = [
      ...(access.read ? READ_ACTIONS : []),
      ...(access.write ? WRITE_ACTIONS : []),
      ...(access.scan ? ['dynamodb:Scan'] : []),
    ];
    if (baseActions.length > 0) {
      iam.Grant.addToPrincipal({ grantee, actions: baseActions, resourceArns: [this.table.tableArn] });
    }
    const indexArns = (access.indexes ?? []).map((name) => `${this.table.tableArn}/index/${name}`);
    if (indexArns.length > 0) {
      iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:Query'], resourceArns: indexArns });
    }
    this.grantKey(grantee, { write: access.write === true });
  }

  grantKey(grantee: iam.IGrantable, options: { write: boolean }): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: [...KEY_READ_ACTIONS, ...(options.write ? KEY_WRITE_ACTIONS : [])],
      resourceArns: [this.key.keyArn],
    });
  }
}
