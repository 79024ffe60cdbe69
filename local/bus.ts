/**
 * In-memory EventBridge bus for `npm start` and the integration tests.
 *
 * - `putEvents` mirrors the PutEvents API (request entries in, `{FailedEntryCount, Entries}` out, index-aligned), so
 *   the publisher code that targets EventBridge can target this bus unchanged.
 * - Rules route by EventBridge pattern semantics (shared/events/pattern.ts); every matching rule's target is invoked.
 * - `listen()` serves the EventBridge JSON protocol so `@aws-sdk/client-eventbridge` works against it with
 *   `endpoint: http://127.0.0.1:PORT` and dummy credentials.
 *
 * Delivery is awaited inside `putEvents` (deterministic for tests). A target that throws does not fail the PutEvents
 * call — as on AWS, ingestion and delivery are separate — the failure is recorded in `failedDeliveries`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventBridgeEvent } from 'aws-lambda';
import { PUT_EVENTS_MAX_ENTRIES, PUT_EVENTS_MAX_REQUEST_BYTES, putEventsEntrySize } from '../shared/events/entry-size';
import { compilePattern, type CompiledEventPattern, type EventPattern } from '../shared/events/pattern';

/** A PutEvents request entry (the SDK's `PutEventsRequestEntry` is assignable to it). */
export interface PutEventsEntry {
  Source?: string | undefined;
  DetailType?: string | undefined;
  /** A JSON object, as a string. */
  Detail?: string | undefined;
  EventBusName?: string | undefined;
  /** Defaults to the bus clock. */
  Time?: Date | string | undefined;
  Resources?: string[] | undefined;
  TraceHeader?: string | undefined;
}

export type PutEventsResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

export interface PutEventsResult {
  FailedEntryCount: number;
  Entries: PutEventsResultEntry[];
}

export type BusEvent<TDetail = unknown> = EventBridgeEvent<string, TDetail>;
export type BusTarget = (event: BusEvent) => void | Promise<void>;

export interface BusRule {
  name: string;
  /** An EventBridge pattern: object or JSON string. Validated like PutRule does. */
  eventPattern: EventPattern | Record<string, unknown> | string;
  target: BusTarget;
}

export interface FailedDelivery {
  rule: string;
  event: BusEvent;
  error: unknown;
}

export interface ArchivedEvent {
  eventBusName: string;
  event: BusEvent;
}

export interface LocalEventBusOptions {
  /** Bus name used when an entry has no EventBusName (default "default"). */
  name?: string;
  account?: string;
  region?: string;
  /** Clock used when an entry has no Time (default Date.now). */
  now?: () => number;
}

/** PutEvents request-level validation failure (the SDK surfaces it as `ValidationException`). */
export class PutEventsValidationError extends Error {
  override readonly name = 'ValidationException';
}

export interface ListeningBus {
  /** e.g. `http://127.0.0.1:54321` — pass as the SDK client's `endpoint`. */
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

/** PutEvents accepts 1–10 entries per request. */
export const MAX_ENTRIES_PER_REQUEST = PUT_EVENTS_MAX_ENTRIES;
/** PutEvents total request size limit (256 KiB), computed as in "Calculating PutEvents event entry size". */
export const MAX_REQUEST_BYTES = PUT_EVENTS_MAX_REQUEST_BYTES;

const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

interface Rule {
  name: string;
  compiled: CompiledEventPattern;
  target: BusTarget;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** EventBridge timestamps: ISO-8601 at second precision (`2017-12-22T18:43:48Z`). */
function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function timeToMillis(time: Date | string): number | undefined {
  const ms = time instanceof Date ? time.getTime() : Date.parse(time);
  return Number.isFinite(ms) ? ms : undefined;
}

export class LocalEventBus {
  readonly name: string;
  readonly account: string;
  readonly region: string;
  private readonly now: () => number;
  private readonly rules = new Map<string, Rule>();
  private readonly archive: ArchivedEvent[] = [];
  private keep: (event: BusEvent) => boolean = () => true;
  /** Accepted events by source, then detail-type: counts survive what the archive does not keep. */
  private readonly counts = new Map<string, Record<string, number>>();
  private readonly failures: FailedDelivery[] = [];

