import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { OUTBOUND_SOURCE } from '../../shared/contracts/outbound';
import type { StageConfig } from '../config/stages';
import type { ShoalData } from './data';

export interface ShoalBusesProps {
  config: StageConfig;
  data: ShoalData;
}

/**
 * Two buses, so that who may speak as whom is decided per bus:
 * - the storefront bus takes what storefronts send (source = settings.source) and nothing else: a resource policy
 *   denies PutEvents with any other source, and allows the stage's named cross-account producers with that source
 *   only. Its archive (the 400-day replay store) is encrypted with the stack's key and holds storefront events only.
 * - the Shoal bus carries what Shoal publishes (source `shoal`): only the publishing roles may PutEvents on it, with
 *   source `shoal` only (identity grants with an `events:source` condition, and a resource policy denying every other
 *   principal and source). Consumers subscribe here without seeing raw storefront events.
 */
export class ShoalBuses extends Construct {
  readonly storefrontBus: events.EventBus;
  readonly shoalBus: events.EventBus;
  readonly archive: events.Archive;
  /** The storefront source (settings.source). */
  readonly source: string;

  constructor(scope: Construct, id: string, props: ShoalBusesProps) {
    super(scope, id);
    const { config, data } = props;
    const source = config.settings.source;
    this.source = source;

    this.storefrontBus = new events.EventBus(this, 'StorefrontBus', {
      description: `Shoal ${config.stage}: storefront events in (source ${source})`,
    });
    this.shoalBus = new events.EventBus(this, 'ShoalBus', {
      description: `Shoal ${config.stage}: Shoal events out (source ${OUTBOUND_SOURCE})`,
    });

    // Replay and backfill ("engineers replay history"): the storefront's events, for as long as the event log.
    this.archive = new events.Archive(this, 'Archive', {
      sourceEventBus: this.storefrontBus,
      description: 'Storefront events, for replay',
      eventPattern: { source: [source] },
      retention: Duration.days(config.settings.retention.eventDays),
      kmsKey: data.key,
    });

    this.storefrontBus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyStorefrontSource',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.storefrontBus.eventBusArn],
        conditions: { StringNotEquals: { 'events:source': [source] } },
      }),
    );
    if (config.storefrontProducers.length > 0) {
      this.storefrontBus.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'StorefrontProducersPutStorefrontEvents',
          principals: config.storefrontProducers.map((p) =>
            /^\d{12}$/.test(p) ? new iam.AccountPrincipal(p) : new iam.ArnPrincipal(p),
          ),
          actions: ['events:PutEvents'],
          resources: [this.storefrontBus.eventBusArn],
          conditions: { StringEquals: { 'events:source': [source] } },
        }),
      );
    }
    this.shoalBus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyShoalSource',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.shoalBus.eventBusArn],
        conditions: { StringNotEquals: { 'events:source': [OUTBOUND_SOURCE] } },
      }),
    );
  }

  /**
   * Lets exactly `roles` publish on the Shoal bus: PutEvents on that bus with source `shoal` (identity policy), and
   * a resource-policy Deny for every other principal, so that no other role in the account can forge a
   * `segment.changed`, whatever its identity policy says.
   */
  allowPublishers(roles: readonly iam.IRole[]): void {
    for (const role of roles) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'PublishShoalEvents',
          actions: ['events:PutEvents'],
          resources: [this.shoalBus.eventBusArn],
          conditions: { StringEquals: { 'events:source': [OUTBOUND_SOURCE] } },
        }),
      );
    }
    this.shoalBus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyShoalPublishers',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.shoalBus.eventBusArn],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': roles.map((r) => r.roleArn) } },
      }),
    );
  }

  /** Lets `grantee` send storefront events (backfill, replay tools): PutEvents on the storefront bus, that source. */
  grantStorefrontPut(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['events:PutEvents'],
      resourceArns: [this.storefrontBus.eventBusArn],
      conditions: { StringEquals: { 'events:source': [this.source] } },
    });
  }
}
