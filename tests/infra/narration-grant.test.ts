import { App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { cdkJsonContext } from '../../infra/app';
import { ShoalStack } from '../../infra/stacks/shoal-stack';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { grantNarrationEndpoint } from '../../infra/constructs/recluster';
import { stageConfig, STAGES } from '../../infra/config/stages';
import { settingsSchema } from '../../shared/config/settings';

describe('narration endpoint grant (issue #12)', () => {
  it('grants sagemaker:InvokeEndpoint on the configured endpoint only, lower-cased', () => {
    const stack = new Stack(new App(), 'S');
    const role = new iam.Role(stack, 'FitModelRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    grantNarrationEndpoint(role, stack, 'Shoal-Narrator');
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy');
    const statements = Object.values(policies).flatMap(
      (p) => (p.Properties as { PolicyDocument: { Statement: Record<string, unknown>[] } }).PolicyDocument.Statement,
    );
    expect(statements).toEqual([
      {
        Sid: 'InvokeNarrationEndpoint',
        Effect: 'Allow',
        Action: 'sagemaker:InvokeEndpoint',
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':sagemaker:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':endpoint/shoal-narrator',
            ],
          ],
        },
      },
    ]);
  });

  it.each(STAGES)('stage %s parses with and without a narration block', (stage) => {
    const settings = stageConfig(stage).settings;
    expect(settings.narration).toBeUndefined();
    const withNarration = settingsSchema.parse({ ...settings, narration: { endpointName: 'n', contract: 'chat' } });
    expect(withNarration.narration).toEqual({
      endpointName: 'n',
      contract: 'chat',
      maxTokens: 700,
      temperature: 0.2,
      timeoutMs: 20_000,
      maxRetries: 2,
      budgetMs: 240_000,
    });
  });

  it('rejects an unknown contract', () => {
    const settings = stageConfig('dev').settings;
    expect(
      settingsSchema.safeParse({ ...settings, narration: { endpointName: 'n', contract: 'openai' } }).success,
    ).toBe(false);
  });
});

describe('a stage with narration configured (full stack, cdk-nag on)', () => {
  type Statement = { Sid?: string; Action: string | string[]; Resource: unknown };
  let policies: Record<
    string,
    { Properties: { Roles: { Ref: string }[]; PolicyDocument: { Statement: Statement[] } } }
  >;
  let roles: Record<string, unknown>;

  beforeAll(() => {
    const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
    const dev = stageConfig('dev');
    const config = {
      ...dev,
      settings: settingsSchema.parse({
        ...dev.settings,
        narration: { endpointName: 'Shoal-Narrator', contract: 'tgi' },
      }),
    };
    const stack = new ShoalStack(app, 'Shoal-dev', { config });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const template = Template.fromJSON(
      app.synth().getStackArtifact(stack.artifactId).template as Record<string, unknown>,
      { skipCyclicalDependenciesCheck: true },
    );
    policies = template.findResources('AWS::IAM::Policy') as typeof policies;
    roles = template.findResources('AWS::IAM::Role');
  });

  it('grants InvokeEndpoint on the narration endpoint to the FitModel role only', () => {
    const grants = Object.values(policies).flatMap((p) =>
      p.Properties.PolicyDocument.Statement.filter((s) => s.Sid === 'InvokeNarrationEndpoint').map((s) => ({
        roles: p.Properties.Roles.map((r) => r.Ref),
        statement: s,
      })),
    );
    expect(grants).toHaveLength(1);
    expect(grants[0]!.statement.Action).toBe('sagemaker:InvokeEndpoint');
    expect(JSON.stringify(grants[0]!.statement.Resource)).toContain(':endpoint/shoal-narrator');
    expect(grants[0]!.roles).toHaveLength(1);
    expect(grants[0]!.roles[0]).toMatch(/FitModel/);
    expect(Object.keys(roles)).toContain(grants[0]!.roles[0]);
  });

  it('the embedding grant is unchanged: still one statement, for ingest', () => {
    const embedding = Object.values(policies).flatMap((p) =>
      p.Properties.PolicyDocument.Statement.filter((s) => s.Sid === 'InvokeEmbeddingEndpoint'),
    );
    expect(embedding).toHaveLength(1);
  });
});
