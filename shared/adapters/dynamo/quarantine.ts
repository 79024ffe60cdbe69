import { createHash } from 'node:crypto';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { QUARANTINE_TABLE, keys } from '../../contracts/table';
import { REJECTION_REASONS, type Rejection } from '../../contracts/validate';
import type { Quarantine, QuarantineEntry } from '../../ports/stores';
import { mapLimit } from '../../util/concurrency';
import { batchWrite, queryAll } from './client';

/**
 * Bounds of one quarantine item. With them an item stays under ~30 KB whatever was rejected (DynamoDB's item limit is
 * 400 KB): a 200 KB order with 500 invalid items is stored as its first 16 KiB, its length and its SHA-256, and the
 * first 20 issues plus their total count.
 */
export const QUARANTINE_BOUNDS = {
  /** UTF-8 bytes of the raw body kept (cut at a character boundary). */
  rawMaxBytes: 16 * 1024,
  /** Validation issues kept per entry; `issueCount` keeps the total. */
  maxIssues: 20,
  /** Characters kept of each issue's path and message. */
  issueTextLength: 200,
} as const;

/** Items this adapter reads back (parsed, not cast): a malformed item is skipped rather than trusted. */
const itemSchema = z.object({
  messageId: z.string(),
  receivedAt: z.string(),
  cid: z.string().optional(),
  rejection: z.string(),
  raw: z.string(),
  // Absent on items written before the bounds existed.
  rawBytes: z.number().int().nonnegative().optional(),
  rawSha256: z.string().optional(),
  rawTruncated: z.boolean().optional(),
});
const rejectionSchema = z.looseObject({
  reason: z.enum(REJECTION_REASONS),
  detailType: z.string().optional(),
  eventId: z.string().optional(),
  customerId: z.string().optional(),
  issues: z.array(z.object({ path: z.string(), code: z.string(), message: z.string() })),
  issueCount: z.number().int().optional(),
});

/** Cuts `text` to at most `maxBytes` UTF-8 bytes without splitting a character. Pure. */
export function truncateUtf8(text: string, maxBytes: number): { text: string; bytes: number; truncated: boolean } {
  const buf = Buffer.from(text, 'utf8');
  if (buf.byteLength <= maxBytes) return { text, bytes: buf.byteLength, truncated: false };
  let end = maxBytes;
  // Step back over continuation bytes (10xxxxxx) to the start of the character that straddles the cut.
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return { text: buf.subarray(0, end).toString('utf8'), bytes: buf.byteLength, truncated: true };
}

/** The rejection with its issue list capped (the total kept as `issueCount`). Pure. */
export function boundRejection(rejection: Rejection): Rejection & { issueCount: number } {
  const cut = (s: string) => s.slice(0, QUARANTINE_BOUNDS.issueTextLength);
  return {
    ...rejection,
    issues: rejection.issues
      .slice(0, QUARANTINE_BOUNDS.maxIssues)
      .map((i) => ({ path: cut(i.path), code: cut(i.code), message: cut(i.message) })),
    issueCount: rejection.issues.length,
  };
}

/**
 * The quarantine table (shared/contracts/table.ts, QUARANTINE_TABLE): entries partitioned by arrival day, found by
 * customer through the sparse byCustomer index, expired by TTL after `retentionDays`.
 */
export class DynamoQuarantine implements Quarantine {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    /** The quarantine table (QUARANTINE_TABLE layout). */
    readonly tableName: string,
    private readonly retentionDays: number,
  ) {}

  async put(entries: readonly QuarantineEntry[]): Promise<{ failed: string[] }> {
    const failed: string[] = [];
    await mapLimit(entries, 8, async (e) => {
      try {
        await this.doc.send(new PutCommand({ TableName: this.tableName, Item: this.item(e) }));
      } catch {
        // One entry's failure (throttling, a bad date) must not cost the others their place: the caller retries it.
        failed.push(e.messageId);
      }
    });
    return { failed };
  }

  async list(day: string): Promise<QuarantineEntry[]> {
    const out: QuarantineEntry[] = [];
    for await (const item of queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': QUARANTINE_TABLE.partitionKey },
      ExpressionAttributeValues: { ':pk': keys.quarantine(day) },
    })) {
      const entry = parseItem(item);
      if (entry) out.push(entry);
    }
    return out;
  }

  async eraseCustomer(customerId: string): Promise<number> {
    const ix = QUARANTINE_TABLE.byCustomerIndex;
    const found: Record<string, unknown>[] = [];
    for await (const item of queryAll(this.doc, {
      TableName: this.tableName,
      IndexName: ix.name,
      KeyConditionExpression: '#cid = :cid',
      ExpressionAttributeNames: { '#cid': ix.partitionKey },
      ExpressionAttributeValues: { ':cid': customerId },
    })) {
      found.push({
        [QUARANTINE_TABLE.partitionKey]: item[QUARANTINE_TABLE.partitionKey],
        [QUARANTINE_TABLE.sortKey]: item[QUARANTINE_TABLE.sortKey],
      });
    }
    await batchWrite(
      this.doc,
      this.tableName,
      found.map((Key) => ({ DeleteRequest: { Key } })),
    );
    return found.length;
  }

  private item(e: QuarantineEntry): Record<string, unknown> {
    const receivedMs = Date.parse(e.receivedAt);
    if (!Number.isFinite(receivedMs)) throw new Error('receivedAt is not a date');
    const raw = truncateUtf8(e.raw, QUARANTINE_BOUNDS.rawMaxBytes);
    const named = e.customerId ?? e.rejection.customerId ?? null;
    // An index key is at most 2,048 bytes; validation caps ids at 128 characters, so only a forged id is dropped.
    const customerId = named && Buffer.byteLength(named, 'utf8') <= 1024 ? named : null;
    return {
      [QUARANTINE_TABLE.partitionKey]: keys.quarantine(e.receivedAt.slice(0, 10)),
      [QUARANTINE_TABLE.sortKey]: keys.quarantineEntry(e.receivedAt, e.messageId),
      // Sparse: entries whose customer is unknown stay out of the byCustomer index.
      ...(customerId ? { [QUARANTINE_TABLE.byCustomerIndex.partitionKey]: customerId } : {}),
      reason: e.rejection.reason,
      rejection: JSON.stringify(boundRejection(e.rejection)),
      raw: raw.text,
      rawBytes: raw.bytes,
      rawSha256: createHash('sha256').update(e.raw, 'utf8').digest('hex'),
      rawTruncated: raw.truncated,
      messageId: e.messageId,
      receivedAt: e.receivedAt,
      [QUARANTINE_TABLE.ttlAttribute]: Math.floor(receivedMs / 1000) + this.retentionDays * 86_400,
    };
  }
}

function parseItem(item: Record<string, unknown>): QuarantineEntry | null {
  const parsed = itemSchema.safeParse(item);
  if (!parsed.success) return null;
  let rejection: Rejection;
  try {
    const r = rejectionSchema.safeParse(JSON.parse(parsed.data.rejection));
    if (!r.success) return null;
    rejection = r.data;
  } catch {
    return null;
  }
  const d = parsed.data;
  return {
    messageId: d.messageId,
    receivedAt: d.receivedAt,
    customerId: d.cid ?? null,
    rejection,
    raw: d.raw,
    ...(d.rawBytes !== undefined && d.rawSha256 !== undefined
      ? { rawInfo: { bytes: d.rawBytes, sha256: d.rawSha256, truncated: d.rawTruncated ?? false } }
      : {}),
  };
}
