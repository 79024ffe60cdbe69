import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../contracts/table';
import type { RunRecord, RunStore, WriteOutcome } from '../../ports/stores';
import { PK, SK, putIfRevision } from './client';

/** `RUN#<runId>` / `RUN`: nightly run status. The record is one JSON attribute plus the keys conditions need. */
export class DynamoRunStore implements RunStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(runId: string): Promise<RunRecord | null> {
    const res = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { [PK]: keys.run(runId), [SK]: keys.runSk },
        ConsistentRead: true,
      }),
    );
    return res.Item ? (JSON.parse(res.Item.data as string) as RunRecord) : null;
  }

  async put(record: RunRecord, expectedRev: number | null): Promise<WriteOutcome> {
    return putIfRevision(
      this.doc,
      this.tableName,
      {
        [PK]: keys.run(record.runId),
        [SK]: keys.runSk,
        runId: record.runId,
        status: record.status,
        rev: record.rev,
        updatedAt: record.updatedAt,
        data: JSON.stringify(record),
      },
      expectedRev,
    );
  }
}
