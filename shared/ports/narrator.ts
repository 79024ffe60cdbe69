import type { Narration } from '../contracts/catalogue';

/**
 * What a narrator is asked: a system instruction, the user message (the segment's aggregates as quoted JSON data),
 * the JSON Schema the answer must follow (for JSON-constrained generation), and a semantic check the answer must
 * pass (problems as short machine-readable strings; empty when fine). Built by `buildNarrationPrompt`.
 */
export interface NarrationPrompt {
  system: string;
  user: string;
  /** JSON Schema of `Narration`. */
  jsonSchema: Record<string, unknown>;
  check: (narration: Narration) => string[];
}

/** Writes a segment's name, persona and strategy. Throws `NarrationUnavailableError` when it cannot. */
export interface Narrator {
  narrate(prompt: NarrationPrompt): Promise<Narration>;
}

/** Why a narration could not be obtained: the rules are used instead, and this reason is recorded and counted. */
export type NarrationFailureReason =
  /** The model container answered with an error (SageMaker `ModelError`). */
  | 'model_error'
  | 'throttled'
  /** No answer within the per-attempt timeout, after all retries. */
  | 'timeout'
  | 'service_error'
  | 'network_error'
  | 'invalid_request'
  /** The answer is not in the contract's envelope (`[{"generated_text"}]` or `{"choices":[…]}`). */
  | 'bad_response'
  /** The generated text is not JSON, even after the repair attempt. */
  | 'invalid_json'
  /** JSON of the wrong shape (zod) or failing the semantic check, even after the repair attempt. */
  | 'invalid_narration';

/** The narrator cannot be used for this segment. Message and fields carry no prompt or model text. */
export class NarrationUnavailableError extends Error {
  override readonly name = 'NarrationUnavailableError';
  constructor(
    readonly reason: NarrationFailureReason,
    message: string,
    readonly attempts = 0,
  ) {
    super(`Narration unavailable (${reason}): ${message}`);
  }
}

export function isNarrationUnavailable(error: unknown): error is NarrationUnavailableError {
  return error instanceof NarrationUnavailableError;
}
