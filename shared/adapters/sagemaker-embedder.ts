import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { LRUCache } from 'lru-cache';
import type { z } from 'zod';
import type { embeddingSettingsSchema } from '../config/settings';
import { l2NormalizeToFloat32 } from '../embedding/hashing-encoder';
import { EmbeddingUnavailableError, type Embedder, type EmbeddingFailureReason } from '../ports/embedder';

/** InvokeEndpoint's documented request payload limit (6 MB) for real-time endpoints. */
export const SAGEMAKER_MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

export type EmbeddingContract = 'tei' | 'jumpstart';

export interface SageMakerEmbedderStats {
  /** InvokeEndpoint requests made, retries included. */
  calls: number;
  /** Texts carried by those requests, retries included. */
  textsSent: number;
  /** Distinct texts of an `embed` call that were served from the cache. */
  cacheHits: number;
  /** Requests that failed (error, timeout or unusable response), whether or not a retry then succeeded. */
  failures: number;
}

export type SageMakerEmbedderOptions = z.output<typeof embeddingSettingsSchema> & {
  /**
   * Create it once per cold start with `maxAttempts: 1`: this adapter owns timeouts and retries, and the SDK's
   * own retries would multiply with them.
   */
  client: SageMakerRuntimeClient;
  /** Called before every request (attempt is 1-based). Counts only: never pass the texts on to a log. */
  onCall?: (info: { texts: number; attempt: number }) => void;
  /** Retry n waits uniform(0, min(backoffMaxMs, backoffBaseMs · 2^(n-1))) ("full jitter"). Default 100. */
  backoffBaseMs?: number;
  /** Default 2000. */
  backoffMaxMs?: number;
  /** Uniform in [0, 1); defaults to Math.random. Only used for backoff jitter. */
  random?: () => number;
};

interface FailureClass {
  reason: EmbeddingFailureReason;
  retryable: boolean;
  errorName?: string;
  httpStatusCode?: number;
  originalStatusCode?: number;
  /** Our own wording (never an SDK or model message, which may echo the input). */
  detail?: string;
}

const THROTTLING_ERROR_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ModelNotReadyException',
]);
const NETWORK_ERROR_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH']);
const SDK_TIMEOUT_ERROR_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** Marks our own per-attempt deadline, as opposed to an abort coming from anywhere else. */
class AttemptTimeout extends Error {
  override readonly name = 'AttemptTimeout';
}

class ResponseRejected extends Error {
  constructor(
    readonly reason: 'dimension_mismatch' | 'bad_response',
    message: string,
  ) {
    super(message);
  }
}

/**
 * `Embedder` over a SageMaker real-time endpoint (`InvokeEndpoint`), speaking either the text-embeddings-inference
 * contract (`{"inputs": [...]}` -> `[[...], ...]`) or the JumpStart one (`{"text_inputs": [...]}` ->
 * `{"embedding": [[...], ...]}`).
 *
 * Per call: texts are de-duplicated, repeats are served from an LRU cache, and only misses are sent, in chunks of at
 * most `maxBatchSize` (and under the 6 MB payload limit), one chunk after the other. Each request has its own
 * timeout; throttling, 5xx, timeouts and connection errors are retried with jittered exponential backoff; a model's
 * 4xx is not. When a chunk still fails, `EmbeddingUnavailableError` is thrown; chunks that succeeded before it are
 * cached, so a redelivery only pays for the rest.
 */
export class SageMakerEmbedder implements Embedder {
  readonly dimension: number;
  readonly stats: SageMakerEmbedderStats = { calls: 0, textsSent: 0, cacheHits: 0, failures: 0 };

  private readonly client: SageMakerRuntimeClient;
  private readonly endpointName: string;
  private readonly contract: EmbeddingContract;
  private readonly maxBatchSize: number;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly cache: LRUCache<string, Float32Array> | undefined;
  private readonly onCall: ((info: { texts: number; attempt: number }) => void) | undefined;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly random: () => number;

