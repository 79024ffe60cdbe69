import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { InboundEvent } from '../../contracts/inbound';
import { TABLE, keys, nightlyBucketKey, nightlyBucketsOfShard, nightlyShardOf } from '../../contracts/table';
import { fromItem, toItem } from '../../customer/item';
import { isAlias, isTombstone, type CustomerProfile, type NightlyMarks } from '../../customer/profile';
import {
  eventKey,
  type EventLog,
  type NightlySelect,
  type ProfileStore,
  type SettleOutcome,
  type WriteOutcome,
} from '../../customer/store';
import type { FeatureSettings, LoggedEvent } from '../../domain/features';
import { mapLimit } from '../../util/concurrency';
import { PK, SK, batchWrite, isConditionFailure, putIfRevision, queryAll, toBytes, toFloat32 } from './client';

/** A partition key spread for the sparse outbox index, so the sweeper's reads do not hit one hot key. */
function outboxPartition(customerId: string): string {
  let h = 0;
  for (let i = 0; i < customerId.length; i++) h = (h * 31 + customerId.charCodeAt(i)) | 0;
  return `OUTBOX#${Math.abs(h) % TABLE.outboxIndex.partitions}`;
}

/** BatchGetItem in chunks of 100 keys (the API limit), unprocessed keys retried with backoff. */
async function batchGet(
  doc: DynamoDBDocumentClient,
  tableName: string,
  keyList: readonly Record<string, unknown>[],
  projection?: string,
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  const chunks: Record<string, unknown>[][] = [];
  for (let i = 0; i < keyList.length; i += 100) chunks.push(keyList.slice(i, i + 100));
  await mapLimit(chunks, 4, async (chunk) => {
    let pending = chunk;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 8) throw new Error('BatchGetItem: unprocessed keys after retries');
      if (attempt > 0) await new Promise((r) => setTimeout(r, 2 ** attempt * 20));
      const res = await doc.send(
        new BatchGetCommand({
          RequestItems: {
            [tableName]: {
              Keys: pending,
              ConsistentRead: true,
              ...(projection
                ? {
                    ProjectionExpression: projection,
                    ExpressionAttributeNames: {
                      '#pk': PK,
                      '#sk': SK,
                      ...(projection.includes('#ep') ? { '#ep': 'epoch' } : {}),
                    },
                  }
                : {}),
            },
          },
        }),
      );
      out.push(...(res.Responses?.[tableName] ?? []));
      pending = (res.UnprocessedKeys?.[tableName]?.Keys ?? []) as Record<string, unknown>[];
    }
  });
  return out;
}

/** `C#<customerId>` / `E#<eventId>`: the event log. Never read on the per-event path, only looked up by key. */
export class DynamoEventLog implements EventLog {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private eventItem(customerId: string, { event, embedding }: LoggedEvent, expiresAt: number): Record<string, unknown> {
    return {
      [PK]: keys.customer(customerId),
      [SK]: keys.event(event.detail.eventId),
      type: event.type,
      occurredAt: event.detail.occurredAt,
      detail: JSON.stringify(event.detail),
      ...(embedding instanceof Float32Array
        ? { emb: toBytes(embedding) }
        : embedding === 'refused'
          ? { emb: 'refused' }
          : {}),
      [TABLE.ttlAttribute]: expiresAt,
    };
  }

  async loggedIds(events: readonly { customerId: string; eventId: string }[]): Promise<Set<string>> {
    const unique = new Map(events.map((e) => [eventKey(e.customerId, e.eventId), e]));
    const items = await batchGet(
      this.doc,
      this.tableName,
      [...unique.values()].map((e) => ({ [PK]: keys.customer(e.customerId), [SK]: keys.event(e.eventId) })),
      '#pk, #sk',
    );
    return new Set(
      items.map((item) => eventKey(String(item[PK]).slice('C#'.length), String(item[SK]).slice('E#'.length))),
    );
  }

  async appendMany(events: readonly { customerId: string; logged: LoggedEvent }[], expiresAt: number): Promise<void> {
    await batchWrite(
      this.doc,
      this.tableName,
      events.map((e) => ({ PutRequest: { Item: this.eventItem(e.customerId, e.logged, expiresAt) } })),
    );
  }

  async deleteEvents(customerId: string, eventIds: readonly string[]): Promise<void> {
    await batchWrite(
      this.doc,
      this.tableName,
      eventIds.map((id) => ({ DeleteRequest: { Key: { [PK]: keys.customer(customerId), [SK]: keys.event(id) } } })),
    );
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
      const emb = item.emb instanceof Uint8Array ? toFloat32(item.emb) : item.emb === 'refused' ? 'refused' : null;
      out.push({ event, embedding: emb });
    }
    return out;
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
      if (item[SK] !== keys.profile) keysToDelete.push({ [PK]: item[PK], [SK]: item[SK] });
    }
    await batchWrite(
      this.doc,
      this.tableName,
      keysToDelete.map((Key) => ({ DeleteRequest: { Key } })),
    );
    return keysToDelete.length;
  }
}

