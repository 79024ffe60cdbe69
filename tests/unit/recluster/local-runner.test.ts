import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { AslDefinition } from '../../../infra/state-machine-definition';
import { LocalObjectStore } from '../../../local/object-store';
import { localDefinition, runReclusterLocally, type ReclusterHandlers } from '../../../local/stepfunctions';

const FN = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
const invoke = (name: string, extra: Record<string, unknown>) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: { FunctionName: FN(name), 'Payload.$': '$' },
  ...extra,
});

/** A miniature of the recluster workflow: the same integration shapes, a Distributed Map, Retry and Catch. */
const definition: AslDefinition = {
  StartAt: 'PlanShards',
  States: {
    PlanShards: invoke('Plan', {
      Parameters: {
        FunctionName: FN('Plan'),
        'Payload.$':
          'States.JsonMerge(States.StringToJson(States.Format(\'\\{"executionName":"{}"\\}\', $$.Execution.Name)), $, false)',
      },
      ResultSelector: { 'runId.$': '$.Payload.runId', 'shards.$': '$.Payload.shards' },
      Retry: [{ ErrorEquals: ['ThrottlingException'], IntervalSeconds: 30, MaxAttempts: 2 }],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'MarkFailed' }],
      Next: 'ScanShards',
    }),
    ScanShards: {
      Type: 'Map',
      ItemsPath: '$.shards',
      ItemProcessor: {
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
        StartAt: 'ScanShard',
        States: { ScanShard: invoke('Scan', { ResultSelector: { 'shard.$': '$.Payload.shard' }, End: true }) },
      },
      Label: 'ScanShards',
      ResultPath: '$.scans',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'MarkFailed' }],
      End: true,
    },
    MarkFailed: invoke('MarkFailed', { ResultPath: null, Next: 'Failed' }),
    Failed: { Type: 'Fail', Error: 'ReclusterFailed', Cause: 'failed' },
  },
};

function handlers(
  overrides: Partial<ReclusterHandlers> = {},
): ReclusterHandlers & { calls: Record<string, unknown[]> } {
  const calls: Record<string, unknown[]> = {};
  const record = (task: string, f: (input: unknown) => unknown) => async (input: unknown) => {
    (calls[task] ??= []).push(input);
    return f(input);
  };
  return {
    calls,
    'plan-shards': record('plan-shards', (i) => ({
      runId: (i as { executionName: string }).executionName,
      shards: [{ shard: 0 }, { shard: 1 }],
    })),
    'scan-shard': record('scan-shard', (i) => ({ shard: (i as { shard: number }).shard, ignored: true })),
    'fit-model': record('fit-model', () => null),
    'assign-shard': record('assign-shard', () => null),
    publish: record('publish', () => null),
    'mark-failed': record('mark-failed', () => ({ ok: true })),
    ...overrides,
  };
}

describe('runReclusterLocally', () => {
  test('Distributed Maps run inline; each handler gets the Lambda Payload and answers with {Payload}', async () => {
    const { definition: local, taskStates } = localDefinition({ definition });
    expect(taskStates).toEqual({ PlanShards: 'plan-shards', ScanShard: 'scan-shard', MarkFailed: 'mark-failed' });
    const map = local.States.ScanShards as unknown as { ItemProcessor: { ProcessorConfig: unknown }; Label?: string };
    expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'INLINE' });
    expect(map.Label).toBeUndefined();

    const h = handlers();
    const result = await runReclusterLocally({
      definition,
      handlers: h,
      input: { asOf: '2026-11-11T03:00:00Z' },
      executionName: 'exec-1',
    });

    expect(result).toEqual({
      status: 'SUCCEEDED',
      executionName: 'exec-1',
      output: { runId: 'exec-1', shards: [{ shard: 0 }, { shard: 1 }], scans: [{ shard: 0 }, { shard: 1 }] },
      visited: ['PlanShards', 'ScanShards', 'ScanShard'],
    });
    expect(h.calls['plan-shards']).toEqual([{ executionName: 'exec-1', asOf: '2026-11-11T03:00:00Z' }]);
    expect(h.calls['scan-shard']).toEqual([{ shard: 0 }, { shard: 1 }]);
  });

  test('a throttled task is retried at once; a failed one is caught with the Lambda error shape', async () => {
    let throttled = 0;
    const h = handlers({
      'plan-shards': async () => {
        if (throttled++ === 0) throw Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
        return { runId: 'r', shards: [{ shard: 0 }] };
      },
      'scan-shard': async () => {
        throw new TypeError('bad shard');
      },
    });
    const started = Date.now();
    const result = await runReclusterLocally({ definition, handlers: h, input: {} });

    expect(Date.now() - started).toBeLessThan(10_000); // the 30 s retry interval is overridden
    expect(throttled).toBe(2);
    expect(result).toMatchObject({ status: 'FAILED', error: 'ReclusterFailed', cause: 'failed' });
    expect(result.visited).toEqual(['PlanShards', 'ScanShards', 'ScanShard', 'MarkFailed', 'Failed']);
    expect(h.calls['mark-failed']).toEqual([
      {
        runId: 'r',
        shards: [{ shard: 0 }],
        error: { Error: 'TypeError', Cause: JSON.stringify({ errorType: 'TypeError', errorMessage: 'bad shard' }) },
      },
    ]);
  });

  test('every Task must map to a recluster task', () => {
    const stray: AslDefinition = { StartAt: 'Mystery', States: { Mystery: invoke('X', { End: true }) } };
    expect(() => localDefinition({ definition: stray })).toThrow(/Mystery/);
    expect(() => localDefinition({})).toThrow(/template or a definition/);
  });
});

describe('LocalObjectStore', () => {
  test.each(['memory', 'directory'] as const)('put, get, list and overwrite (%s)', async (mode) => {
    const dir = mode === 'directory' ? mkdtempSync(path.join(tmpdir(), 'shoal-objects-')) : undefined;
    try {
      const store = new LocalObjectStore(dir ? { dir } : {});
      await store.put('runs/r1/shards/0.json', '{"a":1}', 'application/json');
      await store.put('runs/r1/shards/1.bin', new Uint8Array([1, 2, 3]));
      await store.put('reports/r1/report.html', '<p>old</p>');
      await store.put('reports/r1/report.html', '<p>new</p>');
      expect(await store.getText('runs/r1/shards/0.json')).toBe('{"a":1}');
      expect(Array.from((await store.get('runs/r1/shards/1.bin'))!)).toEqual([1, 2, 3]);
      expect(await store.getText('reports/r1/report.html')).toBe('<p>new</p>');
      expect(await store.get('runs/r1/missing.json')).toBeNull();
      expect(await store.list('runs/')).toEqual(['runs/r1/shards/0.json', 'runs/r1/shards/1.bin']);
      await expect(store.put('../escape', 'x')).rejects.toThrow(/invalid object key/);
      await expect(store.get('/abs')).rejects.toThrow(/invalid object key/);
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });
});
