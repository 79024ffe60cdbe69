import { z } from 'zod';

/**
 * Payloads between the states of the nightly "recluster" state machine. The CDK definition, the Lambda
 * handlers and the local runner all use these, so a renamed field fails to compile everywhere at once.
 *
 *   PlanShards -> Map(ScanShard) -> FitModel -> QualityGate -> Map(AssignShard) -> Publish
 *   any Catch  -> MarkFailed -> Fail
 */
export const RECLUSTER_STATES = [
  'PlanShards',
  'ScanShards',
  'FitModel',
  'QualityGate',
  'AssignShards',
  'Publish',
] as const;
export type ReclusterState = (typeof RECLUSTER_STATES)[number];

const runId = z.string().regex(/^[A-Za-z0-9._:-]{1,80}$/);

export const reclusterInputSchema = z.object({
  /** Idempotency key. The schedule passes the scheduled time; a manual run may pass any id. */
  runId: runId.optional(),
  /** Evaluate time-dependent features as of this instant (defaults to now). */
  asOf: z.iso.datetime({ offset: true }).optional(),
  /** Added by the state machine (`$$.Execution.Name`): the runId when the input has none. */
  executionName: z.string().min(1).max(80).optional(),
});
export type ReclusterInput = z.infer<typeof reclusterInputSchema>;

export const shardTaskSchema = z.object({
  runId,
  asOf: z.iso.datetime({ offset: true }),
  shard: z.number().int().nonnegative(),
  totalShards: z.number().int().positive(),
  /** The run whose population files ScanShard carries forward (the previous run; null: none, read everyone). */
  baseRunId: z.string().nullable(),
});
export type ShardTask = z.infer<typeof shardTaskSchema>;

export const planOutputSchema = z.object({
  runId,
  asOf: z.iso.datetime({ offset: true }),
  shards: z.array(shardTaskSchema),
});
export type PlanOutput = z.infer<typeof planOutputSchema>;

export const scanOutputSchema = z.object({
  shard: z.number().int().nonnegative(),
  customers: z.number().int().nonnegative(),
  sampled: z.number().int().nonnegative(),
  sampleKey: z.string(),
  /** Profiles read from the table (the due ones, or everyone on a full night). */
  read: z.number().int().nonnegative(),
  /** Whether the shard read every customer (see the run record for why). */
  full: z.boolean(),
});
export type ScanOutput = z.infer<typeof scanOutputSchema>;

export const fitInputSchema = z.object({
  runId,
  asOf: z.iso.datetime({ offset: true }),
  scans: z.array(scanOutputSchema),
});
export type FitInput = z.infer<typeof fitInputSchema>;

export const fitOutputSchema = z.object({
  runId,
  modelVersion: z.number().int().positive(),
  k: z.number().int().positive(),
  gate: z.object({ passed: z.boolean(), reasons: z.array(z.string()) }),
  /** The version ACTIVE pointed at when the model was fitted (null: none yet); a refused run refreshes traits with it. */
  activeVersion: z.number().int().positive().nullable(),
});
export type FitOutput = z.infer<typeof fitOutputSchema>;

export const assignTaskSchema = shardTaskSchema.extend({ modelVersion: z.number().int().positive() });
export type AssignTask = z.infer<typeof assignTaskSchema>;

/** RefreshShard (the gate refused tonight's model): traits and stages with the ACTIVE version; segments untouched. */
export const refreshTaskSchema = shardTaskSchema.extend({ activeVersion: z.number().int().positive().nullable() });
export type RefreshTask = z.infer<typeof refreshTaskSchema>;

export const assignOutputSchema = z.object({
  shard: z.number().int().nonnegative(),
  assigned: z.number().int().nonnegative(),
  moved: z.number().int().nonnegative(),
  lifecycleChanged: z.number().int().nonnegative(),
  /** Profiles read, re-evaluated and written (placements and traits; marks-only updates not counted) tonight. */
  read: z.number().int().nonnegative(),
  evaluated: z.number().int().nonnegative(),
  written: z.number().int().nonnegative(),
  /** Whether every customer of the shard was re-placed (a full night). */
  full: z.boolean(),
});
export type AssignOutput = z.infer<typeof assignOutputSchema>;

export const publishInputSchema = z.object({
  runId,
  modelVersion: z.number().int().positive(),
  assignments: z.array(assignOutputSchema),
});
export type PublishInput = z.infer<typeof publishInputSchema>;

export const markFailedInputSchema = z.object({
  runId: z.string().optional(),
  state: z.string(),
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).loose(),
});
export type MarkFailedInput = z.infer<typeof markFailedInputSchema>;

/** Names of the Lambda-backed tasks; the CDK app and the local runner map each to its handler. */
export const RECLUSTER_TASKS = [
  'plan-shards',
  'scan-shard',
  'fit-model',
  'assign-shard',
  'publish',
  'mark-failed',
] as const;
export type ReclusterTask = (typeof RECLUSTER_TASKS)[number];

/**
 * Where a run's objects live in the recluster bucket, and how long each kind is kept (the bucket's lifecycle rules).
 * Run artifacts (shard samples and vectors) hold customer ids and vectors: kept only while a run needs them, one day
 * (S3's smallest lifecycle unit; a run takes hours, and a rerun re-scans). Reports hold aggregates only.
 */
export const RUN_OBJECT_RETENTION = {
  artifacts: { prefix: 'runs/', days: 1 },
  reports: { prefix: 'reports/' },
} as const;
