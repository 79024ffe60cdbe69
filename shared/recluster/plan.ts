import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { reclusterInputSchema, shardTaskSchema, type PlanOutput } from '../contracts/recluster';
import type { ReclusterDeps } from './deps';
import { reconcileRun } from './mark-failed';
import { newRun, updateRun } from './runs';

/** Run id of the pointer record naming the most recent run (not a valid input runId: it contains '#'). */
export const LATEST_RUN_POINTER = '#latest';

/**
 * Points `#latest` at this run and reconciles the run it pointed at before, so that a run whose execution ended
 * without recording its outcome (MarkFailed failed too) does not stay `running` with no event. Best effort: a failure
 * here is logged and does not stop tonight's run (the next run tries again).
 */
async function reconcilePreviousRun(runId: string, deps: ReclusterDeps): Promise<string | null> {
  let previousRunId: string | null = null;
  try {
    const nowIso = deps.clock().toISOString();
    const { before } = await updateRun(deps.runs, LATEST_RUN_POINTER, (current) =>
      current?.latestRunId === runId
        ? null
        : { ...(current ?? newRun(LATEST_RUN_POINTER, nowIso)), latestRunId: runId, updatedAt: nowIso },
    );
    const previous = before?.latestRunId;
    if (previous && previous !== runId) previousRunId = previous;
    if (previous && previous !== runId) {
      const outcome = await reconcileRun(previous, deps);
      if (outcome !== 'left') deps.log.warn('previous run reconciled', { runId, previousRunId: previous, outcome });
    }
  } catch (err) {
    deps.log.warn('could not reconcile the previous run', { runId, error: (err as Error).name });
  }
  return previousRunId;
}

/** PlanShards' payload: the execution input merged with the execution name (the runId fallback). */
export const planInputSchema = reclusterInputSchema.extend({ executionName: z.string().optional() });
export type PlanInput = z.infer<typeof planInputSchema>;

const runIdSchema = shardTaskSchema.shape.runId;

/** runId = input.runId, else the execution name (when it is a valid id), else a generated one. */
export function resolveRunId(input: PlanInput, now: Date): string {
  if (input.runId) return input.runId;
  if (input.executionName && runIdSchema.safeParse(input.executionName).success) return input.executionName;
  return `run-${now.toISOString().replace(/[^0-9TZ]/g, '')}-${randomUUID().slice(0, 8)}`;
}

/**
 * PlanShards: records the run as running and splits the table into `shardCount` parallel-scan segments.
 * Idempotent by runId: a rerun keeps the asOf (and shard count) of the first attempt, whatever its own input says,
 * so every attempt evaluates customers at the same instant and converges to the same model. A run already
 * published stays published (a rerun of it changes nothing; Publish sees it and does not emit again).
 */
export async function planShards(input: PlanInput, deps: ReclusterDeps): Promise<PlanOutput> {
  const now = deps.clock();
  const nowIso = now.toISOString();
  const runId = resolveRunId(input, now);
  const requestedAsOf = new Date(input.asOf ?? nowIso).toISOString();
  const { after } = await updateRun(deps.runs, runId, (current) => {
    const base = current ?? newRun(runId, nowIso);
    return {
      ...base,
      status: base.status === 'published' ? 'published' : 'running',
      asOf: base.asOf ?? requestedAsOf,
      shardCount: base.shardCount ?? deps.settings.recluster.shardCount,
      attempts: base.attempts + 1,
      updatedAt: nowIso,
    };
  });
  const run = after!;
  const previousRunId = await reconcilePreviousRun(runId, deps);
  // The run whose population files tonight carries forward: fixed by the first attempt, so a rerun reads the same.
  let baseRunId = run.baseRunId;
  if (baseRunId === undefined) {
    const base = previousRunId ?? null;
    const { after: withBase } = await updateRun(deps.runs, runId, (current) =>
      current && current.baseRunId === undefined ? { ...current, baseRunId: base, updatedAt: nowIso } : null,
    );
    baseRunId = withBase?.baseRunId ?? base;
  }
  const asOf = run.asOf!;
  if (input.asOf && new Date(input.asOf).toISOString() !== asOf) {
    deps.log.warn('rerun keeps the asOf of its first attempt', { runId, asOf, requestedAsOf });
  }
  const totalShards = run.shardCount!;
  deps.log.info('run planned', { runId, asOf, attempt: run.attempts, status: run.status, totalShards });
  deps.metrics.count('ReclusterRunsStarted');
  return {
    runId,
    asOf,
    shards: Array.from({ length: totalShards }, (_, shard) => ({
      runId,
      asOf,
      shard,
      totalShards,
      baseRunId: baseRunId ?? null,
    })),
  };
}
