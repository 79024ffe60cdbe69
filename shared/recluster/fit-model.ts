import { DEFAULT_DRIFT, DEFAULT_VALUE_REFIT_EVERY_NIGHTS } from '../config/settings';
import { driftDetectedSchema } from '../contracts/outbound';
import type { FitInput, FitOutput } from '../contracts/recluster';
import { dedupeKey } from '../customer/evaluate';
import type { DriftReport } from '../segmentation/drift';
import { mergeReservoirs } from '../segmentation/sample';
import { fitSegmentation, type FitDiagnostics, type FitResult } from '../segmentation/fit';
import { assessKeep, keptModel, type KeepAssessment } from '../segmentation/keep';
import { qualityGate, type GateResult } from '../segmentation/gate';
import type { SegmentationModel } from '../segmentation/model';
import { mapLimit } from '../util/concurrency';
import { createRng } from '../util/rng';
import { localDayNumber } from '../customer/money-time';
import { featureSettingsOf } from '../customer/update';
import type { StoredValueModel } from '../segmentation/model';
import { fitValueModel, valueSampleCounts } from '../value';
import { BACKTEST_HOLDOUT_WEEKS, backtestRows, nightlyBacktestWindow, summarizeBacktest } from '../value/backtest';
import { fitRfmBreakpoints } from '../value/rfm';
import { mergeCampaignAggregates } from '../catalogue/tallies';
import { putJson, readShardSample, runObjectKeys, type ShardSampleFile } from './artifacts';
import { withCatalogue } from './catalogue';
import type { ReclusterDeps } from './deps';
import { segmentationRows, valueRowOf, withTraits, type ScanRow } from './rows';
import { placementOf } from './placement';
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
      return {
        runId,
        modelVersion: stored.version,
        k: stored.k,
        gate: run.fit.gate,
        activeVersion: run.fit.previousVersion,
      };
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

  // A quiet night keeps the active model (shared/segmentation/keep.ts): no value-model refit, no k search, no
  // Lloyd step, no narration. The value model is refitted only on nights the segmentation is, and then only when
  // its own cadence calls for it (`carriedValue`), so a kept night's version has the active value parameters too and
  // neither model clock moves.
  const placeable = segmentationRows(rows);
  const keep = assessKeep({
    sample: placeable,
    previous,
    settings: settings.recluster,
    embeddingDim: settings.embedding.dimension,
    asOf: input.asOf,
  });
  const tonight = { version, runId, createdAt: nowIso };
  // A kept model must still pass tonight's gate (floors are per stage and may have changed); if not, the night fits.
  const kept = keep.keep && previous ? keptResult(previous, keep, tonight, settings.recluster.quality) : null;
  const { result, model: unplacedModel } =
    kept?.result.gate.passed === true ? kept : await fittedResult(files, rows, previous, tonight, input.asOf, deps);
  const { gate } = result;
  const placement = placementOf(previous, unplacedModel, rows.map(valueRowOf));
  const model = { ...unplacedModel, placement };
  const value = model.value;
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
  const { drift, continuity } = result.diagnostics;
  if (drift?.detected) await announceDrift(runId, drift, continuity?.chosen === 'fresh', deps);

  const fittedAt = deps.clock().toISOString();
  await updateRun(deps.runs, runId, (current) => ({
    ...(current ?? newRun(runId, fittedAt)),
    modelVersion: version,
    nightly: {
      scanRead: input.scans.reduce((n, s) => n + s.read, 0),
      fullScanShards: input.scans.filter((s) => s.full).length,
      fullReason:
        placement.full ??
        (input.scans.some((s) => s.full) ? `${input.scans.filter((s) => s.full).length} shard(s) read everyone` : null),
      modelClock: placement.clock,
    },
    fit: {
      modelVersion: version,
      previousVersion: previous?.version ?? null,
      k: model.k,
      gate,
      quality: model.quality,
      sampleSize: rows.length,
      population,
      fittedAt,
      continuity: continuity
        ? {
            chosen: continuity.chosen,
            reason: continuity.reason,
            gain: continuity.gain,
            searched: continuity.searched,
            brokenSegments: continuity.brokenSegments,
            droppedSegments: continuity.droppedSegments,
          }
        : null,
      drift: drift
        ? {
            detected: drift.detected,
            reasons: drift.reasons,
            maxFeaturePsi: Math.max(0, ...drift.features.map((f) => f.psi)),
            sharePsi: drift.sharePsi,
            distanceInflation: drift.distanceInflation,
          }
        : null,
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
    valueFittedAsOf: value.fittedAsOf ?? null,
    continuity: continuity?.chosen ?? null,
    continuityReason: continuity?.reason ?? null,
    refitBecause: keep.keep ? (kept?.result.gate.passed === true ? null : 'kept model fails the gate') : keep.why,
    drift: drift?.detected ?? null,
    placement: placement.full ?? 'incremental',
    modelClock: placement.clock,
    ms: Date.now() - started,
  });
  // The contract wants k ≥ 1; a refused fit (k = 0) fails the gate, whose reasons say why.
  return { runId, modelVersion: version, k: Math.max(1, model.k), gate, activeVersion: previous?.version ?? null };
}

/** Tonight keeps the active model: the kept version and the diagnostics of the checks that let it. */
function keptResult(
  previous: SegmentationModel,
  keep: Extract<KeepAssessment, { keep: true }>,
  tonight: { version: number; runId: string; createdAt: string },
  floors: ReclusterDeps['settings']['recluster']['quality'],
): { result: Pick<FitResult, 'gate' | 'diagnostics'>; model: SegmentationModel } {
  const model = keptModel(previous, tonight);
  return {
    model,
    result: {
      gate: qualityGate(model.quality, floors, true, previous.quality, model.k),
      diagnostics: {
        kScores: [],
        merged: 0,
        ambiguousMerges: [],
        continuity: {
          chosen: 'kept',
          reason: keep.reason,
          droppedSegments: [],
          gain: null,
          searched: false,
          warmSilhouette: keep.silhouette,
          freshSilhouette: null,
          freshK: null,
          brokenSegments: [],
        },
        drift: keep.drift,
      },
    },
  };
}

/** The nightly fit: value model (with its backtest), segmentation, RFM breakpoints, catalogue. */
async function fittedResult(
  files: readonly ShardSampleFile[],
  rows: readonly ScanRow[],
  previous: SegmentationModel | null,
  tonight: { version: number; runId: string; createdAt: string },
  asOf: string,
  deps: ReclusterDeps,
): Promise<{ result: Pick<FitResult, 'gate' | 'diagnostics'>; model: SegmentationModel }> {
  const { settings } = deps;
  const valueRows = rows.map(valueRowOf);
  const value =
    carriedValue(
      previous?.value,
      valueSampleCounts(valueRows),
      asOf,
      settings.value.refitEveryNights ?? DEFAULT_VALUE_REFIT_EVERY_NIGHTS,
    ) ??
    withBacktest(
      {
        ...fitValueModel(valueRows, {
          minCustomers: settings.value.minCustomers,
          minRepeatCustomers: settings.value.minRepeatCustomers,
        }),
        fittedAsOf: asOf,
      },
      files,
      rows,
      asOf,
      settings,
    );
  const sample = withTraits(segmentationRows(rows), value, settings.value);
  const result = fitSegmentation({
    sample,
    previous,
    settings: settings.recluster,
    weights: { behaviour: settings.vector.behaviourWeight, interest: settings.vector.interestWeight },
    embeddingDim: settings.embedding.dimension,
    ...tonight,
    asOf,
    value,
  });
  const fittedModel = { ...result.model, rfm: fitRfmBreakpoints(rows.map((r) => r.natural)) };
  const model = await withCatalogue({
    model: fittedModel,
    rows: sample,
    labels: result.labels,
    campaigns: mergeCampaignAggregates(files.map((f) => f.campaigns)),
    previous,
    gatePassed: result.gate.passed,
    deps,
  });
  return { result, model };
}

/** The largest relative change of the store's customers since the value fit that lets a night carry it (10 %). */
export const VALUE_MAX_SAMPLE_CHANGE = 0.1;

/**
 * The active value model, when tonight's segmentation refit can carry it instead of refitting it (settings
 * `value.refitEveryNights`): it was fitted (or fell back to its prior) fewer than `refitEveryNights` nights before
 * `asOf`, and each of its counts (customers, repeat buyers, repeat buyers with a spend: what the BG/NBD and the
 * Gamma-Gamma learn from, and what a prior's spend scale is set from) is within VALUE_MAX_SAMPLE_CHANGE of tonight's.
 * A young store's repeat buyers grow by more than that every night, so its parameters follow them. Null: refit
 * tonight. Pure.
 */
export function carriedValue(
  active: StoredValueModel | undefined,
  tonight: NonNullable<StoredValueModel['counts']>,
  asOf: string,
  refitEveryNights: number,
): StoredValueModel | null {
  if (!active?.fittedAsOf || !active.counts) return null;
  const nights = Math.round((Date.parse(asOf) - Date.parse(active.fittedAsOf)) / 86_400_000);
  if (!(nights >= 0 && nights < refitEveryNights)) return null;
  const fittedOn = active.counts;
  const near = (now: number, then: number) => Math.abs(now - then) <= VALUE_MAX_SAMPLE_CHANGE * then;
  return near(tonight.customers, fittedOn.customers) &&
    near(tonight.repeatCustomers, fittedOn.repeatCustomers) &&
    near(tonight.spendCustomers, fittedOn.spendCustomers)
    ? active
    : null;
}

/**
 * Sends segmentation.drift.detected for tonight's run (dedupe key: runId, so a rerun's copy is the same event).
 * A monitoring event must not fail the nightly run: a refusal by PutEvents is logged and counted
 * (DriftEventDeferred), and the drift stays in the run record and the report.
 */
async function announceDrift(runId: string, drift: DriftReport, refit: boolean, deps: ReclusterDeps): Promise<void> {
  const thresholds = deps.settings.recluster.drift ?? DEFAULT_DRIFT;
  const detail = driftDetectedSchema.parse({
    runId,
    referenceModelVersion: drift.referenceVersion,
    features: drift.drifting,
    sharePsi: drift.sharePsi,
    distanceInflation: drift.distanceInflation,
    farShare: drift.farShare,
    reasons: drift.reasons,
    thresholds: {
      featurePsi: thresholds.featurePsi,
      sharePsi: thresholds.sharePsi,
      distanceInflation: thresholds.distanceInflation,
    },
    refit,
    detectedAt: deps.clock().toISOString(),
  });
  const sent = await deps.publisher.publish([
    {
      dedupeKey: dedupeKey(runId, 'segmentation.drift.detected'),
      event: { detailType: 'segmentation.drift.detected', detail },
    },
  ]);
  deps.metrics.count('DriftDetected');
  if (sent.failed.length) {
    deps.metrics.count('DriftEventDeferred');
    deps.log.warn('segmentation.drift.detected not accepted', { runId, errorCode: sent.failed[0]!.errorCode });
  }
}

/**
 * Issue #9 E16: how well the BG/NBD predicts the store's own last quarter. Once the store has history enough (the
 * calibration before the 13-week holdout spans two holdouts, with minCustomers buyers in it), the value model is
 * refitted on the sample's calibration summaries, and its predicted holdout purchase days are compared with the actual
 * ones per calibration frequency; the published model carries the totals, MAE and correlation (`value.backtest`).
 */
function withBacktest(
  value: StoredValueModel,
  files: readonly ShardSampleFile[],
  rows: readonly ScanRow[],
  asOf: string,
  settings: ReclusterDeps['settings'],
): StoredValueModel {
  const firsts = files.map((f) => f.firstPurchaseDay).filter((d): d is number => typeof d === 'number');
  const backtestRowsOfSample = rows.flatMap((r) => (r.backtest ? [r.backtest] : []));
  const asOfDay = localDayNumber(Date.parse(asOf), featureSettingsOf(settings));
  const window = nightlyBacktestWindow(
    firsts.length ? Math.min(...firsts) : null,
    backtestRowsOfSample.length,
    asOfDay,
    { holdoutWeeks: BACKTEST_HOLDOUT_WEEKS, minCustomers: settings.value.minCustomers },
  );
  if ('skipped' in window) return value;
  const core = backtestRows(backtestRowsOfSample, window.holdoutWeeks, {
    fit: { minCustomers: settings.value.minCustomers, minRepeatCustomers: settings.value.minRepeatCustomers },
  });
  return { ...value, backtest: summarizeBacktest(core) };
}