  constructor(options: LocalEventBusOptions = {}) {
    this.name = options.name ?? 'default';
    this.account = options.account ?? '123456789012';
    this.region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
    this.now = options.now ?? Date.now;
  }

  /** Adds or replaces (by name, like PutRule) a rule. Throws InvalidEventPatternError for a malformed pattern. */
  addRule(rule: BusRule): void {
    this.rules.set(rule.name, { name: rule.name, compiled: compilePattern(rule.eventPattern), target: rule.target });
  }

  removeRule(name: string): boolean {
    return this.rules.delete(name);
  }

  get ruleNames(): string[] {
    return [...this.rules.keys()];
  }

  /**
   * Archives only the accepted events `filter` keeps from now on (default: all). A long local run keeps Shoal's own
   * events for its summary and routes the storefront's without holding on to them.
   */
  archiveOnly(filter: (event: BusEvent) => boolean): void {
    this.keep = filter;
  }

  /** How many events of each detail-type the bus accepted from `source` (archived or not). */
  acceptedCounts(source: string): Record<string, number> {
    return { ...(this.counts.get(source) ?? {}) };
  }

  /** Every accepted event, in order. */
  get events(): BusEvent[] {
    return this.archive.map((a) => a.event);
  }

  /** Every accepted event with the bus name it was addressed to. */
  get archived(): readonly ArchivedEvent[] {
    return this.archive;
  }

  /** Accepted events of one detail-type (test helper). */
  eventsOf<TDetail = unknown>(detailType: string): BusEvent<TDetail>[] {
    return this.events.filter((e) => e['detail-type'] === detailType) as BusEvent<TDetail>[];
  }

  /** Target invocations that threw or rejected. */
  get failedDeliveries(): readonly FailedDelivery[] {
    return this.failures;
  }

  /** Forgets archived events and failed deliveries (rules are kept). */
  clear(): void {
    this.archive.length = 0;
    this.failures.length = 0;
    this.counts.clear();
  }

  /** Names of the rules whose pattern matches `event`. */
  matchingRules(event: unknown): string[] {
    return [...this.rules.values()].filter((r) => r.compiled.matches(event)).map((r) => r.name);
  }

