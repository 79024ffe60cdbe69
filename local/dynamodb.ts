import { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { TABLE } from '../shared/contracts/table';

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
    ],
    KeySchema: [
      { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [TABLE.bySegmentIndex, TABLE.outboxIndex].map((ix) => ({
      IndexName: ix.name,
      KeySchema: [
        { AttributeName: ix.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: ix.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'ALL' as const },
    })),
  };
}

export interface LocalDynamo {
  endpoint: string;
  client: DynamoDBClient;
  tableName: string;
  close(): Promise<void>;
}

/** Starts dynalite on 127.0.0.1 (a free port) and creates the Shoal table. In memory unless `path` is given. */
export async function startLocalDynamo(opts: { tableName?: string; path?: string; port?: number } = {}): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, path: opts.path });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 3 });
  const tableName = opts.tableName ?? 'shoal-local';
  try {
    await client.send(new CreateTableCommand(tableDefinition(tableName)));
  } catch (err) {
    if ((err as Error).name !== 'ResourceInUseException') throw err;
  }
  for (let i = 0; i < 50; i++) {
    const d = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (d.Table?.TableStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    endpoint,
    client,
    tableName,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
