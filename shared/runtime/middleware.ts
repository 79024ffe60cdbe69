import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context } from 'aws-lambda';
import type { Telemetry } from './powertools';

/**
 * Wraps a plain handler with the Powertools middlewares (tracing, structured logs with the Lambda
 * context, metrics flushed per invocation). Only the Lambda entry points import this: middy is ESM-only,
 * and the local stack runs the same plain handlers without it.
 */
export function withPowertools<E, R>(
  handler: (event: E, context: Context) => Promise<R>,
  telemetry: Telemetry,
): (event: E, context: Context) => Promise<R> {
  const wrapped = middy(handler)
    .use(captureLambdaHandler(telemetry.tracer))
    .use(injectLambdaContext(telemetry.logger))
    .use(logMetrics(telemetry.metrics));
  return (event, context) => wrapped(event, context);
}
