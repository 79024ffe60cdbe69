process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.POWERTOOLS_DEV = process.env.POWERTOOLS_DEV ?? 'false';
process.env.POWERTOOLS_LOG_LEVEL = process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = process.env.POWERTOOLS_METRICS_DISABLED ?? 'true';
process.env.POWERTOOLS_TRACE_ENABLED = 'false';
process.env.AWS_REGION = process.env.AWS_REGION ?? 'us-east-1';
// Promise.withResolvers is Node 22+; aws-local-stepfunctions needs it.
if (!(Promise as unknown as { withResolvers?: unknown }).withResolvers) {
  (Promise as unknown as { withResolvers: () => unknown }).withResolvers = function withResolvers<T>() {
    let resolve!: (v: T) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

// Property tests explore new inputs on every developer run; CI replays one fixed seed so that a landing never
// depends on the draw. A failure prints its seed and path either way. FC_SEED overrides.
if (process.env.CI || process.env.FC_SEED) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fc = require('fast-check') as typeof import('fast-check');
  fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261128) });
}
