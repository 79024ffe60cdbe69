import { addCampaigns, type CampaignAggregate } from '../catalogue/tallies';
import type { ScanOutput, ShardTask } from '../contracts/recluster';
import { Reservoir } from '../segmentation/sample';
import { createRng } from '../util/rng';
import { putJson, runObjectKeys, SAMPLE_FORMAT, VectorsBuilder, type ShardSampleFile } from './artifacts';
import { backtestRowOf, firstPurchaseDayOf } from '../customer/state';
import { localDayNumber } from '../customer/money-time';
import { featureSettingsOf } from '../customer/update';
import { BACKTEST_HOLDOUT_WEEKS } from '../value/backtest';
import { featuresAsOf } from './as-of';
import type { ReclusterDeps } from './deps';
import { scanRowOf, type ScanRow } from './rows';
import { seedFor, shardReservoirCapacity } from './seeds';

/**
 * ScanShard: one parallel-scan segment of the profiles. Each customer's stored features are brought to the run's
 * asOf (`refreshFeatures`: no event-log reads), turned into a sample row, offered to a reservoir seeded by
 * (seed, runId, shard), and appended to the shard's vector file. Writes the sample and the vectors under the run's
 * prefix (a rerun overwrites them with the same content) and returns the counts.
 */
export async function scanShard(task: ShardTask, deps: ReclusterDeps): Promise<ScanOutput> {
  const { settings } = deps;
  const started = Date.now();
  const asOf = new Date(task.asOf);
  const reservoir = new Reservoir<ScanRow>(
    shardReservoirCapacity(settings.recluster.sampleSize, task.totalShards),
    createRng(seedFor(settings.recluster.seed, task.runId, task.shard)),
  );
  const vectors = new VectorsBuilder({
    runId: task.runId,
    shard: task.shard,
    asOf: task.asOf,
    interestDim: settings.embedding.dimension,
  });
  const campaigns: CampaignAggregate = {};
  // The value model's backtest: the last BACKTEST_HOLDOUT_WEEKS are the holdout (FitModel decides whether the store
  // has history enough to use it).
  const fs = featureSettingsOf(settings);
  const holdoutEndDay = localDayNumber(asOf.getTime(), fs);
  const calibrationEndDay = holdoutEndDay - BACKTEST_HOLDOUT_WEEKS * 7;
  let firstPurchaseDay: number | null = null;
  for await (const profile of deps.profiles.scanShard(task.shard, task.totalShards)) {
    const features = featuresAsOf(profile, asOf, settings);
    const row = scanRowOf(profile.customerId, features, profile.traits?.lifecycleStage ?? null, settings.placement);
    const first = firstPurchaseDayOf(profile.state, fs);
    if (first !== null) firstPurchaseDay = firstPurchaseDay === null ? first : Math.min(firstPurchaseDay, first);
    const backtest = backtestRowOf(profile.state, calibrationEndDay, holdoutEndDay, fs);
    if (backtest) row.backtest = backtest;
    addCampaigns(campaigns, features.campaigns, { customerId: profile.customerId, settings: settings.holdout });
    reservoir.add(row);
    vectors.add(row.customerId, row.behaviour, row.interest);
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
  await Promise.all([
    putJson(deps.objects, sampleKey, sample),
    deps.objects.put(runObjectKeys.vectors(task.runId, task.shard), vectors.build(), 'application/octet-stream'),
  ]);
  deps.metrics.count('ReclusterCustomersScanned', reservoir.seen);
  deps.log.info('shard scanned', {
    runId: task.runId,
    shard: task.shard,
    customers: reservoir.seen,
    sampled: sample.rows.length,
    ms: Date.now() - started,
  });
  return { shard: task.shard, customers: reservoir.seen, sampled: sample.rows.length, sampleKey };
}
