import { StateMachine } from 'aws-local-stepfunctions';
import {
  findStateMachineDefinition,
  RECLUSTER_FAILED_ERROR,
  RECLUSTER_TASK_STATES,
  toInlineMaps,
  type AslDefinition,
  type ReclusterTaskState,
} from '../../infra/state-machine-definition';
import {
  assignTaskSchema,
  fitInputSchema,
  markFailedInputSchema,
  publishInputSchema,
  reclusterInputSchema,
  refreshTaskSchema,
  shardTaskSchema,
  type AssignOutput,
  type FitOutput,
  type PlanOutput,
  type ReclusterTask,
  type ScanOutput,
} from '../../shared/contracts/recluster';
import { stageTemplate } from './templates';

/**
 * Runs the synthesized definition (Distributed Maps rewritten inline, as the local runner does) with stub handlers:
 * checks that every Lambda payload is exactly its contract and that failures reach MarkFailed in its shape.
 */
const AS_OF = '2024-06-01T03:00:00.000Z';
const EXECUTION_NAME = 'exec-4b1d';

type Call = { state: ReclusterTaskState; payload: unknown };
type Stub = (payload: never) => unknown;

function stubs(gatePassed: boolean, markedPublished = false): Record<ReclusterTask, Stub> {
  return {
    'plan-shards': (p: { runId?: string; executionName: string }): PlanOutput => {
      const runId = p.runId ?? p.executionName;
      return {
        runId,
        asOf: AS_OF,
        shards: [0, 1, 2].map((shard) => ({ runId, asOf: AS_OF, shard, totalShards: 3, baseRunId: null })),
      };
    },
    'scan-shard': (p: { shard: number }): ScanOutput & { debug: string } => ({
      shard: p.shard,
      customers: 10,
      sampled: 4,
      sampleKey: `runs/x/${p.shard}.json`,
      read: 10,
      full: false,
      debug: 'dropped by the ResultSelector',
    }),
    'fit-model': (p: { runId: string }): FitOutput => ({
      runId: p.runId,
      modelVersion: 7,
      k: 5,
      gate: gatePassed
        ? { passed: true, reasons: [] }
        : { passed: false, reasons: ['silhouette 0.01 < 0.05', 'stability 0.2 < 0.5'] },
      activeVersion: 6,
    }),
    'assign-shard': (p: { shard: number }): AssignOutput => ({
      shard: p.shard,
      assigned: 10,
      moved: 3,
      lifecycleChanged: 1,
      read: 10,
      evaluated: 10,
      written: 4,
      full: false,
    }),
    publish: () => ({ published: true }),
    'mark-failed': () => ({ recorded: true, emitted: true, published: markedPublished }),
  };
}

let machine: StateMachine;
beforeAll(async () => {
  const definition: AslDefinition = toInlineMaps(findStateMachineDefinition(await stageTemplate('dev')).definition);
  // Validated once (ASL schema); running is then cheap.
  machine = new StateMachine(definition as never, { validationOptions: { checkArn: false } });
});

async function run(
  input: object,
  options: { gatePassed?: boolean; failIn?: ReclusterTaskState; markedPublished?: boolean } = {},
) {
  const calls: Call[] = [];
  const impl = stubs(options.gatePassed ?? true, options.markedPublished ?? false);
  const handlers = Object.fromEntries(
    (Object.entries(RECLUSTER_TASK_STATES) as Array<[ReclusterTaskState, ReclusterTask]>).map(([state, task]) => [
      state,
      async (input: unknown) => {
        const { Payload } = input as { Payload: never };
        calls.push({ state, payload: Payload });
        if (options.failIn === state) {
          const error = new Error('table unavailable');
          error.name = 'ResourceNotFoundException';
          throw error;
        }
        return { StatusCode: 200, Payload: impl[task](Payload) };
      },
    ]),
  );
  const execution = machine.run(input as never, {
    overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides: { MarkFailed: 0 } },
    context: { Execution: { Name: EXECUTION_NAME } } as never,
  });
  try {
    return { output: (await execution.result) as Record<string, unknown>, calls };
  } catch (error) {
    // aws-local-stepfunctions rejects with an ExecutionError whose cause is the Fail state's "<Error>: <Cause>".
    return { failure: String((error as { cause?: unknown }).cause ?? error), calls };
  }
}

const payloadsOf = (calls: Call[], state: ReclusterTaskState) =>
  calls.filter((c) => c.state === state).map((c) => c.payload);

