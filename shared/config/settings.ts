import { z } from 'zod';
import { DEFAULT_INBOUND_SOURCE } from '../contracts/inbound';

/**
 * Runtime settings shared by every function. Infra serialises them into the SHOAL_SETTINGS environment
 * variable from the stage config; the local stack passes the same object. One schema, parsed at both ends.
 */
export const embeddingSettingsSchema = z.object({
  endpointName: z.string().min(1),
  /** `tei`: {"inputs":[...]} -> [[...]]; `jumpstart`: {"text_inputs":[...]} -> {"embedding":[[...]]}. */
  contract: z.enum(['tei', 'jumpstart']),
  dimension: z.number().int().min(2).max(4096),
  maxBatchSize: z.number().int().min(1).max(1024).default(64),
  timeoutMs: z.number().int().min(100).max(60_000).default(3_000),
  maxRetries: z.number().int().min(0).max(5).default(2),
  cacheSize: z.number().int().min(0).max(1_000_000).default(10_000),
  /**
   * The model's input limit, in Unicode code points. Longer texts are cut to this many code points (never inside a
   * surrogate pair) before they are sent or cached. Set it at or below the model's token limit times the shortest
   * token length you expect: one code point is at most one token for BERT-style WordPiece vocabularies of CJK text
   * (512 tokens → 512 characters is always safe). Default 512.
   */
  maxInputChars: z.number().int().min(1).max(1_000_000).default(512),
  /**
   * Ask the container to truncate over-long inputs itself where its contract has the flag (text-embeddings-inference
   * `{"inputs": [...], "truncate": true}`). JumpStart has no such flag; there only `maxInputChars` applies.
   */
  truncate: z.boolean().default(true),
});

/** An ISO 4217 currency code, e.g. `GBP`. */
export const currencyCodeSchema = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code: three capital letters');

/**
 * The store's money. Every money feature (revenue, average order value, the value model's spend) is in `base`.
 * Money in another currency is converted with `rates[currency]`, **units of base per one unit of that currency**
 * (with base GBP, `{ "JPY": 0.0052, "EUR": 0.85 }`): fixed rates, applied at the event's time as written here.
 * Money in a currency that is neither `base` nor in `rates` stays in the event log but is left out of money
 * features, and is counted (metric and run summary). Default: base GBP, no rates.
 */
export const currencySettingsSchema = z.object({
  base: currencyCodeSchema.default('GBP'),
  rates: z.record(currencyCodeSchema, z.number().positive().finite()).default({}),
});
export type CurrencySettings = z.infer<typeof currencySettingsSchema>;
/**
 * The hosted LLM that narrates the segment catalogue (FitModel). Absent: the rules name and describe segments.
 * `tgi`: {"inputs","parameters"} -> [{"generated_text"}] (text-generation-inference, JumpStart);
 * `chat`: {"messages","max_tokens",...} -> {"choices":[{"message":{"content"}}]} (TGI messages API, LMI).
 */
export const narrationSettingsSchema = z.object({
  endpointName: z.string().min(1).max(63),
  contract: z.enum(['tgi', 'chat']),
  /** Generation budget per request, in tokens. */
  maxTokens: z.number().int().min(64).max(8_192).default(700),
  /** Sampling temperature; 0 asks for greedy decoding. */
  temperature: z.number().min(0).max(2).default(0.2),
  /** Per-request deadline, in milliseconds. */
  timeoutMs: z.number().int().min(100).max(120_000).default(20_000),
  /** Transport retries per request (throttling, 5xx, timeouts). */
  maxRetries: z.number().int().min(0).max(5).default(2),
  /** Wall-clock budget of all narration calls of one FitModel run (ms); later segments get the rule narration. */
  budgetMs: z.number().int().min(1_000).max(600_000).default(240_000),
});
export type NarrationSettings = z.output<typeof narrationSettingsSchema>;

/**
 * Continuity of the nightly fit. The active model's centroids, carried into the new space and refined by k-means,
 * are kept unless a fresh fit (k chosen again, k-means++) is clearly better on the same sample: its silhouette beats
 * the warm-started one by more than `minSilhouetteGain`, or a warm-started segment no longer holds together (its mean
 * silhouette falls below `minSegmentSilhouette`, or it keeps less than the minimum share).
 */
