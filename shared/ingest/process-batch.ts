import type { Settings } from '../config/settings';
import type { CustomerErased } from '../contracts/inbound';
import { validateInbound, type RejectionReason } from '../contracts/validate';
import { dedupeKey, evaluateCustomer } from '../domain/evaluate';
import { eventText, foldEvents, type LoggedEvent } from '../domain/features';
import type { Embedder } from '../ports/embedder';
import type { ModelCache } from '../ports/models';
import type { CustomerProfile, EventLog, ProfileStore, Publisher, Quarantine, QuarantineEntry } from '../ports/stores';
import type { LogSink, MetricsSink } from '../ports/telemetry';
import { mapLimit } from '../util/concurrency';

export interface IngestRecord {
  messageId: string;
  body: string;
}

export interface IngestDeps {
  eventLog: EventLog;
  profiles: ProfileStore;
  models: ModelCache;
  embedder: Embedder;
  publisher: Publisher;
  quarantine: Quarantine;
  settings: Settings;
  clock: () => Date;
  metrics: MetricsSink;
  log: LogSink;
  /** Customers processed in parallel within a batch. */
  concurrency?: number;
}

export interface BatchOutcome {
  /** Message ids to hand back to the queue (partial batch failure). */
  failedMessageIds: string[];
  stats: {
    received: number;
    valid: number;
    rejected: Partial<Record<RejectionReason, number>>;
    appended: number;
    duplicates: number;
    customers: number;
    segmentChanges: number;
    lifecycleChanges: number;
    erasures: number;
    embeddingFailed: boolean;
    publishDeferred: number;
    writeConflicts: number;
  };
}

const MAX_WRITE_ATTEMPTS = 6;
const DAY_SECONDS = 86_400;

/**
 * The real-time path for one queue batch: validate → quarantine rejects → embed the batch's texts once →
 * append to each customer's log → fold → assign → conditional write (outbox) → publish.
 * A failure for one customer fails only that customer's records; a rejected record never fails.
 */
