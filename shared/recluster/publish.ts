import { modelPublishedSchema } from '../contracts/outbound';
import type { PublishInput } from '../contracts/recluster';
import { dedupeKey } from '../customer/evaluate';
import { sweepOutboxes } from '../customer/outbox';
import type { OutboxEntry } from '../ports/stores';
import type { SegmentationModel } from '../segmentation/model';
import { putJson, runObjectKeys } from './artifacts';
import type { ReclusterDeps } from './deps';
import { buildRunReport, renderRunReportHtml } from './report';
import { updateRun } from './runs';

export interface PublishOutput {
  runId: string;
  modelVersion: number;
  /** Whether this invocation sent segmentation.model.published (false when an earlier attempt already had). */
  emitted: boolean;
  customersAssigned: number;
  customersMoved: number;
}

/** Held changes Publish releases itself; the outbox sweeper releases the rest. */
const RELEASE_LIMIT = 10_000;

/** MODEL/ACTIVE no longer points at the version the model was fitted against: another run published meanwhile. */
export class ActiveModelChangedError extends Error {
  override readonly name = 'ActiveModelChanged';
}

/**
 * Publish: writes the report, flips MODEL/ACTIVE from the version the model was fitted against to the new one (a
 * conditional write; already pointing at the new one is fine), marks the run published, then emits
 * segmentation.model.published.
 *
 * Idempotent by runId. The flip is the commit point; the event goes out at least once: RUN# records that it was
 * sent, so a rerun of a published run sends nothing, and only a crash between PutEvents and that record can send
 * it twice (consumers dedupe on runId + modelVersion).
 */
export async function publishModel(input: PublishInput, deps: ReclusterDeps): Promise<PublishOutput> {
  const { runId, modelVersion } = input;
  const run = await deps.runs.get(runId);
  if (!run?.fit) throw new Error(`run ${runId} has no fitted model`);
  if (run.fit.modelVersion !== modelVersion) {
    throw new Error(`run ${runId} fitted version ${run.fit.modelVersion}, not ${modelVersion}`);
  }
  const model = await deps.models.getVersion(modelVersion);
  if (!model || model.runId !== runId) throw new Error(`model version ${modelVersion} of run ${runId} is not stored`);

  const customersAssigned = input.assignments.reduce((s, a) => s + a.assigned, 0);
  const customersMoved = input.assignments.reduce((s, a) => s + a.moved, 0);
  const publishedAt =
    run.published?.modelVersion === modelVersion ? run.published.publishedAt : deps.clock().toISOString();

  const report = buildRunReport({ run, model, assignments: input.assignments, publishedAt });
  await Promise.all([
    putJson(deps.objects, runObjectKeys.reportJson(runId), report),
    deps.objects.put(runObjectKeys.reportHtml(runId), renderRunReportHtml(report), 'text/html; charset=utf-8'),
  ]);

  await updateRun(deps.runs, runId, (current) =>
    current && current.status !== 'published'
      ? {
          ...current,
          assignTotals: { customersAssigned, customersMoved },
          ...(current.nightly
            ? {
                nightly: {
                  ...current.nightly,
                  assignRead: input.assignments.reduce((n, a) => n + a.read, 0),
                  evaluated: input.assignments.reduce((n, a) => n + a.evaluated, 0),
                  written: input.assignments.reduce((n, a) => n + a.written, 0),
                  fullAssignShards: input.assignments.filter((a) => a.full).length,
                },
              }
            : {}),
          updatedAt: deps.clock().toISOString(),
        }
      : null,
  );
  if (!(await deps.models.activate(modelVersion, run.fit.previousVersion))) {
    throw new ActiveModelChangedError(
      `MODEL/ACTIVE no longer points at version ${run.fit.previousVersion ?? 'none'}; version ${modelVersion} was not published`,
    );
  }
  const emitted = await recordPublished({ runId, model, customersAssigned, customersMoved, publishedAt }, deps);
  return { runId, modelVersion, customersAssigned, customersMoved, emitted };
}

/**
 * After MODEL/ACTIVE points at the run's model (the commit point): records the run as published and sends
 * segmentation.model.published once (RUN# records that it went out). Used by Publish, and by MarkFailed and the
 * next run's reconciliation when they find a run's model live although Publish did not finish: a run whose model is
 * live is never reported failed. Returns whether this call sent the event. Throws when PutEvents refuses it.
 */
export async function recordPublished(
  input: {
    runId: string;
    model: SegmentationModel;
    customersAssigned: number;
    customersMoved: number;
    publishedAt: string;
  },
  deps: ReclusterDeps,
): Promise<boolean> {
  const { runId, model, customersAssigned, customersMoved, publishedAt } = input;
  const modelVersion = model.version;
  const { after } = await updateRun(deps.runs, runId, (current) => {
    if (!current) throw new Error(`run ${runId} vanished`);
    if (current.status === 'published' && current.published?.modelVersion === modelVersion) return null;
    return {
      ...current,
      status: 'published',
      failure: null,
      published: { modelVersion, publishedAt, customersAssigned, customersMoved, eventSent: false },
      updatedAt: deps.clock().toISOString(),
    };
  });
  // The run's segment changes were held in the customers' outboxes until its model was active: release them now
  // (the sweeper, every few minutes, takes whatever is beyond this invocation's share).
  const released = await sweepOutboxes(deps, {
    now: deps.clock,
    activeVersion: modelVersion,
    limit: RELEASE_LIMIT,
    concurrency: deps.concurrency ?? 16,
  });
  deps.metrics.count('ReclusterChangesReleased', released.published);
  if (after?.published?.eventSent) {
    deps.log.info('model already published by an earlier attempt', { runId, modelVersion });
    return false;
  }

  const detail = modelPublishedSchema.parse({
    modelVersion,
    runId,
    k: model.k,
    segments: model.profiles,
    retiredSegmentIds: model.retiredSegmentIds,
    renamedSegments: model.renamedSegments ?? [],
    quality: model.quality,
    customersMoved,
    customersAssigned,
    publishedAt,
    catalogue: model.catalogue ?? [],
  });
  const entry: OutboxEntry = {
    dedupeKey: dedupeKey(runId, 'segmentation.model.published', modelVersion),
    event: { detailType: 'segmentation.model.published', detail },
  };
  const sent = await deps.publisher.publish([entry]);
  if (sent.failed.length) {
    deps.metrics.count('PublishDeferred');
    throw new Error(
      `segmentation.model.published not accepted (${sent.failed[0]!.errorCode}); rerun the run to send it`,
    );
  }
  await updateRun(deps.runs, runId, (current) =>
    current?.published && !current.published.eventSent
      ? { ...current, published: { ...current.published, eventSent: true }, updatedAt: deps.clock().toISOString() }
      : null,
  );
  deps.metrics.count('ReclusterModelsPublished');
  deps.log.info('model published', { runId, modelVersion, k: model.k, customersAssigned, customersMoved });
  return true;
}
