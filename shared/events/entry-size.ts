/**
 * EventBridge PutEvents size rules, shared by `shoal backfill` (shared/backfill.ts) and the local bus (local/bus.ts)
 * so that both refuse exactly what AWS refuses.
 *
 * Source: "Calculating Amazon EventBridge PutEvents event entry size", EventBridge user guide: an entry's size is
 * 14 bytes for Time (if set) plus the UTF-8 bytes of Source, DetailType, Detail (if set) and each of Resources; the
 * entries of one request may total at most 256 KiB.
 */

/** Entries per PutEvents request. */
export const PUT_EVENTS_MAX_ENTRIES = 10;
/** Total entry size of one PutEvents request, in bytes (256 KiB). */
export const PUT_EVENTS_MAX_REQUEST_BYTES = 256 * 1024;

/** The fields of a PutEvents request entry that count towards its size (the SDK's entry type is assignable). */
export interface SizedEntry {
  Source?: string | undefined;
  DetailType?: string | undefined;
  Detail?: string | undefined;
  Time?: unknown;
  Resources?: readonly string[] | undefined;
}

/** An entry's size in bytes, as EventBridge computes it (see the file header). */
export function putEventsEntrySize(entry: SizedEntry): number {
  let size = entry.Time !== undefined && entry.Time !== null ? 14 : 0;
  for (const s of [entry.Source, entry.DetailType, entry.Detail, ...(entry.Resources ?? [])]) {
    if (typeof s === 'string') size += Buffer.byteLength(s, 'utf8');
  }
  return size;
}

/**
 * The ingest queue's (and its DLQ's) MaximumMessageSize: SQS's maximum, 1 MiB (1,048,576 bytes, body plus every
 * message attribute's name, type and value; the limit rose from 256 KiB in August 2025). EventBridge delivers the
 * whole event envelope (id, account, region, time, resources and the keys around them) as the body, so an entry of
 * exactly 256 KiB arrives as a body a few hundred bytes larger: a 256 KiB queue would drop what the bus accepted.
 */
export const INGEST_QUEUE_MAX_MESSAGE_BYTES = 1024 * 1024;
