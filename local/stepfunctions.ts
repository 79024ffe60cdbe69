/**
 * Runs the SYNTHESIZED recluster state machine on this machine with aws-local-stepfunctions: the ASL is taken from
 * the CDK template (never a hand-written copy), its CloudFormation placeholders are resolved to fake ARNs, the
 * Distributed Maps become inline maps over the same items, and every Lambda Task runs the same `makeHandler` code
 * the Lambdas run, in process. Used by the integration tests and by `npm start`.
 */
import { randomUUID } from 'node:crypto';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { makeHandler as assignShardHandler } from '../functions/recluster/assign-shard/app';
import { makeHandler as fitModelHandler } from '../functions/recluster/fit-model/app';
import { makeHandler as markFailedHandler } from '../functions/recluster/mark-failed/app';
import { makeHandler as planShardsHandler } from '../functions/recluster/plan-shards/app';
import { makeHandler as publishHandler } from '../functions/recluster/publish/app';
import { makeHandler as scanShardHandler } from '../functions/recluster/scan-shard/app';
import {
  RECLUSTER_STATE_MACHINE_LOGICAL_ID,
  RECLUSTER_TASK_STATES,
  findStateMachineDefinition,
  forEachState,
  toInlineMaps,
  type AslDefinition,
  type ReclusterTaskState,
} from '../infra/state-machine-definition';
import { tableAdapters } from '../shared/runtime/wiring';
import type { Narrator } from '../shared/ports/narrator';
import { EventBridgePublisher } from '../shared/adapters/eventbridge-publisher';
import type { Settings } from '../shared/config/settings';
import { RECLUSTER_TASKS, type ReclusterInput, type ReclusterTask } from '../shared/contracts/recluster';
import type { ObjectStore } from '../shared/ports/stores';
import { noLogs, type LogSink } from '../shared/ports/telemetry';
import type { ReclusterDeps } from '../shared/recluster/deps';
import { LOCAL_BUS_NAME, type EmbeddedStack } from './stack';

/** A task's handler as the runner calls it: the Lambda payload in, the Lambda result out. */
export type ReclusterTaskHandler = (input: unknown) => Promise<unknown>;
export type ReclusterHandlers = Record<ReclusterTask, ReclusterTaskHandler>;

/** The Step Functions optimised Lambda integration that CDK's LambdaInvoke emits. */
export const LAMBDA_INVOKE_RESOURCE = 'arn:aws:states:::lambda:invoke';
const FAKE_REGION = 'us-east-1';
const FAKE_ACCOUNT = '123456789012';