export const continuitySettingsSchema = z.object({
  minSilhouetteGain: z.number().min(0).max(2),
  minSegmentSilhouette: z.number().min(-1).max(1),
  /**
   * Lloyd iterations of the warm start (default 1): each centroid becomes the mean of the customers the active model
   * places in it. Iterating to convergence lets a few boundary customers drag a centroid, whose new boundary pulls
   * in more: on overlapping segments that moved 5–14 % of customers on some nights. One step a night still follows
   * the population, a step at a time.
   */
  warmIterations: z.number().int().min(1).max(300).optional(),
  /**
   * Two segments are merged when more than this share of their members lie within `ambiguityMargin` of both
   * centroids (d²(own) > (1 − band)·d²(other)): such customers cross between them on noise alone, and a marketer
   * cannot tell the two apart. Default 0.2; 1 turns it off. At 3,000 × 45 (seed 11) a k = 9 fit split the window
   * shoppers in two with 32 % of them ambiguous, against at most 5 % between any two planted personas.
   */
  maxAmbiguousShare: z.number().min(0).max(1).optional(),
  /**
   * The band that makes a member ambiguous: d²(own) > (1 − band)·d²(other). Default 0.15, the band the 20 % above was
   * measured with; its own setting rather than the hysteresis margins, which trade moves against switchers and would
   * otherwise also change which segments are merged (at a 0.2 band the default store lost one planted persona).
   */
  ambiguityMargin: z.number().min(0).max(0.9).optional(),
});
export type ContinuitySettings = z.infer<typeof continuitySettingsSchema>;
export const DEFAULT_CONTINUITY: ContinuitySettings = {
  minSilhouetteGain: 0.06,
  minSegmentSilhouette: -0.1,
  warmIterations: 1,
  maxAmbiguousShare: 0.2,
  ambiguityMargin: 0.15,
};

/**
 * Drift thresholds. PSI (population stability index, Σ (a − e)·ln(a / e) over bins; Siddiqi 2006: < 0.1 stable,
 * 0.1–0.25 moderate, > 0.25 significant) of each behaviour feature and of the segment shares, and the inflation of
 * the mean squared distance to the assigned centroid (tonight's / the training sample's).
 * `farQuantile` is the quantile of the training sample's distance to the nearest centroid kept on the model
 * (`farDistance2`): the real-time path counts assignments beyond it as an early signal.
 */
export const driftSettingsSchema = z.object({
  featurePsi: z.number().positive(),
  sharePsi: z.number().positive(),
  distanceInflation: z.number().min(1),
  farQuantile: z.number().min(0.5).max(1),
  bins: z.number().int().min(2).max(50),
});
export type DriftSettings = z.infer<typeof driftSettingsSchema>;
export const DEFAULT_DRIFT: DriftSettings = {
  featurePsi: 0.25,
  sharePsi: 0.25,
  distanceInflation: 1.5,
  farQuantile: 0.99,
  bins: 10,
};

