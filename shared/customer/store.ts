import type { LoggedEvent } from '../domain/features';
import type { CustomerProfile, NightlyMarks } from './profile';

export type WriteOutcome = 'written' | 'conflict';

/**
 * What `settle` found: `settled` (the revision it wrote was still current: one update cleared it), `moved` (another
 * writer came between: the published entries and logged ids were removed one by one), `gone` (the customer was erased
 * meanwhile: nothing of this write may be kept).
 */
export type SettleOutcome = 'settled' | 'moved' | 'gone';

/** The customer's profile item: state, assignment, outbox, tombstone. Every write is conditional on `rev`. */
export interface ProfileStore {
  /** Strongly consistent read; tombstones included. */
  get(customerId: string): Promise<CustomerProfile | null>;
  /** Strongly consistent batched read; absent customers are absent from the map. */
  getMany(customerIds: readonly string[]): Promise<Map<string, CustomerProfile>>;
  /** Writes the profile if the stored revision is still `expectedRev` (null: must not exist). */
  put(profile: CustomerProfile, expectedRev: number | null): Promise<WriteOutcome>;
  /**
   * After a write's outbox went out and its events reached the log: drops the published entries (by dedupe key) and
   * the logged ids from `unlogged`, and moves the revision, so that a writer that read the earlier revision cannot
   * re-add and republish them. Conditional on the epoch: an erasure in between yields `gone`.
   */
  settle(
    customerId: string,
    written: { rev: number; epoch: number; outboxSize: number },
    published: readonly string[],
    logged: readonly string[],
  ): Promise<SettleOutcome>;
  /** The current epoch of each customer (absent: no profile), in one batched, strongly consistent read. */
  epochsOf(customerIds: readonly string[]): Promise<Map<string, number>>;
  /** Profiles with pending outbox entries (for the sweeper), from a sparse index. */
  pendingOutbox(limit: number): Promise<CustomerProfile[]>;
  /** Customer ids currently assigned to a segment (the audience export), from the bySegment index. */
  audience(segmentId: string): AsyncIterable<string>;
  /** Parallel-scan segment `shard` of `totalShards` over all profiles (tombstones and aliases excluded). */
  scanShard(shard: number, totalShards: number): AsyncIterable<CustomerProfile>;
  /**
   * Ids of nightly shard `shard` of `totalShards` (`nightlyShardOf`) in the nightly change index: those due by
   * `dueBy` (epoch ms), those whose `breakAt` ≤ `brokenBy` (centroid clock), those whose `valueBreakAt` ≤
   * `valueBrokenBy` (value clock), those touched by a real-time write at or after `touchedSince` (epoch ms), or with
   * none of them, every indexed profile
   * (tombstones and aliases included: the night drops them). Sorted, without duplicates; eventually consistent.
   */
  nightlyIds(shard: number, totalShards: number, select: NightlySelect): Promise<string[]>;
  /**
   * Sets a profile's nightly marks (null: removes it from the index) without a new revision, if its revision is still
   * `rev`. A writer that read the revision before keeps its conditional write; its write marks the profile due.
   */
  markNightly(customerId: string, rev: number, marks: NightlyMarks | null): Promise<WriteOutcome>;
}

/** The customer's event log (`E#<eventId>` items): the record for audit, refold and erasure, never read per event. */
export interface EventLog {
  /** Which of these events are already in the log, by key lookups (keys: `${customerId}\u0000${eventId}`). */
  loggedIds(events: readonly { customerId: string; eventId: string }[]): Promise<Set<string>>;
  /** Batched, unconditional writes: an event id always writes the same item, so a repeat is harmless. */
  appendMany(events: readonly { customerId: string; logged: LoggedEvent }[], expiresAt: number): Promise<void>;
  deleteEvents(customerId: string, eventIds: readonly string[]): Promise<void>;
  /** The whole log of one customer (refold only: its cost grows with the history). */
  load(customerId: string): Promise<LoggedEvent[]>;
  /** Deletes every item held for the customer except the profile item (the tombstone). Returns how many. */
  eraseCustomer(customerId: string): Promise<number>;
}

/**
 * Which indexed customers a night wants: due by an instant, broken by the centroid clock or the value clock, or
 * touched by a real-time write at or after an instant (epoch ms).
 */
export interface NightlySelect {
  dueBy?: number;
  brokenBy?: number;
  valueBrokenBy?: number;
  touchedSince?: number;
}

export function eventKey(customerId: string, eventId: string): string {
  return `${customerId}\u0000${eventId}`;
}