  async putEvents(entries: readonly PutEventsEntry[]): Promise<PutEventsResult> {
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > MAX_ENTRIES_PER_REQUEST) {
      throw new PutEventsValidationError(
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length ` +
          `less than or equal to ${MAX_ENTRIES_PER_REQUEST} and greater than or equal to 1`,
      );
    }
    const total = entries.reduce((sum, e) => sum + putEventsEntrySize(e), 0);
    if (total > MAX_REQUEST_BYTES) {
      throw new PutEventsValidationError(
        `Total size of the entries in the request is over the limit (${total} bytes).`,
      );
    }

    const results: PutEventsResultEntry[] = [];
    const accepted: BusEvent[] = [];
    for (const entry of entries) {
      const built = this.buildEvent(entry);
      if ('ErrorCode' in built) {
        results.push(built);
        continue;
      }
      if (this.keep(built)) this.archive.push({ eventBusName: entry.EventBusName ?? this.name, event: built });
      const bySource = this.counts.get(built.source) ?? {};
      bySource[built['detail-type']] = (bySource[built['detail-type']] ?? 0) + 1;
      this.counts.set(built.source, bySource);
      accepted.push(built);
      results.push({ EventId: built.id });
    }
    for (const event of accepted) await this.route(event);
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  private buildEvent(entry: PutEventsEntry): BusEvent | { ErrorCode: string; ErrorMessage: string } {
    const invalid = (field: string, reason: string) => ({
      ErrorCode: 'InvalidArgument',
      ErrorMessage: `Parameter ${field} is not valid. Reason: ${reason}`,
    });
    if (typeof entry.Source !== 'string' || entry.Source === '') {
      return invalid('Source', 'Source is a required argument.');
    }
    if (typeof entry.DetailType !== 'string' || entry.DetailType === '') {
      return invalid('DetailType', 'DetailType is a required argument.');
    }
    if (typeof entry.Detail !== 'string' || entry.Detail === '') {
      return invalid('Detail', 'Detail is a required argument.');
    }
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail);
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    if (!isRecord(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    let time = this.now();
    if (entry.Time !== undefined) {
      const ms = timeToMillis(entry.Time);
      if (ms === undefined) return invalid('Time', 'Time is not a valid timestamp.');
      time = ms;
    }
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType,
      source: entry.Source,
      account: this.account,
      time: isoSeconds(time),
      region: this.region,
      resources: [...(entry.Resources ?? [])],
      detail,
    };
  }

  private async route(event: BusEvent): Promise<void> {
    const matched = [...this.rules.values()].filter((r) => r.compiled.matches(event));
    await Promise.all(
      matched.map(async (rule) => {
        try {
          // Each target gets its own copy, as each EventBridge target receives its own JSON.
          await rule.target(structuredClone(event));
        } catch (error) {
          this.failures.push({ rule: rule.name, event, error });
        }
      }),
    );
  }

  /** Serves the EventBridge JSON protocol (only PutEvents) on 127.0.0.1. */
  listen(port = 0, host = '127.0.0.1'): Promise<ListeningBus> {
    const server = createServer((req, res) => {
      void this.handleHttp(req, res);
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const address = server.address() as AddressInfo;
        resolve({
          endpoint: `http://${host}:${address.port}`,
          port: address.port,
          close: () =>
            new Promise<void>((done, fail) => {
              server.close((err) => (err ? fail(err) : done()));
              // The SDK keeps connections alive; close them so `close()` resolves promptly.
              server.closeAllConnections();
            }),
        });
      });
    });
  }

  private async handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': JSON_CONTENT_TYPE,
        'content-length': Buffer.byteLength(text),
        'x-amzn-requestid': requestId,
      });
      res.end(text);
    };
    const error = (status: number, type: string, message: string) => send(status, { __type: type, message });

    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      if (req.method !== 'POST') return error(405, 'UnknownOperationException', `Method ${req.method} not allowed`);
      const target = req.headers['x-amz-target'];
      if (target !== 'AWSEvents.PutEvents') {
        return error(400, 'UnknownOperationException', `Operation ${String(target)} is not supported locally`);
      }
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        return error(400, 'SerializationException', 'Request body is not valid JSON');
      }
      const entries = isRecord(body) && Array.isArray(body.Entries) ? (body.Entries as unknown[]) : undefined;
      if (entries === undefined) return error(400, 'ValidationException', "Value at 'entries' must not be null");
      const result = await this.putEvents(entries.map((e) => (isRecord(e) ? toEntry(e) : {})));
      return send(200, result);
    } catch (e) {
      if (e instanceof PutEventsValidationError) return error(400, 'ValidationException', e.message);
      return error(500, 'InternalException', e instanceof Error ? e.message : String(e));
    }
  }
}

function toEntry(raw: Record<string, unknown>): PutEventsEntry {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  // The JSON protocol sends timestamps as epoch seconds.
  const time = raw.Time;
  return {
    Source: str(raw.Source),
    DetailType: str(raw.DetailType),
    Detail: str(raw.Detail),
    EventBusName: str(raw.EventBusName),
    Time: typeof time === 'number' ? new Date(time * 1000) : typeof time === 'string' ? time : undefined,
    Resources: Array.isArray(raw.Resources)
      ? raw.Resources.filter((r): r is string => typeof r === 'string')
      : undefined,
    TraceHeader: str(raw.TraceHeader),
  };
}
