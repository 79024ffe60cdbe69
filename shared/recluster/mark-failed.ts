import { runFailedSchema } from '../contracts/outbound';
import type { MarkFailedInput } from '../contracts/recluster';
import { dedupeKey } from '../customer/evaluate';
import type { ReclusterDeps } from './deps';
import { recordPublished } from './publish';
import { newRun, updateRun } from './runs';

export interface MarkFailedOutput {
  runId: string;
  /** This invocation moved the run to failed. */
  recorded: boolean;
  /** This invocation sent segmentation.run.failed. */
  emitted: boolean;
  /**
   * The run's model turned out to be ACTIVE (Publish died after the flip): the run was recorded as published instead
   * of failed; `publishedEmitted` says whether this invocation sent segmentation.model.published.
   */
  published: boolean;
  publishedEmitted?: boolean;
}

/**
 * The run's model when MODEL/ACTIVE points at it (the run reached Publish's commit point) and the run is not yet
 * recorded and announced as published, with what recordPublished needs; null otherwise.
 */
export async function liveModelOf(
  runId: string,
  deps: ReclusterDeps,
): Promise<Parameters<typeof recordPublished>[0] | null> {
  const [run, active] = await Promise.all([deps.runs.get(runId), deps.models.getActive()]);
  if (!run?.fit || !active || active.runId !== runId || active.version !== run.fit.modelVersion) return null;
  if (run.status === 'published' && run.published?.eventSent) return null;
  return {
    runId,
    model: active,
    customersAssigned: run.published?.customersAssigned ?? run.assignTotals?.customersAssigned ?? 0,
    customersMoved: run.published?.customersMoved ?? run.assignTotals?.customersMoved ?? 0,
    publishedAt: run.published?.publishedAt ?? deps.clock().toISOString(),
  };
}

/** After this long without an update, a run still `running` is one whose execution ended without recording it. */
export const STALE_RUN_MS = 2 * 3_600_000;

/** `error` of a run that the next run found left `running`. */
export const RUN_ABANDONED_ERROR = 'RunAbandoned';

/**
 * Ends a run that was left `running` (MarkFailed itself failed, or the execution was stopped or timed out) in the
 * state that matches ACTIVE: published (and announced) when its model is live, otherwise failed with
 * `RunAbandoned` and segmentation.run.failed. A run updated within STALE_RUN_MS may still be going and is left
 * alone. Called by the next run's PlanShards for the run before it.
 */
export async function reconcileRun(runId: string, deps: ReclusterDeps): Promise<'published' | 'failed' | 'left'> {
  const run = await deps.runs.get(runId);
  if (!run) return 'left';
  const live = await liveModelOf(runId, deps);
  if (live) {
    await recordPublished(live, deps);
    return 'published';
  }
  if (run.status !== 'running') return 'left';
  if (deps.clock().getTime() - Date.parse(run.updatedAt) < STALE_RUN_MS) return 'left';
  await markFailed(
    {
      runId,
      state: 'Reconcile',
      error: {
        Error: RUN_ABANDONED_ERROR,
        Cause: `run left running since ${run.updatedAt}: its execution ended without recording the outcome`,
      },
    },
    deps,
  );
  return 'failed';
}

const MAX_CAUSE = 2_000;

/** A run id usable as a key and in the event, even when the failure happened before one was validated. */
export function safeRunId(runId: string | undefined): string {
  const cleaned = (runId ?? '').replace(/[^A-Za-z0-9._:-]/g, '_').slice(0, 80);
  return cleaned === '' ? 'unknown' : cleaned;
}

/**
 * The cause as a person reads it: a Lambda error's Cause is the JSON error payload ({errorType, errorMessage,
 * trace}); keep its message. Anything else (e.g. the gate's JSON array of reasons) is kept as it is.
 */
export function describeCause(cause: unknown): string | undefined {
  if (cause === undefined || cause === null || cause === '') return undefined;
  let text = typeof cause === 'string' ? cause : JSON.stringify(cause);
  try {
    const parsed = JSON.parse(text) as { errorMessage?: unknown };
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && typeof parsed.errorMessage === 'string') {
      text = parsed.errorMessage;
    }
  } catch {
    // not JSON: keep the text
  }
  return text.slice(0, MAX_CAUSE);
}

/**
 * MarkFailed: records the failure in RUN# and emits segmentation.run.failed once per failure. The event is tied to
 * the transition running → failed (or absent → failed, when PlanShards never recorded the run): a retried
 * invocation finds the run already failed and sends nothing, unless the earlier one crashed before the event went
 * out (the record says whether it did). A published run is never marked failed (its model is live; only sending its
 * event failed, and a rerun sends it). Never touches MODEL/ACTIVE.
 */
export async function markFailed(input: MarkFailedInput, deps: ReclusterDeps): Promise<MarkFailedOutput> {
  const runId = safeRunId(input.runId);
  const live = await liveModelOf(runId, deps);
  if (live) {
    // Publish died after the flip: the run's model is live, so the run is published, not failed.
    const publishedEmitted = await recordPublished(live, deps);
    deps.log.warn('run failed after its model went live: recorded as published', {
      runId,
      state: input.state,
      modelVersion: live.model.version,
    });
    return { runId, recorded: false, emitted: false, published: true, publishedEmitted };
  }
  const nowIso = deps.clock().toISOString();
  const error = input.error.Error ?? 'Unknown';
  const cause = describeCause(input.error.Cause);
  const { after, written } = await updateRun(deps.runs, runId, (current) => {
    if (current?.status === 'published' || current?.status === 'failed') return null;
    const base = current ?? newRun(runId, nowIso);
    return {
      ...base,
      status: 'failed',
      failure: {
        state: input.state,
        error,
        ...(cause === undefined ? {} : { cause }),
        failedAt: nowIso,
        attempt: base.attempts,
        eventSent: false,
      },
      updatedAt: nowIso,
    };
  });
  if (written) deps.metrics.count('ReclusterRunsFailed');
  deps.log.error('run failed', { runId, state: input.state, error, recorded: written, status: after?.status });
  const failure = after?.status === 'failed' ? after.failure : null;
  if (!failure || failure.eventSent) return { runId, recorded: written, emitted: false, published: false };

  const detail = runFailedSchema.parse({
    runId,
    state: failure.state,
    error: failure.error,
    ...(failure.cause === undefined ? {} : { cause: failure.cause }),
    failedAt: failure.failedAt,
  });
  const sent = await deps.publisher.publish([
    {
      dedupeKey: dedupeKey(runId, 'segmentation.run.failed', failure.attempt, failure.failedAt),
      event: { detailType: 'segmentation.run.failed', detail },
    },
  ]);
  if (sent.failed.length) throw new Error(`segmentation.run.failed not accepted (${sent.failed[0]!.errorCode})`);
  await updateRun(deps.runs, runId, (current) =>
    current?.status === 'failed' &&
    current.failure &&
    !current.failure.eventSent &&
    current.failure.failedAt === failure.failedAt
      ? { ...current, failure: { ...current.failure, eventSent: true }, updatedAt: deps.clock().toISOString() }
      : null,
  );
  return { runId, recorded: written, emitted: true, published: false };
}
