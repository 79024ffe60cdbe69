import type { ModelQuality, OutboundEvent, Traits, LifecycleStage } from '../contracts/outbound';
import type { Rejection } from '../contracts/validate';
import type { CustomerFeatures, LoggedEvent } from '../domain/features';
import type { SegmentationModel } from '../segmentation/model';

/** A change waiting to be published. Kept on the profile until PutEvents succeeded (the outbox). */
export interface OutboxEntry {
  dedupeKey: string;
  event: OutboundEvent;
}

export interface Assignment {
  segmentId: string;
  modelVersion: number;
  since: string;
  distance: number;
  confidence: number;
  topProbabilities: { segmentId: string; p: number }[];
}

export interface CustomerProfile {
  customerId: string;
  /** Optimistic-concurrency revision: every write is conditional on the revision it read. */
  rev: number;
  updatedAt: string;
  /** Features as of `updatedAt` (time-dependent ones are re-evaluated at read time by consumers). */
  features: CustomerFeatures;
  assignment: Assignment | null;
  traits: Traits | null;
  lifecycleStage: LifecycleStage | null;
  outbox: OutboxEntry[];
}

export interface AppendResult {
  appended: string[];
  duplicates: string[];
}

/** The customer's event log: the source of truth that features are folded from. */
export interface EventLog {
  /** Conditional appends, one request per event: reports exactly which ids were already there. */
  append(customerId: string, events: readonly LoggedEvent[], expiresAt: number): Promise<AppendResult>;
  /**
   * Unconditional batched appends of events the caller knows to be new (it loaded the log first). A concurrent
   * writer of the same event id writes the same item, so the overwrite is harmless.
   */
  appendMany(events: readonly { customerId: string; logged: LoggedEvent }[], expiresAt: number): Promise<void>;
  load(customerId: string): Promise<LoggedEvent[]>;
  setEmbeddings(customerId: string, updates: readonly { eventId: string; embedding: Float32Array }[]): Promise<void>;
  /** Deletes every item held for the customer (events, profile, history). Returns how many. */
  eraseCustomer(customerId: string): Promise<number>;
}

export type WriteOutcome = 'written' | 'conflict';

export interface ProfileStore {
  get(customerId: string): Promise<CustomerProfile | null>;
  /** Strongly consistent batched read; absent customers are absent from the map. */
  getMany(customerIds: readonly string[]): Promise<Map<string, CustomerProfile>>;
  /** Writes the profile if the stored revision is still `expectedRev` (null: must not exist). */
  put(profile: CustomerProfile, expectedRev: number | null): Promise<WriteOutcome>;
  /**
   * Drops published entries from the outbox and records them in the transition history. With `written`, the caller
   * says it published the whole outbox of the revision it wrote: one conditional update clears it, falling back to
   * per-entry removal if the profile moved on meanwhile.
   */
  completeOutbox(customerId: string, published: readonly OutboxEntry[], written?: { rev: number }): Promise<void>;
  /** Profiles with pending outbox entries (for the sweeper). */
  pendingOutbox(limit: number): Promise<CustomerProfile[]>;
  /** Customer ids currently assigned to a segment (the audience export), from the bySegment index. */
  audience(segmentId: string): AsyncIterable<string>;
  /** Parallel-scan segment `shard` of `totalShards` over all profiles. */
  scanShard(shard: number, totalShards: number): AsyncIterable<CustomerProfile>;
}

export interface ModelStore {
  getActive(): Promise<SegmentationModel | null>;
  getVersion(version: number): Promise<SegmentationModel | null>;
  /** Stores a version; idempotent for the same runId, refuses to overwrite another run's version. */
  putVersion(model: SegmentationModel): Promise<void>;
  /** Flips the active pointer to `version` if it still points at `expected` (null: none). */
  activate(version: number, expected: number | null): Promise<boolean>;
  latestVersionNumber(): Promise<number>;
}

export interface PublishResult {
  published: number;
  failed: { dedupeKey: string; errorCode: string }[];
}

export interface Publisher {
  publish(events: readonly OutboxEntry[]): Promise<PublishResult>;
}

export interface QuarantineEntry {
  messageId: string;
  receivedAt: string;
  rejection: Rejection;
  /** The raw record body exactly as received (bounded by the SQS message size). */
  raw: string;
}

export interface Quarantine {
  put(entries: readonly QuarantineEntry[]): Promise<void>;
  list(day: string): Promise<QuarantineEntry[]>;
}

export interface ObjectStore {
  put(key: string, body: Uint8Array | string, contentType?: string): Promise<void>;
  get(key: string): Promise<Uint8Array | null>;
}

/** Status of a nightly run (`RUN#<runId>`): running → published | failed; a rerun moves failed back to running. */
export type RunStatus = 'running' | 'published' | 'failed';

export interface RunFit {
  modelVersion: number;
  /** The version that was active when the model was fitted (and aligned to); Publish flips from it. */
  previousVersion: number | null;
  k: number;
  gate: { passed: boolean; reasons: string[] };
  quality: ModelQuality;
  /** Rows the model was fitted on, and the customers they were drawn from. */
  sampleSize: number;
  population: number;
  fittedAt: string;
  /** Which candidate won (warm start or fresh fit), why, and the silhouette gain of the fresh fit over the warm one. */
  continuity?: {
    chosen: 'warm' | 'fresh';
    reason: string;
    gain: number | null;
    searched: boolean;
    brokenSegments?: string[];
    /** Warm segments dropped tonight because they no longer held together (their ids retired). */
    droppedSegments?: string[];
  } | null;
  /** Drift of tonight's sample against the active model's training sample (null: no comparable active model). */
  drift?: {
    detected: boolean;
    reasons: string[];
    maxFeaturePsi: number;
    sharePsi: number;
    distanceInflation: number;
  } | null;
}

export interface RunPublished {
  modelVersion: number;
  publishedAt: string;
  customersAssigned: number;
  customersMoved: number;
  /** segmentation.model.published went out (set after PutEvents succeeded). */
  eventSent: boolean;
}

export interface RunFailure {
  state: string;
  error: string;
  cause?: string;
  failedAt: string;
  /** The attempt (see RunRecord.attempts) that failed. */
  attempt: number;
  /** segmentation.run.failed went out for this failure (set after PutEvents succeeded). */
  eventSent: boolean;
}

export interface RunRecord {
  runId: string;
  /** Optimistic-concurrency revision, as on profiles. */
  rev: number;
  status: RunStatus;
  /** Time-dependent features are evaluated as of this instant. Fixed by the first start, so a rerun converges. */
  asOf: string | null;
  startedAt: string;
  updatedAt: string;
  /** How many times PlanShards (re)started the run. */
  attempts: number;
  shardCount: number | null;
  /** Model version reserved by FitModel; a rerun of the run reuses it. */
  modelVersion: number | null;
  fit: RunFit | null;
  published: RunPublished | null;
  failure: RunFailure | null;
  /**
   * Totals of AssignShards, recorded by Publish before it flips ACTIVE, so that a run found live after Publish died
   * can still be recorded (and announced) as published with its counts.
   */
  assignTotals?: { customersAssigned: number; customersMoved: number };
  /** On the `#latest` pointer record only: the most recent run PlanShards started (see reconcileRun). */
  latestRunId?: string;
}

/** Nightly run status items. All transitions are read-modify-write with a condition on `rev`. */
export interface RunStore {
  get(runId: string): Promise<RunRecord | null>;
  /** Writes the record if the stored revision is still `expectedRev` (null: must not exist). */
  put(record: RunRecord, expectedRev: number | null): Promise<WriteOutcome>;
}
