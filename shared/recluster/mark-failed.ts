import { runFailedSchema } from '../contracts/outbound';
import type { MarkFailedInput } from '../contracts/recluster';
import { dedupeKey } from '../customer/evaluate';
import type { ReclusterDeps } from './deps';
import { newRun, updateRun } from './runs';

export interface MarkFailedOutput {
  runId: string;
  /** This invocation moved the run to failed. */
  recorded: boolean;
  /** This invocation sent segmentation.run.failed. */
  emitted: boolean;
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
  if (!failure || failure.eventSent) return { runId, recorded: written, emitted: false };

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
  return { runId, recorded: written, emitted: true };
}
