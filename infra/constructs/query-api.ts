import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { queryEnvSchema, type QueryEnv } from '../../shared/config/env';
import { TABLE } from '../../shared/contracts/table';
import { QUERY_ROUTES } from '../../shared/contracts/query';
import type { StageConfig } from '../config/stages';
import type { ShoalData } from './data';
import { ShoalFunction, retentionDays } from './shoal-function';
import { removalPolicyOf } from './util';

export interface ShoalQueryApiProps {
  config: StageConfig;
  data: ShoalData;
  /** Alarms go here (the stage's alarm topic). */
  alarmTopic: sns.ITopic;
}

export const QUERY_SERVICE_NAME = 'query';

/**
 * The query API: an HTTP API whose every route (QUERY_ROUTES, the same list the OpenAPI document is generated from)
 * requires IAM (SigV4) authorization, in front of one Lambda that may only read: GetItem, BatchGetItem and Query on
 * the customer (`C#*`) and model (`MODEL`) partitions, and Query on the bySegment index. The `$default` stage is
 * throttled (config.query) and writes JSON access logs (request id, route key, status, latency: no paths, so no
 * customer ids) to a log group with the stage's retention. Alarms: 5xx responses and Lambda errors, and p99 latency.
 */
export class ShoalQueryApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly handler: ShoalFunction<QueryEnv>;
  readonly accessLogs: logs.LogGroup;
  readonly alarms: { serverErrors: cloudwatch.Alarm; functionErrors: cloudwatch.Alarm; latency: cloudwatch.Alarm };

  constructor(scope: Construct, id: string, props: ShoalQueryApiProps) {
    super(scope, id);
    const { config, data } = props;
    const q = config.query;

    this.handler = new ShoalFunction(this, 'Function', {
      entry: 'functions/query/handler.ts',
      serviceName: QUERY_SERVICE_NAME,
      description: 'Answers the query API: customers, segments, audiences, the active model (read-only)',
      config,
      envSchema: queryEnvSchema,
      environment: { TABLE_NAME: data.table.tableName, SHOAL_SETTINGS: JSON.stringify(config.settings) },
      memorySize: q.memoryMb,
      timeout: Duration.seconds(10),
    });
    data.grantTable(this.handler.role, {
      read: true,
      indexes: [TABLE.bySegmentIndex.name],
      leadingKeys: ['C#*', 'MODEL'],
    });

    this.api = new apigwv2.HttpApi(this, 'Api', {
      apiName: `shoal-${config.stage}-query`,
      description: `Shoal ${config.stage} query API (IAM auth)`,
      createDefaultStage: false,
      defaultAuthorizer: new HttpIamAuthorizer(),
    });
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: retentionDays(config.logRetentionDays),
      removalPolicy: removalPolicyOf(config),
    });
    new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: q.throttleRatePerSecond, burstLimit: q.throttleBurst },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLatency: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
    });
    const integration = new HttpLambdaIntegration('Query', this.handler.function, {
      payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
    });
    for (const route of QUERY_ROUTES) {
      this.api.addRoutes({ path: route.path, methods: [apigwv2.HttpMethod.GET], integration });
    }

    const alarm = (alarmId: string, description: string, metric: cloudwatch.Metric, threshold: number) => {
      const created = metric.createAlarm(this, alarmId, {
        alarmDescription: `Shoal ${config.stage}: ${description}`,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(new actions.SnsAction(props.alarmTopic));
      created.addOkAction(new actions.SnsAction(props.alarmTopic));
      return created;
    };
    const period = Duration.minutes(5);
    this.alarms = {
      serverErrors: alarm(
        'ServerErrorsAlarm',
        'query API 5xx responses',
        this.api.metricServerError({ period, statistic: 'Sum' }),
        q.serverErrorsPerFiveMinutes,
      ),
      functionErrors: alarm(
        'FunctionErrorsAlarm',
        'query Lambda errors',
        this.handler.function.metricErrors({ period, statistic: 'Sum' }),
        q.serverErrorsPerFiveMinutes,
      ),
      latency: alarm(
        'LatencyAlarm',
        'query API p99 latency (ms)',
        this.api.metricLatency({ period, statistic: 'p99' }),
        q.p99LatencyMs,
      ),
    };
  }

  /**
   * Lets `role` call every route of the API: execute-api:Invoke on GET of this API's `$default` stage only. The path
   * is a wildcard because the routes carry path parameters (`/customers/{id}`): IAM matches the request path, so a
   * route cannot be named without one.
   */
  grantInvoke(role: iam.Role): void {
    const arn = this.api.arnForExecuteApi('GET', '/*', '$default');
    iam.Grant.addToPrincipal({ grantee: role, actions: ['execute-api:Invoke'], resourceArns: [arn] });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${Stack.of(this).getLogicalId(this.api.node.defaultChild as apigwv2.CfnApi)}>/$default/GET/*]`,
      reason:
        'The query routes carry path parameters (customer and segment ids), so IAM can only match them by a path wildcard; the grant is GET on this API only.',
    });
  }
}
