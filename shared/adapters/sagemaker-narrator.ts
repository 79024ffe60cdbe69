import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { narrationSchema, type Narration } from '../contracts/catalogue';
import {
  NarrationUnavailableError,
  type NarrationFailureReason,
  type NarrationPrompt,
  type Narrator,
} from '../ports/narrator';

/**
 * `tgi`: text generation, `{"inputs", "parameters"}` → `[{"generated_text"}]` (text-generation-inference, JumpStart),
 * JSON constrained with TGI's `parameters.grammar = {"type": "json", "value": <schema>}`.
 * `chat`: messages, `{"messages", "max_tokens", …}` → `{"choices": [{"message": {"content"}}]}` (TGI's messages API,
 * LMI), JSON constrained with `response_format = {"type": "json_object", "value": <schema>}` (TGI's form).
 */
export type NarrationContract = 'tgi' | 'chat';

export interface SageMakerNarratorOptions {
  /** Create it once per cold start with `maxAttempts: 1`: this adapter owns timeouts and retries. */
  client: SageMakerRuntimeClient;
  endpointName: string;
  contract: NarrationContract;
  /** Generation budget, in tokens. */
  maxTokens: number;
  /** Sampling temperature; 0 asks for greedy decoding. */
  temperature: number;
  /** Per-request deadline, in milliseconds. */
  timeoutMs: number;
  /** Transport retries per request (throttling, 5xx, timeouts, connection errors). Default 2. */
  maxRetries?: number;
  /** Ask for JSON-constrained generation (default true; turn off for containers that reject the parameter). */
  constrainJson?: boolean;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  random?: () => number;
  /** Called before each request (1-based attempt, whether it is the repair request). Counts only. */
  onCall?: (info: { attempt: number; repair: boolean }) => void;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

class AttemptTimeout extends Error {
  override readonly name = 'AttemptTimeout';
}

/** The generated text failed validation; `issues` are paths and codes only (no model text). */
class InvalidAnswer extends Error {
  constructor(
    readonly reason: 'invalid_json' | 'invalid_narration',
    readonly issues: string[],
  ) {
    super(issues.join('; '));
  }
}

/**
 * `Narrator` over a SageMaker real-time LLM endpoint (`InvokeEndpoint`). The answer must be one JSON object that
 * `narrationSchema` accepts and the prompt's `check` passes. An invalid answer gets one repair request (the
 * problems, by path, and the previous answer are sent back); a second invalid answer, a model error, or transport
 * failures past `maxRetries` throw `NarrationUnavailableError`, whose reason the caller records and counts. Error
 * messages never carry prompt or model text.
 */
export class SageMakerNarrator implements Narrator {
  readonly stats = { calls: 0, repairs: 0, failures: 0 };
  private readonly o: Required<Omit<SageMakerNarratorOptions, 'onCall'>> & Pick<SageMakerNarratorOptions, 'onCall'>;

  constructor(options: SageMakerNarratorOptions) {
    if (options.endpointName.length === 0) throw new RangeError('endpointName must not be empty');
    if (!(options.timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${options.timeoutMs}`);
    if (!(Number.isInteger(options.maxTokens) && options.maxTokens > 0))
      throw new RangeError(`maxTokens must be a positive integer, got ${options.maxTokens}`);
    this.o = {
      maxRetries: 2,
      constrainJson: true,
      backoffBaseMs: 100,
      backoffMaxMs: 2_000,
      random: Math.random,
      ...options,
    };
  }

  async narrate(prompt: NarrationPrompt): Promise<Narration> {
    const first = await this.generate(prompt, null);
    const parsed = this.validate(first, prompt);
    if (!(parsed instanceof InvalidAnswer)) return parsed;
    this.stats.repairs++;
    const second = await this.generate(prompt, { previous: first, issues: parsed.issues });
    const repaired = this.validate(second, prompt);
    if (!(repaired instanceof InvalidAnswer)) return repaired;
    this.stats.failures++;
    throw new NarrationUnavailableError(
      repaired.reason,
      `endpoint ${this.o.endpointName}: answer still invalid after one repair (${repaired.issues.slice(0, 5).join('; ')})`,
      2,
    );
  }

  private validate(text: string, prompt: NarrationPrompt): Narration | InvalidAnswer {
    let json: unknown;
    try {
      json = JSON.parse(extractJsonObject(text));
    } catch {
      return new InvalidAnswer('invalid_json', ['answer is not a JSON object']);
    }
    const result = narrationSchema.safeParse(json);
    if (!result.success) {
      return new InvalidAnswer(
        'invalid_narration',
        result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.code}`),
      );
    }
    const problems = prompt.check(result.data);
    return problems.length ? new InvalidAnswer('invalid_narration', problems) : result.data;
  }

  /** The request body of the contract; a repair adds the previous answer and its problems. */
  private body(prompt: NarrationPrompt, repair: { previous: string; issues: string[] } | null): object {
    const { maxTokens, temperature, constrainJson } = this.o;
    const repairText = repair
      ? `Your previous answer was invalid: ${repair.issues.slice(0, 10).join('; ')}. Return a corrected JSON object only.`
      : null;
    const previous = repair ? repair.previous.slice(0, 4_000) : '';
    const sampling = temperature > 0 ? { temperature } : {};
    if (this.o.contract === 'tgi') {
      const inputs = [prompt.system, prompt.user, ...(repair ? [`Previous answer: ${previous}`, repairText] : [])].join(
        '\n\n',
      );
      return {
        inputs,
        parameters: {
          max_new_tokens: maxTokens,
          return_full_text: false,
          do_sample: temperature > 0,
          ...sampling,
          ...(constrainJson && { grammar: { type: 'json', value: prompt.jsonSchema } }),
        },
      };
    }
    const messages = [
      { role: 'system', content: prompt.system },
      { role: 'user', content: prompt.user },
      ...(repair
        ? [
            { role: 'assistant', content: previous },
            { role: 'user', content: repairText },
          ]
        : []),
    ];
    return {
      messages,
      max_tokens: maxTokens,
      ...sampling,
      ...(constrainJson && { response_format: { type: 'json_object', value: prompt.jsonSchema } }),
    };
  }

