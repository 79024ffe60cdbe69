import type { ModelQuality } from '../contracts/outbound';
import type { OutboxEntry } from '../customer/profile';
import type { WriteOutcome } from '../customer/store';
import type { Rejection } from '../contracts/validate';
import type { SegmentationModel } from '../segmentation/model';

// The customer aggregate's types and ports live with it, in shared/customer.
export type { Assignment, CustomerProfile, OutboxEntry, Transition } from '../customer/profile';
export type { EventLog, ProfileStore, SettleOutcome, WriteOutcome } from '../customer/store';

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
  /**
   * The customer the rejected record names, when the rejection could read it (`rejection.customerId`); erasure finds
   * the entry by it. Optional until every writer sets it; the adapter falls back to `rejection.customerId`.
   */
  customerId?: string | null;
  rejection: Rejection;
  /** The raw record body as received. Stored truncated to QUARANTINE_RAW_MAX_BYTES (see `rawInfo`). */
  raw: string;
  /** Set on entries read back: the original body's UTF-8 length, its SHA-256 (hex), and whether `raw` was cut. */
  rawInfo?: { bytes: number; sha256: string; truncated: boolean };
}

/** Rejected inbound records, kept with their reason for `retention.quarantineDays`. */
export interface Quarantine {
  /** Stores each entry on its own; never throws because of one entry. Returns the message ids not stored. */
  put(entries: readonly QuarantineEntry[]): Promise<{ failed: string[] }>;
  /** Entries received on `day` (yyyy-mm-dd, UTC). */
  list(day: string): Promise<QuarantineEntry[]>;
  /** Deletes every entry naming `customerId` (erasure). Returns how many were deleted. */
  eraseCustomer(customerId: string): Promise<number>;
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
  /**
   * Which candidate won (warm start or fresh fit), why, and the silhouette gain of the fresh fit over the warm one;
   * `kept` when the night kept the active model (reason e.g. "no drift, refit in 3 nights"; nothing was fitted).
   */
  continuity?: {
    chosen: 'warm' | 'fresh' | 'kept';
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
  /**
   * What tonight read and re-placed (the nightly change index): recorded by FitModel (the scans) and Publish (the
   * assignments; absent on a run that did not get there).
   */
  nightly?: RunNightlyWork;
  /** The run whose population files this run's ScanShards carry forward (null: none; absent: not planned yet). */
  baseRunId?: string | null;
  /** On the `#latest` pointer record only: the most recent run PlanShards started (see reconcileRun). */
  latestRunId?: string;
}

/** Per run: profiles read, evaluated and written, and whether (and why) everyone was re-placed. */
export interface RunNightlyWork {
  /** Profiles the ScanShards read from the table (the due ones; everyone on a full shard). */
  scanRead: number;
  /** Shards whose ScanShard read everyone (no population file to carry forward, or full nights configured). */
  fullScanShards: number;
  /** Why every customer is re-placed tonight (the model's `placement.full`), or null. */
  fullReason: string | null;
  /** The model clock of tonight's model (SegmentationModel.placement.clock). */
  modelClock: number | null;
  assignRead?: number;
  evaluated?: number;
  written?: number;
  fullAssignShards?: number;
}

/** Nightly run status items. All transitions are read-modify-write with a condition on `rev`. */
export interface RunStore {
  get(runId: string): Promise<RunRecord | null>;
  /** Writes the record if the stored revision is still `expectedRev` (null: must not exist). */
  put(record: RunRecord, expectedRev: number | null): Promise<WriteOutcome>;
}
