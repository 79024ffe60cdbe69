import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { TABLE, keys } from '../../contracts/table';
import type { Quarantine, QuarantineEntry } from '../../ports/stores';
import { mapLimit } from '../../util/concurrency';
import { PK, SK, queryAll } from './client';

export class DynamoQuarantine implements Quarantine {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retentionDays: number,
  ) {}

  async put(entries: readonly QuarantineEntry[]): Promise<void> {
    await mapLimit(entries, 8, (e) =>
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            [PK]: keys.quarantine(e.receivedAt.slice(0, 10)),
            [SK]: `${e.receivedAt}#${e.messageId}`,
            reason: e.rejection.reason,
            rejection: JSON.stringify(e.rejection),
            raw: e.raw,
            messageId: e.messageId,
            receivedAt: e.receivedAt,
            [TABLE.ttlAttribute]: Math.floor(Date.parse(e.receivedAt) / 1000) + this.retentionDays * 86_400,
          },
        }),
      ),
    );
  }

  async list(day: string): Promise<QuarantineEntry[]> {
    const out: QuarantineEntry[] = [];
    for await (const item of queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': PK },
      ExpressionAttributeValues: { ':pk': keys.quarantine(day) },
    })) {
      out.push({
        messageId: item.messageId as string,
        receivedAt: item.receivedAt as string,
        rejection: JSON.parse(item.rejection as string) as QuarantineEntry['rejection'],
        raw: item.raw as string,
      });
    }
    return out;
  }
}
