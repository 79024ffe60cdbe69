import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../../contracts/table';
import type { WriteOutcome } from '../../ports/stores';
import { mapLimit } from '../../util/concurrency';

/** What every DynamoDB adapter shares: the document client, paging, batched writes, the optimistic write. */
export const PK = TABLE.partitionKey;
export const SK = TABLE.sortKey;

export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export function toBytes(v: Float32Array): Uint8Array {
  return new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
}

export function toFloat32(bytes: Uint8Array): Float32Array {
  const copy = new Uint8Array(bytes); // aligned copy
  return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
}

export async function* queryAll(
  doc: DynamoDBDocumentClient,
  input: QueryCommandInput,
): AsyncGenerator<Record<string, unknown>> {
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) yield item;
    start = page.LastEvaluatedKey;
  } while (start);
}

export type WriteRequest =
  { PutRequest: { Item: Record<string, unknown> } } | { DeleteRequest: { Key: Record<string, unknown> } };

/** BatchWriteItem in chunks of 25 (the API limit), chunks in parallel, unprocessed items retried with backoff. */
export async function batchWrite(
  doc: DynamoDBDocumentClient,
  tableName: string,
  requests: readonly WriteRequest[],
): Promise<void> {
  const chunks: WriteRequest[][] = [];
  for (let i = 0; i < requests.length; i += 25) chunks.push(requests.slice(i, i + 25));
  await mapLimit(chunks, 4, async (chunk) => {
    let pending = chunk;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 8) throw new Error('BatchWriteItem: unprocessed items after retries');
      if (attempt > 0) await new Promise((r) => setTimeout(r, 2 ** attempt * 20));
      const res = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      pending = (res.UnprocessedItems?.[tableName] ?? []) as WriteRequest[];
    }
  });
}

/** PutItem conditional on the stored revision (null: the item must not exist): the optimistic-concurrency write. */
export async function putIfRevision(
  doc: DynamoDBDocumentClient,
  tableName: string,
  item: Record<string, unknown>,
  expectedRev: number | null,
): Promise<WriteOutcome> {
  try {
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: item,
        ConditionExpression: expectedRev === null ? 'attribute_not_exists(#pk)' : '#rev = :rev',
        ExpressionAttributeNames: expectedRev === null ? { '#pk': PK } : { '#rev': 'rev' },
        ...(expectedRev === null ? {} : { ExpressionAttributeValues: { ':rev': expectedRev } }),
      }),
    );
    return 'written';
  } catch (err) {
    if (isConditionFailure(err)) return 'conflict';
    throw err;
  }
}

export function isConditionFailure(err: unknown): boolean {
  return (
    err instanceof ConditionalCheckFailedException ||
    (err instanceof Error && err.name === 'ConditionalCheckFailedException')
  );
}
