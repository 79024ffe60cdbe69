import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { outboxEnvSchema, type OutboxEnv } from '../../shared/config/env';
import { TABLE } from '../../shared/contracts/table';
import type { StageConfig } from '../config/stages';
import type { ShoalData } from './data';
import { ShoalFunction } from './shoal-function';
import { logicalIdOf } from './util';

export interface ShoalPublishingProps {
  config: StageConfig;
  data: ShoalData;
  bus: events.IEventBus;
  /** Functions that publish Shoal's outbound events (ingest, the recluster tasks). */
  publishers: readonly iam.IGrantable[];
}

export const OUTBOX_SERVICE_NAME = 'outbox';
export const OUTBOX_SWEEP_RATE = Duration.minutes(5);

/**
 * Outbound events: PutEvents on the bus, granted per publisher and on this bus only, and the outbox sweeper that
 * republishes changes a crashed publisher left in a profile's outbox (found through the sparse outboxPending index).
 */
export class ShoalPublishing extends Construct {
  readonly sweeper: ShoalFunction<OutboxEnv>;
  readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: ShoalPublishingProps) {
    super(scope, id);
    const { config, data, bus } = props;

    this.sweeper = new ShoalFunction(this, 'OutboxSweeper', {
      entry: 'functions/outbox/handler.ts',
      serviceName: OUTBOX_SERVICE_NAME,
      description: 'Republishes outbox entries left unpublished',
      config,
      envSchema: outboxEnvSchema,
      environment: {
        TABLE_NAME: data.table.tableName,
        EVENT_BUS_NAME: bus.eventBusName,
        SHOAL_SETTINGS: JSON.stringify(config.settings),
      },
      memorySize: 512,
      timeout: Duration.minutes(2),
      // One sweep at a time: overlapping sweeps would only race for the same entries.
      reservedConcurrentExecutions: 1,
    });
    data.grantTable(this.sweeper.role, { read: true, write: true, indexes: [TABLE.outboxIndex.name] });

    for (const publisher of [...props.publishers, this.sweeper.role]) {
      bus.grantPutEventsTo(publisher);
    }

    const scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'Invokes the outbox sweeper',
    });
    Validations.of(scheduleRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(this.sweeper.function)}.Arn>:*]`,
      reason:
        'lambda:InvokeFunction on the sweeper and its versions/aliases (":*"), as granted by grantInvoke; only this function.',
    });
    this.schedule = new scheduler.Schedule(this, 'SweepSchedule', {
      description: 'Outbox sweep',
      schedule: scheduler.ScheduleExpression.rate(OUTBOX_SWEEP_RATE),
      target: new schedulerTargets.LambdaInvoke(this.sweeper.function, {
        role: scheduleRole,
        retryAttempts: 0,
        maxEventAge: Duration.minutes(5),
      }),
    });
  }
}
