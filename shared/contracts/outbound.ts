import { z } from 'zod';
import { catalogueEntrySchema, renamedSegmentSchema } from './catalogue';
import { LIMITS } from './limits';

export const OUTBOUND_SOURCE = 'shoal';

export const OUTBOUND_DETAIL_TYPES = [
  'segment.changed',
  'lifecycle.changed',
  'segmentation.model.published',
  'segmentation.run.failed',
  'customer.erasure.completed',
  'segmentation.drift.detected',
] as const;
export type OutboundDetailType = (typeof OUTBOUND_DETAIL_TYPES)[number];

/**
 * Lifecycle stages (rules in shared/value/lifecycle.ts and the README). `prospect`: known to the store (views,
 * searches, carts) but no order yet; such a customer has no churn risk, expected orders, spend or CLV (null).
 */
export const LIFECYCLE_STAGES = ['prospect', 'new', 'active', 'at_risk', 'lapsed', 'reactivated'] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

export const CHANGE_REASONS = ['event', 'recluster', 'erasure', 'drift'] as const;
export type ChangeReason = (typeof CHANGE_REASONS)[number];

const id = z.string().min(1).max(LIMITS.idLength);
const isoDateTime = z.iso.datetime({ offset: true });
const probability = z.number().min(0).max(1);

export const segmentRefSchema = z.object({ segmentId: id, name: z.string() });

/**
 * The classic RFM segments (the 11 named groups of the R×F grid; see shared/customer/rfm.ts for the grid and its
 * source).
 */
export const RFM_GROUPS = [
  'Champions',
  'Loyal',
  'Potential loyalists',
  'New customers',
  'Promising',
  'Need attention',
  'About to sleep',
  'At risk',
  "Can't lose them",
  'Hibernating',
  'Lost',
] as const;
export type RfmGroup = (typeof RFM_GROUPS)[number];

/**
 * RFM quintile scores (1 = lowest fifth of buyers, 5 = highest; for recency 5 = most recent) against the population
 * breakpoints stored on the model, and the named group.
 */
export const rfmSchema = z.object({
  r: z.number().int().min(1).max(5),
  f: z.number().int().min(1).max(5),
  m: z.number().int().min(1).max(5),
  group: z.enum(RFM_GROUPS),
});
export type Rfm = z.infer<typeof rfmSchema>;

/**
 * A customer's value traits (BG/NBD and Gamma-Gamma; Fader, Hardie & Lee 2005). Money is in the store's base
 * currency. The value model describes buyers, so a `prospect` (no order yet) has `pAlive` 0 and null churn risk,
 * expected orders, expected spend and CLV: no number rather than a buyer's prediction.
 */
export const traitsSchema = z.object({
  /** P(the customer is still active), BG/NBD; 0 for a prospect. */
  pAlive: probability,
  /** 1 − pAlive; null for a prospect. */
  churnRisk: probability.nullable(),
  /** Expected purchase days in the next 90 days (12.86 weeks); null for a prospect. */
  expectedOrders90d: z.number().nonnegative().nullable(),
  /** Gamma-Gamma expected spend per purchase day, base currency; null for a prospect. */
  expectedSpend: z.number().nonnegative().nullable(),
  /** Discounted expected spend over the configured horizon, base currency; null for a prospect. */
  clv: z.number().nonnegative().nullable(),
  lifecycleStage: z.enum(LIFECYCLE_STAGES),
  /** RFM scores and group; null for a prospect (no order) or when the model has no RFM breakpoints yet. */
  rfm: rfmSchema.nullable().optional(),
});
export type Traits = z.infer<typeof traitsSchema>;

export const segmentChangedSchema = z.object({
  customerId: id,
  from: segmentRefSchema.nullable(),
  to: segmentRefSchema,
  modelVersion: z.number().int().positive(),
  confidence: probability,
  topProbabilities: z.array(z.object({ segmentId: id, p: probability })).max(5),
  reason: z.enum(CHANGE_REASONS),
  traits: traitsSchema.nullable(),
  /**
   * The customer is in the segment's control group (settings.holdout): marketing automation should not contact it,
   * so that the campaign results can compare held-out and treated customers. False when no holdout is configured.
   */
  holdout: z.boolean().default(false),
  changedAt: isoDateTime,
  dedupeKey: z.string().min(1),
});

export const lifecycleChangedSchema = z.object({
  customerId: id,
  from: z.enum(LIFECYCLE_STAGES).nullable(),
  to: z.enum(LIFECYCLE_STAGES),
  pAlive: probability,
  changedAt: isoDateTime,
  dedupeKey: z.string().min(1),
});

