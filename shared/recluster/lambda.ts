import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import type { Telemetry } from '../runtime/powertools';

/** A payload that does not match the task's contract: a wiring bug, never retried. */
export class InvalidTaskInputError extends Error {
  override readonly name = 'InvalidTaskInput';
}

/** Parses a task payload with its contract; the error lists paths and messages only (never values). */
export function parseTaskInput<S extends z.ZodType>(schema: S, event: unknown, task: string): z.output<S> {
  const parsed = schema.safeParse(event);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new InvalidTaskInputError(`${task}: invalid input: ${issues}`);
  }
  return parsed.data;
}

/** A recluster task handler: the payload Step Functions sends (the Lambda invoke `Payload`) in, the result out. */
export type ReclusterLambda<R> = (event: unknown, context?: Context) => Promise<R>;

/**
 * Wraps a task's base function the way functions/ingest/app.ts does: with telemetry (Lambda), Powertools tracing,
 * context-enriched logs and flushed metrics; without (tests, the local runner), the bare function.
 */
export function withTelemetry<R>(base: (event: unknown) => Promise<R>, telemetry?: Telemetry): ReclusterLambda<R> {
  if (!telemetry) return base;
  // Loaded only on this (Lambda) path: middy is ESM-only, and the local stack and tests run the bare function.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { withPowertools } = require('../runtime/middleware') as typeof import('../runtime/middleware');
  const wrapped = withPowertools(base, telemetry);
  return (event, context) => wrapped(event, context ?? ({} as Context));
}
