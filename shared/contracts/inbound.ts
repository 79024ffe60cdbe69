import { z } from 'zod';
import { LIMITS } from './limits';

/** The detail-types a storefront may send. The CDK rule, the ingest dispatch and the local bus read this list. */
export const INBOUND_DETAIL_TYPES = [
  'order.placed',
  'order.refunded',
  'product.viewed',
  'search.performed',
  'cart.updated',
  'review.submitted',
  'campaign.responded',
  'customer.erased',
  'customer.merged',
] as const;
export type InboundDetailType = (typeof INBOUND_DETAIL_TYPES)[number];

export const DEFAULT_INBOUND_SOURCE = 'storefront';
export const CURRENT_SCHEMA_VERSION = 1;

const id = z.string().trim().min(1).max(LIMITS.idLength);
const money = z.number().finite().nonnegative().max(LIMITS.maxMoney);
const text = (max: number) => z.string().max(max);
export const CHANNELS = ['web', 'app', 'store', 'marketplace'] as const;
const channel = z.enum(CHANNELS);
const isoDateTime = z.iso.datetime({ offset: true });

/** Fields every inbound detail carries. Unknown fields are kept (loose objects). */
export const commonDetail = {
  eventId: id,
  customerId: id,
  occurredAt: isoDateTime,
  schemaVersion: z.number().int().min(1).max(CURRENT_SCHEMA_VERSION),
};

export const orderItemSchema = z.looseObject({
  sku: id,
  title: text(LIMITS.titleLength),
  category: text(LIMITS.categoryLength),
  price: money,
  quantity: z.number().int().positive().max(LIMITS.maxQuantity),
});

export const orderPlacedSchema = z.looseObject({
  ...commonDetail,
  orderId: id,
  total: money,
  currency: z.string().regex(/^[A-Z]{3}$/),
  channel,
  discount: money.default(0),
  items: z.array(orderItemSchema).min(1).max(LIMITS.maxItemsPerOrder),
});

export const orderRefundedSchema = z.looseObject({
  ...commonDetail,
  orderId: id,
  amount: money,
  currency: z.string().regex(/^[A-Z]{3}$/),
});

export const productViewedSchema = z.looseObject({
  ...commonDetail,
  sku: id,
  title: text(LIMITS.titleLength),
  category: text(LIMITS.categoryLength),
  price: money,
  channel,
});

export const searchPerformedSchema = z.looseObject({
  ...commonDetail,
  query: text(LIMITS.queryLength).min(1),
  channel,
});

export const cartUpdatedSchema = z.looseObject({
  ...commonDetail,
  sku: id,
  title: text(LIMITS.titleLength),
  category: text(LIMITS.categoryLength),
  action: z.enum(['added', 'removed']),
  quantity: z.number().int().positive().max(LIMITS.maxQuantity),
});

export const reviewSubmittedSchema = z.looseObject({
  ...commonDetail,
  sku: id,
  rating: z.number().int().min(1).max(5),
  text: text(LIMITS.reviewTextLength).default(''),
});

export const CAMPAIGN_RESPONSES = ['delivered', 'opened', 'clicked', 'converted'] as const;
export const campaignRespondedSchema = z.looseObject({
  ...commonDetail,
  campaignId: id,
  segmentId: id,
  response: z.enum(CAMPAIGN_RESPONSES),
});

export const customerErasedSchema = z.looseObject({ ...commonDetail });

/**
 * Two ids of one person: `fromCustomerId` (typically the anonymous id of a visitor who then signed in) becomes an
 * alias of `toCustomerId`, which is also the envelope's `customerId`. The from-id's state merges into the target's
 * exactly once, and later events for the from-id count for the target (shared/customer/merge.ts).
 */
export const customerMergedSchema = z
  .looseObject({ ...commonDetail, fromCustomerId: id, toCustomerId: id })
  .refine((d) => d.toCustomerId === d.customerId, {
    message: 'toCustomerId must equal customerId (the survivor)',
    path: ['toCustomerId'],
  })
  .refine((d) => d.fromCustomerId !== d.toCustomerId, {
    message: 'fromCustomerId must differ from toCustomerId',
    path: ['fromCustomerId'],
  });

/** One schema per inbound detail-type; `satisfies` forces an entry for every type. */
export const INBOUND_SCHEMAS = {
  'order.placed': orderPlacedSchema,
  'order.refunded': orderRefundedSchema,
  'product.viewed': productViewedSchema,
  'search.performed': searchPerformedSchema,
  'cart.updated': cartUpdatedSchema,
  'review.submitted': reviewSubmittedSchema,
  'campaign.responded': campaignRespondedSchema,
  'customer.erased': customerErasedSchema,
  'customer.merged': customerMergedSchema,
} as const satisfies Record<InboundDetailType, z.ZodType>;

export type OrderPlaced = z.infer<typeof orderPlacedSchema>;
export type OrderRefunded = z.infer<typeof orderRefundedSchema>;
export type ProductViewed = z.infer<typeof productViewedSchema>;
export type SearchPerformed = z.infer<typeof searchPerformedSchema>;
export type CartUpdated = z.infer<typeof cartUpdatedSchema>;
export type ReviewSubmitted = z.infer<typeof reviewSubmittedSchema>;
export type CampaignResponded = z.infer<typeof campaignRespondedSchema>;
export type CustomerErased = z.infer<typeof customerErasedSchema>;
export type CustomerMerged = z.infer<typeof customerMergedSchema>;

export type InboundDetailByType = { [K in InboundDetailType]: z.infer<(typeof INBOUND_SCHEMAS)[K]> };

/** A validated inbound event: a discriminated union on `type`. */
export type InboundEvent = { [K in InboundDetailType]: { type: K; detail: InboundDetailByType[K] } }[InboundDetailType];

export function isInboundDetailType(value: unknown): value is InboundDetailType {
  return typeof value === 'string' && (INBOUND_DETAIL_TYPES as readonly string[]).includes(value);
}
