import type { ReclusterState, ReclusterTask } from '../shared/contracts/recluster';

/**
 * Pure helpers around the synthesized recluster state machine, for tests and the local runner. No CDK import: the
 * runner reads a synthesized template (from `synthTemplate` in infra/app.ts, or from cdk.out) and gets back plain ASL
 * it can hand to aws-local-stepfunctions.
 */

/** Logical id of the AWS::StepFunctions::StateMachine in every stage's template (pinned in the construct). */
export const RECLUSTER_STATE_MACHINE_LOGICAL_ID = 'ReclusterStateMachine';

/** Names of the Lambda-backed Task states and the handler each one invokes (keys of `taskResourceLocalHandlers`). */
export const RECLUSTER_TASK_STATES = {
  PlanShards: 'plan-shards',
  ScanShard: 'scan-shard',
  FitModel: 'fit-model',
  AssignShard: 'assign-shard',
  /** The gate refused tonight's model: the same function refreshes traits and stages with the ACTIVE version. */
  RefreshShard: 'assign-shard',
  Publish: 'publish',
  MarkFailed: 'mark-failed',
} as const satisfies Record<string, ReclusterTask>;
export type ReclusterTaskState = keyof typeof RECLUSTER_TASK_STATES;

/** The other states of the workflow besides RECLUSTER_STATES and the Task states. */
export const RECLUSTER_FAILURE_STATES = {
  /** Pass state each catchable state's Catch leads to; it shapes `MarkFailedInput` for that state. */
  failed: (state: Exclude<ReclusterState, 'QualityGate'>) => `${state}Failed` as const,
  qualityGateRejected: 'QualityGateRejected',
  markFailed: 'MarkFailed',
  /** Map over the shards that refreshes traits and stages when the gate refused the model. */
  refreshTraits: 'RefreshTraits',
  /** Choice after MarkFailed: the run's model turned out to be live (Publish died after the flip). */
  runOutcome: 'RunOutcome',
  /** Where a run whose model is live ends, although a state after the flip failed. */
  publishedAfterAll: 'PublishedAfterAll',
  fail: 'Failed',
} as const;

/** `Error` of the execution when a run fails (its `Cause` is the name of the state that failed). */
export const RECLUSTER_FAILED_ERROR = 'ReclusterFailed';
/** `error.Error` that MarkFailed receives when the quality gate rejects a model; `Cause` is JSON of the reasons. */
export const QUALITY_GATE_REJECTED_ERROR = 'QualityGateRejected';

export type AslState = Record<string, unknown> & { Type: string };
export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  [key: string]: unknown;
}

export interface FakeEnvironment {
  partition: string;
  region: string;
  account: string;
}

const DEFAULT_ENV: FakeEnvironment = { partition: 'aws', region: 'us-east-1', account: '123456789012' };

type TemplateResource = { Type?: string; Properties?: Record<string, unknown> };
type Template = { Resources?: Record<string, TemplateResource> };

export interface ExtractedStateMachine {
  logicalId: string;
  definition: AslDefinition;
  /** Lambda function logical id -> the task it runs, read from the FunctionName of each Task state. */
  functions: Record<string, ReclusterTask>;
}

/**
 * Finds the recluster state machine in a synthesized template and returns its definition as an object, with the
 * CloudFormation intrinsics in `DefinitionString` (Fn::Join, Ref, Fn::GetAtt, pseudo parameters) replaced by fake,
 * well-formed values: a Lambda `Fn::GetAtt [X, Arn]` becomes `arn:aws:lambda:<region>:<account>:function:X`.
 */
export function findStateMachineDefinition(
  template: unknown,
  env: Partial<FakeEnvironment> = {},
): ExtractedStateMachine {
  const fake = { ...DEFAULT_ENV, ...env };
  const resources = (template as Template).Resources ?? {};
  const machine = resources[RECLUSTER_STATE_MACHINE_LOGICAL_ID];
  if (!machine || machine.Type !== 'AWS::StepFunctions::StateMachine') {
    throw new Error(`No AWS::StepFunctions::StateMachine "${RECLUSTER_STATE_MACHINE_LOGICAL_ID}" in the template`);
  }
  const raw = machine.Properties?.DefinitionString;
  const text = typeof raw === 'string' ? raw : resolveIntrinsic(raw, resources, fake);
  const definition = JSON.parse(text) as AslDefinition;

  const functions: Record<string, ReclusterTask> = {};
  forEachState(definition, (name, state) => {
    const task = RECLUSTER_TASK_STATES[name as ReclusterTaskState];
    const fn = (state.Parameters as { FunctionName?: unknown } | undefined)?.FunctionName;
    if (task && typeof fn === 'string') functions[fn.slice(fn.lastIndexOf(':') + 1)] = task;
  });
  return { logicalId: RECLUSTER_STATE_MACHINE_LOGICAL_ID, definition, functions };
}

