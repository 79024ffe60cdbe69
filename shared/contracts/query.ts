/**
 * The query API's contract: one zod schema per route's response, and the problem+json error (RFC 9457). The
 * handler parses every response with its schema before it answers, and `schemas/openapi.query.json` is generated from
 * these same schemas (`npm run schemas`; a test fails when it is stale).
 */
import { z } from 'zod';
import { catalogueEntrySchema } from './catalogue';
import { LIMITS } from './limits';
import { LIFECYCLE_STAGES, RFM_GROUPS, qualitySchema, rfmSchema, segmentProfileSchema, traitsSchema } from './outbound';

const id = z.string().min(1).max(LIMITS.idLength);
const isoDateTime = z.iso.datetime({ offset: true });
const probability = z.number().min(0).max(1);

/** A problem detail (RFC 9457, `application/problem+json`). `type` is a stable, machine-readable reason. */
export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  /** For a 400: each bad parameter with the zod issue's message. */
  invalidParams: z.array(z.object({ name: z.string(), reason: z.string() })).optional(),
});
export type Problem = z.infer<typeof problemSchema>;

/** The units a `why` feature is expressed in (money is the store's base currency, `currency` names it). */
export const WHY_UNITS = ['orders', 'currency', 'days', 'share', 'decayed events'] as const;

/** One feature that sets the customer apart from its segment: natural units, and how many segment IQRs away. */
export const whyFeatureSchema = z.object({
  feature: z.string(),
  unit: z.enum(WHY_UNITS),
  customer: z.number(),
  /** The segment's median of the feature (the model's segment profile, fitted on the nightly sample). */
  segmentMedian: z.number(),
  /** customer − segmentMedian, in `unit`. */
  difference: z.number(),
  /** difference / the segment's interquartile range (see `explainCustomer`). */
  iqrUnits: z.number(),
  direction: z.enum(['above', 'below']),
});
export type WhyFeature = z.infer<typeof whyFeatureSchema>;

/** GET /customers/{id} */
export const customerResponseSchema = z.object({
  customerId: id,
  segment: z
    .object({
      segmentId: id,
      name: z.string(),
      modelVersion: z.number().int().positive(),
      since: isoDateTime,
      confidence: probability,
      /** Euclidean distance to the segment centre in the model's vector space. */
      distance: z.number().nonnegative(),
    })
    .nullable(),
  probabilities: z.array(z.object({ segmentId: id, p: probability })),
  /** In the segment's control group (settings.holdout): leave out of campaigns. False without a segment. */
  holdout: z.boolean(),
  traits: traitsSchema.nullable(),
  lifecycleStage: z.enum(LIFECYCLE_STAGES).nullable(),
  /** RFM quintile scores and group; null for a prospect (no order) or before a model has RFM breakpoints. */
  rfm: rfmSchema.nullable(),
  /** The last 20 transitions, newest last, each with what moved the customer (`reason`). */
  history: z.array(
    z.object({
      at: isoDateTime,
      detailType: z.enum(['segment.changed', 'lifecycle.changed']),
      from: z.string().nullable(),
      to: z.string(),
      reason: z.string(),
      modelVersion: z.number().int().optional(),
      /** What moved the customer: the event id (reason `event`) or the nightly run id (`recluster`). */
      cause: z.string().optional(),
    }),
  ),
  /** The features that set the customer apart from its segment's centre, most distinctive first. */
  why: z.array(whyFeatureSchema),
  /** The base currency of every money amount. */
  currency: z.string(),
  updatedAt: isoDateTime,
});
export type CustomerResponse = z.infer<typeof customerResponseSchema>;

/** GET /customers/{id}/recommendations */
export const recommendationsResponseSchema = z.object({
  customerId: id,
  segmentId: id.nullable(),
  modelVersion: z.number().int().positive().nullable(),
  /** The segment's top products (by lift, then by volume) that the customer has not ordered. */
  skus: z.array(z.string()),
});

const segmentSummarySchema = z.object({
  segmentId: id,
  name: z.string(),
  size: z.number().int().nonnegative(),
  share: probability,
});

/** GET /segments */
export const segmentsResponseSchema = z.object({
  modelVersion: z.number().int().positive(),
  segments: z.array(segmentSummarySchema),
});

/** GET /segments/{id}: the catalogue entry and the fit's profile of the segment. */
export const segmentResponseSchema = z.object({
  modelVersion: z.number().int().positive(),
  segmentId: id,
  name: z.string(),
  profile: segmentProfileSchema.nullable(),
  catalogue: catalogueEntrySchema.nullable(),
});

/** One audience member with its traits. */
export const memberSchema = z.object({
  customerId: id,
  confidence: probability.nullable(),
  lifecycleStage: z.enum(LIFECYCLE_STAGES).nullable(),
  pAlive: probability.nullable(),
  churnRisk: probability.nullable(),
  clv: z.number().nonnegative().nullable(),
  rfmGroup: z.enum(RFM_GROUPS).nullable(),
});
export type Member = z.infer<typeof memberSchema>;

/** GET /segments/{id}/members (JSON; `format=csv` gives the same columns as text/csv). */
export const membersResponseSchema = z.object({
  segmentId: id,
  members: z.array(memberSchema),
  /** Opaque: pass as `cursor` for the next page; null on the last page. */
  nextCursor: z.string().nullable(),
});

/** GET /models/active */
export const activeModelResponseSchema = z.object({
  modelVersion: z.number().int().positive(),
  runId: id,
  k: z.number().int().positive(),
  quality: qualitySchema,
  /** When the model was fitted (the version's createdAt: it goes live at the run's Publish, minutes later). */
  publishedAt: isoDateTime,
  segmentIds: z.array(id),
});

/** Query parameters of GET /segments/{id}/members. */
export const membersQuerySchema = z.object({
  cursor: z.string().max(2048).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  format: z.enum(['json', 'csv']).default('json'),
});

export const customerIdParamSchema = id;
export const segmentIdParamSchema = id;

/** Every route, with its response schema (the OpenAPI document and the handler read this one list). */
export const QUERY_ROUTES = [
  {
    method: 'GET',
    path: '/customers/{id}',
    response: customerResponseSchema,
    summary: 'A customer: segment, probabilities, traits, RFM, history and why',
  },
  {
    method: 'GET',
    path: '/customers/{id}/recommendations',
    response: recommendationsResponseSchema,
    summary: "The segment's top products the customer has not bought",
  },
  { method: 'GET', path: '/segments', response: segmentsResponseSchema, summary: 'The segments of the active model' },
  { method: 'GET', path: '/segments/{id}', response: segmentResponseSchema, summary: "A segment's catalogue entry" },
  {
    method: 'GET',
    path: '/segments/{id}/members',
    response: membersResponseSchema,
    summary: 'The audience, with traits, paginated (format=csv for text/csv)',
  },
  {
    method: 'GET',
    path: '/models/active',
    response: activeModelResponseSchema,
    summary: 'The active model: version, k, quality, when published',
  },
] as const;
export type QueryRoute = (typeof QUERY_ROUTES)[number]['path'];
