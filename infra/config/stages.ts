import { z } from 'zod';
import { settingsSchema, type SettingsInput } from '../../shared/config/settings';

/** Per-stage configuration: infrastructure knobs plus the runtime settings handed to every function. */
export const stageConfigSchema = z.object({
  stage: z.enum(['dev', 'staging', 'prod']),
  removalPolicy: z.enum(['destroy', 'retain']),
  logRetentionDays: z.number().int().positive(),
  pointInTimeRecovery: z.boolean(),
  /**
   * Who may put storefront events on the storefront bus from outside this account: 12-digit account ids or IAM role
   * ARNs. Each gets PutEvents on that bus only, and only with `source` = settings.source. Principals in this account
   * need an identity policy instead (see README, "Who may put what on the bus"). `-c storefrontProducers=a,b`
   * overrides the list at deploy time.
   */
  storefrontProducers: z.array(
    z.union([z.string().regex(/^\d{12}$/), z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/)]),
  ),
  ingest: z.object({
    batchSize: z.number().int().min(1).max(10_000),
    maxBatchingWindowSeconds: z.number().int().min(0).max(300),
    /** Caps concurrency so a flood cannot overrun the embedding endpoint. */
    reservedConcurrency: z.number().int().min(1),
    maxReceiveCount: z.number().int().min(1).max(1000),
    visibilityTimeoutSeconds: z.number().int().min(30),
    memoryMb: z.number().int().min(128).max(10_240),
  }),
  /** The query API: throttling of its `$default` stage, its Lambda's memory and its alarm thresholds. */
  query: z
    .object({
      throttleRatePerSecond: z.number().int().min(1).max(10_000).default(50),
      throttleBurst: z.number().int().min(1).max(5_000).default(100),
      memoryMb: z.number().int().min(128).max(10_240).default(512),
      serverErrorsPerFiveMinutes: z.number().int().min(1).default(5),
      p99LatencyMs: z.number().int().min(100).default(3_000),
    })
    .prefault({}),
  alarms: z.object({
    dlqDepth: z.number().int().min(1),
    ageOfOldestMessageSeconds: z.number().int().min(60),
    quarantinedPerFiveMinutes: z.number().int().min(1),
    functionErrorsPerFiveMinutes: z.number().int().min(1),
    embeddingFailuresPerFiveMinutes: z.number().int().min(1),
  }),
  recluster: z.object({
    /** EventBridge Scheduler cron expression, evaluated in `timeZone`. */
    schedule: z.string().startsWith('cron('),
    timeZone: z.string().min(1),
    mapConcurrency: z.number().int().min(1).max(10_000),
    fitMemoryMb: z.number().int().min(512).max(10_240),
    reportRetentionDays: z.number().int().positive(),
  }),
  settings: settingsSchema,
});

export type StageConfig = z.infer<typeof stageConfigSchema>;
export type StageName = StageConfig['stage'];
export const STAGES = ['dev', 'staging', 'prod'] as const satisfies readonly StageName[];

/**
 * No stage narrates with an LLM by default (the rules name segments). To point a stage at a hosted model, add to its
 * settings e.g. `narration: { endpointName: 'shoal-narrator', contract: 'chat', maxTokens: 700, temperature: 0.2,
 * timeoutMs: 20000 }`: FitModel then gets sagemaker:InvokeEndpoint on that endpoint only.
 */
const baseSettings: SettingsInput = {
  source: 'storefront',
  embedding: { endpointName: 'shoal-text-embedder', contract: 'tei', dimension: 64, maxBatchSize: 64 },
  /** The store's base currency and fixed conversion rates (units of base per unit of the currency). */
  currency: { base: 'GBP', rates: {} },
  vector: { behaviourWeight: 1, interestWeight: 2.5 },
  // Real-time evaluations come after every batch of a customer's events, each a fresh draw of its decayed tallies: a
  // wider margin there; the night follows tonight's model with a narrower one (see settings.hysteresis).
  hysteresis: { margin: 0.3, reclusterMargin: 0.2, minDwellHours: 24 },
  retention: { eventDays: 400, quarantineDays: 30 },
  recluster: {
    shardCount: 4,
    sampleSize: 20_000,
    kMin: 4,
    kMax: 10,
    nInit: 4,
    silhouetteSubsample: 3_000,
    minSegmentShare: 0.02,
    alignmentDistanceCap: 1.0,
    quality: { minSilhouette: 0.05, maxDaviesBouldin: 3.0, minStability: 0.5 },
  },
  value: { minCustomers: 200, minRepeatCustomers: 50, horizonWeeks: 52, discountRatePerWeek: 0.002 },
};

