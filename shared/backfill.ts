import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';

/** One inbound event to (re)send: what a storefront would put on the bus. */
export interface BackfillEntry {
  detailType: string;
  detail: unknown;
  time?: Date;
}

export interface BackfillResult {
  sent: number;
  failed: { errorCode: string; count: number }[];
}

/**
 * Sends history to the Shoal bus as the storefront would (source `source`), ten entries per PutEvents call,
 * retrying entries EventBridge reports as failed. The ingest path is idempotent by event id, so a backfill can be
 * re-run after an interruption.
 */
export async function sendToBus(
  client: EventBridgeClient,
  busName: string,
  source: string,
  entries: AsyncIterable<BackfillEntry> | Iterable<BackfillEntry>,
  opts: { maxAttempts?: number; onProgress?: (sent: number) => void } = {},
): Promise<BackfillResult> {
  const failed = new Map<string, number>();
  let sent = 0;
  let chunk: BackfillEntry[] = [];
  const flush = async () => {
    let pending = chunk;
    chunk = [];
    for (let attempt = 0; pending.length > 0; attempt++) {
      const res = await client.send(
        new PutEventsCommand({
          Entries: pending.map((e) => ({
            EventBusName: busName,
            Source: source,
            DetailType: e.detailType,
            Detail: JSON.stringify(e.detail),
            ...(e.time ? { Time: e.time } : {}),
          })),
        }),
      );
      const retry: BackfillEntry[] = [];
      pending.forEach((e, i) => {
        const code = res.Entries?.[i]?.ErrorCode;
        if (!code) sent += 1;
        else if (attempt + 1 < (opts.maxAttempts ?? 4)) retry.push(e);
        else failed.set(code, (failed.get(code) ?? 0) + 1);
      });
      pending = retry;
      if (pending.length) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
    opts.onProgress?.(sent);
  };
  for await (const e of entries) {
    chunk.push(e);
    if (chunk.length === 10) await flush();
  }
  if (chunk.length) await flush();
  return { sent, failed: [...failed.entries()].map(([errorCode, count]) => ({ errorCode, count })) };
}
