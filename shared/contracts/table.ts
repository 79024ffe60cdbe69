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
} as const;

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
