/**
 * In-memory SQS queue with a Lambda event-source-mapping consumer, for `npm start` and the integration tests.
 *
 * Semantics mirrored (deterministic, no timers):
 * - `drain(handler)` delivers batches of up to `batchSize` records shaped like `aws-lambda`'s `SQSEvent`, oldest first,
 *   until the queue is empty. Each delivery is one receive: `ApproximateReceiveCount` goes up by one.
 * - With ReportBatchItemFailures (the default here), a returned `{ batchItemFailures: [{ itemIdentifier }] }` marks
 *   only those messages failed; returning nothing / an empty list is full success. A thrown error (or an invalid
 *   response: an empty or unknown itemIdentifier) fails the whole batch.
 * - A failed message becomes visible again: the visibility timeout is simulated as an immediate re-queue at the back.
 * - Redrive: a message that has been received `maxReceiveCount` times and failed again moves to `deadLetters` instead
 *   of being received once more (SQS moves it when its receive count would exceed `maxReceiveCount`).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { INGEST_QUEUE_MAX_MESSAGE_BYTES } from '../shared/events/entry-size';

/** A Lambda SQS handler (a plain `(event) => …` works too); it gets a local invocation Context. */
export type SQSBatchHandler = (
  event: SQSEvent,
  context: Context,
) => Promise<SQSBatchResponse | void> | SQSBatchResponse | void;

export interface LocalQueueOptions {
  /** Queue name (used in eventSourceARN). Default "local-queue". */
  name?: string;
  /** Records per batch, 1–10 000 (Lambda's SQS limit). Default 10. */
  batchSize?: number;
  /** Receives before a failing message is dead-lettered, 1–1000 (SQS redrive policy). Default 3. */
  maxReceiveCount?: number;
  /** ReportBatchItemFailures on the event source mapping. Default true. */
  reportBatchItemFailures?: boolean;
  account?: string;
  region?: string;
  /** Clock for SentTimestamp / ApproximateFirstReceiveTimestamp. Default Date.now. */
  now?: () => number;
  /** Consumer function name reported in the invocation Context. Default `${name}-consumer`. */
  functionName?: string;
  /** Consumer timeout reported by `context.getRemainingTimeInMillis()`. Default 30 000. */
  functionTimeoutMs?: number;
}

export interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly messageAttributes: SQSMessageAttributes;
  readonly sentTimestamp: number;
  receiveCount: number;
  firstReceiveTimestamp?: number;
  /** Why the latest delivery failed (thrown error, or "reported in batchItemFailures"). */
  lastError?: unknown;
}

export interface LocalQueueStats {
  /** Messages accepted by `send`. */
  sent: number;
  /** Record deliveries (a message delivered three times counts three). */
  delivered: number;
  /** Messages whose delivery succeeded (deleted from the queue). */
  succeeded: number;
  /** Failed deliveries that made the message visible again. */
  retried: number;
  /** Messages moved to the dead-letter list. */
  deadLettered: number;
}

export interface DrainResult extends LocalQueueStats {
  /** Handler invocations during this drain. */
  batches: number;
}

export interface SendOptions {
  messageAttributes?: SQSMessageAttributes;
}

/**
 * SQS maximum message size: 1 MiB, counting the body and every message attribute's name, data type and value, as the
 * Shoal ingest queue is configured (shared/events/entry-size.ts), so that whatever the local bus accepts, the queue
 * takes.
 */
export const MAX_MESSAGE_BYTES = INGEST_QUEUE_MAX_MESSAGE_BYTES;

/** A message's size as SQS counts it: body plus attribute names, data types and values (UTF-8 or binary bytes). */
export function messageSize(body: string, attributes: SQSMessageAttributes = {}): number {
  let size = Buffer.byteLength(body, 'utf8');
  for (const [name, a] of Object.entries(attributes)) {
    size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(a.dataType, 'utf8');
    if (a.stringValue !== undefined) size += Buffer.byteLength(a.stringValue, 'utf8');
    if (a.binaryValue !== undefined) size += Buffer.byteLength(a.binaryValue, 'base64');
  }
  return size;
}
const BATCH_ITEM_FAILURE = 'reported in batchItemFailures';

