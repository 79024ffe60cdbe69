/**
 * The single-table layout, shared by the CDK data construct, the DynamoDB adapters and the local stack.
 *
 *   C#<customerId> / E#<eventId>            event log item (idempotent by event id), TTL-bounded
 *   C#<customerId> / PROFILE                features, interest vector, assignment, traits, outbox, rev
 *   C#<customerId> / H#<changedAt>#<key>    transition history
 *   MODEL / ACTIVE, MODEL / V#<n>           segmentation model pointer and versions
 *   RUN#<runId> / RUN                       nightly run status
 *   Q#<yyyy-mm-dd> / <receivedAt>#<msgId>   quarantined inbound records, TTL-bounded
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
  segment: (segmentId: string) => `SEG#${segmentId}`,
} as const;
