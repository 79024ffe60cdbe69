import { Match, Template } from 'aws-cdk-lib/assertions';
import { stageConfig, STAGES, type StageName } from '../../infra/config/stages';
import { QUERY_ROUTES } from '../../shared/contracts/query';
import { resourcesOfType, stageTemplate, type TemplateJson } from './templates';

const templates = {} as Record<StageName, TemplateJson>;
beforeAll(async () => {
  for (const stage of STAGES) templates[stage] = await stageTemplate(stage);
});
const assertions = (stage: StageName) => Template.fromJSON(templates[stage], { skipCyclicalDependenciesCheck: true });

/** The policy documents attached to the query Lambda's role. */
function queryRoleStatements(t: TemplateJson): Record<string, unknown>[] {
  const fn = resourcesOfType(t, 'AWS::Lambda::Function')
    .map(([, p]) => p)
    .find((p) => String(p.Description ?? '').startsWith('Answers the query API'));
  const roleRef = (fn?.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return resourcesOfType(t, 'AWS::IAM::Policy')
    .map(([, p]) => p)
    .filter((p) => (p.Roles as { Ref: string }[]).some((r) => r.Ref === roleRef))
    .flatMap((p) => (p.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);
}

describe.each(STAGES)('query API (%s)', (stage) => {
  const config = stageConfig(stage);

  it('has exactly the routes of QUERY_ROUTES, every one with IAM (SigV4) authorization', () => {
    const routes = resourcesOfType(templates[stage], 'AWS::ApiGatewayV2::Route').map(([, p]) => p);
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(QUERY_ROUTES.map((r) => `GET ${r.path}`).sort());
    for (const r of routes) expect(r.AuthorizationType).toBe('AWS_IAM');
  });

  it('throttles the $default stage and writes access logs without paths', () => {
    assertions(stage).hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: Match.objectLike({
        ThrottlingRateLimit: config.query.throttleRatePerSecond,
        ThrottlingBurstLimit: config.query.throttleBurst,
      }),
      AccessLogSettings: Match.objectLike({
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp('routeKey'),
      }),
    });
    const [, stageProps] = resourcesOfType(templates[stage], 'AWS::ApiGatewayV2::Stage')[0]!;
    const format = (stageProps.AccessLogSettings as { Format: string }).Format;
    expect(format).not.toMatch(/\$context\.path|rawPath|identity\.sourceIp/);
  });

  it.each([
    [
      '5xx responses',
      { Namespace: 'AWS/ApiGateway', MetricName: '5xx', Statistic: 'Sum' },
      config.query.serverErrorsPerFiveMinutes,
    ],
    [
      'p99 latency',
      { Namespace: 'AWS/ApiGateway', MetricName: 'Latency', ExtendedStatistic: 'p99' },
      config.query.p99LatencyMs,
    ],
  ])('alarms on %s into the alarm topic', (_name, metric, threshold) => {
    assertions(stage).hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...metric,
      Threshold: threshold,
      AlarmActions: [Match.objectLike({ Ref: Match.stringLikeRegexp('AlarmTopic') })],
    });
  });

  it('alarms on the query Lambda errors', () => {
    assertions(stage).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      AlarmDescription: Match.stringLikeRegexp('query Lambda errors'),
      Threshold: config.query.serverErrorsPerFiveMinutes,
    });
  });

  it('grants the query Lambda read-only access: no write, delete or scan; item reads limited to C#* and MODEL', () => {
    const statements = queryRoleStatements(templates[stage]);
    const actions = statements.flatMap((s) => [s.Action].flat() as string[]);
    const dynamo = actions.filter((a) => a.startsWith('dynamodb:'));
    expect([...new Set(dynamo)].sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query']);
    const itemStatement = statements.find((s) => [s.Action].flat().includes('dynamodb:GetItem'))!;
    expect(itemStatement.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['C#*', 'MODEL'] },
    });
    const indexStatement = statements.find(
      (s) => [s.Action].flat().includes('dynamodb:Query') && JSON.stringify(s.Resource).includes('/index/'),
    )!;
    expect(JSON.stringify(indexStatement.Resource)).toContain('/index/bySegment');
    expect(JSON.stringify(indexStatement.Resource)).not.toContain('outboxPending');
    expect(actions.some((a) => /^(events|sqs|s3):/.test(a))).toBe(false);
  });
});
