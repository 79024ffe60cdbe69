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
  rejection: Rejection;
  /** The raw record body exactly as received (bounded by the SQS message size). */
  raw: string;
}

export interface Quarantine {
  put(entries: readonly QuarantineEntry[]): Promise<void>;
  /** Deletes the entries naming a customer (erasure); returns how many. */
  eraseCustomer?(customerId: string): Promise<number>;
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
}

/** Nightly run status items. All transitions are read-modify-write with a condition on `rev`. */
export interface RunStore {
  get(runId: string): Promise<RunRecord | null>;
  /** Writes the record if the stored revision is still `expectedRev` (null: must not exist). */
  put(record: RunRecord, expectedRev: number | null): Promise<WriteOutcome>;
}
