import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { PUT_EVENTS_MAX_ENTRIES, PUT_EVENTS_MAX_REQUEST_BYTES, putEventsEntrySize } from './events/entry-size';

/** One inbound event to (re)send: what a storefront would put on the bus. */
export interface BackfillEntry {
  detailType: string;
  detail: unknown;
  time?: Date;
  /** Where the event came from (1-based line of the input file), for reports. */
  line?: number;
}

export interface BackfillResult {
  /** Entries EventBridge accepted. */
  sent: number;
  /** Entries not accepted after retries, by error code (EventBridge's per-entry code, or the request error's name). */
  failed: { errorCode: string; count: number }[];
  /** Entries over the 256 KiB PutEvents limit on their own, which no request can carry: by input line, with size. */
  tooLarge: { line: number; bytes: number }[];
}

/** Entry codes worth retrying: throttling and EventBridge's internal failures. Anything else fails at once. */
const RETRYABLE = new Set(['ThrottlingException', 'InternalFailure', 'InternalException']);

/**
 * Sends history to the Shoal bus as the storefront would (source `source`). Requests hold at most 10 entries and at
 * most 256 KiB of entries, sized as EventBridge sizes them (shared/events/entry-size.ts); an entry larger than that on
 * its own is reported by line and skipped. Entries EventBridge reports as throttled are retried with backoff; a
 * request that fails as a whole (a ValidationException, a network error) counts its entries as failed and the send
 * goes on. Never throws for one entry or request: the result always says what happened. The ingest path is
 * idempotent by event id, so a backfill can be re-run after an interruption.
 */
export async function sendToBus(
  client: EventBridgeClient,
  busName: string,
  source: string,
  entries: AsyncIterable<BackfillEntry> | Iterable<BackfillEntry>,
  opts: { maxAttempts?: number; onProgress?: (sent: number) => void } = {},
): Promise<BackfillResult> {
  const maxAttempts = opts.maxAttempts ?? 4;
  const failed = new Map<string, number>();
  const fail = (code: string, n = 1) => failed.set(code, (failed.get(code) ?? 0) + n);
  const tooLarge: BackfillResult['tooLarge'] = [];
  let sent = 0;
  let ordinal = 0;
  let chunk: PutEventsRequestEntry[] = [];
  let chunkBytes = 0;

  const flush = async () => {
    let pending = chunk;
    chunk = [];
    chunkBytes = 0;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      let results;
      try {
        results = (await client.send(new PutEventsCommand({ Entries: pending }))).Entries ?? [];
      } catch (err) {
        fail((err as Error).name || 'RequestFailed', pending.length);
        break;
      }
      const retry: PutEventsRequestEntry[] = [];
      pending.forEach((e, i) => {
        const code = results[i]?.ErrorCode;
        if (!code) sent += 1;
        else if (RETRYABLE.has(code) && attempt + 1 < maxAttempts) retry.push(e);
        else fail(code);
      });
      pending = retry;
    }
    opts.onProgress?.(sent);
  };

  for await (const e of entries) {
    ordinal += 1;
    const entry: PutEventsRequestEntry = {
      EventBusName: busName,
      Source: source,
      DetailType: e.detailType,
      Detail: JSON.stringify(e.detail),
      ...(e.time ? { Time: e.time } : {}),
    };
    const bytes = putEventsEntrySize(entry);
    if (bytes > PUT_EVENTS_MAX_REQUEST_BYTES) {
      tooLarge.push({ line: e.line ?? ordinal, bytes });
      continue;
    }
    if (chunk.length === PUT_EVENTS_MAX_ENTRIES || chunkBytes + bytes > PUT_EVENTS_MAX_REQUEST_BYTES) await flush();
    chunk.push(entry);
    chunkBytes += bytes;
  }
  if (chunk.length) await flush();
  return { sent, failed: [...failed.entries()].map(([errorCode, count]) => ({ errorCode, count })), tooLarge };
}
