import type { FitInput, FitOutput } from '../contracts/recluster';
import { mergeReservoirs } from '../segmentation/sample';
import { fitSegmentation, type FitDiagnostics } from '../segmentation/fit';
import type { GateResult } from '../segmentation/gate';
import type { SegmentationModel } from '../segmentation/model';
import { mapLimit } from '../util/concurrency';
import { createRng } from '../util/rng';
import { fitValueModel } from '../value';
import { fitRfmBreakpoints } from '../value/rfm';
import { mergeCampaignAggregates } from '../catalogue/tallies';
import { putJson, readShardSample, runObjectKeys } from './artifacts';
import { withCatalogue } from './catalogue';
import type { ReclusterDeps } from './deps';
import { valueRowOf, withTraits, type ScanRow } from './rows';
import { newRun, updateRun } from './runs';
import { seedFor } from './seeds';

/** What FitModel leaves in the object store for the report, published or not. */
export interface ModelArtifact {
  runId: string;
  asOf: string;
  model: SegmentationModel;
  gate: GateResult;
  diagnostics: FitDiagnostics;
  sample: { size: number; population: number; shards: number };
  previousVersion: number | null;
}

/**
 * Merges the shards' reservoirs into one uniform sample of `sampleSize` (seeded by the runId), in customer-id order:
 * the fit then depends on which customers are in the sample, not on the order shards or reservoirs produced them,
 * so two runs over the same data (a run and its rerun, or a run and the next night's) fit the same model.
 */
export function mergeShardSamples(
  shards: readonly { rows: readonly ScanRow[]; population: number }[],
  sampleSize: number,
  runId: string,
  seed: number,
): ScanRow[] {
  const merged = mergeReservoirs(
    shards.map((s) => ({ items: s.rows, population: s.population })),
    sampleSize,
    createRng(seedFor(seed, runId, 'merge')),
  );
  return merged.sort((a, b) => (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0));
}

/**
 * FitModel: sample → value model → segmentation model, stored as MODEL/V#<n> (not active yet) when it passes the
 * quality gate, and recorded in RUN#. Idempotent by runId:
 * - the version is reserved in RUN# before the fit; a rerun reuses it (unless another run took that number
 *   meanwhile: then the next free one);
 * - a rerun of a run whose model is already stored returns the recorded result without refitting, so
 *   AssignShards and Publish of the rerun work with exactly the model the first attempt stored.
 * A rejected model is not stored (its version number is only reserved); it is written to the object store with the
 * gate's reasons, and the output's gate routes the execution to MarkFailed.
 */
export async function fitModel(input: FitInput, deps: ReclusterDeps): Promise<FitOutput> {
  const { runId } = input;
  const { settings, models } = deps;
  const started = Date.now();
  const run = await deps.runs.get(runId);
  if (run?.fit?.gate.passed) {
    const stored = await models.getVersion(run.fit.modelVersion);
    if (stored?.runId === runId) {
      deps.log.info('model already fitted for this run', { runId, modelVersion: stored.version });
      return { runId, modelVersion: stored.version, k: stored.k, gate: run.fit.gate };
    }
  }

  const files = await mapLimit(input.scans, 8, (scan) => readShardSample(deps.objects, scan.sampleKey));
  for (const f of files) if (f.runId !== runId) throw new Error(`shard sample ${f.shard} belongs to run ${f.runId}`);
  const population = files.reduce((s, f) => s + f.population, 0);
  const rows = mergeShardSamples(files, settings.recluster.sampleSize, runId, settings.recluster.seed);

  const previous = await models.getActive();
  let version = run?.modelVersion ?? null;
  if (version !== null) {
    const taken = await models.getVersion(version);
    if (taken && taken.runId !== runId) version = null;
  }
  version ??= (await models.latestVersionNumber()) + 1;
  const reserved = version;
  const nowIso = deps.clock().toISOString();
  await updateRun(deps.runs, runId, (current) =>
    current?.modelVersion === reserved
      ? null
      : { ...(current ?? newRun(runId, nowIso)), modelVersion: reserved, updatedAt: nowIso },
  );

  const value = fitValueModel(rows.map(valueRowOf), {
    minCustomers: settings.value.minCustomers,
    minRepeatCustomers: settings.value.minRepeatCustomers,
  });
  const sample = withTraits(rows, value, settings.value);
  const result = fitSegmentation({
    sample,
    previous,
    settings: settings.recluster,
    weights: { behaviour: settings.vector.behaviourWeight, interest: settings.vector.interestWeight },
    embeddingDim: settings.embedding.dimension,
    version,
    runId,
    createdAt: nowIso,
    value,
  });
  const { gate } = result;
  const model = await withCatalogue({
    model: { ...result.model, rfm: fitRfmBreakpoints(rows.map((r) => r.natural)) },
    rows: sample,
    labels: result.labels,
    campaigns: mergeCampaignAggregates(files.map((f) => f.campaigns)),
    previous,
    gatePassed: gate.passed,
    deps,
  });
  const artifact: ModelArtifact = {
    runId,
    asOf: input.asOf,
    model,
    gate,
    diagnostics: result.diagnostics,
    sample: { size: rows.length, population, shards: files.length },
    previousVersion: previous?.version ?? null,
  };
  await putJson(deps.objects, runObjectKeys.model(runId), artifact);
  if (gate.passed) await models.putVersion(model);

  const fittedAt = deps.clock().toISOString();
  await updateRun(deps.runs, runId, (current) => ({
    ...(current ?? newRun(runId, fittedAt)),
    modelVersion: version,
    fit: {
      modelVersion: version,
      previousVersion: previous?.version ?? null,
      k: model.k,
      gate,
      quality: model.quality,
      sampleSize: rows.length,
      population,
      fittedAt,
    },
    updatedAt: fittedAt,
  }));
  deps.metrics.count(gate.passed ? 'ReclusterModelsFitted' : 'ReclusterModelsRejected');
  deps.log.info('model fitted', {
    runId,
    modelVersion: version,
    previousVersion: previous?.version ?? null,
    k: model.k,
    sample: rows.length,
    population,
    gatePassed: gate.passed,
    silhouette: model.quality.silhouette,
    daviesBouldin: model.quality.daviesBouldin,
    stability: model.quality.stability,
    valueModel: value.bgnbd.source,
    ms: Date.now() - started,
  });
  // The contract wants k ≥ 1; a refused fit (k = 0) fails the gate, whose reasons say why.
  return { runId, modelVersion: version, k: Math.max(1, model.k), gate };
}
