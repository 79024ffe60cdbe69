import { createHash } from 'node:crypto';
import type { Settings } from '../config/settings';
import type { LifecycleStage } from '../contracts/outbound';
import { decodeVector, encodeState, encodeVector } from '../customer/item';
import { localDayNumber } from '../customer/money-time';
import { isAlias, isTombstone, type CustomerProfile } from '../customer/profile';
import { firstPurchaseDayOfDays, purchaseDaysOf, type CustomerState, type PurchaseDays } from '../customer/state';
import { featureSettingsOf } from '../customer/update';
import { refreshFeatures, type CustomerFeatures } from '../domain/features';
import type { ObjectStore } from '../ports/stores';
import { getJson, putJson } from './artifacts';
import { evaluationTime, featuresAsOf } from './as-of';

/**
 * Version 2 carries each customer's features as of the night it was read instead of its state: a carried customer's
 * features are brought to tonight by `carriedFeatures` (the time-dependent fields only), where version 1 parsed every
 * state and re-derived every feature every night. A version 1 file is not read (the night reads everyone once).
 */
export const POPULATION_FORMAT = 'shoal-population/2';

/** Object key of a shard's population file (under runs/: the run artifacts' retention applies). */
export const populationKey = (runId: string, shard: number) => `runs/${runId}/shards/${shard}.population.json`;

/**
 * Object key of a shard's revisions file: of tonight's population, only what AssignShard checks (each customer's
 * revision and state hash), so that it does not parse every customer's features a second time.
 */
export const revisionsKey = (runId: string, shard: number) => `runs/${runId}/shards/${shard}.revisions.json`;
export const REVISIONS_FORMAT = 'shoal-population-revisions/1';

/** A shard's revisions file: `ids[i]` was read at revision `revs[i]`, its state hashing to `hashes[i]`. */
export interface PopulationRevisions {
  format: typeof REVISIONS_FORMAT;
  runId: string;
  shard: number;
  mode: PopulationFile['mode'];
  reason: string | null;
  ids: string[];
  revs: number[];
  hashes: string[];
}

/**
 * What the night keeps of one live customer between nights: what ScanShard derives a sample row from, as of the
 * instant `at` the customer was last read (the stored stage, `updatedAt`), and the revision it was read at. A carried
 * entry gives the row a fresh read of the same revision gives (to floating-point rounding: see `carriedFeatures`).
 */
export interface PopulationEntry {
  id: string;
  rev: number;
  updatedAt: string;
  stage: LifecycleStage | null;
  /** SHA-1 (base64) of encodeState of the state read: AssignShard's agreement check when the revisions differ. */
  stateHash: string;
  /** The instant `features` are as of: the evaluation time of the night that read the customer (ISO). */
  at: string;
  /** featuresAsOf at `at`, its interest vector as `encodeVector`. */
  features: Omit<CustomerFeatures, 'interest'> & { interest: string | null };
  /** The purchase days (local day numbers) for the value backtest and the store's first purchase day. */
  purchaseDays: PurchaseDays;
  /** A profile stored before the mergeable state (state version 0): its features are all there is of it. */
  legacy?: true;
}

/**
 * A shard's population after tonight's ScanShard: every live customer of the nightly shard (`nightlyShardOf`), sorted
 * by id. `mode` says how it was built: `full` (every indexed profile of the shard read, `reason` says why) or `index`
 * (the previous run's file carried forward, with the customers due tonight re-read and the erased, merged away or
 * gone ones dropped). AssignShard reads it to know which revision of each customer the sample saw.
 */
export interface PopulationFile {
  format: typeof POPULATION_FORMAT;
  runId: string;
  shard: number;
  totalShards: number;
  asOf: string;
  mode: 'full' | 'index';
  reason: string | null;
  /** Profiles read from the table to build it. */
  read: number;
  customers: PopulationEntry[];
}

/** The agreement hash of a state (see PopulationEntry.stateHash). */
export function stateHashOf(state: CustomerState): string {
  return createHash('sha1').update(encodeState(state)).digest('base64');
}

/** The entry of a profile read tonight, with its features as of the run's `asOf` (`featuresAsOf`). */
export function entryOf(p: CustomerProfile, asOf: Date, settings: Settings): PopulationEntry {
  const features = featuresAsOf(p, asOf, settings);
  return {
    id: p.customerId,
    rev: p.rev,
    updatedAt: p.updatedAt,
    stage: p.lifecycleStage,
    stateHash: stateHashOf(p.state),
    at: evaluationTime(asOf, p.updatedAt).toISOString(),
    features: { ...features, interest: encodeVector(features.interest) },
    purchaseDays: purchaseDaysOf(p.state, featureSettingsOf(settings)),
    ...(p.state.v === 0 ? { legacy: true as const } : {}),
  };
}

