import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import {
  assignOutputSchema,
  fitOutputSchema,
  planOutputSchema,
  scanOutputSchema,
  shardTaskSchema,
  type ReclusterState,
  type ReclusterTask,
} from '../../shared/contracts/recluster';
import {
  QUALITY_GATE_REJECTED_ERROR,
  RECLUSTER_FAILED_ERROR,
  RECLUSTER_FAILURE_STATES,
  RECLUSTER_TASK_STATES,
  type ReclusterTaskState,
} from '../state-machine-definition';

/** Transient Lambda service errors, retried with backoff on every Lambda task. */
export const LAMBDA_TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;
/** Error names a handler throws when DynamoDB or another dependency throttles it (the SDK error's `name`). */
export const THROTTLING_ERRORS = ['ThrottlingException', 'ProvisionedThroughputExceededException'] as const;

export interface ReclusterWorkflowProps {
  functions: Record<ReclusterTask, lambda.IFunction>;
  mapConcurrency: number;
}

type Shape = Record<string, unknown>;

/** `{"k.$": "<prefix>.k"}` for every field of a contract, so a renamed field fails the state, not a consumer later. */
function select(shape: Shape, prefix: string): Record<string, string> {
  return Object.fromEntries(Object.keys(shape).map((k) => [`${k}.$`, `${prefix}.${k}`]));
}

/**
 * The nightly recluster workflow, JSONPath only. State data as it flows:
 *
 *   execution input   {runId?, asOf?}
 *   after PlanShards  {runId, asOf, plan: PlanOutput}
 *   after ScanShards  {runId, asOf, plan, scans: ScanOutput[]}
 *   after FitModel    {..., fit: FitOutput}
 *   after AssignShards{..., assignments: AssignOutput[]}
 *   Publish's result is discarded, so the execution output is the run summary above.
 *   gate refused      RefreshTraits (AssignShard's function with {activeVersion}) → QualityGateRejected → MarkFailed
 *   after MarkFailed  {..., markFailed: {published}}: true when the run's model turned out live → PublishedAfterAll
 *
 * Every Task and Map catches States.ALL into `$.error`, then a Pass `<State>Failed` shapes `MarkFailedInput`
 * ({runId, state, error}), MarkFailed records the run and emits segmentation.run.failed, and `Failed` ends it.
 */
export class ReclusterWorkflow extends Construct {
  readonly definition: sfn.IChainable;