  private async generate(
    prompt: NarrationPrompt,
    repair: { previous: string; issues: string[] } | null,
  ): Promise<string> {
    const body = utf8Encoder.encode(JSON.stringify(this.body(prompt, repair)));
    for (let attempt = 1; ; attempt++) {
      this.stats.calls++;
      this.o.onCall?.({ attempt, repair: repair !== null });
      let failure: { reason: NarrationFailureReason; retryable: boolean; detail: string };
      try {
        return this.generatedText(await this.send(body));
      } catch (error) {
        failure = classify(error);
      }
      if (!failure.retryable || attempt > this.o.maxRetries) {
        this.stats.failures++;
        throw new NarrationUnavailableError(
          failure.reason,
          `endpoint ${this.o.endpointName}, ${attempt} attempt(s): ${failure.detail}`,
          attempt,
        );
      }
      const ceiling = Math.min(this.o.backoffMaxMs, this.o.backoffBaseMs * 2 ** (attempt - 1));
      await sleep(Math.floor(this.o.random() * ceiling));
    }
  }

  private async send(body: Uint8Array): Promise<Uint8Array | undefined> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new AttemptTimeout(`no response within ${this.o.timeoutMs} ms`));
        controller.abort();
      }, this.o.timeoutMs);
    });
    const command = new InvokeEndpointCommand({
      EndpointName: this.o.endpointName,
      ContentType: 'application/json',
      Accept: 'application/json',
      Body: body,
    });
    try {
      const output = await Promise.race([this.o.client.send(command, { abortSignal: controller.signal }), deadline]);
      return output.Body;
    } catch (error) {
      throw controller.signal.aborted ? new AttemptTimeout(`no response within ${this.o.timeoutMs} ms`) : error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The generated text from the contract's envelope; a wrong envelope is a `bad_response`. */
  private generatedText(body: Uint8Array | undefined): string {
    if (body === undefined) throw new BadEnvelope('empty response body');
    let json: unknown;
    try {
      json = JSON.parse(utf8Decoder.decode(body));
    } catch {
      throw new BadEnvelope('response envelope is not JSON');
    }
    if (this.o.contract === 'tgi') {
      const first: unknown = Array.isArray(json) ? json[0] : json;
      const text = isRecord(first) ? first['generated_text'] : undefined;
      if (typeof text !== 'string') throw new BadEnvelope('response does not match the tgi contract');
      return text;
    }
    const choices = isRecord(json) ? json['choices'] : undefined;
    const message = Array.isArray(choices) && isRecord(choices[0]) ? choices[0]['message'] : undefined;
    const content = isRecord(message) ? message['content'] : undefined;
    if (typeof content !== 'string') throw new BadEnvelope('response does not match the chat contract');
    return content;
  }
}

class BadEnvelope extends Error {
  override readonly name = 'BadEnvelope';
}

/**
 * The JSON in a model's text: a text that starts as JSON is taken as is (so an array stays an array and fails the
 * schema); otherwise code fences and prose around the outermost braces are dropped.
 */
export function extractJsonObject(text: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return trimmed;
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  return start >= 0 && end > start ? text.slice(start, end + 1) : text;
}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'ModelNotReadyException',
]);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH']);

function classify(error: unknown): { reason: NarrationFailureReason; retryable: boolean; detail: string } {
  if (error instanceof AttemptTimeout) return { reason: 'timeout', retryable: true, detail: error.message };
  if (error instanceof BadEnvelope) return { reason: 'bad_response', retryable: false, detail: error.message };
  const e = isRecord(error) ? error : {};
  const name = typeof e['name'] === 'string' ? e['name'] : 'UnknownError';
  const metadata = isRecord(e['$metadata']) ? e['$metadata'] : {};
  const status = typeof metadata['httpStatusCode'] === 'number' ? metadata['httpStatusCode'] : undefined;
  const original = typeof e['OriginalStatusCode'] === 'number' ? e['OriginalStatusCode'] : undefined;
  const code = typeof e['code'] === 'string' ? e['code'] : undefined;
  const detail = `last error ${name}${status !== undefined ? ` (HTTP ${status})` : ''}`;
  if (name === 'ModelError') {
    if (original === 429) return { reason: 'throttled', retryable: true, detail };
    return { reason: 'model_error', retryable: original !== undefined && original >= 500, detail };
  }
  if (THROTTLING.has(name) || status === 429) return { reason: 'throttled', retryable: true, detail };
  if (name === 'TimeoutError' || name === 'RequestTimeout') return { reason: 'timeout', retryable: true, detail };
  if (code !== undefined && NETWORK_CODES.has(code)) return { reason: 'network_error', retryable: true, detail };
  if (e['$fault'] === 'server' || (status !== undefined && status >= 500))
    return { reason: 'service_error', retryable: true, detail };
  if (status !== undefined && status >= 400) return { reason: 'invalid_request', retryable: false, detail };
  return { reason: 'service_error', retryable: false, detail };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
