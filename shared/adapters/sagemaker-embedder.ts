import { createHash } from 'node:crypto';
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
  /** Distinct texts cut to `maxInputChars` before they were sent. */
  truncated: number;
  /** Distinct texts the model refused alone (returned as null), cached ones not counted again. */
  notEmbeddable: number;
  /** Extra requests made to isolate texts the model refused (splitting a refused request in halves). */
  isolationCalls: number;
}

export type SageMakerEmbedderOptions = z.output<typeof embeddingSettingsSchema> & {
  /**
   * Create it once per cold start with `maxAttempts: 1`: this adapter owns timeouts and retries, and the SDK's
   * own retries would multiply with them.
   */
  client: SageMakerRuntimeClient;
  /** Called before every request (attempt is 1-based). Counts only: never pass the texts on to a log. */
  onCall?: (info: { texts: number; attempt: number }) => void;
  /**
   * Called once per text found not embeddable (for a metric). Gets the text's SHA-256 (hex) and its length in code
   * points, never the text.
   */
  onNotEmbeddable?: (info: { sha256: string; codePoints: number }) => void;
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
 * Per call: each text is cut to `maxInputChars` code points (never inside a surrogate pair), texts are
 * de-duplicated, repeats are served from an LRU cache keyed by the SHA-256 of the (cut) text, so the cache holds no
 * text, and only misses are sent, in chunks of at most `maxBatchSize` (and under the 6 MB payload limit), one chunk
 * after the other. With the TEI contract and `truncate` the request also asks the container to truncate
 * (`{"inputs": [...], "truncate": true}`).
 *
 * Each request has its own timeout; throttling, 5xx, timeouts and connection errors are retried with jittered
 * exponential backoff. A model's 4xx (`ModelError` with a container status below 500) is not retried: the request
 * is split in halves until the refused texts are alone, and a text refused alone is NOT EMBEDDABLE: `null` in the
 * result, counted, and cached as such so it is not sent again. Any other failure rejects the call with
 * `EmbeddingUnavailableError`; chunks that succeeded before it are cached, so a redelivery only pays for the rest.
 */
export class SageMakerEmbedder implements Embedder {
  readonly dimension: number;
  readonly stats: SageMakerEmbedderStats = {
    calls: 0,
    textsSent: 0,
    cacheHits: 0,
    failures: 0,
    truncated: 0,
    notEmbeddable: 0,
    isolationCalls: 0,
  };

  private readonly client: SageMakerRuntimeClient;
  private readonly endpointName: string;
  private readonly contract: EmbeddingContract;
  private readonly maxBatchSize: number;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  /** SHA-256 of the cut text → its vector, or NOT_EMBEDDABLE. */
  private readonly cache: LRUCache<string, Float32Array | typeof NOT_EMBEDDABLE> | undefined;
  private readonly onCall: ((info: { texts: number; attempt: number }) => void) | undefined;
  private readonly onNotEmbeddable: ((info: { sha256: string; codePoints: number }) => void) | undefined;
  private readonly maxInputChars: number;
  private readonly truncate: boolean;
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
    this.onNotEmbeddable = options.onNotEmbeddable;
    requireInteger('maxInputChars', options.maxInputChars, 1);
    this.maxInputChars = options.maxInputChars;
    this.truncate = options.truncate;
    this.backoffBaseMs = options.backoffBaseMs ?? 100;
    this.backoffMaxMs = options.backoffMaxMs ?? 2_000;
    this.random = options.random ?? Math.random;
  }

  async embed(texts: readonly string[]): Promise<(Float32Array | null)[]> {
    // One entry per distinct cut text, keyed by its hash: the key is all the cache ever holds.
    const keys = new Array<string>(texts.length);
    const resolved = new Map<string, Float32Array | typeof NOT_EMBEDDABLE>();
    const misses: { key: string; text: string }[] = [];
    const missKeys = new Set<string>();
    texts.forEach((original, i) => {
      const text = cutToCodePoints(original, this.maxInputChars);
      const key = sha256Hex(text);
      keys[i] = key;
      if (resolved.has(key) || missKeys.has(key)) return;
      const cached = this.cache?.get(key);
      if (cached !== undefined) {
        resolved.set(key, cached);
        this.stats.cacheHits++;
      } else {
        if (text.length !== original.length) this.stats.truncated++;
        missKeys.add(key);
        misses.push({ key, text });
      }
    });

    for (const chunk of this.planRequests(misses.map((m) => m.text))) {
      const offset = chunk.offset;
      const vectors = await this.embedIsolating(chunk.texts, chunk.body, false);
      vectors.forEach((vector, i) => {
        const { key, text } = misses[offset + i]!;
        const value = vector ?? NOT_EMBEDDABLE;
        if (vector === null) {
          this.stats.notEmbeddable++;
          this.onNotEmbeddable?.({ sha256: key, codePoints: codePointLength(text) });
        }
        resolved.set(key, value);
        this.cache?.set(key, value);
      });
    }

    // Copies: callers may mutate their vectors; the cached ones must stay intact.
    return keys.map((key) => {
      const value = resolved.get(key);
      return value === undefined || value === NOT_EMBEDDABLE ? null : value.slice();
    });
  }

  /**
   * Embeds one request's texts; when the model refuses the request (ModelError, container 4xx), splits it in halves
   * to find the texts it refuses alone, which come back as null. Other failures propagate.
   */
  private async embedIsolating(
    texts: readonly string[],
    body: Uint8Array | null,
    isolating: boolean,
  ): Promise<(Float32Array | null)[]> {
    if (isolating) this.stats.isolationCalls++;
    const payload = body ?? this.encode(texts);
    if (payload === null) {
      // Past the 6 MB request limit on its own: no request can carry it.
      if (texts.length === 1) return [null];
      return this.splitAndEmbed(texts);
    }
    try {
      return await this.invokeWithRetries(texts, payload);
    } catch (error) {
      if (!refusedByModel(error)) throw error;
      if (texts.length === 1) return [null];
      return this.splitAndEmbed(texts);
    }
  }

  private async splitAndEmbed(texts: readonly string[]): Promise<(Float32Array | null)[]> {
    const half = Math.ceil(texts.length / 2);
    const left = await this.embedIsolating(texts.slice(0, half), null, true);
    const right = await this.embedIsolating(texts.slice(half), null, true);
    return [...left, ...right];
  }

  /** The request body, or null when it would exceed the payload limit. */
  private encode(texts: readonly string[]): Uint8Array | null {
    const body = utf8Encoder.encode(JSON.stringify(this.requestPayload(texts)));
    return body.byteLength <= SAGEMAKER_MAX_PAYLOAD_BYTES ? body : null;
  }

  /**
   * Chunks of at most maxBatchSize texts, halved further while a body would exceed the payload limit. A single text
   * past the limit gets `body: null` (embedIsolating then reports it not embeddable). `offset` is the chunk's first
   * index in `texts`.
   */
  private planRequests(texts: readonly string[]): { texts: string[]; body: Uint8Array | null; offset: number }[] {
    const requests: { texts: string[]; body: Uint8Array | null; offset: number }[] = [];
    const add = (chunk: string[], offset: number): void => {
      const body = this.encode(chunk);
      if (body !== null || chunk.length === 1) {
        requests.push({ texts: chunk, body, offset });
      } else {
        const half = Math.ceil(chunk.length / 2);
        add(chunk.slice(0, half), offset);
        add(chunk.slice(half), offset + half);
      }
    };
    for (let i = 0; i < texts.length; i += this.maxBatchSize) add(texts.slice(i, i + this.maxBatchSize), i);
    return requests;
  }

  private requestPayload(texts: readonly string[]): object {
    if (this.contract === 'jumpstart') return { text_inputs: texts };
    return this.truncate ? { inputs: texts, truncate: true } : { inputs: texts };
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

/** Cache marker of a text the model refused alone. */
const NOT_EMBEDDABLE = Symbol('not embeddable');

/**
 * True when the model container refused the request itself (ModelError with a 4xx container status, other than
 * 429): the input is at fault, so splitting the request can isolate the text responsible.
 */
function refusedByModel(error: unknown): boolean {
  if (!(error instanceof EmbeddingUnavailableError) || error.reason !== 'model_error') return false;
  return !(error.originalStatusCode !== undefined && error.originalStatusCode >= 500);
}

/** SHA-256 of a text's UTF-8 bytes, hex: the cache key, so the cache holds no text. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The first `max` Unicode code points of `text` (a surrogate pair is one code point and is never split). Texts of
 * at most `max` UTF-16 units are returned as they are.
 */
export function cutToCodePoints(text: string, max: number): string {
  if (text.length <= max) return text;
  let units = 0;
  let points = 0;
  while (units < text.length && points < max) {
    const code = text.charCodeAt(units);
    const pair =
      code >= 0xd800 && code <= 0xdbff && units + 1 < text.length && (text.charCodeAt(units + 1) & 0xfc00) === 0xdc00;
    units += pair ? 2 : 1;
    points++;
  }
  return text.slice(0, units);
}

function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
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