/**
 * An entry's features as of the run's `asOf` (never before its own `updatedAt`, as `featuresAsOf`). From the stored
 * features at `entry.at`, `refreshFeatures` moves recency, tenure and the decayed tallies (every term of a decayed sum
 * shrinks by the same factor, so the sum does: equal to a fresh fold to floating-point rounding), and T is recounted
 * as `featuresOf` counts it, in local calendar days since the first purchase day. Everything else depends on the
 * event set alone, which a carried entry has not changed (a new event makes the customer touched, so it is re-read).
 */
export function carriedFeatures(entry: PopulationEntry, asOf: Date, settings: Settings): CustomerFeatures {
  const stored = { ...entry.features, interest: decodeVector(entry.features.interest) } as CustomerFeatures;
  const at = evaluationTime(asOf, entry.updatedAt);
  const from = new Date(entry.at);
  if (!(at.getTime() > from.getTime())) return stored;
  const fs = featureSettingsOf(settings);
  const refreshed = refreshFeatures(stored, from, at, fs);
  // A legacy profile has no purchase days: T moves as `featuresAsOf` moves it for such a profile (refreshFeatures).
  if (entry.legacy) return refreshed;
  const firstDay = firstPurchaseDayOfDays(entry.purchaseDays);
  return {
    ...refreshed,
    purchase:
      firstDay === null
        ? stored.purchase
        : {
            ...stored.purchase,
            T: Math.max(stored.purchase.tx, Math.max(0, localDayNumber(at.getTime(), fs, true) - firstDay) / 7),
          },
  };
}

/** Whether a profile read tonight belongs in the population (not erased, not merged away). */
export function isLive(p: CustomerProfile | undefined): boolean {
  return p !== undefined && !isTombstone(p) && !isAlias(p);
}

export async function readPopulation(
  objects: ObjectStore,
  runId: string,
  shard: number,
): Promise<PopulationFile | null> {
  const file = await getJson<PopulationFile>(objects, populationKey(runId, shard)).catch(() => null);
  if (!file || file.format !== POPULATION_FORMAT || !Array.isArray(file.customers)) return null;
  return file;
}

/** Writes a shard's population file and its revisions file (see `revisionsKey`). */
export async function writePopulation(objects: ObjectStore, file: PopulationFile): Promise<void> {
  const revisions: PopulationRevisions = {
    format: REVISIONS_FORMAT,
    runId: file.runId,
    shard: file.shard,
    mode: file.mode,
    reason: file.reason,
    ids: file.customers.map((e) => e.id),
    revs: file.customers.map((e) => e.rev),
    hashes: file.customers.map((e) => e.stateHash),
  };
  await Promise.all([
    putJson(objects, populationKey(file.runId, file.shard), file),
    putJson(objects, revisionsKey(file.runId, file.shard), revisions),
  ]);
}

/**
 * The revisions of a shard's population tonight, by customer id, and how the population was built. Null when
 * neither the revisions file nor the population file is there (a run scanned before revisions files existed is read
 * from its population file).
 */
export async function readRevisions(
  objects: ObjectStore,
  runId: string,
  shard: number,
): Promise<{
  mode: PopulationFile['mode'];
  reason: string | null;
  byId: Map<string, { rev: number; stateHash: string }>;
} | null> {
  const file = await getJson<PopulationRevisions>(objects, revisionsKey(runId, shard)).catch(() => null);
  if (
    file &&
    file.format === REVISIONS_FORMAT &&
    Array.isArray(file.ids) &&
    file.ids.length === file.revs?.length &&
    file.ids.length === file.hashes?.length
  ) {
    const byId = new Map<string, { rev: number; stateHash: string }>();
    file.ids.forEach((id, i) => byId.set(id, { rev: file.revs[i]!, stateHash: file.hashes[i]! }));
    return { mode: file.mode, reason: file.reason, byId };
  }
  const population = await readPopulation(objects, runId, shard);
  if (!population) return null;
  return {
    mode: population.mode,
    reason: population.reason,
    byId: new Map(population.customers.map((e) => [e.id, { rev: e.rev, stateHash: e.stateHash }])),
  };
}