describe('recluster workflow (local execution of the synthesized definition)', () => {
  it('passes each task exactly its contract and keeps the run summary in the state data', async () => {
    const { output, calls, failure } = await run({ runId: 'nightly-2024-06-01T03:00:00Z' });
    expect(failure).toBeUndefined();

    expect(payloadsOf(calls, 'PlanShards')).toEqual([
      { runId: 'nightly-2024-06-01T03:00:00Z', executionName: EXECUTION_NAME },
    ]);
    reclusterInputSchema.strict().parse(payloadsOf(calls, 'PlanShards')[0]);
    for (const p of payloadsOf(calls, 'ScanShard')) shardTaskSchema.strict().parse(p);
    fitInputSchema.strict().parse(payloadsOf(calls, 'FitModel')[0]);
    expect((payloadsOf(calls, 'FitModel')[0] as { scans: unknown[] }).scans).toHaveLength(3);
    for (const p of payloadsOf(calls, 'AssignShard')) assignTaskSchema.strict().parse(p);
    expect(payloadsOf(calls, 'AssignShard')).toContainEqual({
      runId: 'nightly-2024-06-01T03:00:00Z',
      asOf: AS_OF,
      shard: 2,
      totalShards: 3,
      baseRunId: null,
      modelVersion: 7,
    });
    expect(publishInputSchema.strict().parse(payloadsOf(calls, 'Publish')[0]).assignments).toHaveLength(3);
    expect(payloadsOf(calls, 'MarkFailed')).toEqual([]);

    expect(Object.keys(output!).sort()).toEqual(['asOf', 'assignments', 'fit', 'plan', 'runId', 'scans']);
    expect(output!.scans).toContainEqual({
      shard: 0,
      customers: 10,
      sampled: 4,
      sampleKey: 'runs/x/0.json',
      read: 10,
      full: false,
    });
  });

  it('defaults the runId to the execution name when the input has none', async () => {
    const { output, calls } = await run({});
    expect(payloadsOf(calls, 'PlanShards')).toEqual([{ executionName: EXECUTION_NAME }]);
    expect(output!.runId).toBe(EXECUTION_NAME);
  });

  it('sends a gate rejection to MarkFailed with the reasons, and fails the run without assigning', async () => {
    const { failure, calls } = await run({ runId: 'r-gate' }, { gatePassed: false });
    expect(failure).toBe(`${RECLUSTER_FAILED_ERROR}: QualityGate`);
    expect(payloadsOf(calls, 'AssignShard')).toEqual([]);
    expect(payloadsOf(calls, 'Publish')).toEqual([]);
    // Traits and stages are still refreshed on every shard, with the ACTIVE version.
    const refreshed = payloadsOf(calls, 'RefreshShard');
    expect(refreshed).toHaveLength(3);
    for (const p of refreshed) refreshTaskSchema.strict().parse(p);
    expect(refreshed).toContainEqual({
      runId: 'r-gate',
      asOf: AS_OF,
      shard: 1,
      totalShards: 3,
      baseRunId: null,
      activeVersion: 6,
    });
    const [markFailed] = payloadsOf(calls, 'MarkFailed');
    expect(markFailed).toEqual({
      runId: 'r-gate',
      state: 'QualityGate',
      error: { Error: 'QualityGateRejected', Cause: JSON.stringify(['silhouette 0.01 < 0.05', 'stability 0.2 < 0.5']) },
    });
    markFailedInputSchema.strict().parse(markFailed);
  });

  it.each([
    ['PlanShards', 'PlanShards'],
    ['ScanShard', 'ScanShards'],
    ['FitModel', 'FitModel'],
    ['AssignShard', 'AssignShards'],
    ['Publish', 'Publish'],
  ] as const)('a failure in %s reaches MarkFailed as state %s, then the run fails', async (failIn, state) => {
    const { failure, calls } = await run({ runId: 'r-fail' }, { failIn });
    expect(failure).toBe(`${RECLUSTER_FAILED_ERROR}: ${state}`);
    const marked = payloadsOf(calls, 'MarkFailed');
    expect(marked).toEqual([
      { runId: 'r-fail', state, error: { Error: 'ResourceNotFoundException', Cause: expect.any(String) } },
    ]);
    markFailedInputSchema.strict().parse(marked[0]);
  });

  it('names the run after the execution when PlanShards fails on an input without runId', async () => {
    const { calls } = await run({}, { failIn: 'PlanShards' });
    expect(payloadsOf(calls, 'MarkFailed')).toEqual([
      { runId: EXECUTION_NAME, state: 'PlanShards', error: expect.any(Object) },
    ]);
  });

  it('retries MarkFailed, then still fails the run when MarkFailed itself keeps failing', async () => {
    const { failure, calls } = await run({ runId: 'r-mf' }, { failIn: 'MarkFailed', gatePassed: false });
    expect(failure).toBe(`${RECLUSTER_FAILED_ERROR}: QualityGate`);
    expect(payloadsOf(calls, 'MarkFailed')).toHaveLength(4); // the first attempt and 3 retries
  });

  it('a refresh failure still records the refused run with the gate reasons', async () => {
    const { failure, calls } = await run({ runId: 'r-rf' }, { failIn: 'RefreshShard', gatePassed: false });
    expect(failure).toBe(`${RECLUSTER_FAILED_ERROR}: QualityGate`);
    expect(payloadsOf(calls, 'MarkFailed')).toEqual([
      expect.objectContaining({
        runId: 'r-rf',
        state: 'QualityGate',
        error: expect.objectContaining({ Error: 'QualityGateRejected' }),
      }),
    ]);
  });

  it('a Publish failure after the flip (MarkFailed finds the model live) ends the execution published, not failed', async () => {
    const { failure, output, calls } = await run({ runId: 'r-live' }, { failIn: 'Publish', markedPublished: true });
    expect(failure).toBeUndefined();
    expect(output!.markFailed).toEqual({ published: true });
    expect(payloadsOf(calls, 'MarkFailed')).toHaveLength(1);
  });
});
