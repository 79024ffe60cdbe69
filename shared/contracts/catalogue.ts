/**
 * The segment catalogue: what a marketer reads about a segment (profile, recommendations, campaign results,
 * feedback) and its narration (name, persona, strategy). One entry per segment of every published model; it travels
 * in `segmentation.model.published`, the run report and `out/segments.json`.
 */
import { z } from 'zod';
import { LIMITS } from './limits';

const id = z.string().min(1).max(LIMITS.idLength);
const probability = z.number().min(0).max(1);
const count = z.number().int().nonnegative();

/** Longest segment name (characters). */
export const MAX_SEGMENT_NAME_LENGTH = 40;

export const LIFECYCLE_MIX_STAGES = [
  'prospect',
  'new',
  'active',
  'at_risk',
  'lapsed',
  'reactivated',
  'unknown',
] as const;

/** Median and mean of one natural-unit feature over the members that have it (n). */
export const medianMeanSchema = z.object({ median: z.number(), mean: z.number(), n: count });
export type MedianMean = z.infer<typeof medianMeanSchema>;

/** A rate with its 95 % Wilson score interval (Wilson 1927). */
export const rateSchema = z.object({ rate: probability, low: probability, high: probability });
export type Rate = z.infer<typeof rateSchema>;

export const CATALOGUE_STATS = [
  'orders',
  'revenue',
  'avgOrderValue',
  'daysSinceLastOrder',
  'tenureDays',
  'discountShare',
  'refundRate',
] as const;
export type CatalogueStat = (typeof CATALOGUE_STATS)[number];

export const catalogueProfileSchema = z.object({
  size: count,
  share: probability,
  /** orders (count), revenue and avgOrderValue (base currency), daysSinceLastOrder and tenureDays (days), shares. */
  stats: z.partialRecord(z.enum(CATALOGUE_STATS), medianMeanSchema),
  /** Share of members per lifecycle stage ('unknown' when a member has no traits yet). */
  lifecycleMix: z.partialRecord(z.enum(LIFECYCLE_MIX_STAGES), probability),
  /** Churn risk and CLV (base currency) over buyers only (members with at least one order). */
  buyers: z.object({
    count,
    share: probability,
    meanChurnRisk: probability.nullable(),
    medianClv: z.number().nullable(),
    meanClv: z.number().nullable(),
  }),
  channelMix: z.record(z.string(), probability),
  /** Share of members listing the category among their top categories. */
  topCategoriesByShare: z.array(z.object({ category: z.string(), share: probability })),
  /** Lift = segment share / store share of members listing the category (support ≥ the k-anonymity floor). */
  topCategoriesByLift: z.array(
    z.object({ category: z.string(), share: probability, storeShare: probability, lift: z.number().nonnegative() }),
  ),
});
export type CatalogueProfile = z.infer<typeof catalogueProfileSchema>;

const productPick = z.object({
  sku: z.string(),
  /** Members who ordered, carted or viewed it. */
  customers: count,
  /** Σ over members of 3·ordered + 2·carted + viewed. */
  score: z.number().nonnegative(),
  ordered: count,
  /** Segment reach share / store reach share. */
  lift: z.number().nonnegative(),
});
const categoryPick = z.object({
  category: z.string(),
  customers: count,
  /** Σ over members of the interaction weight (order item 3·qty, cart add 2, view 1). */
  weight: z.number().nonnegative(),
  lift: z.number().nonnegative(),
});
export const recommendationsSchema = z.object({
  productsByVolume: z.array(productPick),
  productsByLift: z.array(productPick),
  categoriesByVolume: z.array(categoryPick),
  categoriesByLift: z.array(categoryPick),
});
export type Recommendations = z.infer<typeof recommendationsSchema>;

const armSchema = z.object({
  /** Customers of the campaign's audience in the arm (with a response record for the campaign). */
  customers: count,
  converted: count,
  /** converted / customers, with its Wilson 95 % interval. */
  conversionRate: rateSchema.nullable(),
});