/**
 * Returns a copy that aws-local-stepfunctions can run: every Distributed Map becomes an INLINE map over the same
 * items (the items come from the state input, so nothing else changes), and Distributed-only fields are dropped.
 */
export function toInlineMaps(definition: AslDefinition): AslDefinition {
  // JSON round trip, not structuredClone: under jest the latter returns objects of another realm, which
  // aws-local-stepfunctions does not treat as plain objects.
  const copy = JSON.parse(JSON.stringify(definition)) as AslDefinition;
  forEachState(copy, (_name, state) => {
    const processor = state.ItemProcessor as { ProcessorConfig?: Record<string, unknown> } | undefined;
    if (state.Type !== 'Map' || processor?.ProcessorConfig?.Mode !== 'DISTRIBUTED') return;
    processor.ProcessorConfig = { Mode: 'INLINE' };
    for (const field of [
      'Label',
      'ToleratedFailurePercentage',
      'ToleratedFailureCount',
      'ItemReader',
      'ItemBatcher',
      'ResultWriter',
    ]) {
      delete state[field];
    }
  });
  return copy;
}

/** Visits every state, including those inside Map item processors and Parallel branches. */
export function forEachState(
  definition: Pick<AslDefinition, 'States'>,
  visit: (name: string, state: AslState) => void,
): void {
  for (const [name, state] of Object.entries(definition.States)) {
    visit(name, state);
    const processor = (state.ItemProcessor ?? state.Iterator) as AslDefinition | undefined;
    if (processor?.States) forEachState(processor, visit);
    for (const branch of (state.Branches as AslDefinition[] | undefined) ?? []) forEachState(branch, visit);
  }
}

function resolveIntrinsic(value: unknown, resources: Record<string, TemplateResource>, env: FakeEnvironment): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if ('Fn::Join' in obj) {
      const [sep, parts] = obj['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => resolveIntrinsic(p, resources, env)).join(sep);
    }
    if ('Ref' in obj) return resolveRef(String(obj.Ref), env);
    if ('Fn::GetAtt' in obj) {
      const [logicalId, attribute] = obj['Fn::GetAtt'] as [string, string];
      return fakeAttribute(logicalId, attribute, resources[logicalId]?.Type, env);
    }
  }
  throw new Error(`Unsupported intrinsic in DefinitionString: ${JSON.stringify(value)}`);
}

function resolveRef(ref: string, env: FakeEnvironment): string {
  switch (ref) {
    case 'AWS::Partition':
      return env.partition;
    case 'AWS::Region':
      return env.region;
    case 'AWS::AccountId':
      return env.account;
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    default:
      return ref;
  }
}

function fakeAttribute(logicalId: string, attribute: string, type: string | undefined, env: FakeEnvironment): string {
  const prefix = `arn:${env.partition}`;
  if (attribute === 'Arn') {
    switch (type) {
      case 'AWS::Lambda::Function':
        return `${prefix}:lambda:${env.region}:${env.account}:function:${logicalId}`;
      case 'AWS::S3::Bucket':
        return `${prefix}:s3:::${logicalId.toLowerCase()}`;
      case 'AWS::DynamoDB::Table':
        return `${prefix}:dynamodb:${env.region}:${env.account}:table/${logicalId}`;
      case 'AWS::Events::EventBus':
        return `${prefix}:events:${env.region}:${env.account}:event-bus/${logicalId}`;
      default:
        return `${prefix}:${(type ?? 'unknown').split('::')[1]?.toLowerCase() ?? 'unknown'}:${env.region}:${env.account}:${logicalId}`;
    }
  }
  return `${logicalId}.${attribute}`;
}