export const settingsSchema = z.object({
  source: z.string().min(1).default(DEFAULT_INBOUND_SOURCE),
  embedding: embeddingSettingsSchema,
  currency: currencySettingsSchema.default({ base: 'GBP', rates: {} }),
  narration: narrationSettingsSchema.optional(),
  features: z
    .object({
      /**
       * Half-life (days) of recent behaviour: the decayed view, search and cart counts and the `recent` tallies (orders,
       * spend, discount, channels, categories) that segmentation reads. 3 days: a customer who changes behaviour
       * comes closer to its new segment within a week (tuned with `npx tsx bench/segmentation-lab.ts`; see README).
       */
      activityHalfLifeDays: z.number().positive().default(3),
      /** Half-life of a text's weight in the interest vector. */
      interestHalfLifeDays: z.number().positive().default(3),
      /** IANA time zone whose calendar days are purchase days: the stage's (its nightly schedule's) time zone. */
      timeZone: z
        .string()
        .refine((tz) => {
          try {
            new Intl.DateTimeFormat('en-US', { timeZone: tz });
            return true;
          } catch {
            return false;
          }
        }, 'not an IANA time zone')
        .default('UTC'),
    })
    .default({ activityHalfLifeDays: 3, interestHalfLifeDays: 3, timeZone: 'UTC' }),
  vector: z.object({
    behaviourWeight: z.number().nonnegative(),
    interestWeight: z.number().nonnegative(),
  }),
  /**
   * Evidence before a first segment (the placement gate): a customer is placed once it has been seen for
   * `minTenureDays` (days since its first event) and has `minEvents` events; until then it has no segment (its
   * lifecycle stage and traits are kept as usual), and the nightly fit learns only from customers past the gate. A
   * first placement on a day or two of events is mostly noise: at 1,000 × 30 in the lab (bench/segmentation-lab.ts,
   * before the gate), customers younger than 14 days made 83 % of the moves of customers whose behaviour did not
   * change.
   */
  placement: z
    .object({
      minTenureDays: z.number().min(0).default(7),
      minEvents: z.number().int().min(0).default(8),
    })
    .prefault({}),
  hysteresis: z.object({
    /** Real-time: move only if d²(new) < (1 - margin) · d²(current), and after minDwellHours in the segment. */
    margin: z.number().min(0).max(0.9),
    minDwellHours: z.number().min(0),
    /**
     * The margin at re-cluster, when the night places a customer with a new model version (absent: `margin`). The
     * real-time path evaluates a customer after every batch of its events, each a fresh draw of its decayed tallies,
     * so it needs the wider margin; the night places it once with tonight's model, which should be followed.
     */
    reclusterMargin: z.number().min(0).max(0.9).optional(),
  }),
  retention: z.object({
    eventDays: z.number().int().positive(),
    quarantineDays: z.number().int().positive(),
  }),
  recluster: z.object({
    shardCount: z.number().int().min(1).max(10_000),
    sampleSize: z.number().int().min(100),
    kMin: z.number().int().min(2),
    kMax: z.number().int().min(2).max(64),
    nInit: z.number().int().min(1).max(32),
    silhouetteSubsample: z.number().int().min(100),
    minSegmentShare: z.number().min(0).max(0.5),
    /** Alignment cap, in multiples of the median centroid spacing of the previous model. */
    alignmentDistanceCap: z.number().positive(),
    quality: z.object({
      minSilhouette: z.number().min(-1).max(1),
      maxDaviesBouldin: z.number().positive(),
      minStability: z.number().min(-1).max(1),
    }),
    seed: z.number().int().default(1),
    /** Warm-started continuity (see fitSegmentation); absent → DEFAULT_CONTINUITY. */
    continuity: continuitySettingsSchema.optional(),
    /** Nightly drift monitoring against the active model's training sample; absent → DEFAULT_DRIFT. */
    drift: driftSettingsSchema.optional(),
    /**
     * A night keeps the active model (no value-model refit, no k search, no Lloyd step, no narration: a new version
     * with the same centroids, ids, names, scaler and value parameters, so the change index re-places only customers
     * due by time) when there is no drift, every active segment still holds together on tonight's sample, and the
     * active model was fitted fewer than `refitEveryNights` nights ago (counted from the asOf of the fit, the drift
     * reference's). 1 refits every night, as before. Default 7: a weekly refit even when nothing calls for one.
     */
    refitEveryNights: z.number().int().min(1).max(365).default(7),
    /**
     * A night keeps the active model only while tonight's Lloyd step would move no centroid by more than this share
     * of the median distance between the active centroids (default 0.05; shared/segmentation/keep.ts says why). A
     * store whose segments have settled can allow more; 0 keeps only a population that has not moved at all.
     */
    keepMaxCentroidShift: z.number().min(0).max(10).default(0.05),
    /**
     * Read and re-place every customer every night instead of only those the nightly change index says changed (the
     * reference the index is tested against; a cost, not a correctness, switch).
     */
    fullNights: z.boolean().default(false),
  }),
  /**
   * Control groups (shared/domain/holdout.ts): the share of each segment's customers held out (0 to 0.5, default 0:
   * nobody) and the stage's salt. `segment.changed` carries `holdout`; the catalogue's campaign results compare the
   * held-out and treated customers.
   */
  holdout: z
    .object({
      share: z.number().min(0).max(0.5).default(0),
      salt: z.string().max(128).default('shoal'),
    })
    .prefault({}),
  value: z.object({
    minCustomers: z.number().int().min(1),
    minRepeatCustomers: z.number().int().min(1),
    horizonWeeks: z.number().positive(),
    discountRatePerWeek: z.number().min(0).max(1),
    /**
     * The nightly fit refits the BG/NBD and Gamma-Gamma parameters (and their backtest) only when the active ones
     * are this many nights old (counted from the asOf of their fit), or when the store's customers changed by more
     * than 10 % since, or when they are a prior; otherwise the night's model carries them. Default 7. A refit moves
     * every customer's P(alive) a little, and each move advances the value clock (shared/recluster/placement.ts)
     * that decides whom the night re-evaluates; on the Online Retail replay the parameters moved P(alive) by ~0.03 a
     * night in sampling noise while the BG/NBD fits were the largest CPU cost of the nightly runs. 1 refits with
     * every segmentation refit, as before. Absent → DEFAULT_VALUE_REFIT_EVERY_NIGHTS.
     */
    refitEveryNights: z.number().int().min(1).max(365).optional(),
  }),
});

/** The default of `value.refitEveryNights` (7). */
export const DEFAULT_VALUE_REFIT_EVERY_NIGHTS = 7;

export type Settings = z.infer<typeof settingsSchema>;
export type SettingsInput = z.input<typeof settingsSchema>;

export function parseSettings(json: string): Settings {
  return settingsSchema.parse(JSON.parse(json));
}
