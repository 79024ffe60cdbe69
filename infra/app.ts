import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { stageConfig, UnknownStageError, type StageConfig } from './config/stages';
import { ShoalStack } from './stacks/shoal-stack';

export interface ShoalApp {
  app: App;
  stack: ShoalStack;
  config: StageConfig;
}

export interface BuildAppOptions {
  /** Cloud assembly directory (default: the CLI's, else a temporary one). */
  outdir?: string;
  /**
   * CDK's built-in CloudFormation template validation (default on). It costs 5-20 s per stage on a shared 2-core
   * machine, so `synthTemplate` turns it off; `cdk synth` and `npm run synth` keep it. cdk-nag runs either way.
   */
  builtinCloudFormationValidation?: boolean;
  /**
   * cdk-nag's AwsSolutions checks (default on). The local runner turns them off: it only reads the state machine
   * from the template, loading the rules cost half a second of every `npm start`, and tests, `cdk synth` and CI
   * run them on the same app.
   */
  nag?: boolean;
}

const CDK_JSON = path.resolve(__dirname, '..', 'cdk.json');

/** The `context` of cdk.json (feature flags included). `new App()` does not read cdk.json; only the CLI does. */
export function cdkJsonContext(): Record<string, unknown> {
  const parsed = JSON.parse(fs.readFileSync(CDK_JSON, 'utf8')) as { context?: Record<string, unknown> };
  return parsed.context ?? {};
}

/**
 * Builds the CDK app for one stage: one environment-agnostic stack `Shoal-<stage>`, checked by cdk-nag AwsSolutions
 * at synth. The stage is the argument, else the `stage` context (`-c stage=prod`), else cdk.json's default.
 * `context` is layered over cdk.json's; under the CDK CLI, the CLI's context wins over both.
 */
export function buildApp(
  stage?: string,
  context: Record<string, unknown> = {},
  options: BuildAppOptions = {},
): ShoalApp {
  const app = new App({
    context: { ...cdkJsonContext(), ...context },
    outdir: options.outdir,
    builtinCloudFormationValidation: options.builtinCloudFormationValidation,
  });
  const producers = app.node.tryGetContext('storefrontProducers') as string | string[] | undefined;
  const config = stageConfig(stage ?? String(app.node.tryGetContext('stage') ?? 'dev'), {
    ...(producers === undefined
      ? {}
      : {
          storefrontProducers: (Array.isArray(producers) ? producers : producers.split(','))
            .map((p) => p.trim())
            .filter(Boolean),
        }),
  });
  const stack = new ShoalStack(app, `Shoal-${config.stage}`, {
    config,
    description: `Shoal (${config.stage}): behavioural customer segmentation`,
    tags: { project: 'shoal', stage: config.stage },
  });
  if (options.nag !== false) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, config };
}

/**
 * Synthesizes one stage without bundling the functions (nor CDK's built-in template validation; cdk-nag still
 * runs and throws on an unacknowledged finding, unless `options.nag` is false) and returns its CloudFormation template: what tests and the
 * local runner need (pass the result to `findStateMachineDefinition` in infra/state-machine-definition.ts).
 */
export function synthTemplate(
  stage: string,
  context: Record<string, unknown> = {},
  options: Pick<BuildAppOptions, 'nag'> = {},
): Record<string, unknown> {
  const { app, stack } = buildApp(
    stage,
    { 'aws:cdk:bundling-stacks': [], ...context },
    { builtinCloudFormationValidation: false, ...options },
  );
  return app.synth().getStackArtifact(stack.artifactId).template as Record<string, unknown>;
}

if (require.main === module) {
  try {
    buildApp().app.synth();
  } catch (err) {
    // A wrong `-c stage=…` is a usage error: one line naming the valid stages, no stack trace.
    if (!(err instanceof UnknownStageError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
}
