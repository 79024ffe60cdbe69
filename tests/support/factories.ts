import type { InboundDetailByType, InboundDetailType, InboundEvent } from '../../shared/contracts/inbound';
import { INBOUND_SCHEMAS } from '../../shared/contracts/inbound';

let counter = 0;
const nextId = (prefix: string) => `${prefix}-${++counter}`;

type DetailInput<K extends InboundDetailType> = Partial<InboundDetailByType[K]>;

const common = (over: { customerId?: string; occurredAt?: string; eventId?: string }) => ({
  eventId: over.eventId ?? nextId('evt'),
  customerId: over.customerId ?? 'cust-1',
  occurredAt: over.occurredAt ?? '2026-11-01T10:00:00.000Z',
  schemaVersion: 1,
});

/** Valid details for every inbound type, built and then parsed by the real schema. */
const builders: { [K in InboundDetailType]: (over: DetailInput<K>) => InboundDetailByType[K] } = {
  'order.placed': (o) =>
    INBOUND_SCHEMAS['order.placed'].parse({
      ...common(o),
      orderId: nextId('ord'),
      total: 59.9,
      currency: 'GBP',
      channel: 'web',
      discount: 0,
      items: [{ sku: 'SKU-1', title: 'Ceramic plant pot', category: 'garden', price: 29.95, quantity: 2 }],
      ...o,
    }),
  'order.refunded': (o) =>
    INBOUND_SCHEMAS['order.refunded'].parse({ ...common(o), orderId: 'ord-x', amount: 10, currency: 'GBP', ...o }),
  'product.viewed': (o) =>
    INBOUND_SCHEMAS['product.viewed'].parse({
      ...common(o),
      sku: 'SKU-2',
      title: 'Bamboo garden trowel',
      category: 'garden',
      price: 12.5,
      channel: 'app',
      ...o,
    }),
  'search.performed': (o) =>
    INBOUND_SCHEMAS['search.performed'].parse({ ...common(o), query: 'rose seeds', channel: 'web', ...o }),
  'cart.updated': (o) =>
    INBOUND_SCHEMAS['cart.updated'].parse({
      ...common(o),
      sku: 'SKU-3',
      title: 'Hose reel',
      category: 'garden',
      action: 'added',
      quantity: 1,
      ...o,
    }),
  'review.submitted': (o) =>
    INBOUND_SCHEMAS['review.submitted'].parse({
      ...common(o),
      sku: 'SKU-1',
      rating: 4,
      text: 'Sturdy pot, nice glaze',
      ...o,
    }),
  'campaign.responded': (o) =>
    INBOUND_SCHEMAS['campaign.responded'].parse({
      ...common(o),
      campaignId: 'cmp-1',
      segmentId: 'seg-001',
      response: 'clicked',
      ...o,
    }),
  'customer.erased': (o) => INBOUND_SCHEMAS['customer.erased'].parse({ ...common(o), ...o }),
  'customer.merged': (o) =>
    INBOUND_SCHEMAS['customer.merged'].parse({
      ...common(o),
      fromCustomerId: 'anon-1',
      toCustomerId: o.customerId ?? 'cust-1',
      ...o,
    }),
};

export function makeDetail<K extends InboundDetailType>(type: K, over: DetailInput<K> = {}): InboundDetailByType[K] {
  return builders[type](over);
}

export function makeEvent<K extends InboundDetailType>(type: K, over: DetailInput<K> = {}): InboundEvent {
  return { type, detail: makeDetail(type, over) } as InboundEvent;
}

/** The EventBridge envelope as the ingest queue receives it. */
export function envelope(type: string, detail: unknown, source = 'storefront'): string {
  return JSON.stringify({
    version: '0',
    id: nextId('eb'),
    'detail-type': type,
    source,
    account: '000000000000',
    time: '2026-11-01T10:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail,
  });
}
