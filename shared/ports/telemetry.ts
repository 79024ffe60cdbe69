/** Metrics and logs as small ports, so domain services stay testable and the handler plugs in Powertools. */
export interface MetricsSink {
  count(name: string, value?: number): void;
}

export interface LogSink {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const noMetrics: MetricsSink = { count: () => undefined };
export const noLogs: LogSink = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** A metrics sink that tallies in memory (local runs, benchmarks, tests). */
export class TallyMetrics implements MetricsSink {
  readonly counts: Record<string, number> = {};
  count(name: string, value = 1): void {
    this.counts[name] = (this.counts[name] ?? 0) + value;
  }
}
