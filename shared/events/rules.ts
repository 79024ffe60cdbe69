import { INBOUND_DETAIL_TYPES } from '../contracts/inbound';

/**
 * Bus rules as data, shared by the CDK app and the local bus so both route with the same pattern.
 * Patterns are in EventBridge's JSON form (kebab-case keys), exactly as they land in the template.
 */
export type RuleTarget = 'ingestQueue';

export interface RuleDefinition {
  id: string;
  description: string;
  eventPattern: Record<string, unknown>;
  target: RuleTarget;
}

export function ingestRule(source: string): RuleDefinition {
  return {
    id: 'IngestRule',
    description: 'Storefront behaviour events to the ingest queue',
    eventPattern: { source: [source], 'detail-type': [...INBOUND_DETAIL_TYPES] },
    target: 'ingestQueue',
  };
}

export function busRules(source: string): RuleDefinition[] {
  return [ingestRule(source)];
}
