import { z } from 'zod';
import { settingsSchema } from './settings';

/**
 * Environment contract of each function. The CDK construct that creates a function takes the matching
 * type, so a missing variable fails to compile; the handler parses it once at cold start.
 */
const settingsJson = z
  .string()
  .transform((s, ctx) => {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'SHOAL_SETTINGS is not JSON' });
      return z.NEVER;
    }
  })
  .pipe(settingsSchema);

export const ingestEnvSchema = z.object({
  TABLE_NAME: z.string().min(3),
  /** The quarantine's own table (raw rejected payloads; only the ingest and operator roles may read it). */
  QUARANTINE_TABLE_NAME: z.string().min(3),
  /** The Shoal bus (outbound events, source `shoal`). */
  EVENT_BUS_NAME: z.string().min(1),
  SHOAL_SETTINGS: settingsJson,
});

export const outboxEnvSchema = z.object({
  TABLE_NAME: z.string().min(3),
  EVENT_BUS_NAME: z.string().min(1),
  SHOAL_SETTINGS: settingsJson,
});

export const reclusterEnvSchema = z.object({
  TABLE_NAME: z.string().min(3),
  EVENT_BUS_NAME: z.string().min(1),
  BUCKET_NAME: z.string().min(3),
  SHOAL_SETTINGS: settingsJson,
});

/** The query API (read-only on the table). */
export const queryEnvSchema = z.object({
  TABLE_NAME: z.string().min(3),
  SHOAL_SETTINGS: settingsJson,
});

export type IngestEnv = z.input<typeof ingestEnvSchema>;
export type OutboxEnv = z.input<typeof outboxEnvSchema>;
export type ReclusterEnv = z.input<typeof reclusterEnvSchema>;
export type QueryEnv = z.input<typeof queryEnvSchema>;

export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.output<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid environment: ${fields}`);
  }
  return parsed.data;
}
