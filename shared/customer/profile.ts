import type { LifecycleStage, OutboundEvent, Traits } from '../contracts/outbound';
import type { CustomerFeatures } from '../domain/features';
import type { CustomerState } from './state';

/**
 * A change waiting to be published (the outbox). It stays on the profile until PutEvents succeeded.
 * `claimedAt` and `claimRev`: when, and in which revision, a writer took it to publish right after its write (null:
 * nobody has; the sweeper may). A writer
 * publishes only what it claimed itself, so two writers never deliver the same entry; a claim older than the lease
 * is the sweeper's. `modelVersion`: the model a segment change was decided with; held while that version is not
 * active yet (a nightly run's changes go out only after Publish activates its model).
 */
export interface OutboxEntry {
  dedupeKey: string;
  event: OutboundEvent;
  claimedAt?: string | null;
  /** The revision whose writer claimed it: only that writer publishes it (timestamps can tie, revisions cannot). */
  claimRev?: number | null;
  modelVersion?: number;
}

export interface Assignment {
  segmentId: string;
  /** The segment's name when the customer was told it entered (the next `segment.changed` carries it as `from.name`). */
  name?: string;
  modelVersion: number;
  since: string;
  distance: number;
  confidence: number;
  topProbabilities: { segmentId: string; p: number }[];
}

/** One line of the customer's explainable history: which event or run moved it, and how. */
export interface Transition {
  at: string;
  detailType: 'segment.changed' | 'lifecycle.changed';
  from: string | null;
  to: string;
  reason: string;
  dedupeKey: string;
  modelVersion?: number;
  /** What moved the customer: the event id of the batch's latest new event, or the nightly run id. */
  cause?: string;
}

/** How many transitions the profile keeps (the query API shows the last 20). */
export const HISTORY_LENGTH = 20;

/**
 * The customer aggregate as stored in `C#<customerId>` / `PROFILE`.
 *
 * After an erasure the item stays as a tombstone: `erasedAt` set, an empty state, no assignment and no personal data,
 * so that events dated before the erasure are dropped and every in-flight writer's conditional write fails. A customer
 * who returns after it lives in a new `epoch`; dedupe keys include the epoch, so a key never repeats for another change.
 */
export interface CustomerProfile {
  customerId: string;
  /** Optimistic-concurrency revision: every write is conditional on the revision it read; never restarts. */
  rev: number;
  /** Life of the customer id: bumped by each erasure. */
  epoch: number;
  updatedAt: string;
  /** Instant of the latest erasure (ISO 8601), or null. Events dated at or before it are dropped. */
  erasedAt: string | null;
  /** The mergeable state every feature is derived from. */
  state: CustomerState;
  /** Features as of `updatedAt`, derived from `state` (not stored). */
  features: CustomerFeatures;
  assignment: Assignment | null;
  traits: Traits | null;
  lifecycleStage: LifecycleStage | null;
  outbox: OutboxEntry[];
  /** The last HISTORY_LENGTH transitions, newest last. */
  history: Transition[];
  /** Event ids applied to the state but not yet confirmed in the event log (see shared/customer/README in the design notes). */
  unlogged: string[];
  /**
   * Set on the profile of an id merged into another (`customer.merged`): the survivor's id. An alias's events are
   * applied to the survivor; its own state is frozen as it was at the merge (kept so that a redelivered merge can
   * absorb it) and it has no assignment. Absent on every other profile.
   */
  aliasOf?: string;
  /**
   * The nightly change index (see `nightlyMarks` in shared/customer/due.ts and TABLE.nightlyDueIndex). Set by the
   * real-time write (as of its event time) and by the nightly evaluation: when it is next due, and at which model
   * clock a model change could move it. Absent (an erasure's or a merge's write): due at the next night. null: not
   * indexed (a tombstone or alias the night has dropped). Writes that only claim or settle the outbox keep what they
   * read.
   */
  nightly?: NightlyMarks | null;
  /**
   * Epoch ms of the latest real-time write (new events): the night re-reads the customers touched since its previous
   * population (TABLE.nightlyTouchedIndex). Kept as read by every other writer; absent on profiles never written so.
   */
  touchedAt?: number;
  /** Ids whose state this profile absorbed (directly or through a chain of merges), oldest first; at most MAX_MERGED_IDS. */
  mergedFrom?: string[];
}

/** A profile's place in the nightly change index. */
export interface NightlyMarks {
  /** Epoch ms: the earliest instant its segment or lifecycle stage could change with no event and no model change. */
  dueAt: number;
  /** Centroid clock (SegmentationModel.placement.clock) past which moved centroids could move it; null: none. */
  breakAt: number | null;
  /** Value clock (placement.valueClock) past which a refitted value model could change its stage; null: none. */
  valueBreakAt: number | null;
}

/** How many merged ids a profile records (the bound on `mergedFrom`): a merge beyond it is refused. */
export const MAX_MERGED_IDS = 100;

/** An id merged into another customer: its events count for `aliasOf`. */
export function isAlias(p: CustomerProfile): boolean {
  return p.aliasOf !== undefined;
}

/** A tombstone: erased, and nothing happened since. */
export function isTombstone(p: CustomerProfile): boolean {
  return p.erasedAt !== null && p.state.events === 0;
}