  constructor(scope: Construct, id: string, props: ReclusterWorkflowProps) {
    super(scope, id);
    const fn = (state: ReclusterTaskState) => props.functions[RECLUSTER_TASK_STATES[state]];

    const fail = new sfn.Fail(this, RECLUSTER_FAILURE_STATES.fail, {
      error: RECLUSTER_FAILED_ERROR,
      causePath: sfn.JsonPath.stringAt('$.state'),
    });
    const markFailed = this.lambdaTask('MarkFailed', fn('MarkFailed'), {
      payload: sfn.TaskInput.fromObject({
        runId: sfn.JsonPath.stringAt('$.runId'),
        state: sfn.JsonPath.stringAt('$.state'),
        error: sfn.JsonPath.objectAt('$.error'),
      }),
      resultSelector: { 'published.$': '$.Payload.published' },
      resultPath: '$.markFailed',
    });
    // Recording the failure must not be lost to one bad moment: retry anything a few times. If it still fails, the
    // execution fails and the next run's PlanShards reconciles the run record (shared/recluster/mark-failed.ts).
    markFailed.addRetry({
      errors: [sfn.Errors.ALL],
      interval: Duration.seconds(5),
      maxAttempts: 3,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
    markFailed.addCatch(fail, { errors: [sfn.Errors.ALL], resultPath: '$.markFailedError' });
    // MarkFailed found the run's model live (Publish died after the flip): the run is published, not failed.
    markFailed.next(
      new sfn.Choice(this, RECLUSTER_FAILURE_STATES.runOutcome)
        .when(
          sfn.Condition.booleanEquals('$.markFailed.published', true),
          new sfn.Succeed(this, RECLUSTER_FAILURE_STATES.publishedAfterAll, {
            comment: 'A state after the flip failed, but the model is live and the run is recorded as published',
          }),
        )
        .otherwise(fail),
    );

    const failureOf = (state: Exclude<ReclusterState, 'QualityGate'>): sfn.IChainable => {
      const pass =
        state === 'PlanShards'
          ? // runId may be absent from the input: default it to the execution name exactly as PlanShards does. The
            // merged object keeps an input runId over the default; MarkFailed's payload then picks its three fields.
            new sfn.Pass(this, RECLUSTER_FAILURE_STATES.failed(state), {
              parameters: {
                'failure.$': `States.JsonMerge(States.StringToJson(States.Format('\\{"runId":"{}","state":"${state}"\\}', $$.Execution.Name)), $, false)`,
              },
              outputPath: '$.failure',
            })
          : new sfn.Pass(this, RECLUSTER_FAILURE_STATES.failed(state), {
              parameters: {
                runId: sfn.JsonPath.stringAt('$.runId'),
                state,
                error: sfn.JsonPath.objectAt('$.error'),
              },
            });
      return pass.next(markFailed);
    };
    const catchInto = <S extends sfn.TaskStateBase | sfn.DistributedMap>(
      state: S,
      name: Exclude<ReclusterState, 'QualityGate'>,
    ): S => {
      state.addCatch(failureOf(name), { errors: [sfn.Errors.ALL], resultPath: '$.error' });
      return state;
    };

    // PlanShards gets the execution input plus the execution name, its runId fallback: {runId?, asOf?, executionName}.
    const planShards = this.lambdaTask('PlanShards', fn('PlanShards'), {
      payload: sfn.TaskInput.fromJsonPathAt(
        `States.JsonMerge(States.StringToJson(States.Format('\\{"executionName":"{}"\\}', $$.Execution.Name)), $, false)`,
      ),
      resultSelector: {
        'runId.$': '$.Payload.runId',
        'asOf.$': '$.Payload.asOf',
        plan: select(planOutputSchema.shape, '$.Payload'),
      },
      // No ResultPath: the selected result replaces the input (same as "$", which aws-local-stepfunctions mishandles).
    });

    const scanShard = this.lambdaTask('ScanShard', fn('ScanShard'), {
      payload: sfn.TaskInput.fromJsonPathAt('$'),
      resultSelector: select(scanOutputSchema.shape, '$.Payload'),
    });
    const scanShards = new sfn.DistributedMap(this, 'ScanShards', {
      comment:
        'One child per shard; items come from the state input (no ItemReader) so the map also runs inline locally',
      itemsPath: '$.plan.shards',
      maxConcurrency: props.mapConcurrency,
      mapExecutionType: sfn.StateMachineType.STANDARD,
      label: 'ScanShards',
      resultPath: '$.scans',
    }).itemProcessor(scanShard);

    const fitModel = this.lambdaTask('FitModel', fn('FitModel'), {
      payload: sfn.TaskInput.fromObject({
        runId: sfn.JsonPath.stringAt('$.runId'),
        asOf: sfn.JsonPath.stringAt('$.asOf'),
        scans: sfn.JsonPath.listAt('$.scans'),
      }),
      resultSelector: select(fitOutputSchema.shape, '$.Payload'),
      resultPath: '$.fit',
    });

    const assignShard = this.lambdaTask('AssignShard', fn('AssignShard'), {
      payload: sfn.TaskInput.fromJsonPathAt('$'),
      resultSelector: select(assignOutputSchema.shape, '$.Payload'),
    });
    const assignShards = new sfn.DistributedMap(this, 'AssignShards', {
      comment: 'Same shards as ScanShards, each extended with the new modelVersion',
      itemsPath: '$.plan.shards',
      itemSelector: {
        ...select(shardTaskSchema.shape, '$$.Map.Item.Value'),
        'modelVersion.$': '$.fit.modelVersion',
      },
      maxConcurrency: props.mapConcurrency,
      mapExecutionType: sfn.StateMachineType.STANDARD,
      label: 'AssignShards',
      resultPath: '$.assignments',
    }).itemProcessor(assignShard);

    const publish = this.lambdaTask('Publish', fn('Publish'), {
      payload: sfn.TaskInput.fromObject({
        runId: sfn.JsonPath.stringAt('$.runId'),
        modelVersion: sfn.JsonPath.numberAt('$.fit.modelVersion'),
        assignments: sfn.JsonPath.listAt('$.assignments'),
      }),
      resultPath: sfn.JsonPath.DISCARD,
    });

    // The gate refused: stages and traits are still refreshed tonight, with the ACTIVE version; segments stay.
    const refreshShard = this.lambdaTask('RefreshShard', fn('RefreshShard'), {
      payload: sfn.TaskInput.fromJsonPathAt('$'),
      resultSelector: select(assignOutputSchema.shape, '$.Payload'),
    });
    // An inline Map: a Distributed Map here would need its own child-execution IAM acknowledgement in recluster.ts.
    const refreshTraits = new sfn.Map(this, RECLUSTER_FAILURE_STATES.refreshTraits, {
      comment: 'Same shards, each with the ACTIVE model version (or null): traits and lifecycle stages only',
      itemsPath: '$.plan.shards',
      itemSelector: {
        ...select(shardTaskSchema.shape, '$$.Map.Item.Value'),
        'activeVersion.$': '$.fit.activeVersion',
      },
      maxConcurrency: props.mapConcurrency,
      resultPath: '$.refreshed',
    }).itemProcessor(refreshShard);

    const rejected = new sfn.Pass(this, RECLUSTER_FAILURE_STATES.qualityGateRejected, {
      comment: 'The gate turned the model down: the active model stays; the run is recorded as failed',
      parameters: {
        runId: sfn.JsonPath.stringAt('$.runId'),
        state: 'QualityGate' satisfies ReclusterState,
        error: {
          Error: QUALITY_GATE_REJECTED_ERROR,
          // ASL has no array join; the reasons arrive as a JSON array string.
          Cause: sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$.fit.gate.reasons')),
        },
      },
    }).next(markFailed);
    const qualityGate = new sfn.Choice(this, 'QualityGate')
      .when(
        sfn.Condition.booleanEquals('$.fit.gate.passed', true),
        catchInto(assignShards, 'AssignShards').next(catchInto(publish, 'Publish')),
      )
      .otherwise(refreshTraits);
    // A failed refresh does not hide the gate's verdict: the run is still recorded as refused, with its reasons.
    refreshTraits.addCatch(rejected, { errors: [sfn.Errors.ALL], resultPath: '$.refreshError' });
    refreshTraits.next(rejected);

    this.definition = catchInto(planShards, 'PlanShards')
      .next(catchInto(scanShards, 'ScanShards'))
      .next(catchInto(fitModel, 'FitModel'))
      .next(qualityGate);
  }

  private lambdaTask(
    id: ReclusterTaskState,
    lambdaFunction: lambda.IFunction,
    props: Pick<tasks.LambdaInvokeJsonPathProps, 'payload' | 'resultSelector' | 'resultPath'>,
  ): tasks.LambdaInvoke {
    const task = new tasks.LambdaInvoke(this, id, {
      lambdaFunction,
      ...props,
      // The default retrier also covers Lambda.ClientExecutionTimeoutException; ours lists exactly what we retry.
      retryOnServiceExceptions: false,
    });
    task.addRetry({
      errors: [...LAMBDA_TRANSIENT_ERRORS],
      interval: Duration.seconds(2),
      maxAttempts: 6,
      backoffRate: 2,
      maxDelay: Duration.seconds(60),
      jitterStrategy: sfn.JitterType.FULL,
    });
    task.addRetry({
      errors: [...THROTTLING_ERRORS],
      interval: Duration.seconds(5),
      maxAttempts: 5,
      backoffRate: 2,
      maxDelay: Duration.seconds(120),
      jitterStrategy: sfn.JitterType.FULL,
    });
    return task;
  }
}
