import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { QUARANTINE_TABLE, TABLE } from '../../shared/contracts/table';
import type { StageConfig } from '../config/stages';
import { removalPolicyOf } from './util';

export interface ShoalDataProps {
  config: StageConfig;
}

export type TableIndexName =
  | (typeof TABLE)['bySegmentIndex']['name']
  | (typeof TABLE)['outboxIndex']['name']
  | (typeof TABLE)['nightlyDueIndex']['name']
  | (typeof TABLE)['nightlyBreakIndex']['name']
  | (typeof TABLE)['nightlyValueIndex']['name']
  | (typeof TABLE)['nightlyTouchedIndex']['name'];

/**
 * What a function may do with the table. Index access is granted per named index, never `index/*`. Each flag maps
 * to the fewest actions that do it: `write` is PutItem and UpdateItem, `batchWrite` is BatchWriteItem (puts and
 * deletes in batches), `delete` is DeleteItem.
 */
export interface TableAccess {
  /** GetItem, BatchGetItem, Query. */
  read?: boolean;
  write?: boolean;
  /** PutItem only: a task that replaces whole items (run records, model items) and never updates in place. */
  put?: boolean;
  batchWrite?: boolean;
  delete?: boolean;
  /** Parallel Scan (Segment/TotalSegments) over the base table: the nightly shards. Scan has no leading key. */
  scan?: boolean;
  indexes?: readonly TableIndexName[];
  /**
   * Partition keys the item actions are limited to (`dynamodb:LeadingKeys`, StringLike: `*` is a wildcard), e.g.
   * `['RUN#*', 'MODEL']` for a task that touches only runs and models.
   */
  leadingKeys?: readonly string[];
}

/** What a role may do with the quarantine (raw rejected payloads): only the ingest role and the operator role. */
export interface QuarantineAccess {
  /** PutItem: store rejects. */
  write?: boolean;
  /** GetItem, Query (table and byCustomer index), Scan: read raw payloads. */
  read?: boolean;
  /** Query on byCustomer and BatchWriteItem: erase a customer's entries. */
  erase?: boolean;
}

const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'];
const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem'];
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
  /**
   * Quarantined inbound records (shared/contracts/table.ts, QUARANTINE_TABLE). A table of its own: the nightly
   * ScanShard and AssignShard Scan the main table, and IAM cannot keep a Scan off some partitions (LeadingKeys does
   * not apply to Scan), so raw payloads in the main table would be readable by every scanning role.
   */
  readonly quarantineTable: dynamodb.Table;

  constructor(scope: Construct, id: string, props: ShoalDataProps) {
    super(scope, id);
    const { config } = props;
    const removalPolicy = removalPolicyOf(config);

    this.key = new kms.Key(this, 'Key', {
      description: `Shoal ${config.stage}: table, recluster bucket and alarm topic`,
      enableKeyRotation: true,
      removalPolicy,
    });

    // What both tables share: on-demand, point-in-time recovery per stage, the stack key, the stage's removal policy.
    const tableDefaults = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: config.pointInTimeRecovery },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      deletionProtection: config.removalPolicy === 'retain',
      removalPolicy,
    };
    this.table = new dynamodb.Table(this, 'Table', {
      ...tableDefaults,
      partitionKey: { name: TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: TABLE.ttlAttribute,
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

    // The nightly change index: sparse (profiles only), keys only (the night reads each due profile by key, strongly
    // consistent). Four indexes on one bucket key: due by time (dueAt, epoch ms), due by a model change: moved
    // centroids (breakAt) or a refitted value model (valueBreakAt), and touched by a real-time write (touchedAt).
    for (const ix of [
      TABLE.nightlyDueIndex,
      TABLE.nightlyBreakIndex,
      TABLE.nightlyValueIndex,
      TABLE.nightlyTouchedIndex,
    ]) {
      this.table.addGlobalSecondaryIndex({
        indexName: ix.name,
        partitionKey: { name: ix.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: ix.sortKey, type: dynamodb.AttributeType.NUMBER },
        projectionType: dynamodb.ProjectionType.KEYS_ONLY,
      });
    }
    this.quarantineTable = new dynamodb.Table(this, 'QuarantineTable', {
      ...tableDefaults,
      partitionKey: { name: QUARANTINE_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: QUARANTINE_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: QUARANTINE_TABLE.ttlAttribute,
    });
    // Sparse: only entries whose customer is known carry `cid`. Keys only: erasure needs the keys to delete.
    this.quarantineTable.addGlobalSecondaryIndex({
      indexName: QUARANTINE_TABLE.byCustomerIndex.name,
      partitionKey: { name: QUARANTINE_TABLE.byCustomerIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: QUARANTINE_TABLE.byCustomerIndex.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
  }

  /** Grants exactly the table actions asked for, on the table and the named indexes, plus the key use they need. */
  grantTable(grantee: iam.IGrantable, access: TableAccess): void {
    const itemActions = [
      ...(access.read ? READ_ACTIONS : []),
      ...(access.write ? WRITE_ACTIONS : access.put ? ['dynamodb:PutItem'] : []),
      ...(access.batchWrite ? ['dynamodb:BatchWriteItem'] : []),
      ...(access.delete ? ['dynamodb:DeleteItem'] : []),
    ];
    if (itemActions.length > 0) {
      iam.Grant.addToPrincipal({
        grantee,
        actions: itemActions,
        resourceArns: [this.table.tableArn],
        ...(access.leadingKeys ? { conditions: leadingKeysCondition(access.leadingKeys) } : {}),
      });
    }
    if (access.scan) {
      iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:Scan'], resourceArns: [this.table.tableArn] });
    }
    const indexArns = (access.indexes ?? []).map((name) => `${this.table.tableArn}/index/${name}`);
    if (indexArns.length > 0) {
      iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:Query'], resourceArns: indexArns });
    }
    this.grantKey(grantee, { write: access.write === true || access.put === true || access.batchWrite === true });
  }

  /** Grants quarantine access: only the ingest role (write, erase) and the operator role (read, erase) get any. */
  grantQuarantine(grantee: iam.IGrantable, access: QuarantineAccess): void {
    const table = this.quarantineTable.tableArn;
    const index = `${table}/index/${QUARANTINE_TABLE.byCustomerIndex.name}`;
    const statements: { actions: string[]; resourceArns: string[] }[] = [];
    if (access.write) statements.push({ actions: ['dynamodb:PutItem'], resourceArns: [table] });
    if (access.read) {
      statements.push({ actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan'], resourceArns: [table] });
    }
    if (access.erase) {
      statements.push({ actions: ['dynamodb:Query'], resourceArns: [index] });
      statements.push({ actions: ['dynamodb:BatchWriteItem'], resourceArns: [table] });
    }
    for (const s of statements) iam.Grant.addToPrincipal({ grantee, ...s });
    this.grantKey(grantee, { write: access.write === true || access.erase === true });
  }

  grantKey(grantee: iam.IGrantable, options: { write: boolean }): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: [...KEY_READ_ACTIONS, ...(options.write ? KEY_WRITE_ACTIONS : [])],
      resourceArns: [this.key.keyArn],
    });
  }
}

/** `dynamodb:LeadingKeys` limited to `patterns` (every key of the request must match one). */
export function leadingKeysCondition(patterns: readonly string[]): Record<string, Record<string, unknown>> {
  return { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...patterns] } };
}
