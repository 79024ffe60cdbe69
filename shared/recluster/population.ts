import type { LifecycleStage } from '../contracts/outbound';
import { decodeOwnState, encodeState } from '../customer/item';
import { isAlias, isTombstone, type CustomerProfile } from '../customer/profile';
import type { CustomerState } from '../customer/state';
import type { CustomerFeatures } from '../domain/features';
import type { ObjectStore } from '../ports/stores';
import { getJson, putJson } from './artifacts';

export const POPULATION_FORMAT = 'shoal-population/1';

/** Object key of a shard's population file (under runs/: the run artifacts' retention applies). */
export const populationKey = (runId: string, shard: number) => `runs/${runId}/shards/${shard}.population.json`;

/**
 * What the night keeps of one live customer between nights: the mergeable state and what ScanShard reads besides it
 * (the stored stage, `updatedAt`), and the revision it was read at. Every row of the fit sample is derived from it
 * with the pure as-of functions, so a carried entry gives the same row as a fresh read of the same revision.
 */
export interface PopulationEntry {
  id: string;
  rev: number;
  updatedAt: string;
  stage: LifecycleStage | null;
  /** encodeState of the mergeable state. */
  state: string;
  /** Only for a profile stored before the mergeable state (state version 0): its stored features. */
  features?: CustomerFeatures;
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

export function entryOf(p: CustomerProfile): PopulationEntry {
  return {
    id: p.customerId,
    rev: p.rev,
    updatedAt: p.updatedAt,
    stage: p.lifecycleStage,
    state: encodeState(p.state),
    ...(p.state.v === 0 ? { features: p.features } : {}),
  };
}

/** The part of a profile the sample row is derived from (see `featuresAsOf`, `scanRowOf`). */
export interface PopulationProfile {
  customerId: string;
  updatedAt: string;
  state: CustomerState;
  features: CustomerFeatures;
  lifecycleStage: LifecycleStage | null;
}

export function profileOfEntry(e: PopulationEntry): PopulationProfile {
  const state = decodeOwnState(e.state);
  return {
    customerId: e.id,
    updatedAt: e.updatedAt,
    state,
    features: e.features ?? (undefined as unknown as CustomerFeatures),
    lifecycleStage: e.stage,
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

export async function writePopulation(objects: ObjectStore, file: PopulationFile): Promise<void> {
  await putJson(objects, populationKey(file.runId, file.shard), file);
}