/** `C#<customerId>` / `PROFILE`: the customer aggregate (see shared/customer/item.ts for its stored form). */
export class DynamoProfileStore implements ProfileStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly featureSettings: FeatureSettings,
  ) {}

  private parse(item: Record<string, unknown>): CustomerProfile {
    return fromItem(item, this.featureSettings);
  }

  async get(customerId: string): Promise<CustomerProfile | null> {
    const res = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { [PK]: keys.customer(customerId), [SK]: keys.profile },
        ConsistentRead: true,
      }),
    );
    return res.Item ? this.parse(res.Item) : null;
  }

  async getMany(customerIds: readonly string[]): Promise<Map<string, CustomerProfile>> {
    const ids = [...new Set(customerIds)];
    const items = await batchGet(
      this.doc,
      this.tableName,
      ids.map((id) => ({ [PK]: keys.customer(id), [SK]: keys.profile })),
    );
    const out = new Map<string, CustomerProfile>();
    for (const item of items) {
      const profile = this.parse(item);
      out.set(profile.customerId, profile);
    }
    return out;
  }

  async epochsOf(customerIds: readonly string[]): Promise<Map<string, number>> {
    const items = await batchGet(
      this.doc,
      this.tableName,
      [...new Set(customerIds)].map((id) => ({ [PK]: keys.customer(id), [SK]: keys.profile })),
      '#pk, #sk, #ep',
    );
    return new Map(items.map((i) => [String(i[PK]).slice('C#'.length), Number(i.epoch ?? 0)]));
  }

  async put(profile: CustomerProfile, expectedRev: number | null): Promise<WriteOutcome> {
    const segment = profile.assignment?.segmentId;
    const item: Record<string, unknown> = {
      [PK]: keys.customer(profile.customerId),
      [SK]: keys.profile,
      ...toItem(profile),
      modelVersion: profile.assignment?.modelVersion ?? 0,
      ...(segment
        ? {
            [TABLE.bySegmentIndex.partitionKey]: keys.segment(segment),
            [TABLE.bySegmentIndex.sortKey]: keys.customer(profile.customerId),
          }
        : {}),
      ...(profile.outbox.length
        ? {
            [TABLE.outboxIndex.partitionKey]: outboxPartition(profile.customerId),
            [TABLE.outboxIndex.sortKey]: profile.updatedAt,
          }
        : {}),
    };
    if (item.dueAt !== undefined || item.touchedAt !== undefined)
      item[TABLE.nightlyDueIndex.partitionKey] = nightlyBucketKey(profile.customerId);
    return putIfRevision(this.doc, this.tableName, item, expectedRev);
  }

  async nightlyIds(shard: number, totalShards: number, select: NightlySelect): Promise<string[]> {
    // `bound`: sort key ≤ bound, or ≥ bound with `from` (the touched index: touched since).
    const queries: { index: string; sortKey: string; bound?: number; from?: boolean }[] = [];
    if (select.dueBy !== undefined)
      queries.push({ index: TABLE.nightlyDueIndex.name, sortKey: TABLE.nightlyDueIndex.sortKey, bound: select.dueBy });
    if (select.brokenBy !== undefined)
      queries.push({
        index: TABLE.nightlyBreakIndex.name,
        sortKey: TABLE.nightlyBreakIndex.sortKey,
        bound: select.brokenBy,
      });
    if (select.valueBrokenBy !== undefined)
      queries.push({
        index: TABLE.nightlyValueIndex.name,
        sortKey: TABLE.nightlyValueIndex.sortKey,
        bound: select.valueBrokenBy,
      });
    if (select.touchedSince !== undefined)
      queries.push({
        index: TABLE.nightlyTouchedIndex.name,
        sortKey: TABLE.nightlyTouchedIndex.sortKey,
        bound: select.touchedSince,
        from: true,
      });
    if (queries.length === 0)
      queries.push({ index: TABLE.nightlyDueIndex.name, sortKey: TABLE.nightlyDueIndex.sortKey });
    const ids = new Set<string>();
    for (const q of queries) {
      await mapLimit(nightlyBucketsOfShard(shard, totalShards), 4, async (bucket) => {
        for await (const item of queryAll(this.doc, {
          TableName: this.tableName,
          IndexName: q.index,
          KeyConditionExpression:
            q.bound === undefined ? '#pk = :pk' : `#pk = :pk AND #sk ${q.from ? '>=' : '<='} :bound`,
          ExpressionAttributeNames: {
            '#pk': TABLE.nightlyDueIndex.partitionKey,
            ...(q.bound === undefined ? {} : { '#sk': q.sortKey }),
          },
          ExpressionAttributeValues: {
            ':pk': `NIGHT#${bucket}`,
            ...(q.bound === undefined ? {} : { ':bound': q.bound }),
          },
        })) {
          const id = String(item[PK]).slice('C#'.length);
          if (nightlyShardOf(id, totalShards) === shard) ids.add(id);
        }
      });
    }
    return [...ids].sort();
  }

  async markNightly(customerId: string, rev: number, marks: NightlyMarks | null): Promise<WriteOutcome> {
    const names: Record<string, string> = {
      '#rev': 'rev',
      '#due': TABLE.nightlyDueIndex.sortKey,
      '#brk': TABLE.nightlyBreakIndex.sortKey,
      '#vbrk': TABLE.nightlyValueIndex.sortKey,
      '#nk': TABLE.nightlyDueIndex.partitionKey,
    };
    const values: Record<string, unknown> = { ':rev': rev };
    let expr: string;
    if (marks === null) expr = 'REMOVE #due, #brk, #vbrk, #nk';
    else {
      values[':due'] = marks.dueAt;
      values[':nk'] = nightlyBucketKey(customerId);
      const set = ['#due = :due', '#nk = :nk'];
      const remove: string[] = [];
      if (marks.breakAt === null) remove.push('#brk');
      else {
        values[':brk'] = marks.breakAt;
        set.push('#brk = :brk');
      }
      if (marks.valueBreakAt === null) remove.push('#vbrk');
      else {
        values[':vbrk'] = marks.valueBreakAt;
        set.push('#vbrk = :vbrk');
      }
      expr = `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`;
    }
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PK]: keys.customer(customerId), [SK]: keys.profile },
          UpdateExpression: expr,
          ConditionExpression: '#rev = :rev',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return 'written';
    } catch (err) {
      if (isConditionFailure(err)) return 'conflict';
      throw err;
    }
  }

  async settle(
    customerId: string,
    written: { rev: number; epoch: number; outboxSize: number },
    published: readonly string[],
    logged: readonly string[],
  ): Promise<SettleOutcome> {
    if (published.length === 0 && logged.length === 0) return 'settled';
    const key = { [PK]: keys.customer(customerId), [SK]: keys.profile };
    const whole = published.length === written.outboxSize;
    try {
      // Nobody wrote since our revision: one update clears what went out and moves the revision.
      await this.update(key, written.rev, whole ? 'all' : published, logged, whole);
      return 'settled';
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    for (let attempt = 0; attempt < 8; attempt++) {
      const current = await this.get(customerId);
      if (!current || current.epoch !== written.epoch) return 'gone';
      const keysLeft = new Set(current.outbox.map((e) => e.dedupeKey));
      const stillPending = published.filter((k) => keysLeft.has(k));
      const idsLeft = new Set(current.unlogged);
      const stillUnlogged = logged.filter((id) => idsLeft.has(id));
      if (stillPending.length === 0 && stillUnlogged.length === 0) return 'moved';
      try {
        await this.update(key, current.rev, stillPending, stillUnlogged, stillPending.length === keysLeft.size);
        return 'moved';
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
    }
    throw new Error('outbox settle kept conflicting');
  }

  private async update(
    key: Record<string, unknown>,
    rev: number,
    published: readonly string[] | 'all',
    logged: readonly string[],
    emptiesOutbox: boolean,
  ): Promise<void> {
    const names: Record<string, string> = { '#rev': 'rev' };
    const values: Record<string, unknown> = { ':rev': rev, ':next': rev + 1 };
    const removes: string[] = [];
    if (published === 'all' || emptiesOutbox) {
      names['#o'] = 'outbox';
      names['#obpk'] = TABLE.outboxIndex.partitionKey;
      names['#obsk'] = TABLE.outboxIndex.sortKey;
      removes.push('#o', '#obpk', '#obsk');
    } else if (published.length) {
      names['#o'] = 'outbox';
      published.forEach((k, i) => {
        names[`#k${i}`] = k;
        removes.push(`#o.#k${i}`);
      });
    }
    let expr = 'SET #rev = :next';
    if (removes.length) expr += ` REMOVE ${removes.join(', ')}`;
    if (logged.length) {
      names['#u'] = 'unlogged';
      values[':ids'] = new Set(logged);
      expr += ' DELETE #u :ids';
    }
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: expr,
        ConditionExpression: '#rev = :rev',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
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
      for (const item of page.Items ?? []) {
        const profile = this.parse(item);
        if (!isTombstone(profile) && !isAlias(profile)) yield profile;
      }
      start = page.LastEvaluatedKey;
    } while (start);
  }
}
