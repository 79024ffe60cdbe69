/** In-memory customer stores, held to the same port contract as the DynamoDB adapters (tests/integration/customer-store.test.ts). */
import { isAlias, isTombstone, type CustomerProfile, type NightlyMarks } from '../../shared/customer/profile';
import { nightlyShardOf } from '../../shared/contracts/table';
import {
  eventKey,
  type EventLog,
  type NightlySelect,
  type ProfileStore,
  type SettleOutcome,
  type WriteOutcome,
} from '../../shared/customer/store';
import type { Settings } from '../../shared/config/settings';
import { evaluateCustomer, type Evaluation } from '../../shared/customer/evaluate';
import { foldState } from '../../shared/customer/fold';
import { featuresOf } from '../../shared/customer/state';
import { featureSettingsOf } from '../../shared/customer/update';
import type { LoggedEvent } from '../../shared/domain/features';
import type { SegmentationModel } from '../../shared/segmentation/model';

export class MemoryProfileStore implements ProfileStore {
  readonly items = new Map<string, CustomerProfile>();
  /** Called before each put; may mutate the store to simulate a concurrent writer. */
  beforePut?: (profile: CustomerProfile) => void;

  async get(customerId: string) {
    const p = this.items.get(customerId);
    return p ? structuredClone(p) : null;
  }
  async getMany(customerIds: readonly string[]) {
    const out = new Map<string, CustomerProfile>();
    for (const id of customerIds) {
      const p = this.items.get(id);
      if (p) out.set(id, structuredClone(p));
    }
    return out;
  }
  async put(profile: CustomerProfile, expectedRev: number | null): Promise<WriteOutcome> {
    this.beforePut?.(profile);
    const current = this.items.get(profile.customerId);
    if (expectedRev === null ? current !== undefined : current?.rev !== expectedRev) return 'conflict';
    // As the DynamoDB adapter stores it: a write without nightly marks is due at the next night.
    const stored = structuredClone(profile);
    if (stored.nightly === undefined) stored.nightly = { dueAt: 0, breakAt: null, valueBreakAt: null };
    this.items.set(profile.customerId, stored);
    return 'written';
  }
  async nightlyIds(shard: number, totalShards: number, select: NightlySelect) {
    const all =
      select.dueBy === undefined &&
      select.brokenBy === undefined &&
      select.valueBrokenBy === undefined &&
      select.touchedSince === undefined;
    // A profile set directly (no marks) stands for one a real-time write left: due at once.
    const marksOf = (p: CustomerProfile): NightlyMarks | null =>
      p.nightly === undefined ? { dueAt: 0, breakAt: null, valueBreakAt: null } : p.nightly;
    return [...this.items.values()]
      .filter(
        (p) =>
          (marksOf(p) !== null || p.touchedAt !== undefined) && nightlyShardOf(p.customerId, totalShards) === shard,
      )
      .filter((p) => {
        const m = marksOf(p) ?? { dueAt: Infinity, breakAt: null, valueBreakAt: null };
        return (
          all ||
          (select.touchedSince !== undefined && p.touchedAt !== undefined && p.touchedAt >= select.touchedSince) ||
          (select.dueBy !== undefined && m.dueAt <= select.dueBy) ||
          (select.brokenBy !== undefined && m.breakAt !== null && m.breakAt <= select.brokenBy) ||
          (select.valueBrokenBy !== undefined && m.valueBreakAt !== null && m.valueBreakAt <= select.valueBrokenBy)
        );
      })
      .map((p) => p.customerId)
      .sort();
  }
  async markNightly(customerId: string, rev: number, marks: NightlyMarks | null): Promise<WriteOutcome> {
    const p = this.items.get(customerId);
    if (!p || p.rev !== rev) return 'conflict';
    p.nightly = marks;
    return 'written';
  }
  async settle(
    customerId: string,
    written: { rev: number; epoch: number },
    published: readonly string[],
    logged: readonly string[],
  ): Promise<SettleOutcome> {
    if (published.length === 0 && logged.length === 0) return 'settled';
    const p = this.items.get(customerId);
    if (!p || p.epoch !== written.epoch) return 'gone';
    const done = new Set(published);
    const ids = new Set(logged);
    p.outbox = p.outbox.filter((e) => !done.has(e.dedupeKey));
    p.unlogged = p.unlogged.filter((id) => !ids.has(id));
    const same = p.rev === written.rev;
    p.rev += 1;
    return same ? 'settled' : 'moved';
  }
  async epochsOf(customerIds: readonly string[]) {
    const out = new Map<string, number>();
    for (const id of customerIds) {
      const p = this.items.get(id);
      if (p) out.set(id, p.epoch);
    }
    return out;
  }
  async pendingOutbox() {
    return [...this.items.values()].filter((p) => p.outbox.length > 0).map((p) => structuredClone(p));
  }
  async *audience(segmentId: string) {
    for (const p of [...this.items.values()].sort((a, b) => (a.customerId < b.customerId ? -1 : 1))) {
      if (p.assignment?.segmentId === segmentId) yield p.customerId;
    }
  }
  async *scanShard(shard: number, totalShards: number) {
    const ids = [...this.items.keys()].sort();
    for (let i = 0; i < ids.length; i++) {
      const p = this.items.get(ids[i]!)!;
      if (i % totalShards === shard && !isTombstone(p) && !isAlias(p)) yield structuredClone(p);
    }
  }
}

