import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { InboundEvent } from '../../contracts/inbound';
import { TABLE, keys } from '../../contracts/table';
import type { LoggedEvent } from '../../domain/features';
import type {
  AppendResult,
  CustomerProfile,
  EventLog,
  OutboxEntry,
  ProfileStore,
  WriteOutcome,
} from '../../ports/stores';
import { mapLimit } from '../../util/concurrency';
import { PK, SK, batchWrite, isConditionFailure, putIfRevision, queryAll, toBytes, toFloat32 } from './client';

/** A partition key spread for the sparse outbox index, so the sweeper's reads do not hit one hot key. */
function outboxPartition(customerId: string): string {
  let h = 0;
  for (let i = 0; i < customerId.length; i++) h = (h * 31 + customerId.charCodeAt(i)) | 0;
  return `OUTBOX#${Math.abs(h) % TABLE.outboxIndex.partitions}`;
}

export class DynamoEventLog implements EventLog {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly concurrency = 16,
  ) {}

  private eventItem(customerId: string, { event, embedding }: LoggedEvent, expiresAt: number): Record<string, unknown> {
    return {
      [PK]: keys.customer(customerId),
      [SK]: keys.event(event.detail.eventId),
      type: event.type,
      occurredAt: event.detail.occurredAt,
      detail: JSON.stringify(event.detail),
      ...(embedding ? { emb: toBytes(embedding) } : {}),
      [TABLE.ttlAttribute]: expiresAt,
    };
  }

  async appendMany(events: readonly { customerId: string; logged: LoggedEvent }[], expiresAt: number): Promise<void> {
    await batchWrite(
      this.doc,
      this.tableName,
      events.map((e) => ({ PutRequest: { Item: this.eventItem(e.customerId, e.logged, expiresAt) } })),
    );
  }

  async append(customerId: string, events: readonly LoggedEvent[], expiresAt: number): Promise<AppendResult> {
    const appended: string[] = [];
    const duplicates: string[] = [];
    await mapLimit(events, this.concurrency, async (logged) => {
      const { event } = logged;
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: this.eventItem(customerId, logged, expiresAt),
            // Idempotent by event id: a redelivered or re-sent event changes nothing.
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PK },
          }),
        );
        appended.push(event.detail.eventId);
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        duplicates.push(event.detail.eventId);
      }
    });
    return { appended, duplicates };
  }

  async load(customerId: string): Promise<LoggedEvent[]> {
    const out: LoggedEvent[] = [];
    for await (const item of queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :e)',
      ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
      ExpressionAttributeValues: { ':pk': keys.customer(customerId), ':e': 'E#' },
      ConsistentRead: true,
    })) {
      const event = { type: item.type, detail: JSON.parse(item.detail as string) } as InboundEvent;
      const emb = item.emb instanceof Uint8Array ? toFloat32(item.emb) : null;
      out.push({ event, embedding: emb });
    }
    return out;
  }

  async setEmbeddings(customerId: string, updates: readonly { eventId: string; embedding: Float32Array }[]) {
    await mapLimit(updates, this.concurrency, async ({ eventId, embedding }) => {
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { [PK]: keys.customer(customerId), [SK]: keys.event(eventId) },
            UpdateExpression: 'SET emb = :e',
            ConditionExpression: 'attribute_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PK },
            ExpressionAttributeValues: { ':e': toBytes(embedding) },
          }),
        );
      } catch (err) {
        if (!isConditionFailure(err)) throw err; // erased meanwhile: nothing to backfill
      }
    });
  }

  async eraseCustomer(customerId: string): Promise<number> {
    const keysToDelete: Record<string, unknown>[] = [];
    for await (const item of queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
      ExpressionAttributeValues: { ':pk': keys.customer(customerId) },
      ProjectionExpression: '#pk, #sk',
      ConsistentRead: true,
    })) {
      keysToDelete.push({ [PK]: item[PK], [SK]: item[SK] });
    }
    await batchWrite(
      this.doc,
      this.tableName,
      keysToDelete.map((Key) => ({ DeleteRequest: { Key } })),
    );
    return keysToDelete.length;
  }
}

interface ProfileItem {
  customerId: string;
  rev: number;
  updatedAt: string;
  data: string;
  outbox?: Record<string, string>;
}

function profileFromItem(item: Record<string, unknown>): CustomerProfile {
  const p = item as unknown as ProfileItem;
  const data = JSON.parse(p.data) as Omit<CustomerProfile, 'customerId' | 'rev' | 'updatedAt' | 'outbox'>;
  const outbox = Object.values(p.outbox ?? {})
    .map((s) => JSON.parse(s) as OutboxEntry)
    .sort((a, b) => (a.dedupeKey < b.dedupeKey ? -1 : 1));
  return { customerId: p.customerId, rev: p.rev, updatedAt: p.updatedAt, outbox, ...data };
}

