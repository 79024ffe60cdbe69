/**
 * Turns free text (search queries, product titles, review text) into unit-length vectors.
 */
export interface Embedder {
  readonly dimension: number;
  /**
   * One entry per input, in input order: a unit vector of length `dimension`, or `null` when that text is
   * permanently NOT EMBEDDABLE (the model refused it even alone, e.g. past its input limit; retrying cannot help,
   * so callers record it and do not ask again). Texts longer than the configured model limit are cut to it first.
   *
   * Rejects (with `EmbeddingUnavailableError`) only when the endpoint is unavailable after retries: timeouts,
   * throttling, 5xx, network errors, or answers that break the contract (wrong dimension, bad JSON). Then nothing
   * about the texts is known, and callers keep their last interest vectors and try again later.
   */
  embed(texts: readonly string[]): Promise<(Float32Array | null)[]>;
}

/** Why an embedding call could not be served. */
export type EmbeddingFailureReason =
  /** The model container answered with an error (SageMaker `ModelError`). */
  | 'model_error'
  /** Throttled (`ThrottlingException`, HTTP 429, `ModelNotReadyException`) after all retries. */
  | 'throttled'
  /** No answer within the per-attempt timeout, after all retries. */
  | 'timeout'
  /** SageMaker itself failed (5xx: `InternalFailure`, `ServiceUnavailable`, ...) after all retries. */
  | 'service_error'
  /** The connection failed (refused, reset) after all retries. */
  | 'network_error'
  /** The request was rejected as invalid (`ValidationError`, oversize body, unknown endpoint). */
  | 'invalid_request'
  /** The endpoint returned vectors of a different length than configured. */
  | 'dimension_mismatch'
  /** The endpoint returned something that is not the expected JSON, or the wrong number of vectors. */
  | 'bad_response';

export interface EmbeddingUnavailableDetails {
  /** How many attempts were made for the failing request. */
  attempts?: number;
  /** Number of texts in the failing request (never the texts: they may be personal data). */
  texts?: number;
  /** Name of the underlying error (e.g. `ModelError`), when there was one. */
  errorName?: string;
  /** HTTP status of the failing response, when there was one. */
  httpStatusCode?: number;
  /** For `ModelError`: the status the model container returned. */
  originalStatusCode?: number;
}

/**
 * The embedding endpoint cannot be used right now. Callers degrade (keep the last interest vector) instead of
 * failing the whole record. The message and fields carry counts and error names only, never input text, so the
 * error is safe to log. The underlying SDK error is deliberately not attached as `cause`: a model's error
 * message may echo its input.
 */
export class EmbeddingUnavailableError extends Error {
  override readonly name = 'EmbeddingUnavailableError';
  readonly reason: EmbeddingFailureReason;
  readonly attempts: number | undefined;
  readonly texts: number | undefined;
  readonly errorName: string | undefined;
  readonly httpStatusCode: number | undefined;
  readonly originalStatusCode: number | undefined;

  constructor(reason: EmbeddingFailureReason, message: string, details: EmbeddingUnavailableDetails = {}) {
    super(`Embedding unavailable (${reason}): ${message}`);
    this.reason = reason;
    this.attempts = details.attempts;
    this.texts = details.texts;
    this.errorName = details.errorName;
    this.httpStatusCode = details.httpStatusCode;
    this.originalStatusCode = details.originalStatusCode;
  }
}

export function isEmbeddingUnavailableError(error: unknown): error is EmbeddingUnavailableError {
  return error instanceof EmbeddingUnavailableError;
}