const raw: Record<StageName, unknown> = {
  dev: {
    stage: 'dev',
    removalPolicy: 'destroy',
    logRetentionDays: 14,
    pointInTimeRecovery: true,
    storefrontProducers: [],
    ingest: {
      batchSize: 100,
      maxBatchingWindowSeconds: 5,
      reservedConcurrency: 5,
      maxReceiveCount: 5,
      visibilityTimeoutSeconds: 180,
      memoryMb: 1024,
    },
    alarms: {
      dlqDepth: 1,
      ageOfOldestMessageSeconds: 900,
      quarantinedPerFiveMinutes: 100,
      functionErrorsPerFiveMinutes: 5,
      embeddingFailuresPerFiveMinutes: 20,
    },
    recluster: {
      schedule: 'cron(0 3 * * ? *)',
      timeZone: 'Europe/London',
      mapConcurrency: 4,
      fitMemoryMb: 3008,
      reportRetentionDays: 30,
    },
    settings: {
      ...baseSettings,
      recluster: { ...baseSettings.recluster, quality: { minSilhouette: 0, maxDaviesBouldin: 5, minStability: 0.3 } },
    },
  },
  staging: {
    stage: 'staging',
    removalPolicy: 'destroy',
    logRetentionDays: 30,
    pointInTimeRecovery: true,
    storefrontProducers: [],
    ingest: {
      batchSize: 100,
      maxBatchingWindowSeconds: 5,
      reservedConcurrency: 10,
      maxReceiveCount: 5,
      visibilityTimeoutSeconds: 180,
      memoryMb: 1024,
    },
    alarms: {
      dlqDepth: 1,
      ageOfOldestMessageSeconds: 600,
      quarantinedPerFiveMinutes: 200,
      functionErrorsPerFiveMinutes: 5,
      embeddingFailuresPerFiveMinutes: 20,
    },
    recluster: {
      schedule: 'cron(0 3 * * ? *)',
      timeZone: 'Europe/London',
      mapConcurrency: 16,
      fitMemoryMb: 6144,
      reportRetentionDays: 90,
    },
    settings: { ...baseSettings, recluster: { ...baseSettings.recluster, shardCount: 16, sampleSize: 50_000 } },
  },
  prod: {
    stage: 'prod',
    removalPolicy: 'retain',
    logRetentionDays: 90,
    pointInTimeRecovery: true,
    storefrontProducers: [],
    ingest: {
      batchSize: 100,
      maxBatchingWindowSeconds: 2,
      reservedConcurrency: 50,
      maxReceiveCount: 5,
      visibilityTimeoutSeconds: 180,
      memoryMb: 1769,
    },
    alarms: {
      dlqDepth: 1,
      ageOfOldestMessageSeconds: 300,
      quarantinedPerFiveMinutes: 500,
      functionErrorsPerFiveMinutes: 1,
      embeddingFailuresPerFiveMinutes: 50,
    },
    recluster: {
      schedule: 'cron(30 2 * * ? *)',
      timeZone: 'America/New_York',
      mapConcurrency: 200,
      fitMemoryMb: 10240,
      reportRetentionDays: 365,
    },
    settings: {
      ...baseSettings,
      embedding: { ...baseSettings.embedding, contract: 'tei', dimension: 384, maxBatchSize: 128 },
      recluster: { ...baseSettings.recluster, shardCount: 256, sampleSize: 200_000, nInit: 8 },
    },
  },
};

/** A stage name that is not one of STAGES; its message is the one line `cdk synth` prints. */
export class UnknownStageError extends Error {
  constructor(readonly stage: string) {
    super(`Unknown stage "${stage}": use one of ${STAGES.join(', ')} (cdk synth -c stage=dev)`);
    this.name = 'UnknownStageError';
  }
}

export function stageConfig(stage: string, overrides: { storefrontProducers?: readonly string[] } = {}): StageConfig {
  const parsed = z.enum(STAGES).safeParse(stage);
  if (!parsed.success) throw new UnknownStageError(stage);
  const config = stageConfigSchema.parse({
    ...(raw[parsed.data] as Record<string, unknown>),
    ...(overrides.storefrontProducers ? { storefrontProducers: overrides.storefrontProducers } : {}),
  });
  // Purchase days are calendar days of the stage's time zone, the one its nightly schedule runs in. A stage that
  // leaves the holdout salt at its default gets its own (`shoal-<stage>`): control groups are drawn per stage.
  const holdout = (raw[parsed.data] as { settings?: { holdout?: { salt?: string } } }).settings?.holdout?.salt
    ? config.settings.holdout
    : { ...config.settings.holdout, salt: `shoal-${config.stage}` };
  return {
    ...config,
    settings: {
      ...config.settings,
      holdout,
      features: { ...config.settings.features, timeZone: config.recluster.timeZone },
    },
  };
}