function md5(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

function integerIn(value: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${what} must be an integer between ${min} and ${max}, got ${value}`);
  }
  return value;
}

export class LocalQueue {
  readonly name: string;
  readonly arn: string;
  readonly batchSize: number;
  readonly maxReceiveCount: number;
  readonly reportBatchItemFailures: boolean;
  private readonly region: string;
  private readonly account: string;
  private readonly functionName: string;
  private readonly functionTimeoutMs: number;
  private readonly now: () => number;
  private readonly visible: QueuedMessage[] = [];
  private readonly dead: QueuedMessage[] = [];
  private readonly counters: LocalQueueStats = { sent: 0, delivered: 0, succeeded: 0, retried: 0, deadLettered: 0 };
  private draining = false;

  constructor(options: LocalQueueOptions = {}) {
    this.name = options.name ?? 'local-queue';
    this.region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
    this.account = options.account ?? '123456789012';
    this.arn = `arn:aws:sqs:${this.region}:${this.account}:${this.name}`;
    this.functionName = options.functionName ?? `${this.name}-consumer`;
    this.functionTimeoutMs = options.functionTimeoutMs ?? 30_000;
    this.batchSize = integerIn(options.batchSize ?? 10, 1, 10_000, 'batchSize');
    this.maxReceiveCount = integerIn(options.maxReceiveCount ?? 3, 1, 1000, 'maxReceiveCount');
    this.reportBatchItemFailures = options.reportBatchItemFailures ?? true;
    this.now = options.now ?? Date.now;
  }

  /** Enqueues a message; returns its messageId. */
  send(body: string, options: SendOptions = {}): string {
    if (typeof body !== 'string') throw new TypeError('body must be a string');
    const size = messageSize(body, options.messageAttributes);
    if (body === '' || size > MAX_MESSAGE_BYTES) {
      throw new RangeError(`message (body and attributes) must be 1..${MAX_MESSAGE_BYTES} bytes, got ${size}`);
    }
    const message: QueuedMessage = {
      messageId: randomUUID(),
      body,
      messageAttributes: structuredClone(options.messageAttributes ?? {}),
      sentTimestamp: this.now(),
      receiveCount: 0,
    };
    this.visible.push(message);
    this.counters.sent++;
    return message.messageId;
  }

  /** Messages waiting to be delivered. */
  get depth(): number {
    return this.visible.length;
  }

  /** Snapshot of the waiting messages, oldest first. */
  get messages(): readonly QueuedMessage[] {
    return [...this.visible];
  }

  /** The dead-letter list, in the order messages were moved there. */
  get deadLetters(): readonly QueuedMessage[] {
    return this.dead;
  }

  get stats(): LocalQueueStats {
    return { ...this.counters };
  }

  /** Removes and returns the dead letters (e.g. to redrive them with `send`). */
  takeDeadLetters(): QueuedMessage[] {
    return this.dead.splice(0, this.dead.length);
  }

  /** Delivers batches to `handler` until the queue is empty (messages sent meanwhile are delivered too). */
  async drain(handler: SQSBatchHandler): Promise<DrainResult> {
    if (this.draining) throw new Error(`queue ${this.name} is already being drained`);
    this.draining = true;
    const before = this.stats;
    let batches = 0;
    try {
      while (this.visible.length > 0) {
        await this.deliverBatch(handler);
        batches++;
      }
    } finally {
      this.draining = false;
    }
    const after = this.stats;
    return {
      batches,
      sent: after.sent - before.sent,
      delivered: after.delivered - before.delivered,
      succeeded: after.succeeded - before.succeeded,
      retried: after.retried - before.retried,
      deadLettered: after.deadLettered - before.deadLettered,
    };
  }

  private toRecord(message: QueuedMessage): SQSRecord {
    const attributesJson = JSON.stringify(message.messageAttributes);
    return {
      messageId: message.messageId,
      receiptHandle: Buffer.from(`${message.messageId}:${randomUUID()}`).toString('base64'),
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(message.sentTimestamp),
        SenderId: 'AIDALOCALQUEUE',
        ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp ?? message.sentTimestamp),
      },
      messageAttributes: structuredClone(message.messageAttributes),
      md5OfBody: md5(message.body),
      ...(attributesJson === '{}' ? {} : { md5OfMessageAttributes: md5(attributesJson) }),
      eventSource: 'aws:sqs',
      eventSourceARN: this.arn,
      awsRegion: this.region,
    };
  }

  private async deliverBatch(handler: SQSBatchHandler): Promise<void> {
    const batch = this.visible.splice(0, this.batchSize);
    const receivedAt = this.now();
    for (const m of batch) {
      m.receiveCount++;
      m.firstReceiveTimestamp ??= receivedAt;
    }
    this.counters.delivered += batch.length;
    const event: SQSEvent = { Records: batch.map((m) => this.toRecord(m)) };

    let failed: Map<string, unknown>;
    try {
      const response = await handler(event, this.context());
      failed = this.failuresFrom(response, batch);
    } catch (error) {
      failed = new Map(batch.map((m) => [m.messageId, error]));
    }

    for (const m of batch) {
      if (!failed.has(m.messageId)) {
        this.counters.succeeded++;
        continue;
      }
      m.lastError = failed.get(m.messageId);
      if (m.receiveCount >= this.maxReceiveCount) {
        this.dead.push(m);
        this.counters.deadLettered++;
      } else {
        this.visible.push(m);
        this.counters.retried++;
      }
    }
  }

  private context(): Context {
    const deadline = Date.now() + this.functionTimeoutMs;
    const unsupported = () => {
      throw new Error('legacy Context callbacks are not supported locally');
    };
    return {
      callbackWaitsForEmptyEventLoop: true,
      functionName: this.functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${this.region}:${this.account}:function:${this.functionName}`,
      memoryLimitInMB: '128',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${this.functionName}`,
      logStreamName: 'local',
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: unsupported,
      fail: unsupported,
      succeed: unsupported,
    };
  }

  /** Maps a handler response to the failed messages (id → reason), following Lambda's partial-batch rules. */
  private failuresFrom(response: unknown, batch: QueuedMessage[]): Map<string, unknown> {
    if (!this.reportBatchItemFailures || response === undefined || response === null) return new Map();
    const all = (reason: string) => new Map<string, unknown>(batch.map((m) => [m.messageId, new Error(reason)]));
    if (typeof response !== 'object') return all('invalid batch response');
    const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
    if (failures === undefined || failures === null) return new Map();
    if (!Array.isArray(failures)) return all('invalid batch response: batchItemFailures is not a list');
    const ids = new Set(batch.map((m) => m.messageId));
    const failed = new Map<string, unknown>();
    for (const f of failures as unknown[]) {
      const id = typeof f === 'object' && f !== null ? (f as { itemIdentifier?: unknown }).itemIdentifier : undefined;
      if (typeof id !== 'string' || id === '' || !ids.has(id)) {
        return all(`invalid batch response: itemIdentifier ${JSON.stringify(id)} is not a message of the batch`);
      }
      failed.set(id, BATCH_ITEM_FAILURE);
    }
    return failed;
  }
}
