import { App, Stack } from 'aws-cdk-lib';
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