export class MemoryEventLog implements EventLog {
  /** customerId -> eventId -> logged event. */
  readonly items = new Map<string, Map<string, LoggedEvent>>();
  /** Items other than events (history, legacy) per customer, for erasure counts. */
  async loggedIds(events: readonly { customerId: string; eventId: string }[]) {
    const out = new Set<string>();
    for (const e of events)
      if (this.items.get(e.customerId)?.has(e.eventId)) out.add(eventKey(e.customerId, e.eventId));
    return out;
  }
  async appendMany(events: readonly { customerId: string; logged: LoggedEvent }[]) {
    for (const e of events) {
      const log = this.items.get(e.customerId) ?? new Map<string, LoggedEvent>();
      log.set(e.logged.event.detail.eventId, e.logged);
      this.items.set(e.customerId, log);
    }
  }
  async deleteEvents(customerId: string, eventIds: readonly string[]) {
    for (const id of eventIds) this.items.get(customerId)?.delete(id);
  }
  async load(customerId: string) {
    return [...(this.items.get(customerId)?.values() ?? [])];
  }
  async eraseCustomer(customerId: string) {
    const n = this.items.get(customerId)?.size ?? 0;
    this.items.delete(customerId);
    return n;
  }
}

/**
 * The first evaluation of a customer whose whole log is `events`, at `now` (no previous profile, epoch 0): what the
 * ingest path computes for a new customer.
 */
export function firstEvaluation(
  customerId: string,
  events: readonly LoggedEvent[],
  now: Date,
  settings: Settings,
  model: SegmentationModel | null = null,
  opts: { claim?: boolean; cause?: string } = {},
): Evaluation {
  const fs = featureSettingsOf(settings);
  const state = foldState(events, fs);
  return evaluateCustomer({
    customerId,
    state,
    features: featuresOf(state, now, fs),
    previous: null,
    epoch: 0,
    erasedAt: null,
    model,
    now,
    settings,
    reason: 'event',
    claim: opts.claim ?? false,
    ...(opts.cause ? { cause: opts.cause } : {}),
  });
}

/** A stored profile for a customer whose whole log is `events`, as the ingest path would have written it at `now`. */
export function profileFromLog(
  customerId: string,
  events: readonly LoggedEvent[],
  now: Date,
  settings: Settings,
  model: SegmentationModel | null = null,
): CustomerProfile {
  return { ...firstEvaluation(customerId, events, now, settings, model).profile, outbox: [] };
}