  constructor(options: SageMakerEmbedderOptions) {
    requireInteger('dimension', options.dimension, 1);
    requireInteger('maxBatchSize', options.maxBatchSize, 1);
    requireInteger('maxRetries', options.maxRetries, 0);
    requireInteger('cacheSize', options.cacheSize, 0);
    if (!(options.timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${options.timeoutMs}`);
    if (options.endpointName.length === 0) throw new RangeError('endpointName must not be empty');

    this.client = options.client;
    this.endpointName = options.endpointName;
    this.contract = options.contract;
    this.dimension = options.dimension;
    this.maxBatchSize = options.maxBatchSize;
    this.timeoutMs = options.timeoutMs;
    this.maxRetries = options.maxRetries;
    this.cache = options.cacheSize > 0 ? new LRUCache({ max: options.cacheSize }) : undefined;
    this.onCall = options.onCall;
    this.backoffBaseMs = options.backoffBaseMs ?? 100;
    this.backoffMaxMs = options.backoffMaxMs ?? 2_000;
    this.random = options.random ?? Math.random;
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    const resolved = new Map<string, Float32Array>();
    const misses: string[] = [];
    const missSet = new Set<string>();
    for (const text of texts) {
      if (resolved.has(text) || missSet.has(text)) continue;
      const cached = this.cache?.get(text);
      if (cached !== undefined) {
        resolved.set(text, cached);
        this.stats.cacheHits++;
      } else {
        missSet.add(text);
        misses.push(text);
      }
    }

    for (const chunk of this.planRequests(misses)) {
      const vectors = await this.invokeWithRetries(chunk.texts, chunk.body);
      chunk.texts.forEach((text, i) => {
        const vector = vectors[i] as Float32Array;
        resolved.set(text, vector);
        this.cache?.set(text, vector);
      });
    }

    // Copies: callers may mutate their vectors; the cached ones must stay intact.
    return texts.map((text) => (resolved.get(text) as Float32Array).slice());
  }

  /** Chunks of at most maxBatchSize texts, halved further while a body would exceed the payload limit. */
  private planRequests(texts: readonly string[]): { texts: string[]; body: Uint8Array }[] {
    const requests: { texts: string[]; body: Uint8Array }[] = [];
    const add = (chunk: string[]): void => {
      const body = utf8Encoder.encode(JSON.stringify(this.requestPayload(chunk)));
      if (body.byteLength <= SAGEMAKER_MAX_PAYLOAD_BYTES) {
        requests.push({ texts: chunk, body });
      } else if (chunk.length > 1) {
        const half = Math.ceil(chunk.length / 2);
        add(chunk.slice(0, half));
        add(chunk.slice(half));
      } else {
        throw new EmbeddingUnavailableError('invalid_request', 'a single text exceeds the 6 MB request limit', {
          attempts: 0,
          texts: 1,
        });
      }
    };
    for (let i = 0; i < texts.length; i += this.maxBatchSize) add(texts.slice(i, i + this.maxBatchSize));
    return requests;
  }

  private requestPayload(texts: readonly string[]): object {
    return this.contract === 'tei' ? { inputs: texts } : { text_inputs: texts };
  }

  private async invokeWithRetries(texts: readonly string[], body: Uint8Array): Promise<Float32Array[]> {
    for (let attempt = 1; ; attempt++) {
      this.stats.calls++;
      this.stats.textsSent += texts.length;
      this.onCall?.({ texts: texts.length, attempt });

      let failure: FailureClass;
      try {
        const responseBody = await this.sendWithTimeout(body);
        return this.parseResponse(responseBody, texts.length);
      } catch (error) {
        failure = classifyFailure(error);
      }

      this.stats.failures++;
      if (!failure.retryable || attempt > this.maxRetries) {
        throw new EmbeddingUnavailableError(
          failure.reason,
          `endpoint ${this.endpointName}: ${texts.length} text(s), ${attempt} attempt(s)` +
            (failure.errorName ? `, last error ${failure.errorName}` : '') +
            (failure.httpStatusCode !== undefined ? ` (HTTP ${failure.httpStatusCode})` : '') +
            (failure.detail !== undefined ? `: ${failure.detail}` : ''),
          {
            attempts: attempt,
            texts: texts.length,
            ...(failure.errorName !== undefined && { errorName: failure.errorName }),
            ...(failure.httpStatusCode !== undefined && { httpStatusCode: failure.httpStatusCode }),
            ...(failure.originalStatusCode !== undefined && { originalStatusCode: failure.originalStatusCode }),
          },
        );
      }
      await sleep(this.backoffDelayMs(attempt));
    }
  }

  private backoffDelayMs(retry: number): number {
    const ceiling = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** (retry - 1));
    return Math.floor(this.random() * ceiling);
  }

  /**
   * Races the request against the deadline as well as aborting it: a transport that ignores the abort signal
   * still cannot hold the caller past the timeout.
   */
  private async sendWithTimeout(body: Uint8Array): Promise<Uint8Array | undefined> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new AttemptTimeout(`no response within ${this.timeoutMs} ms`));
        controller.abort();
      }, this.timeoutMs);
    });
    const command = new InvokeEndpointCommand({
      EndpointName: this.endpointName,
      ContentType: 'application/json',
      Accept: 'application/json',
      Body: body,
    });
    try {
      const output = await Promise.race([this.client.send(command, { abortSignal: controller.signal }), deadline]);
      return output.Body;
    } catch (error) {
      // An abort error from the SDK may win the race against our own rejection; both mean the deadline passed.
      throw controller.signal.aborted ? new AttemptTimeout(`no response within ${this.timeoutMs} ms`) : error;
    } finally {
      clearTimeout(timer);
    }
  }

  private parseResponse(body: Uint8Array | undefined, expected: number): Float32Array[] {
    if (body === undefined) throw new ResponseRejected('bad_response', 'empty response body');
    let json: unknown;
    try {
      json = JSON.parse(utf8Decoder.decode(body));
    } catch {
      throw new ResponseRejected('bad_response', 'response is not JSON');
    }

    let rows: unknown;
    if (this.contract === 'tei') {
      rows = json;
    } else {
      rows = isRecord(json) ? json['embedding'] : undefined;
      // Some JumpStart containers answer a single input with a flat vector.
      if (expected === 1 && Array.isArray(rows) && rows.length > 0 && typeof rows[0] === 'number') rows = [rows];
    }
    if (!Array.isArray(rows)) {
      throw new ResponseRejected('bad_response', `response does not match the ${this.contract} contract`);
    }
    if (rows.length !== expected) {
      throw new ResponseRejected('bad_response', `expected ${expected} vectors, got ${rows.length}`);
    }
    return rows.map((row: unknown) => {
      if (!Array.isArray(row)) throw new ResponseRejected('bad_response', 'a vector is not an array');
      if (row.length !== this.dimension) {
        throw new ResponseRejected('dimension_mismatch', `expected dimension ${this.dimension}, got ${row.length}`);
      }
      for (const value of row) {
        if (typeof value !== 'number' || !Number.isFinite(value)) {
          throw new ResponseRejected('bad_response', 'a vector has a non-finite component');
        }
      }
      return l2NormalizeToFloat32(row as number[]);
    });
  }
}

/** Maps an SDK, transport or response error to a reason and whether another attempt may help. */
function classifyFailure(error: unknown): FailureClass {
  if (error instanceof AttemptTimeout) return { reason: 'timeout', retryable: true, detail: error.message };
  if (error instanceof ResponseRejected) return { reason: error.reason, retryable: false, detail: error.message };

  const e = isRecord(error) ? error : {};
  const errorName = typeof e['name'] === 'string' ? e['name'] : 'UnknownError';
  const metadata = isRecord(e['$metadata']) ? e['$metadata'] : {};
  const status = typeof metadata['httpStatusCode'] === 'number' ? metadata['httpStatusCode'] : undefined;
  const original = typeof e['OriginalStatusCode'] === 'number' ? e['OriginalStatusCode'] : undefined;
  const code = typeof e['code'] === 'string' ? e['code'] : undefined;
  const base = {
    errorName,
    ...(status !== undefined && { httpStatusCode: status }),
    ...(original !== undefined && { originalStatusCode: original }),
  };

  if (errorName === 'ModelError') {
    // The container's own status decides: 429 (TEI's "overloaded") and 5xx are transient, other 4xx are not.
    if (original === 429) return { ...base, reason: 'throttled', retryable: true };
    return { ...base, reason: 'model_error', retryable: original !== undefined && original >= 500 };
  }
  if (THROTTLING_ERROR_NAMES.has(errorName) || status === 429) return { ...base, reason: 'throttled', retryable: true };
  if (SDK_TIMEOUT_ERROR_NAMES.has(errorName)) return { ...base, reason: 'timeout', retryable: true };
  if (code !== undefined && NETWORK_ERROR_CODES.has(code)) return { ...base, reason: 'network_error', retryable: true };
  if (e['$fault'] === 'server' || (status !== undefined && status >= 500)) {
    return { ...base, reason: 'service_error', retryable: true };
  }
  if (status !== undefined && status >= 400) return { ...base, reason: 'invalid_request', retryable: false };
  return { ...base, reason: 'service_error', retryable: false };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function requireInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min)
    throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
}

function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
