import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { TABLE, keys } from '../../contracts/table';
import { InvalidCursorError, type MembersPage, type SegmentMembers } from '../../query/api';
import { PK, SK } from './client';

const IX = TABLE.bySegmentIndex;

/** A LastEvaluatedKey of the bySegment index: its keys and the table's, all strings. */
const cursorSchema = z.strictObject({
  [IX.partitionKey]: z.string(),
  [IX.sortKey]: z.string(),
  [PK]: z.string(),
  [SK]: z.string(),
});

/**
 * The audience, a page at a time, from the bySegment index (keys only: `SEG#<segmentId>` → `C#<customerId>`, in
 * customer-key order). The cursor is the page's LastEvaluatedKey as base64url JSON; a cursor that does not parse, or
 * that was issued for another segment, is an InvalidCursorError (the API's 400).
 */
export class DynamoSegmentMembers implements SegmentMembers {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async page(segmentId: string, limit: number, cursor: string | null): Promise<MembersPage> {
    const start = cursor === null ? undefined : decodeCursor(cursor, segmentId);
    const res = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: IX.name,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': IX.partitionKey },
        ExpressionAttributeValues: { ':pk': keys.segment(segmentId) },
        Limit: limit,
        ExclusiveStartKey: start,
      }),
    );
    return {
      customerIds: (res.Items ?? []).map((item) => String(item[IX.sortKey]).slice('C#'.length)),
      nextCursor: res.LastEvaluatedKey ? Buffer.from(JSON.stringify(res.LastEvaluatedKey)).toString('base64url') : null,
    };
  }
}

function decodeCursor(cursor: string, segmentId: string): Record<string, string> {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  const parsed = cursorSchema.safeParse(raw);
  if (!parsed.success || parsed.data[IX.partitionKey] !== keys.segment(segmentId)) throw new InvalidCursorError();
  return parsed.data;
}