/** aws-local-stepfunctions needs Promise.withResolvers (Node 22); Node 20 lacks it. Idempotent. */
export function polyfillPromiseWithResolvers(): void {
  const P = Promise as unknown as { withResolvers?: unknown };
  if (typeof P.withResolvers === 'function') return;
  P.withResolvers = function withResolvers<T>() {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

/** The six task handlers, built from shared deps with each function's own `makeHandler` (no telemetry). */
export function buildReclusterHandlers(deps: ReclusterDeps): ReclusterHandlers {
  return {
    'plan-shards': planShardsHandler(deps),
    'scan-shard': scanShardHandler(deps),
    'fit-model': fitModelHandler(deps),
    'assign-shard': assignShardHandler(deps),
    publish: publishHandler(deps),
    'mark-failed': markFailedHandler(deps),
  };
}

/** Recluster deps over the embedded stack: the same DynamoDB and EventBridge adapters as the Lambdas. */
export function reclusterDepsForStack(
  stack: EmbeddedStack,
  options: {
    objects: ObjectStore;
    settings?: Settings;
    clock?: () => Date;
    log?: LogSink;
    concurrency?: number;
    /** The catalogue narrator (see local/catalogue.ts `startLocalNarration`); absent: rules. */
    narrator?: Narrator | null;
  },
): ReclusterDeps {
  const settings = options.settings ?? stack.settings;
  const table = tableAdapters(stack.dynamo.client, stack.dynamo.tableName, settings);
  return {
    profiles: table.profiles,
    models: stack.modelStore,
    runs: table.runs,
    objects: options.objects,
    publisher: new EventBridgePublisher({ client: stack.clients.eventbridge, eventBusName: LOCAL_BUS_NAME }),
    settings,
    clock: options.clock ?? (() => new Date()),
    metrics: stack.metrics,
    log: options.log ?? noLogs,
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    narrator: options.narrator ?? null,
  };
}

export interface LocalDefinition {
  /** The runnable definition: placeholders resolved, maps inline, Task timeouts set. */
  definition: AslDefinition;
  /** Task state name → the recluster task it runs. */
  taskStates: Record<string, ReclusterTask>;
}

/**
 * The definition aws-local-stepfunctions runs: from a synthesized template (placeholders resolved to fake ARNs by
 * `findStateMachineDefinition`) or an already extracted definition; Distributed Maps rewritten to INLINE; Tasks
 * without a timeout get the Lambda maximum (the library's default is 60 s). Every Task must map to a recluster task,
 * by state name or by the function its FunctionName names.
 */
export function localDefinition(
  source: { template?: unknown; definition?: AslDefinition },
  taskTimeoutSeconds = 900,
): LocalDefinition {
  let definition: AslDefinition;
  let functions: Record<string, ReclusterTask> = {};
  if (source.template !== undefined) {
    const extracted = findStateMachineDefinition(source.template, { region: FAKE_REGION, account: FAKE_ACCOUNT });
    definition = extracted.definition;
    functions = extracted.functions;
  } else if (source.definition) {
    definition = source.definition;
  } else {
    throw new Error('runReclusterLocally needs a synthesized template or a definition');
  }
  const inline = toInlineMaps(definition);
  const taskStates: Record<string, ReclusterTask> = {};
  forEachState(inline, (name, state) => {
    if (state.Type !== 'Task') return;
    const fn = (state.Parameters as { FunctionName?: unknown } | undefined)?.FunctionName;
    const byFunction = typeof fn === 'string' ? functions[fn.slice(fn.lastIndexOf(':') + 1)] : undefined;
    const task = RECLUSTER_TASK_STATES[name as ReclusterTaskState] ?? byFunction;
    if (!task) throw new Error(`Task state "${name}" maps to no recluster task`);
    taskStates[name] = task;
    if (state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined)
      state.TimeoutSeconds = taskTimeoutSeconds;
  });
  return { definition: inline, taskStates };
}

export interface RunReclusterLocallyOptions {
  /** The synthesized CloudFormation template (e.g. `synthTemplate('dev')`)… */
  template?: unknown;
  /** …or the state machine definition itself. */
  definition?: AslDefinition;
  handlers: ReclusterHandlers;
  /** The execution input. */
  input?: ReclusterInput | Record<string, unknown>;
  /** `$$.Execution.Name`, PlanShards' runId fallback (default: a generated one). */
  executionName?: string;
  /** Called as the execution enters each state (Map iterations included), for progress output. */
  onStateEntered?: (state: string) => void;
}

export interface LocalExecutionResult {
  status: 'SUCCEEDED' | 'FAILED';
  executionName: string;
  output?: unknown;
  error?: string;
  cause?: string;
  /** Names of the states entered, in order of first entry (inner Map states included). */
  visited: string[];
}

/** What a Lambda function error looks like to Step Functions: Error = errorType, Cause = the JSON error payload. */
function lambdaError(err: unknown): Error {
  const errorType = err instanceof Error ? err.name : 'Error';
  const errorMessage = err instanceof Error ? err.message : String(err);
  const e = new Error(JSON.stringify({ errorType, errorMessage }));
  e.name = errorType;
  return e;
}

/** JSON in, JSON out, as over the Lambda wire. */
function wire(value: unknown): unknown {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as unknown);
}

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Runs the recluster state machine locally and reports how it ended. Each Lambda Task's resource is overridden with
 * its local handler: for the `lambda:invoke` integration the handler gets the `Payload` and the state sees
 * `{Payload: result, StatusCode: 200, ...}` (what ResultSelector's `$.Payload.…` expects); for a plain function ARN
 * (payloadResponseOnly) it gets the input and returns the result. Retry intervals are zero.
 */
type PreparedMachine = LocalDefinition & { machine: StateMachine };
const prepared = new WeakMap<object, PreparedMachine>();

/**
 * Extracting the definition and building the StateMachine (which validates the ASL with ajv) cost about a second;
 * a local run executes the same template every simulated night, so it is done once per template object.
 */
function preparedMachine(source: { template?: unknown; definition?: AslDefinition }): PreparedMachine {
  const key = (source.template ?? source.definition) as object | undefined;
  const cached = key && typeof key === 'object' ? prepared.get(key) : undefined;
  if (cached) return cached;
  const local = localDefinition(source);
  const result = {
    ...local,
    machine: new StateMachine(local.definition as unknown as ConstructorParameters<typeof StateMachine>[0]),
  };
  if (key && typeof key === 'object') prepared.set(key, result);
  return result;
}

export async function runReclusterLocally(options: RunReclusterLocallyOptions): Promise<LocalExecutionResult> {
  polyfillPromiseWithResolvers();
  const { definition, taskStates, machine } = preparedMachine(options);
  for (const task of RECLUSTER_TASKS) {
    if (typeof options.handlers[task] !== 'function') throw new Error(`no local handler for task "${task}"`);
  }

  // Every invocation runs to completion, as a Lambda does, even when a failing sibling fails its Map first; the run
  // is reported only once all of them settled, so nothing still writes after the caller saw the result.
  const inFlight = new Set<Promise<unknown>>();
  const taskResourceLocalHandlers: Record<string, (input: JsonValue) => Promise<JsonValue>> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  forEachState(definition, (name, state) => {
    if (Array.isArray(state.Retry)) retryIntervalOverrides[name] = 0;
    const task = taskStates[name];
    if (!task) return;
    const handler = options.handlers[task];
    const integration = typeof state.Resource === 'string' && state.Resource.startsWith(LAMBDA_INVOKE_RESOURCE);
    taskResourceLocalHandlers[name] = async (input) => {
      const payload = integration ? (input as { Payload?: unknown } | null)?.Payload : input;
      const invocation = handler(wire(payload));
      inFlight.add(invocation);
      let result: unknown;
      try {
        result = wire(await invocation);
      } catch (err) {
        throw lambdaError(err);
      } finally {
        inFlight.delete(invocation);
      }
      return (integration ? { ExecutedVersion: '$LATEST', Payload: result, StatusCode: 200 } : result) as JsonValue;
    };
  });

  const executionName = options.executionName ?? `local-${randomUUID()}`;
  const stateMachineArn = `arn:aws:states:${FAKE_REGION}:${FAKE_ACCOUNT}:stateMachine:${RECLUSTER_STATE_MACHINE_LOGICAL_ID}`;
  const execution = machine.run((options.input ?? {}) as JsonValue, {
    overrides: { taskResourceLocalHandlers, retryIntervalOverrides },
    context: {
      Execution: {
        Id: `arn:aws:states:${FAKE_REGION}:${FAKE_ACCOUNT}:execution:${RECLUSTER_STATE_MACHINE_LOGICAL_ID}:${executionName}`,
        Name: executionName,
        RoleArn: `arn:aws:iam::${FAKE_ACCOUNT}:role/local`,
        StartTime: new Date().toISOString(),
      },
      StateMachine: { Id: stateMachineArn, Name: RECLUSTER_STATE_MACHINE_LOGICAL_ID },
    },
  });

  const visited: string[] = [];
  const seen = new Set<string>();
  const logging = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type !== 'StateEntered') continue;
      const name = event.state.name;
      options.onStateEntered?.(name);
      if (!seen.has(name)) {
        seen.add(name);
        visited.push(name);
      }
    }
  })();

  let result: LocalExecutionResult;
  try {
    const output = await execution.result;
    result = { status: 'SUCCEEDED', executionName, output, visited };
  } catch (err) {
    if (!(err instanceof ExecutionError)) throw err;
    const cause = err.cause as { name?: string; message?: string } | undefined;
    result = {
      status: 'FAILED',
      executionName,
      error: cause?.name ?? 'ExecutionError',
      cause: cause?.message ?? err.message,
      visited,
    };
  }
  while (inFlight.size) await Promise.allSettled([...inFlight]);
  await logging;
  return result;
}
