import type { Settings } from '../config/settings';
import type { CustomerErased, CustomerMerged } from '../contracts/inbound';
import { validateInbound, type RejectionReason } from '../contracts/validate';
import { resolveAliases, type Resolution } from '../customer/alias';
import { eraseMergedCustomer } from '../customer/erase';
import { mergeCustomers } from '../customer/merge';
import { publishWritten, type Written } from '../customer/outbox';
import { eventKey } from '../customer/store';
import { applyEvents, featureSettingsOf, type ApplyOutcome } from '../customer/update';
import { eventText, type LoggedEvent } from '../domain/features';
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
    /** Events dated at or before their customer's erasure: dropped, nothing stored. */
    erasedDropped: number;
    /** Order and refund events in a currency without a rate: logged, left out of money features. */
    unpricedMoney: number;
    /** Customers placed farther from every centroid than the model's far quantile (`farDistance2`): drift ahead. */
    farFromCentroids: number;
  };
}

const DAY_SECONDS = 86_400;

/**
 * The real-time path for one queue batch: validate → quarantine rejects → erasures (tombstones) → one batched read
 * of the profiles and of the batch's own event ids → embed the batch's texts once → per customer: merge the new events
 * into the state, evaluate, conditional write with the outbox → batched log writes → publish → settle.
 * Reads and writes per event do not depend on the customer's history. A failure for one customer fails only that
 * customer's records; a rejected record never fails.
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
    erasedDropped: 0,
    unpricedMoney: 0,
    farFromCentroids: 0,
  };
  const expiresAt = Math.floor(now.getTime() / 1000) + deps.settings.retention.eventDays * DAY_SECONDS;
  const failed = new Set<string>();

  // 1. Validate; rejects go to quarantine with their reason and are never retried.
  const byCustomer = new Map<string, { messageId: string; logged: LoggedEvent }[]>();
  const rejects: QuarantineEntry[] = [];
  for (const record of records) {
    const result = validateInbound(record.body, now);
    if (!result.ok) {
      rejects.push({
        messageId: record.messageId,
        customerId: result.rejection.customerId ?? null,
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
    let notKept: string[];
    try {
      notKept = (await deps.quarantine.put(rejects)).failed;
    } catch (err) {
      notKept = rejects.map((r) => r.messageId);
      deps.log.error('quarantine write failed', { error: (err as Error).name, count: rejects.length });
    }
    // Not kept yet: hand them back so that nothing is silently dropped.
    for (const id of notKept) failed.add(id);
    deps.metrics.count('QuarantinedEvents', rejects.length - notKept.length);
    for (const r of rejects) {
      deps.log.warn('event quarantined', {
        messageId: r.messageId,
        reason: r.rejection.reason,
        eventId: r.rejection.eventId,
        customerId: r.rejection.customerId,
      });
    }
  }

  // 2. Erasures first: the tombstone fences every later write; events of the batch dated after it start a new epoch.
  stats.customers = byCustomer.size;
  const featureSettings = featureSettingsOf(deps.settings);
  const concurrency = deps.concurrency ?? 8;
  const work: CustomerWork[] = [...byCustomer.entries()].map(([customerId, items]) => ({
    customerId,
    messageIds: items.map((i) => i.messageId),
    events: items.map((i) => i.logged),
    failed: false,
  }));
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
  const toPublish: Written[] = [];
  await mapLimit(work, concurrency, async (w) => {
    const erasures = w.events
      .filter((e) => e.event.type === 'customer.erased')
      .sort((a, b) => Date.parse(b.event.detail.occurredAt) - Date.parse(a.event.detail.occurredAt));
    if (erasures.length === 0) return;
    try {
      const { erased, outcomes } = await eraseMergedCustomer(
        erasures[0]!.event.detail as CustomerErased,
        now,
        deps,
        featureSettings,
      );
      stats.erasures += 1;
      for (const outcome of outcomes) if (outcome.written) toPublish.push(outcome.written);
      const items = outcomes.reduce((n, o) => n + Object.values(o.deletedByStore).reduce((a, b) => a + b, 0), 0);
      deps.log.info('customer erased', { customerId: w.customerId, ids: erased.length, itemsDeleted: items });
      w.events = w.events.filter((e) => e.event.type !== 'customer.erased');
    } catch (err) {
      fail(w, err);
    }
  });

  // 2b. Identity merges (shared/customer/merge.ts): the from-id becomes an alias, the survivor absorbs its state.
  await mapLimit(work, concurrency, async (w) => {
    const merges = w.events.filter((e) => e.event.type === 'customer.merged');
    if (merges.length === 0 || w.failed) return;
    try {
      for (const m of merges.sort(
        (a, b) => Date.parse(a.event.detail.occurredAt) - Date.parse(b.event.detail.occurredAt),
      )) {
        const outcome = await mergeCustomers(m.event.detail as CustomerMerged, now, deps);
        toPublish.push(...outcome.written);
        deps.metrics.count(
          outcome.result === 'merged' || outcome.result === 'already' ? 'CustomersMerged' : 'MergesRefused',
        );
        deps.log.info('customers merged', { eventId: m.event.detail.eventId, result: outcome.result });
      }
      w.events = w.events.filter((e) => e.event.type !== 'customer.merged');
    } catch (err) {
      fail(w, err);
    }
  });

  // 3. One batched read of the profiles (and one more per hop of a chain of merges: an alias's events are moved to
  //    its survivor), one of the batch's own event ids in the log: no history is read.
  let prefetched = new Map<string, CustomerProfile>();
  let logged = new Set<string>();
  try {
    // In parallel, as before merges existed: the profiles (aliases resolved) and the events under the ids they were
    // sent for; only events moved from an alias to its survivor need one more lookup (under the survivor).
    const [resolved, sentFor] = await Promise.all([
      resolveAliases(
        live().map((w) => w.customerId),
        deps.profiles,
      ),
      deps.eventLog.loggedIds(
        live().flatMap((w) => w.events.map((e) => ({ customerId: w.customerId, eventId: e.event.detail.eventId }))),
      ),
    ]);
    prefetched = resolved.profiles;
    for (const [id, problem] of resolved.unresolved) {
      for (const w of live()) if (w.customerId === id) fail(w, new Error(problem));
    }
    stats.erasedDropped += routeToSurvivors(work, resolved, fail);
    // One more lookup for events moved from an alias to its survivor, and for ids the profiles still list as not yet
    // logged (a write that published nothing leaves them; the log holds them by now, as a rule).
    const more = live().flatMap((w) => [
      ...w.events
        .filter((e) => e.event.detail.customerId !== w.customerId)
        .map((e) => ({ customerId: w.customerId, eventId: e.event.detail.eventId })),
      ...(prefetched.get(w.customerId)?.unlogged ?? []).map((eventId) => ({ customerId: w.customerId, eventId })),
    ]);
    logged = more.length ? new Set([...sentFor, ...(await deps.eventLog.loggedIds(more))]) : sentFor;
  } catch (err) {
    for (const w of live()) fail(w, err);
  }

  // 4. Embed the batch's texts, and texts that waited for an embedding on these profiles, in one call.
  const texts = new Map<string, Float32Array | null>();
  for (const w of live()) {
    for (const e of w.events) {
      const text = eventText(e.event);
      if (text !== null) texts.set(text, null);
    }
    for (const p of prefetched.get(w.customerId)?.state.pending ?? []) texts.set(p.text, null);
  }
  const embedded = new Map<string, Float32Array | null>();
  if (texts.size > 0) {
    try {
      const wanted = [...texts.keys()];
      const vectors = await deps.embedder.embed(wanted);
      wanted.forEach((t, i) => embedded.set(t, vectors[i] ?? null));
      const refused = [...embedded.values()].filter((v) => v === null).length;
      if (refused) deps.metrics.count('TextsNotEmbeddable', refused);
    } catch (err) {
      stats.embeddingFailed = true;
      deps.metrics.count('EmbeddingFailures');
      deps.log.warn('embedding unavailable; texts kept on the state until it is back', {
        error: (err as Error).name,
        reason: (err as { reason?: string }).reason,
        texts: texts.size,
      });
    }
  }
  for (const w of live()) {
    w.events = w.events.map((e) => {
      const text = eventText(e.event);
      if (text === null || !embedded.has(text)) return e;
      const v = embedded.get(text);
      return { ...e, embedding: v ?? 'refused' };
    });
  }

  // 5. Merge, evaluate and write each profile conditionally (the state first: its `unlogged` ids make a crash
  //    before the log write safe), then the log in batched writes.
  const outcomes = new Map<CustomerWork, ApplyOutcome>();
  await mapLimit(live(), concurrency, async (w) => {
    try {
      const outcome = await applyEvents(
        {
          customerId: w.customerId,
          events: w.events,
          prefetched: prefetched.get(w.customerId) ?? null,
          logged,
          embedded,
          now,
        },
        deps,
      );
      outcomes.set(w, outcome);
      stats.duplicates += outcome.duplicates;
      stats.erasedDropped += outcome.droppedErased.length;
      stats.unpricedMoney += outcome.unpriced;
      stats.writeConflicts += outcome.conflicts;
      if (outcome.evaluation?.segmentChanged) stats.segmentChanges += 1;
      if (outcome.evaluation?.lifecycleChanged) stats.lifecycleChanges += 1;
      if (outcome.evaluation?.farFromCentroids) stats.farFromCentroids += 1;
    } catch (err) {
      fail(w, err);
    }
  });
  const appending = [...outcomes.entries()].filter(([w, o]) => !w.failed && o.toLog.length > 0);
  try {
    await deps.eventLog.appendMany(
      appending.flatMap(([w, o]) => o.toLog.map((logged) => ({ customerId: w.customerId, logged }))),
      expiresAt,
    );
  } catch {
    await mapLimit(appending, concurrency, async ([w, o]) => {
      try {
        await deps.eventLog.appendMany(
          o.toLog.map((logged) => ({ customerId: w.customerId, logged })),
          expiresAt,
        );
      } catch (err) {
        fail(w, err); // applied but not logged: the redelivery finds the ids in `unlogged` and logs them
      }
    });
  }
  for (const [w, o] of outcomes) {
    if (w.failed) continue;
    stats.appended += o.fresh.length;
    if (o.written) toPublish.push(o.written);
  }

  // 6. Publish what the writes claimed, settle the profiles; a customer erased meanwhile loses what we appended.
  const active = await deps.models.getActive().catch(() => null);
  const published = await publishWritten(toPublish, deps, {
    now: deps.clock,
    activeVersion: active?.version ?? null,
    concurrency,
  });
  stats.publishDeferred += published.deferred;
  // Writes that published nothing were not settled: one batched read tells whether any customer was erased meanwhile.
  const appendedUnsettled = published.unsettled.filter((w) => w.logged.length > 0);
  if (appendedUnsettled.length) {
    try {
      const epochs = await deps.profiles.epochsOf(appendedUnsettled.map((w) => w.profile.customerId));
      for (const w of appendedUnsettled) {
        if (epochs.get(w.profile.customerId) !== w.profile.epoch) published.gone.add(w.profile.customerId);
      }
    } catch (err) {
      for (const w of work) if (appendedUnsettled.some((u) => u.profile.customerId === w.customerId)) fail(w, err);
    }
  }
  await mapLimit([...outcomes.entries()], concurrency, async ([w, o]) => {
    const stray = [
      ...(published.gone.has(w.customerId) ? o.toLog : []),
      ...o.droppedErased.filter((e) => logged.has(eventKey(w.customerId, e.event.detail.eventId))),
    ].map((e) => e.event.detail.eventId);
    if (stray.length === 0) return;
    try {
      await deps.eventLog.deleteEvents(w.customerId, stray);
    } catch (err) {
      fail(w, err); // retried: the tombstone drops the events again and the lookup finds these items
    }
  });

  deps.metrics.count('EventsIngested', stats.appended);
  deps.metrics.count('DuplicateEvents', stats.duplicates);
  deps.metrics.count('ErasedEventsDropped', stats.erasedDropped);
  deps.metrics.count('UnpricedMoneyEvents', stats.unpricedMoney);
  deps.metrics.count('AssignmentsFarFromCentroids', stats.farFromCentroids);
  deps.metrics.count('SegmentChanges', stats.segmentChanges);
  deps.metrics.count('LifecycleChanges', stats.lifecycleChanges);
  return { failedMessageIds: [...failed], stats };
}

interface CustomerWork {
  customerId: string;
  messageIds: string[];
  events: LoggedEvent[];
  failed: boolean;
}

/**
 * Moves the events (and records) of every alias to the work of its survivor, in place; a failed survivor fails them.
 * An alias that was erased before it was merged keeps its fence: its events dated at or before that erasure are
 * dropped (returns how many), as they would have been without the merge.
 */
function routeToSurvivors(
  work: CustomerWork[],
  resolved: Resolution,
  fail: (w: CustomerWork, err: unknown) => void,
): number {
  let dropped = 0;
  const byId = new Map(work.map((w) => [w.customerId, w]));
  for (const w of [...work]) {
    const to = resolved.survivor.get(w.customerId);
    if (w.failed || to === undefined || to === w.customerId || w.events.length === 0) continue;
    let target = byId.get(to);
    if (!target) {
      target = { customerId: to, messageIds: [], events: [], failed: false };
      work.push(target);
      byId.set(to, target);
    }
    if (target.failed) {
      fail(w, new Error(`survivor ${to} failed`));
      continue;
    }
    const erasedAt = resolved.profiles.get(w.customerId)?.erasedAt;
    const fence = erasedAt ? Date.parse(erasedAt) : -Infinity;
    const kept = w.events.filter((e) => Date.parse(e.event.detail.occurredAt) > fence);
    dropped += w.events.length - kept.length;
    target.messageIds.push(...w.messageIds);
    target.events.push(...kept);
    w.messageIds = [];
    w.events = [];
  }
  return dropped;
}