/**
 * Held-out (control) against treated customers of the campaign's segment: conversion rate of each and the uplift,
 * treated − held out, with its 95 % interval (Newcombe 1998, hybrid score, method 10).
 */
export const holdoutComparisonSchema = z.object({
  heldOut: armSchema,
  treated: armSchema,
  uplift: z.object({ estimate: z.number(), low: z.number(), high: z.number() }).nullable(),
});
export type HoldoutComparison = z.infer<typeof holdoutComparisonSchema>;

export const campaignResultSchema = z.object({
  campaignId: id,
  /** Customers of this segment (at delivery) with the response; an open, click or conversion implies delivery. */
  delivered: count,
  opened: count,
  clicked: count,
  converted: count,
  /** Over delivered. */
  openRate: rateSchema.nullable(),
  clickRate: rateSchema.nullable(),
  conversionRate: rateSchema.nullable(),
  /** Null when no holdout was configured for the campaign's customers. */
  holdout: holdoutComparisonSchema.nullable().optional(),
});
export type CampaignResult = z.infer<typeof campaignResultSchema>;

export const feedbackSchema = z.object({
  /** Counts of ratings 1..5 over the segment's sampled members. */
  ratings: z.tuple([count, count, count, count, count]),
  ratingCount: count,
  /** Share of ratings ≤ 2; null without ratings. */
  lowRatingShare: probability.nullable(),
  /** Terms used by at least k distinct members (k-anonymity), most distinctive (lift over the store) first. */
  terms: z.array(z.object({ term: z.string(), customers: count, lift: z.number().nonnegative() })),
});
export type Feedback = z.infer<typeof feedbackSchema>;

export const OBJECTIVES = ['convert', 'grow', 'retain', 'win_back'] as const;
export const ACTION_CHANNELS = ['email', 'app', 'web', 'store', 'marketplace', 'sms', 'ads'] as const;

/** What the narrator (LLM or rules) writes. The LLM's JSON output is validated against this schema. */
export const narrationSchema = z.object({
  name: z.string().trim().min(3).max(MAX_SEGMENT_NAME_LENGTH),
  persona: z.string().trim().min(20).max(800),
  strategy: z.object({
    objective: z.enum(OBJECTIVES),
    actions: z
      .array(z.object({ channel: z.enum(ACTION_CHANNELS), action: z.string().trim().min(3).max(200) }))
      .min(1)
      .max(6),
    offerType: z.string().trim().min(2).max(120),
    cadence: z.string().trim().min(2).max(120),
    kpis: z.array(z.string().trim().min(2).max(80)).min(1).max(6),
    cautions: z.array(z.string().trim().min(2).max(200)).max(6),
  }),
});
export type Narration = z.infer<typeof narrationSchema>;

export const NARRATION_SOURCES = ['llm', 'rules'] as const;

export const catalogueEntrySchema = z.object({
  segmentId: id,
  name: z.string().min(1).max(MAX_SEGMENT_NAME_LENGTH),
  narration: narrationSchema,
  provenance: z.object({
    source: z.enum(NARRATION_SOURCES),
    /** Quantised profile fingerprint: the narration is reused while it does not change. */
    fingerprint: z.string(),
    /** Reused from the previous model (same segment id, same fingerprint). */
    cached: z.boolean(),
    /** Why the rules were used although an LLM is configured (machine-readable), else null. */
    fallbackReason: z.string().nullable(),
  }),
  profile: catalogueProfileSchema,
  recommendations: recommendationsSchema,
  campaigns: z.array(campaignResultSchema),
  feedback: feedbackSchema,
});
export type CatalogueEntry = z.infer<typeof catalogueEntrySchema>;

export const renamedSegmentSchema = z.object({ segmentId: id, oldName: z.string(), newName: z.string() });
export type RenamedSegment = z.infer<typeof renamedSegmentSchema>;
