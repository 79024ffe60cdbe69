import { INBOUND_DETAIL_TYPES, type InboundDetailType } from '../../../shared/contracts/inbound';
import { validateInbound, type RejectionReason } from '../../../shared/contracts/validate';
import { envelope, makeDetail } from '../../support/factories';

const NOW = new Date('2026-11-02T00:00:00Z');

/** One invalid variant per detail-type; `satisfies` makes a missing type a compile error. */
const invalidCases = {
  'order.placed': {
    name: 'negative item quantity',
    detail: { items: [{ sku: 'a', title: 't', category: 'c', price: 1, quantity: -2 }] },
    path: 'items.0.quantity',
  },
  'order.refunded': { name: 'negative amount', detail: { amount: -5 }, path: 'amount' },
  'product.viewed': { name: 'unknown channel', detail: { channel: 'fax' }, path: 'channel' },
  'search.performed': { name: 'oversized query', detail: { query: 'x'.repeat(513) }, path: 'query' },
  'cart.updated': { name: 'unknown action', detail: { action: 'moved' }, path: 'action' },
  'review.submitted': { name: 'rating out of range', detail: { rating: 6 }, path: 'rating' },
  'campaign.responded': { name: 'unknown response', detail: { response: 'liked' }, path: 'response' },
  'customer.erased': { name: 'missing customer id', detail: { customerId: '' }, path: 'customerId' },
  'customer.merged': { name: 'an id merged into itself', detail: { fromCustomerId: 'cust-1' }, path: 'fromCustomerId' },
} satisfies Record<InboundDetailType, { name: string; detail: Record<string, unknown>; path: string }>;

describe('inbound contracts', () => {
  test.each([...INBOUND_DETAIL_TYPES])('a valid %s passes and keeps unknown fields', (type) => {
    const detail = { ...makeDetail(type), extraField: 'kept' };
    const result = validateInbound(envelope(type, detail), NOW);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.event.type).toBe(type);
      expect((result.event.detail as Record<string, unknown>).extraField).toBe('kept');
    }
  });

  test.each(Object.entries(invalidCases))('%s: an invalid variant is rejected as schema_violation', (type, c) => {
    const detail = { ...makeDetail(type as InboundDetailType), ...c.detail };
    const result = validateInbound(envelope(type, detail), NOW);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.rejection.reason).toBe('schema_violation');
      expect(result.rejection.detailType).toBe(type);
      expect(result.rejection.issues.map((i) => i.path)).toContain(c.path);
    }
  });

  const edgeCases: { name: string; body: string; reason: RejectionReason }[] = [
    { name: 'not JSON', body: '{"detail-type": ', reason: 'invalid_json' },
    { name: 'no detail', body: JSON.stringify({ 'detail-type': 'order.placed' }), reason: 'not_an_event' },
    {
      name: 'detail is an array',
      body: JSON.stringify({ 'detail-type': 'order.placed', detail: [] }),
      reason: 'not_an_event',
    },
    {
      name: 'unknown detail-type',
      body: envelope('order.teleported', makeDetail('order.placed')),
      reason: 'unknown_detail_type',
    },
    {
      name: 'two days in the future',
      body: envelope('search.performed', makeDetail('search.performed', { occurredAt: '2026-11-04T00:00:01Z' })),
      reason: 'occurred_in_future',
    },
    {
      name: 'before 1990',
      body: envelope('search.performed', makeDetail('search.performed', { occurredAt: '1970-01-01T00:00:00Z' })),
      reason: 'occurred_too_early',
    },
    {
      name: 'wrong type for total',
      body: envelope('order.placed', { ...makeDetail('order.placed'), total: '12.00' }),
      reason: 'schema_violation',
    },
    {
      name: 'missing event id',
      body: envelope('product.viewed', { ...makeDetail('product.viewed'), eventId: undefined }),
      reason: 'schema_violation',
    },
    {
      name: 'schemaVersion from the future',
      body: envelope('product.viewed', { ...makeDetail('product.viewed'), schemaVersion: 2 }),
      reason: 'schema_violation',
    },
  ];
  test.each(edgeCases)('$name -> $reason', ({ body, reason }) => {
    const result = validateInbound(body, NOW);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.rejection.reason).toBe(reason);
  });

  test('an event 23 hours ahead (clock skew) is accepted', () => {
    const body = envelope('search.performed', makeDetail('search.performed', { occurredAt: '2026-11-02T23:00:00Z' }));
    expect(validateInbound(body, NOW).ok).toBe(true);
  });

  test('a rejection carries the ids, never the payload text', () => {
    const detail = { ...makeDetail('review.submitted', { customerId: 'c-9', eventId: 'e-9' }), rating: 0 };
    const result = validateInbound(envelope('review.submitted', detail), NOW);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.rejection).toMatchObject({ customerId: 'c-9', eventId: 'e-9' });
      expect(JSON.stringify(result.rejection)).not.toContain('Sturdy pot');
    }
  });
});