export class DynamoProfileStore implements ProfileStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly historyTtlDays: number,
  ) {}

  async get(customerId: string): Promise<CustomerProfile | null> {
    const res = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { [PK]: keys.customer(customerId), [SK]: keys.profile },
        ConsistentRead: true,
      }),
    );
    return res.Item ? profileFromItem(res.Item) : null;
  }

  async getMany(customerIds: readonly string[]): Promise<Map<string, CustomerProfile>> {
    const out = new Map<string, CustomerProfile>();
    const ids = [...new Set(customerIds)];
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += 100) chunks.push(ids.slice(i, i + 100));
    await mapLimit(chunks, 4, async (chunk) => {
      let pending: Record<string, unknown>[] = chunk.map((id) => ({ [PK]: keys.customer(id), [SK]: keys.profile }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 8) throw new Error('BatchGetItem: unprocessed keys after retries');
        if (attempt > 0) await new Promise((r) => setTimeout(r, 2 ** attempt * 20));
        const res = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } } }),
        );
        for (const item of res.Responses?.[this.tableName] ?? []) {
          const profile = profileFromItem(item);
          out.set(profile.customerId, profile);
        }
        pending = (res.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
      }
    });
    return out;
  }

  async put(profile: CustomerProfile, expectedRev: number | null): Promise<WriteOutcome> {
    const { customerId, rev, updatedAt, outbox, ...data } = profile;
    const segment = profile.assignment?.segmentId;
    const item: Record<string, unknown> = {
      [PK]: keys.customer(customerId),
      [SK]: keys.profile,
      customerId,
      rev,
      updatedAt,
      modelVersion: profile.assignment?.modelVersion ?? 0,
      data: JSON.stringify(data),
      ...(segment
        ? {
            [TABLE.bySegmentIndex.partitionKey]: keys.segment(segment),
            [TABLE.bySegmentIndex.sortKey]: keys.customer(customerId),
          }
        : {}),
      ...(outbox.length
        ? {
            outbox: Object.fromEntries(outbox.map((e) => [e.dedupeKey, JSON.stringify(e)])),
            [TABLE.outboxIndex.partitionKey]: outboxPartition(customerId),
            [TABLE.outboxIndex.sortKey]: updatedAt,
          }
        : {}),
    };
    return putIfRevision(this.doc, this.tableName, item, expectedRev);
  }

  async completeOutbox(
    customerId: string,
    published: readonly OutboxEntry[],
    written?: { rev: number },
  ): Promise<void> {
    if (published.length === 0) return;
    const expiresAt = Math.floor(Date.now() / 1000) + this.historyTtlDays * 86_400;
    // History first: if we crash after it, the entry stays in the outbox and is republished with the same key.
    await batchWrite(
      this.doc,
      this.tableName,
      published.map((entry) => ({
        PutRequest: {
          Item: {
            [PK]: keys.customer(customerId),
            [SK]: keys.history(changedAtOf(entry), entry.dedupeKey),
            detailType: entry.event.detailType,
            detail: JSON.stringify(entry.event.detail),
            [TABLE.ttlAttribute]: expiresAt,
          },
        },
      })),
    );
    const key = { [PK]: keys.customer(customerId), [SK]: keys.profile };
    const clearAll = {
      UpdateExpression: 'REMOVE #o, #obpk, #obsk',
      ExpressionAttributeNames: {
        '#o': 'outbox',
        '#obpk': TABLE.outboxIndex.partitionKey,
        '#obsk': TABLE.outboxIndex.sortKey,
      },
    };
    if (written) {
      try {
        // Nobody wrote since our revision, and we published its whole outbox: clear it in one request.
        await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            ...clearAll,
            ConditionExpression: '#rev = :rev',
            ExpressionAttributeNames: { ...clearAll.ExpressionAttributeNames, '#rev': 'rev' },
            ExpressionAttributeValues: { ':rev': written.rev },
          }),
        );
        return;
      } catch (err) {
        if (!isConditionFailure(err)) throw err; // the profile moved on: remove entry by entry below
      }
    }
    const names: Record<string, string> = { '#o': 'outbox' };
    const removes = published.map((e, i) => {
      names[`#k${i}`] = e.dedupeKey;
      return `#o.#k${i}`;
    });
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: `REMOVE ${removes.join(', ')}`,
          ConditionExpression: 'attribute_exists(#o)',
          ExpressionAttributeNames: names,
        }),
      );
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          ...clearAll,
          ConditionExpression: 'size(#o) = :zero',
          ExpressionAttributeValues: { ':zero': 0 },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err; // erased, or new entries arrived meanwhile: keep them
    }
  }

  async pendingOutbox(limit: number): Promise<CustomerProfile[]> {
    const out: CustomerProfile[] = [];
    for (let p = 0; p < TABLE.outboxIndex.partitions && out.length < limit; p++) {
      for await (const item of queryAll(this.doc, {
        TableName: this.tableName,
        IndexName: TABLE.outboxIndex.name,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': TABLE.outboxIndex.partitionKey },
        ExpressionAttributeValues: { ':pk': `OUTBOX#${p}` },
        Limit: limit,
      })) {
        // The index projects keys only (and may lag): re-read the profile for its current outbox.
        const profile = await this.get(String(item[PK]).slice('C#'.length));
        if (profile && profile.outbox.length) out.push(profile);
        if (out.length >= limit) break;
      }
    }
    return out;
  }

  async *audience(segmentId: string): AsyncIterable<string> {
    for await (const item of queryAll(this.doc, {
      TableName: this.tableName,
      IndexName: TABLE.bySegmentIndex.name,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': TABLE.bySegmentIndex.partitionKey },
      ExpressionAttributeValues: { ':pk': keys.segment(segmentId) },
    })) {
      yield String(item[TABLE.bySegmentIndex.sortKey]).slice('C#'.length);
    }
  }

  async *scanShard(shard: number, totalShards: number): AsyncIterable<CustomerProfile> {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new ScanCommand({
          TableName: this.tableName,
          Segment: shard,
          TotalSegments: totalShards,
          FilterExpression: '#sk = :profile',
          ExpressionAttributeNames: { '#sk': SK },
          ExpressionAttributeValues: { ':profile': keys.profile },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) yield profileFromItem(item);
      start = page.LastEvaluatedKey;
    } while (start);
  }
}

function changedAtOf(entry: OutboxEntry): string {
  const d = entry.event.detail as { changedAt?: string; completedAt?: string };
  return d.changedAt ?? d.completedAt ?? new Date(0).toISOString();
}
