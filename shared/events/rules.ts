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

/**
 * Every event from the storefront source goes to the ingest queue, whatever its detail-type: the handler's
 * validation quarantines an unknown or mis-cased type (`Order.Placed`, `order.created`) as `unknown_detail_type`, so
 * nothing a storefront sends vanishes at the rule. The accepted types (INBOUND_DETAIL_TYPES) are checked there, not
 * in the pattern.
 */
export function ingestRule(source: string): RuleDefinition {
  return {
    id: 'IngestRule',
    description: `Every ${source} event to the ingest queue (unknown detail-types are quarantined there)`,
    eventPattern: { source: [source] },
    target: 'ingestQueue',
  };
}

export function busRules(source: string): RuleDefinition[] {
  return [ingestRule(source)];
}
