import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { QUARANTINE_TABLE, TABLE } from '../shared/contracts/table';

// dynalite ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (opts: { createTableMs?: number; path?: string }) => Server;

export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
export const LOCAL_REGION = 'us-east-1';

/** The table as the CDK data construct defines it: same keys, same indexes. */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  const s = (name: string) => ({ AttributeName: name, AttributeType: 'S' as const });
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      s(TABLE.partitionKey),
      s(TABLE.sortKey),
      s(TABLE.bySegmentIndex.partitionKey),
      s(TABLE.bySegmentIndex.sortKey),
      s(TABLE.outboxIndex.partitionKey),
      s(TABLE.outboxIndex.sortKey),
      s(TABLE.nightlyDueIndex.partitionKey),
      { AttributeName: TABLE.nightlyDueIndex.sortKey, AttributeType: 'N' as const },
      { AttributeName: TABLE.nightlyBreakIndex.sortKey, AttributeType: 'N' as const },
      { AttributeName: TABLE.nightlyValueIndex.sortKey, AttributeType: 'N' as const },
      { AttributeName: TABLE.nightlyTouchedIndex.sortKey, AttributeType: 'N' as const },
    ],
    KeySchema: [
      { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      TABLE.bySegmentIndex,
      TABLE.outboxIndex,
      TABLE.nightlyDueIndex,
      TABLE.nightlyBreakIndex,
      TABLE.nightlyValueIndex,
      TABLE.nightlyTouchedIndex,
    ].map((ix) => ({
      IndexName: ix.name,
      KeySchema: [
        { AttributeName: ix.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: ix.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'KEYS_ONLY' as const },
    })),
  };
}

/** The quarantine table as the CDK data construct defines it: same keys, same sparse byCustomer index. */
export function quarantineTableDefinition(tableName: string): CreateTableCommandInput {
  const s = (name: string) => ({ AttributeName: name, AttributeType: 'S' as const });
  const ix = QUARANTINE_TABLE.byCustomerIndex;
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [s(QUARANTINE_TABLE.partitionKey), s(QUARANTINE_TABLE.sortKey), s(ix.partitionKey)],
    KeySchema: [
      { AttributeName: QUARANTINE_TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: QUARANTINE_TABLE.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: ix.name,
        KeySchema: [
          { AttributeName: ix.partitionKey, KeyType: 'HASH' },
          { AttributeName: ix.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ],
  };
}

export interface LocalDynamo {
  endpoint: string;
  client: DynamoDBClient;
  tableName: string;
  /** The quarantine's own table (`<tableName>-quarantine`). */
  quarantineTableName: string;
  close(): Promise<void>;
}

/**
 * Runs dynalite in a child process, so that DynamoDB work gets its own core while the handlers run in this one.
 * The child exits with its parent (stdin closes) and on close().
 */
async function startDynaliteChild(opts: {
  path?: string;
  port?: number;
}): Promise<{ port: number; close(): Promise<void> }> {
  const code = `
    const dynalite = require(${JSON.stringify(require.resolve('dynalite'))});
    const server = dynalite({ createTableMs: 0, path: process.env.DYNALITE_PATH || undefined });
    server.listen(Number(process.env.DYNALITE_PORT || 0), '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
    process.stdin.on('end', () => process.exit(0));
    process.stdin.resume();`;
  const child = spawn(process.execPath, ['-e', code], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, DYNALITE_PATH: opts.path ?? '', DYNALITE_PORT: String(opts.port ?? 0) },
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => reject(new Error(`dynalite exited with ${c}`)));
    child.stdout!.once('data', (d: Buffer) => resolve(Number.parseInt(d.toString(), 10)));
  });
  return {
    port,
    close: async () => {
      child.stdin!.end();
      child.kill();
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    },
  };
}

/** Starts dynalite on 127.0.0.1 (a free port) and creates the Shoal table. In memory unless `path` is given. */
export async function startLocalDynamo(
  opts: { tableName?: string; path?: string; port?: number; childProcess?: boolean } = {},
): Promise<LocalDynamo> {
  let port: number;
  let stop: () => Promise<void>;
  if (opts.childProcess) {
    const child = await startDynaliteChild(opts);
    port = child.port;
    stop = child.close;
  } else {
    const server = dynalite({ createTableMs: 0, path: opts.path });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
    });
    port = (server.address() as AddressInfo).port;
    stop = () => new Promise<void>((resolve) => server.close(() => resolve()));
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 3 });
  const tableName = opts.tableName ?? 'shoal-local';
  const quarantineTableName = `${tableName}-quarantine`;
  for (const definition of [tableDefinition(tableName), quarantineTableDefinition(quarantineTableName)]) {
    try {
      await client.send(new CreateTableCommand(definition));
    } catch (err) {
      if ((err as Error).name !== 'ResourceInUseException') throw err;
    }
    for (let i = 0; i < 50; i++) {
      const d = await client.send(new DescribeTableCommand({ TableName: definition.TableName }));
      if (d.Table?.TableStatus === 'ACTIVE') break;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return {
    endpoint,
    client,
    tableName,
    quarantineTableName,
    close: async () => {
      client.destroy();
      await stop();
    },
  };
}
