/**
 * The single-table layout, shared by the CDK data construct, the DynamoDB adapters and the local stack.
 *
 *   C#<customerId> / E#<eventId>            event log item (idempotent by event id), TTL-bounded
 *   C#<customerId> / PROFILE                features, interest vector, assignment, traits, outbox, rev
 *   C#<customerId> / H#<changedAt>#<key>    transition history
 *   MODEL / ACTIVE, MODEL / V#<n>           segmentation model pointer and versions
 *   RUN#<runId> / RUN                       nightly run status
 *
 * Quarantined inbound records live in their own table (QUARANTINE_TABLE): they hold raw payloads, and a separate table
 * is the only way IAM can keep them from roles that Scan the main table (dynamodb:LeadingKeys does not apply to Scan).
 */
export const TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'ttl',
  /** Audience export: SEG#<segmentId> -> C#<customerId>. Only profiles with an assignment carry the keys. */
  bySegmentIndex: { name: 'bySegment', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  /** Sparse index of profiles whose outbox holds unpublished changes, spread over a few partitions. */
  outboxIndex: { name: 'outboxPending', partitionKey: 'obpk', sortKey: 'obsk', partitions: 8 },
  /**
   * The nightly change index (sparse, keys only): every profile item carries `nkpk` = NIGHT#<bucket> (the customer's
   * bucket of `nightly.buckets`, so no one key is hot), `dueAt` (epoch ms: the earliest instant its segment or stage
   * could change with no new event and no model change; 0 = due at the next night, what every real-time write sets)
   * and, when the night evaluated it, `breakAt` (the centroid clock at which moved centroids could move it) and
   * `valueBreakAt` (the value clock at which a refitted value model could change its stage). The night Queries
   * `dueAt ≤ asOf`, `breakAt ≤ clock` and `valueBreakAt ≤ valueClock` per bucket instead of scanning the table.
   * A real-time write computes the marks itself (as of its event time) and sets `touchedAt` (epoch ms of the write):
   * ScanShard re-reads the customers touched since the previous night's population (their sample rows changed), a
   * range Query that needs no write to clear it, and AssignShard evaluates only those due or broken.
   */
  nightlyDueIndex: { name: 'nightlyDue', partitionKey: 'nkpk', sortKey: 'dueAt' },
  nightlyBreakIndex: { name: 'nightlyBreak', partitionKey: 'nkpk', sortKey: 'breakAt' },
  nightlyValueIndex: { name: 'nightlyValueBreak', partitionKey: 'nkpk', sortKey: 'valueBreakAt' },
  nightlyTouchedIndex: { name: 'nightlyTouched', partitionKey: 'nkpk', sortKey: 'touchedAt' },
  nightly: { buckets: 8 },
} as const;

/** FNV-1a of the customer id (32 bits): the one hash that places a customer in a nightly bucket and shard. */
export function customerHash(customerId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < customerId.length; i++) {
    h ^= customerId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The nightly index partition of a customer: NIGHT#<hash mod buckets>. */
export function nightlyBucketKey(customerId: string): string {
  return `NIGHT#${customerHash(customerId) % TABLE.nightly.buckets}`;
}

/** The nightly shard (of `totalShards`) a customer belongs to: hash mod totalShards, whatever the bucket count. */
export function nightlyShardOf(customerId: string, totalShards: number): number {
  return customerHash(customerId) % totalShards;
}

/**
 * The index buckets that can hold customers of `shard`: b with b ≡ shard (mod gcd(buckets, totalShards)). A shard
 * queries these and keeps the customers whose `nightlyShardOf` is its own (all of them when totalShards divides
 * the bucket count).
 */
export function nightlyBucketsOfShard(shard: number, totalShards: number): number[] {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const g = gcd(TABLE.nightly.buckets, totalShards);
  const out: number[] = [];
  for (let b = 0; b < TABLE.nightly.buckets; b++) if ((b - shard) % g === 0) out.push(b);
  return out;
}

export const keys = {
  customer: (customerId: string) => `C#${customerId}`,
  event: (eventId: string) => `E#${eventId}`,
  profile: 'PROFILE',
  history: (changedAt: string, dedupeKey: string) => `H#${changedAt}#${dedupeKey}`,
  modelPk: 'MODEL',
  activeModel: 'ACTIVE',
  modelVersion: (version: number) => `V#${String(version).padStart(8, '0')}`,
  run: (runId: string) => `RUN#${runId}`,
  runSk: 'RUN',
  quarantine: (day: string) => `Q#${day}`,
  quarantineEntry: (receivedAt: string, messageId: string) => `${receivedAt}#${messageId}`,
  segment: (segmentId: string) => `SEG#${segmentId}`,
} as const;

/**
 * The quarantine table (raw rejected records, TTL-bounded), shared by the CDK data construct, the adapter and the
 * local stack.
 *
 *   Q#<yyyy-mm-dd> / <receivedAt>#<msgId>   one rejected record; `cid` = its customer id when the rejection knew it
 *
 * The sparse byCustomer index (cid -> sk, keys only) finds a customer's entries for erasure.
 */
export const QUARANTINE_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'ttl',
  byCustomerIndex: { name: 'byCustomer', partitionKey: 'cid', sortKey: 'sk' },
} as const;
