import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { OUTBOUND_SOURCE } from '../contracts/outbound';
import type { OutboxEntry, PublishResult, Publisher } from '../ports/stores';

/** PutEvents takes at most 10 entries per call. */
const MAX_ENTRIES = 10;

export interface EventBridgePublisherOptions {
  client: EventBridgeClient;
  eventBusName: string;
  maxAttempts?: number;
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Publishes outbox entries. Entries that EventBridge reports as failed (FailedEntryCount) are retried
 * with backoff; whatever still fails is returned, not thrown, so the caller keeps it in the outbox.
 */
export class EventBridgePublisher implements Publisher {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: EventBridgePublisherOptions) {
    this.maxAttempts = options.maxAttempts ?? 4;
    this.baseDelayMs = options.baseDelayMs ?? 50;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async publish(entries: readonly OutboxEntry[]): Promise<PublishResult> {
    let published = 0;
    const failed: PublishResult['failed'] = [];
    for (let i = 0; i < entries.length; i += MAX_ENTRIES) {
      const chunk = entries.slice(i, i + MAX_ENTRIES);
      const result = await this.publishChunk(chunk);
      published += result.published;
      failed.push(...result.failed);
    }
    return { published, failed };
  }

  private toEntry(e: OutboxEntry): PutEventsRequestEntry {
    return {
      EventBusName: this.options.eventBusName,
      Source: OUTBOUND_SOURCE,
      DetailType: e.event.detailType,
      Detail: JSON.stringify(e.event.detail),
    };
  }

  private async publishChunk(chunk: readonly OutboxEntry[]): Promise<PublishResult> {
    let pending = [...chunk];
    let published = 0;
    let lastErrors = new Map<string, string>();
    for (let attempt = 0; attempt < this.maxAttempts && pending.length > 0; attempt++) {
      if (attempt > 0) await this.sleep(this.baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
      let results: { ErrorCode?: string }[];
      try {
        const res = await this.options.client.send(
          new PutEventsCommand({ Entries: pending.map((e) => this.toEntry(e)) }),
        );
        results = res.Entries ?? [];
      } catch (err) {
        // The whole call failed (throttled, network): every entry is retried.
        const code = err instanceof Error ? err.name : 'Error';
        lastErrors = new Map(pending.map((e) => [e.dedupeKey, code]));
        continue;
      }
      const retry: OutboxEntry[] = [];
      lastErrors = new Map();
      pending.forEach((entry, idx) => {
        const code = results[idx]?.ErrorCode;
        if (code) {
          retry.push(entry);
          lastErrors.set(entry.dedupeKey, code);
        } else {
          published += 1;
        }
      });
      pending = retry;
    }
    return {
      published,
      failed: pending.map((e) => ({ dedupeKey: e.dedupeKey, errorCode: lastErrors.get(e.dedupeKey) ?? 'Unknown' })),
    };
  }
}