export async function processBatch(records: readonly IngestRecord[], deps: IngestDeps): Promise<BatchOutcome> {
  const now = deps.clock();
  const stats: BatchOutcome['stats'] = {
    received: records.length,
    valid: 0,
    rejected: {},
    appended: 0,
    duplicates: 0,
    customers: 0,
    segmentChanges: 0,
    lifecycleChanges: 0,
    erasures: 0,
    embeddingFailed: false,
    publishDeferred: 0,
    writeConflicts: 0,
  };
  const failed = new Set<string>();

  // 1. Validate; rejects go to quarantine with their reason and are never retried.
  const byCustomer = new Map<string, { messageId: string; logged: LoggedEvent }[]>();
  const rejects: QuarantineEntry[] = [];
  for (const record of records) {
    const result = validateInbound(record.body, now);
    if (!result.ok) {
      rejects.push({
        messageId: record.messageId,
        receivedAt: now.toISOString(),
        rejection: result.rejection,
        raw: record.body,
      });
      stats.rejected[result.rejection.reason] = (stats.rejected[result.rejection.reason] ?? 0) + 1;
      continue;
    }
    stats.valid += 1;
    const list = byCustomer.get(result.event.detail.customerId) ?? [];
    list.push({ messageId: record.messageId, logged: { event: result.event, embedding: null } });
    byCustomer.set(result.event.detail.customerId, list);
  }
  if (rejects.length) {
    try {
      await deps.quarantine.put(rejects);
      deps.metrics.count('QuarantinedEvents', rejects.length);
      for (const r of rejects) {
        deps.log.warn('event quarantined', {
          messageId: r.messageId,
          reason: r.rejection.reason,
          eventId: r.rejection.eventId,
          customerId: r.rejection.customerId,
        });
      }
    } catch (err) {
      // Not kept yet: hand them back so that nothing is silently dropped.
      for (const r of rejects) failed.add(r.messageId);
      deps.log.error('quarantine write failed', { error: (err as Error).name, count: rejects.length });
    }
  }

  // 2. Embed the batch's texts in one call (the embedder dedupes, caches and chunks).
  const texts = new Map<string, Float32Array | null>();
  for (const list of byCustomer.values()) {
    for (const { logged } of list) {
      const text = eventText(logged.event);
      if (text !== null) texts.set(text, null);
    }
  }
  const embed = async (wanted: string[]): Promise<boolean> => {
    const missing = wanted.filter((t) => !texts.get(t));
    if (missing.length === 0) return true;
    if (stats.embeddingFailed) return false;
    try {
      const vectors = await deps.embedder.embed(missing);
      missing.forEach((t, i) => texts.set(t, vectors[i] ?? null));
      return true;
    } catch (err) {
      stats.embeddingFailed = true;
      deps.metrics.count('EmbeddingFailures');
      deps.log.warn('embedding unavailable; keeping last interest vectors', {
        error: (err as Error).name,
        reason: (err as { reason?: string }).reason,
        texts: missing.length,
      });
      return false;
    }
  };
  await embed([...texts.keys()]);
  for (const list of byCustomer.values()) {
    for (const item of list) {
      const text = eventText(item.logged.event);
      if (text !== null) item.logged.embedding = texts.get(text) ?? null;
    }
  }

  // 3. Append, fold, assign, write, publish. Reads and writes are batched across customers where DynamoDB allows
  //    (BatchGetItem, BatchWriteItem, PutEvents of 10); the conditional profile write stays per customer. A failure
  //    fails only the records of the customers it touched.
  stats.customers = byCustomer.size;
  const expiresAt = Math.floor(now.getTime() / 1000) + deps.settings.retention.eventDays * DAY_SECONDS;
  const ctx: CustomerContext = { deps, now, expiresAt, stats, embed, texts };
  const work: CustomerWork[] = [...byCustomer.entries()].map(([customerId, items]) => ({
    customerId,
    messageIds: items.map((i) => i.messageId),
    events: items.map((i) => i.logged),
    previous: undefined,
    log: [],
    fresh: [],
    written: null,
    failed: false,
  }));
  const concurrency = deps.concurrency ?? 8;
  const fail = (w: CustomerWork, err: unknown) => {
    w.failed = true;
    for (const id of w.messageIds) failed.add(id);
    deps.metrics.count('CustomerFailures');
    deps.log.error('customer batch failed; records returned to the queue', {
      customerId: w.customerId,
      error: (err as Error).name,
      message: (err as Error).message.slice(0, 200),
    });
  };
  const live = () => work.filter((w) => !w.failed && w.events.length > 0);

  // 3a. Erasures first; events dated before the erasure request are erased with everything else.
  await mapLimit(work, concurrency, async (w) => {
    const erasure = w.events
      .filter((e) => e.event.type === 'customer.erased')
      .sort((a, b) => (a.event.detail.occurredAt < b.event.detail.occurredAt ? 1 : -1))[0];
    if (!erasure) return;
    try {
      await eraseCustomer(w.customerId, erasure.event.detail as CustomerErased, ctx);
      w.events = w.events.filter(
        (e) => e.event.type !== 'customer.erased' && e.event.detail.occurredAt > erasure.event.detail.occurredAt,
      );
    } catch (err) {
      fail(w, err);
    }
  });

  // 3b. Profiles in one batched read (falling back to single reads), logs per customer.
  let prefetched: Map<string, CustomerProfile> | null = null;
  try {
    prefetched = await deps.profiles.getMany(live().map((w) => w.customerId));
  } catch {
    prefetched = null;
  }
  await mapLimit(live(), concurrency, async (w) => {
    try {
      w.previous = prefetched ? (prefetched.get(w.customerId) ?? null) : await deps.profiles.get(w.customerId);
      w.log = await deps.eventLog.load(w.customerId);
      // What is new: not in the log, first copy within the batch. Everything else is a duplicate.
      const known = new Set(w.log.map((e) => e.event.detail.eventId));
      for (const e of w.events) {
        if (known.has(e.event.detail.eventId)) stats.duplicates += 1;
        else {
          known.add(e.event.detail.eventId);
          w.fresh.push(e);
        }
      }
    } catch (err) {
      fail(w, err);
    }
  });

  // 3c. New events in batched writes; if the batch write fails, each customer appends on its own.
  const appending = live().filter((w) => w.fresh.length > 0);
  try {
    await deps.eventLog.appendMany(
      appending.flatMap((w) => w.fresh.map((logged) => ({ customerId: w.customerId, logged }))),
      expiresAt,
    );
  } catch {
    await mapLimit(appending, concurrency, async (w) => {
      try {
        // Ids already present now were written by the failed batch write's completed chunks: they count as ours.
        await deps.eventLog.append(w.customerId, w.fresh, expiresAt);
      } catch (err) {
        fail(w, err);
      }
    });
  }
  for (const w of live()) stats.appended += w.fresh.length;

  // 3d. Fold, assign and write each profile conditionally; a conflict re-reads and re-evaluates.
  await mapLimit(live(), concurrency, async (w) => {
    try {
      await evaluateAndWrite(w, ctx);
    } catch (err) {
      fail(w, err);
    }
  });

  // 3e. Publish every outbox of the batch together; what fails stays in its outbox for the sweeper.
  stats.publishDeferred += await publishOutboxes(
    live().flatMap((w) => (w.written ? [w.written] : [])),
    deps,
    concurrency,
  );

  deps.metrics.count('EventsIngested', stats.appended);
  deps.metrics.count('DuplicateEvents', stats.duplicates);
  deps.metrics.count('SegmentChanges', stats.segmentChanges);
  deps.metrics.count('LifecycleChanges', stats.lifecycleChanges);
  return { failedMessageIds: [...failed], stats };
}

interface CustomerWork {
  customerId: string;
  messageIds: string[];
  events: LoggedEvent[];
  /** undefined: not read yet; null: no profile yet. */
  previous: CustomerProfile | null | undefined;
  log: LoggedEvent[];
  fresh: LoggedEvent[];
  written: CustomerProfile | null;
  failed: boolean;
}

