import * as path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { z } from 'zod';
import type { StageConfig } from '../config/stages';
import { removalPolicyOf } from './util';

/** Namespace of every Powertools metric Shoal emits; alarms and dashboards read the same constant. */
export const METRICS_NAMESPACE = 'Shoal';

/** Repository root, so entries resolve the same way from the CLI, tests and the local runner. */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** Variables every function gets; the function's own contract is merged over them, never replaced. */
export interface ShoalFunctionDefaults {
  POWERTOOLS_SERVICE_NAME: string;
  POWERTOOLS_METRICS_NAMESPACE: string;
  NODE_OPTIONS: string;
}

type StringEnv = Record<string, string>;

export interface ShoalFunctionProps<E extends StringEnv> {
  /** Handler module relative to the repository root, exporting `handler`. */
  entry: string;
  /** Powertools service name; also the `service` dimension of the function's metrics. */
  serviceName: string;
  description: string;
  config: StageConfig;
  /**
   * The function's environment contract (shared/config/env.ts). The environment below must satisfy its input type,
   * so a missing variable fails to compile, and values that are known at synth time are parsed with it too.
   */
  envSchema: z.ZodType<unknown, E>;
  environment: NoInfer<E>;
  memorySize: number;
  timeout: Duration;
  reservedConcurrentExecutions?: number;
}

/**
 * One Lambda function with Shoal's defaults: Node.js 22 on ARM64, ESM bundle with source maps and the AWS SDK left
 * external, active X-Ray tracing, JSON logs into a log group with the stage's retention, and a role of its own that
 * can write only to that log group (no AWSLambdaBasicExecutionRole managed policy).
 */
export class ShoalFunction<E extends StringEnv> extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly serviceName: string;

  constructor(scope: Construct, id: string, props: ShoalFunctionProps<E>) {
    super(scope, id);
    this.serviceName = props.serviceName;
    assertEnvironment(this, props.envSchema, props.environment);

    const removalPolicy = removalPolicyOf(props.config);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: retentionDays(props.config.logRetentionDays),
      removalPolicy,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.serviceName}`,
    });
    this.logGroup.grantWrite(this.role);

    const defaults: ShoalFunctionDefaults = {
      POWERTOOLS_SERVICE_NAME: props.serviceName,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      NODE_OPTIONS: '--enable-source-maps',
    };

    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(PROJECT_ROOT, props.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      tracing: lambda.Tracing.ACTIVE,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      logGroup: this.logGroup,
      role: this.role,
      environment: { ...defaults, ...props.environment },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        sourceMap: true,
        sourcesContent: false,
        minify: true,
        keepNames: true,
        // Some CommonJS dependencies call require() for Node built-ins; an ESM bundle needs a require to give them.
        banner:
          "import { createRequire as __shoalCreateRequire } from 'node:module'; const require = __shoalCreateRequire(import.meta.url);",
      },
    });

    Validations.of(this).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Active X-Ray tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions.',
      },
      {
        id: 'AwsSolutions-L1',
        reason:
          'Node.js 22 is pinned on purpose: it is the runtime the handlers, Powertools 2.x and middy 7 are built and tested for; runtime upgrades are deliberate, not automatic.',
      },
    );
  }

  get functionArn(): string {
    return this.function.functionArn;
  }
}

function assertEnvironment<E extends StringEnv>(scope: Construct, schema: z.ZodType<unknown, E>, env: E): void {
  // Tokens (ARNs, names) are opaque strings at synth time and pass; concrete values such as SHOAL_SETTINGS are parsed
  // here so a bad stage config fails `cdk synth`, not the first cold start.
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`${scope.node.path}: invalid function environment: ${fields}`);
  }
}

const RETENTION_STEPS: readonly logs.RetentionDays[] = [
  logs.RetentionDays.ONE_DAY,
  logs.RetentionDays.THREE_DAYS,
  logs.RetentionDays.FIVE_DAYS,
  logs.RetentionDays.ONE_WEEK,
  logs.RetentionDays.TWO_WEEKS,
  logs.RetentionDays.ONE_MONTH,
  logs.RetentionDays.TWO_MONTHS,
  logs.RetentionDays.THREE_MONTHS,
  logs.RetentionDays.FOUR_MONTHS,
  logs.RetentionDays.FIVE_MONTHS,
  logs.RetentionDays.SIX_MONTHS,
  logs.RetentionDays.ONE_YEAR,
  logs.RetentionDays.THIRTEEN_MONTHS,
  logs.RetentionDays.EIGHTEEN_MONTHS,
  logs.RetentionDays.TWO_YEARS,
  logs.RetentionDays.THREE_YEARS,
  logs.RetentionDays.FIVE_YEARS,
  logs.RetentionDays.SIX_YEARS,
  logs.RetentionDays.SEVEN_YEARS,
  logs.RetentionDays.EIGHT_YEARS,
  logs.RetentionDays.NINE_YEARS,
  logs.RetentionDays.TEN_YEARS,
];

/** CloudWatch Logs accepts only certain retention values: round the configured days up to the next one. */
export function retentionDays(days: number): logs.RetentionDays {
  return RETENTION_STEPS.find((step) => step >= days) ?? logs.RetentionDays.INFINITE;
}
