import { addCampaigns, type CampaignAggregate } from '../catalogue/tallies';
import type { ScanOutput, ShardTask } from '../contracts/recluster';
import type { CustomerProfile } from '../customer/profile';
import { Reservoir } from '../segmentation/sample';
import { createRng } from '../util/rng';
import { runObjectKeys, SAMPLE_FORMAT, writeShardSample, type ShardSampleFile } from './artifacts';
import { backtestRowOfDays, firstPurchaseDayOfDays } from '../customer/state';
import { localDayNumber } from '../customer/money-time';
import { featureSettingsOf } from '../customer/update';
import { BACKTEST_HOLDOUT_WEEKS } from '../value/backtest';
import type { ReclusterDeps } from './deps';
import {
  carriedFeatures,
  entryOf,
  isLive,
  POPULATION_FORMAT,
  readPopulation,
  writePopulation,
  type PopulationEntry,
  type PopulationFile,
} from './population';
import { scanRowOf, type ScanRow } from './rows';
import { seedFor, shardReservoirCapacity } from './seeds';

/** How far before the base night's asOf a real-time write still counts as touched since it (ms). */
export const TOUCHED_EARLY_MS = 3_600_000;

/**
 * Tonight's population of a shard, reading only what changed: the previous run's population file carried forward,
 * with the customers the nightly change index says are due by `asOf` or touched by a real-time write since the base
 * night (new events) re-read by key (an erasure's tombstone and a merge mark their customers due at once), and the
 * erased, merged-away or gone ones dropped, so an
 * erased customer's data is never carried into another night. Without a usable previous file (the first night, a
 * base run that did not get this far, another shard count) or with `recluster.fullNights`, every indexed profile of
 * the shard is read (`full`).
 */
export async function shardPopulation(task: ShardTask, deps: ReclusterDeps): Promise<PopulationFile> {
  const asOfMs = Date.parse(task.asOf);
  const asOf = new Date(asOfMs);
  const base = task.baseRunId ? await readPopulation(deps.objects, task.baseRunId, task.shard) : null;
  const fullReason = deps.settings.recluster.fullNights
    ? 'full nights configured'
    : !task.baseRunId
      ? 'no previous run'
      : !base
        ? 'no population file from the previous run'
        : base.totalShards !== task.totalShards
          ? 'shard count changed'
          : null;
  const entries = new Map<string, PopulationEntry>();
  if (fullReason === null) for (const e of base!.customers) entries.set(e.id, e);
  // Touched since the base night (less an hour: a real-time write while that night read its shard is read again).
  const ids = await deps.profiles.nightlyIds(
    task.shard,
    task.totalShards,
    fullReason === null ? { dueBy: asOfMs, touchedSince: Date.parse(base!.asOf) - TOUCHED_EARLY_MS } : {},
  );
  const read = await readProfiles(ids, deps);
  for (const id of ids) {
    const p = read.get(id);
    if (p && isLive(p)) entries.set(id, entryOf(p, asOf, deps.settings));
    else entries.delete(id);
  }
  const customers = [...entries.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    format: POPULATION_FORMAT,
    runId: task.runId,
    shard: task.shard,
    totalShards: task.totalShards,
    asOf: task.asOf,
    mode: fullReason === null ? 'index' : 'full',
    reason: fullReason,
    read: read.size,
    customers,
  };
}

/** Strongly consistent batched reads of the given profiles, in chunks (BatchGetItem takes 100 keys). */
export async function readProfiles(ids: readonly string[], deps: ReclusterDeps): Promise<Map<string, CustomerProfile>> {
  const out = new Map<string, CustomerProfile>();
  for (let i = 0; i < ids.length; i += 1000) {
    for (const [id, p] of await deps.profiles.getMany(ids.slice(i, i + 1000))) out.set(id, p);
  }
  return out;
}

/**
 * ScanShard: one nightly shard's population (see `shardPopulation`: only the customers due tonight are read from the
 * table). Each customer's features are brought to the run's asOf (a customer read tonight: from its state; a carried
 * one: `carriedFeatures`; no event-log reads), turned into a sample row and offered
 * to a reservoir seeded by (seed, runId, shard) in customer-id order. Writes the sample and the population file under
 * the run's prefix (a rerun overwrites them with the same content) and returns the counts.
 */
export async function scanShard(task: ShardTask, deps: ReclusterDeps): Promise<ScanOutput> {
  const { settings } = deps;
  const started = Date.now();
  const asOf = new Date(task.asOf);
  const population = await shardPopulation(task, deps);
  const reservoir = new Reservoir<ScanRow>(
    shardReservoirCapacity(settings.recluster.sampleSize, task.totalShards),
    createRng(seedFor(settings.recluster.seed, task.runId, task.shard)),
  );
  const campaigns: CampaignAggregate = {};
  // The value model's backtest: the last BACKTEST_HOLDOUT_WEEKS are the holdout (FitModel decides whether the store
  // has history enough to use it).
  const fs = featureSettingsOf(settings);
  const holdoutEndDay = localDayNumber(asOf.getTime(), fs);
  const calibrationEndDay = holdoutEndDay - BACKTEST_HOLDOUT_WEEKS * 7;
  let firstPurchaseDay: number | null = null;
  for (const entry of population.customers) {
    const features = carriedFeatures(entry, asOf, settings);
    const row = scanRowOf(entry.id, features, entry.stage, settings.placement);
    const first = firstPurchaseDayOfDays(entry.purchaseDays);
    if (first !== null) firstPurchaseDay = firstPurchaseDay === null ? first : Math.min(firstPurchaseDay, first);
    const backtest = backtestRowOfDays(entry.purchaseDays, calibrationEndDay, holdoutEndDay);
    if (backtest) row.backtest = backtest;
    addCampaigns(campaigns, features.campaigns, { customerId: entry.id, settings: settings.holdout });
    reservoir.add(row);
  }
  const sampleKey = runObjectKeys.sample(task.runId, task.shard);
  const sample: ShardSampleFile = {
    format: SAMPLE_FORMAT,
    runId: task.runId,
    shard: task.shard,
    totalShards: task.totalShards,
    asOf: task.asOf,
    population: reservoir.seen,
    rows: [...reservoir.items],
    campaigns,
    firstPurchaseDay,
  };
  await Promise.all([writeShardSample(deps.objects, sampleKey, sample), writePopulation(deps.objects, population)]);
  deps.metrics.count('ReclusterCustomersScanned', reservoir.seen);
  deps.metrics.count('ReclusterProfilesRead', population.read);
  if (population.mode === 'full') deps.metrics.count('ReclusterFullShards');
  deps.log.info('shard scanned', {
    runId: task.runId,
    shard: task.shard,
    customers: reservoir.seen,
    sampled: sample.rows.length,
    read: population.read,
    mode: population.mode,
    reason: population.reason,
    ms: Date.now() - started,
  });
  return {
    shard: task.shard,
    customers: reservoir.seen,
    sampled: sample.rows.length,
    sampleKey,
    read: population.read,
    full: population.mode === 'full',
  };
}