interface CustomerContext {
  deps: IngestDeps;
  now: Date;
  expiresAt: number;
  stats: BatchOutcome['stats'];
  embed: (texts: string[]) => Promise<boolean>;
  texts: Map<string, Float32Array | null>;
}

async function evaluateAndWrite(w: CustomerWork, ctx: CustomerContext): Promise<void> {
  const { deps, now, stats } = ctx;
  let previous = w.previous ?? null;
  let log = [...w.log, ...w.fresh];
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    if (attempt > 0) {
      [previous, log] = await Promise.all([deps.profiles.get(w.customerId), deps.eventLog.load(w.customerId)]);
    }
    if (log.length === 0) return; // erased concurrently
    await backfillEmbeddings(w.customerId, log, ctx);
    const features = foldEvents(log, now, deps.settings.features);
    const model = await deps.models.forProfile(previous?.assignment?.modelVersion);
    const evaluation = evaluateCustomer({
      customerId: w.customerId,
      features,
      previous,
      model,
      now,
      settings: deps.settings,
      reason: 'event',
    });
    const outcome = await deps.profiles.put(evaluation.profile, previous?.rev ?? null);
    if (outcome === 'conflict') {
      stats.writeConflicts += 1;
      continue;
    }
    if (evaluation.segmentChanged) stats.segmentChanges += 1;
    if (evaluation.lifecycleChanged) stats.lifecycleChanges += 1;
    w.written = evaluation.profile;
    return;
  }
  throw new Error('profile write kept conflicting');
}

/** Events whose embedding was missed during an outage get one on the next healthy batch. */
async function backfillEmbeddings(customerId: string, log: LoggedEvent[], ctx: CustomerContext): Promise<void> {
  const pending = log.filter((e) => e.embedding === null && eventText(e.event) !== null);
  if (pending.length === 0 || ctx.stats.embeddingFailed) return;
  const wanted = [...new Set(pending.map((e) => eventText(e.event)!))];
  if (!(await ctx.embed(wanted))) return;
  const updates: { eventId: string; embedding: Float32Array }[] = [];
  for (const e of pending) {
    const v = ctx.texts.get(eventText(e.event)!);
    if (v) {
      e.embedding = v;
      updates.push({ eventId: e.event.detail.eventId, embedding: v });
    }
  }
  await ctx.deps.eventLog.setEmbeddings(customerId, updates);
}

/**
 * Publishes the outboxes of freshly written profiles together (PutEvents takes 10 entries per call), then clears
 * each: in one conditional update when its whole outbox went out. Whatever fails stays in its outbox for the next
 * write or the sweeper. Also the sweeper's path: the revision it read is the one it clears. Returns how many
 * entries were deferred.
 */
export async function publishOutboxes(
  written: readonly CustomerProfile[],
  deps: Pick<IngestDeps, 'publisher' | 'profiles' | 'metrics' | 'log'>,
  concurrency = 8,
): Promise<number> {
  const writers = written.filter((p) => p.outbox.length > 0);
  if (writers.length === 0) return 0;
  let failedKeys: Set<string>;
  try {
    const result = await deps.publisher.publish(writers.flatMap((p) => p.outbox));
    failedKeys = new Set(result.failed.map((f) => f.dedupeKey));
  } catch (err) {
    deps.log.warn('publish failed; outboxes kept for the sweeper', { error: (err as Error).name });
    failedKeys = new Set(writers.flatMap((p) => p.outbox.map((e) => e.dedupeKey)));
  }
  if (failedKeys.size) deps.metrics.count('PublishDeferred', failedKeys.size);
  await mapLimit(writers, concurrency, async (p) => {
    const published = p.outbox.filter((e) => !failedKeys.has(e.dedupeKey));
    try {
      await deps.profiles.completeOutbox(
        p.customerId,
        published,
        published.length === p.outbox.length ? { rev: p.rev } : undefined,
      );
    } catch (err) {
      // Published but still listed: the sweeper republishes with the same dedupe keys.
      deps.log.warn('outbox not cleared', { customerId: p.customerId, error: (err as Error).name });
    }
  });
  return failedKeys.size;
}

async function eraseCustomer(customerId: string, request: CustomerErased, ctx: CustomerContext): Promise<void> {
  const itemsDeleted = await ctx.deps.eventLog.eraseCustomer(customerId);
  ctx.stats.erasures += 1;
  const key = dedupeKey(customerId, 'customer.erasure.completed', request.eventId);
  const result = await ctx.deps.publisher.publish([
    {
      dedupeKey: key,
      event: {
        detailType: 'customer.erasure.completed',
        detail: { customerId, itemsDeleted, completedAt: ctx.now.toISOString(), dedupeKey: key },
      },
    },
  ]);
  // No profile is left to hold an outbox entry: fail the record so the (idempotent) erasure is retried.
  if (result.failed.length) throw new Error('erasure confirmation not published');
  ctx.deps.log.info('customer erased', { customerId, itemsDeleted });
}
