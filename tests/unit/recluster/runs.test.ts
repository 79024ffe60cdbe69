import { markFailed, describeCause, safeRunId } from '../../../shared/recluster/mark-failed';
import { planShards, resolveRunId } from '../../../shared/recluster/plan';
import { MemoryRunStore, newRun, updateRun } from '../../../shared/recluster/runs';
import { memoryDeps } from './memory-ports';

describe('updateRun', () => {
  test('retries a conflicting write against the fresh record', async () => {
    const runs = new MemoryRunStore();
    await runs.put({ ...newRun('r', 't0'), rev: 1 }, null);
    let calls = 0;
    const { after } = await updateRun(runs, 'r', (current) => {
      calls += 1;
      if (calls === 1) void runs.put({ ...current!, rev: 2, attempts: 5 }, 1); // a concurrent writer wins first
      return { ...current!, shardCount: 4 };
    });
    expect(calls).toBe(2);
    expect(after).toMatchObject({ rev: 3, attempts: 5, shardCount: 4 });
  });

  test('returning null writes nothing', async () => {
    const runs = new MemoryRunStore();
    expect(await updateRun(runs, 'r', () => null)).toEqual({ before: null, after: null, written: false });
    expect(await runs.get('r')).toBeNull();
  });
});

describe('planShards', () => {
  test('records the run and returns shardCount shards', async () => {
    const deps = memoryDeps();
    const plan = await planShards({ runId: 'night-1', asOf: '2026-11-11T03:00:00+01:00' }, deps);
    expect(plan.runId).toBe('night-1');
    expect(plan.asOf).toBe('2026-11-11T02:00:00.000Z');
    expect(plan.shards).toEqual(
      [0, 1, 2, 3].map((shard) => ({ runId: 'night-1', asOf: plan.asOf, shard, totalShards: 4, baseRunId: null })),
    );
    expect(await deps.runs.get('night-1')).toMatchObject({
      status: 'running',
      attempts: 1,
      shardCount: 4,
      asOf: plan.asOf,
    });
  });

  test('a rerun keeps the first asOf and shard count, and restarts a failed run', async () => {
    const deps = memoryDeps();
    await planShards({ runId: 'r', asOf: '2026-11-11T03:00:00Z' }, deps);
    await markFailed({ runId: 'r', state: 'FitModel', error: { Error: 'Error', Cause: 'x' } }, deps);
    const again = await planShards(
      { runId: 'r', asOf: '2026-12-01T00:00:00Z' },
      { ...deps, settings: { ...deps.settings, recluster: { ...deps.settings.recluster, shardCount: 8 } } },
    );
    expect(again.asOf).toBe('2026-11-11T03:00:00.000Z');
    expect(again.shards).toHaveLength(4);
    expect(await deps.runs.get('r')).toMatchObject({ status: 'running', attempts: 2 });
  });

  test('a published run stays published', async () => {
    const deps = memoryDeps();
    await planShards({ runId: 'r' }, deps);
    await updateRun(deps.runs, 'r', (c) => ({ ...c!, status: 'published' }));
    await planShards({ runId: 'r' }, deps);
    expect(await deps.runs.get('r')).toMatchObject({ status: 'published', attempts: 2 });
  });

  test('runId falls back to the execution name, then to a generated id', () => {
    const now = new Date('2026-11-11T03:00:00Z');
    expect(resolveRunId({ runId: 'given', executionName: 'exec' }, now)).toBe('given');
    expect(resolveRunId({ executionName: 'exec-1' }, now)).toBe('exec-1');
    expect(resolveRunId({ executionName: 'not a valid id!' }, now)).toMatch(/^run-20261111T030000000Z-[0-9a-f]{8}$/);
    expect(resolveRunId({}, now)).toMatch(/^run-/);
  });
});

describe('markFailed', () => {
  test('records the failure and emits segmentation.run.failed once, however often it is invoked', async () => {
    const deps = memoryDeps();
    await planShards({ runId: 'r' }, deps);
    const input = {
      runId: 'r',
      state: 'ScanShards',
      error: { Error: 'Error', Cause: JSON.stringify({ errorType: 'Error', errorMessage: 'boom' }) },
    };
    expect(await markFailed(input, deps)).toEqual({ runId: 'r', recorded: true, emitted: true, published: false });
    expect(await markFailed(input, deps)).toEqual({ runId: 'r', recorded: false, emitted: false, published: false });
    expect(deps.publisher.of('segmentation.run.failed')).toEqual([
      { runId: 'r', state: 'ScanShards', error: 'Error', cause: 'boom', failedAt: '2026-11-11T03:05:00.000Z' },
    ]);
    expect(await deps.runs.get('r')).toMatchObject({
      status: 'failed',
      failure: { state: 'ScanShards', eventSent: true, attempt: 1 },
    });
  });

  test('an event that did not go out is sent by the retried invocation', async () => {
    const deps = memoryDeps();
    deps.publisher.failNext = 1;
    const input = { runId: 'r', state: 'PlanShards', error: { Error: 'Error' } };
    await expect(markFailed(input, deps)).rejects.toThrow(/not accepted/);
    expect(await markFailed(input, deps)).toEqual({ runId: 'r', recorded: false, emitted: true, published: false });
    expect(deps.publisher.of('segmentation.run.failed')).toHaveLength(1);
  });

  test('each failed attempt of a rerun is reported; a published run is never marked failed', async () => {
    const deps = memoryDeps();
    await planShards({ runId: 'r' }, deps);
    await markFailed({ runId: 'r', state: 'FitModel', error: { Error: 'Error' } }, deps);
    await planShards({ runId: 'r' }, deps);
    await markFailed({ runId: 'r', state: 'Publish', error: { Error: 'Error' } }, deps);
    expect(deps.publisher.of('segmentation.run.failed').map((d) => (d as { state: string }).state)).toEqual([
      'FitModel',
      'Publish',
    ]);

    await updateRun(deps.runs, 'r', (c) => ({ ...c!, status: 'published' }));
    expect(await markFailed({ runId: 'r', state: 'Publish', error: { Error: 'Error' } }, deps)).toMatchObject({
      recorded: false,
      emitted: false,
    });
    expect((await deps.runs.get('r'))?.status).toBe('published');
  });

  test('run ids and causes are made safe to key and to publish', () => {
    expect(safeRunId(undefined)).toBe('unknown');
    expect(safeRunId('a b/c')).toBe('a_b_c');
    expect(describeCause('["silhouette 0.1 < 0.99"]')).toBe('["silhouette 0.1 < 0.99"]');
    expect(describeCause(JSON.stringify({ errorType: 'X', errorMessage: 'm' }))).toBe('m');
    expect(describeCause('plain')).toBe('plain');
    expect(describeCause(undefined)).toBeUndefined();
    expect(describeCause('x'.repeat(5000))).toHaveLength(2000);
  });
});
