import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { LogSink, MetricsSink } from '../ports/telemetry';

/** Powertools, configured once per cold start. Service name and namespace come from the environment. */
export interface Telemetry {
  logger: Logger;
  metrics: Metrics;
  tracer: Tracer;
  metricsSink: MetricsSink;
  logSink: LogSink;
}

export function createTelemetry(serviceName: string): Telemetry {
  const logger = new Logger({ serviceName });
  const metrics = new Metrics({ serviceName, namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Shoal' });
  const tracer = new Tracer({ serviceName });
  return {
    logger,
    metrics,
    tracer,
    metricsSink: { count: (name, value = 1) => metrics.addMetric(name, MetricUnit.Count, value) },
    logSink: {
      info: (m, f) => logger.info(m, f ?? {}),
      warn: (m, f) => logger.warn(m, f ?? {}),
      error: (m, f) => logger.error(m, f ?? {}),
    },
  };
}