const featureStatsSchema = z.object({ mean: z.number(), p25: z.number(), p50: z.number(), p75: z.number() });

export const segmentProfileSchema = z.object({
  segmentId: id,
  name: z.string(),
  size: z.number().int().nonnegative(),
  share: probability,
  features: z.record(z.string(), featureStatsSchema),
  topCategories: z.array(z.object({ category: z.string(), share: probability })),
  channelMix: z.record(z.string(), probability),
  meanClv: z.number().nullable(),
  meanChurnRisk: z.number().nullable(),
});
export type SegmentProfile = z.infer<typeof segmentProfileSchema>;

export const qualitySchema = z.object({
  silhouette: z.number(),
  daviesBouldin: z.number(),
  stability: z.number().nullable(),
});
export type ModelQuality = z.infer<typeof qualitySchema>;

export const modelPublishedSchema = z.object({
  modelVersion: z.number().int().positive(),
  runId: id,
  k: z.number().int().positive(),
  segments: z.array(segmentProfileSchema),
  retiredSegmentIds: z.array(id),
  quality: qualitySchema,
  customersMoved: z.number().int().nonnegative(),
  customersAssigned: z.number().int().nonnegative(),
  publishedAt: isoDateTime,
  /** One catalogue entry per segment (profile, recommendations, campaign results, feedback, narration). */
  catalogue: z.array(catalogueEntrySchema).default([]),
  /** Segments that kept their id but were renamed in this version: a consumer that stores names updates them. */
  renamedSegments: z.array(renamedSegmentSchema).default([]),
});

export const runFailedSchema = z.object({
  runId: id,
  state: z.string(),
  error: z.string(),
  cause: z.string().optional(),
  failedAt: isoDateTime,
});

/**
 * The nightly sample drifted from the active model's training sample: the population stability index (PSI) of the
 * behaviour features and of the segment shares, and the inflation of the mean squared distance to the nearest
 * centroid, past the configured thresholds. `refit` says whether the run re-fitted k (a fresh model won).
 */
export const driftDetectedSchema = z.object({
  runId: id,
  /** The active model whose training sample is the reference. */
  referenceModelVersion: z.number().int().positive(),
  features: z.array(z.object({ feature: z.string(), psi: z.number().nonnegative() })),
  sharePsi: z.number().nonnegative(),
  distanceInflation: z.number().nonnegative(),
  /** Share of tonight's sample farther from every centroid than the model's far-distance quantile. */
  farShare: probability,
  reasons: z.array(z.enum(['features', 'shares', 'distance'])).min(1),
  thresholds: z.object({
    featurePsi: z.number().positive(),
    sharePsi: z.number().positive(),
    distanceInflation: z.number().min(1),
  }),
  refit: z.boolean(),
  detectedAt: isoDateTime,
});

export const erasureCompletedSchema = z.object({
  customerId: id,
  /** Items deleted in all stores together. */
  itemsDeleted: z.number().int().nonnegative(),
  /** Items deleted per store (`table`: event log and history items; `quarantine`: rejected records). */
  deletedByStore: z.record(z.string(), z.number().int().nonnegative()).optional(),
  /** The erasure instant: events dated at or before it are dropped, whenever they arrive. */
  erasedAt: isoDateTime.optional(),
  completedAt: isoDateTime,
  dedupeKey: z.string().min(1),
});

export const OUTBOUND_SCHEMAS = {
  'segment.changed': segmentChangedSchema,
  'lifecycle.changed': lifecycleChangedSchema,
  'segmentation.model.published': modelPublishedSchema,
  'segmentation.run.failed': runFailedSchema,
  'customer.erasure.completed': erasureCompletedSchema,
  'segmentation.drift.detected': driftDetectedSchema,
} as const satisfies Record<OutboundDetailType, z.ZodType>;

export type SegmentChanged = z.infer<typeof segmentChangedSchema>;
export type LifecycleChanged = z.infer<typeof lifecycleChangedSchema>;
export type ModelPublished = z.infer<typeof modelPublishedSchema>;
export type RunFailed = z.infer<typeof runFailedSchema>;
export type ErasureCompleted = z.infer<typeof erasureCompletedSchema>;
export type DriftDetected = z.infer<typeof driftDetectedSchema>;
export type OutboundDetailByType = { [K in OutboundDetailType]: z.infer<(typeof OUTBOUND_SCHEMAS)[K]> };

/** An outbound event ready for PutEvents. */
export type OutboundEvent = {
  [K in OutboundDetailType]: { detailType: K; detail: OutboundDetailByType[K] };
}[OutboundDetailType];
