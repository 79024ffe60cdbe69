import {
  InvokeEndpointCommand,
  ModelError,
  SageMakerRuntimeClient,
  SageMakerRuntimeServiceException,
  ServiceUnavailable,
  ValidationError,
  type InvokeEndpointCommandInput,
  type InvokeEndpointCommandOutput,
} from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import {
  SAGEMAKER_MAX_PAYLOAD_BYTES,
  SageMakerEmbedder,
  type SageMakerEmbedderOptions,
} from '../../../shared/adapters/sagemaker-embedder';
import { embeddingSettingsSchema } from '../../../shared/config/settings';
import { EmbeddingUnavailableError } from '../../../shared/ports/embedder';

const sageMaker = mockClient(SageMakerRuntimeClient);
const client = new SageMakerRuntimeClient({ region: 'us-east-1', maxAttempts: 1 });

beforeEach(() => {
  sageMaker.reset();
});

function makeEmbedder(overrides: Partial<SageMakerEmbedderOptions> = {}): SageMakerEmbedder {
  // Parsing the settings schema proves the adapter takes the config object as is.
  const settings = embeddingSettingsSchema.parse({ endpointName: 'embed-ep', contract: 'tei', dimension: 3 });
  return new SageMakerEmbedder({ client, ...settings, maxRetries: 2, backoffBaseMs: 1, ...overrides });
}

function responseBody(json: unknown): Partial<InvokeEndpointCommandOutput> {
  const bytes = new TextEncoder().encode(JSON.stringify(json));
  return { Body: bytes as InvokeEndpointCommandOutput['Body'], ContentType: 'application/json' };
}

function requestJson(call: number): Record<string, unknown> {
  const input = sageMaker.commandCalls(InvokeEndpointCommand)[call]?.args[0].input as InvokeEndpointCommandInput;
  return JSON.parse(new TextDecoder().decode(input.Body as Uint8Array)) as Record<string, unknown>;
}

/** A deterministic fake model: text -> [len, vowels, 1], so each text gets a recognisable vector. */
function fakeVector(text: string): number[] {
  return [text.length, (text.match(/[aeiou]/g) ?? []).length, 1];
}

function fakeTei(input: InvokeEndpointCommandInput): Partial<InvokeEndpointCommandOutput> {
  const { inputs } = JSON.parse(new TextDecoder().decode(input.Body as Uint8Array)) as { inputs: string[] };
  return responseBody(inputs.map(fakeVector));
}

function unit(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function expectVector(actual: Float32Array | null | undefined, expected: number[]): void {
  expect(actual).toBeInstanceOf(Float32Array);
  expect(actual).toHaveLength(expected.length);
  expected.forEach((x, i) => expect(actual?.[i]).toBeCloseTo(x, 6));
}

function throttling(status = 400): SageMakerRuntimeServiceException {
  return new SageMakerRuntimeServiceException({
    name: 'ThrottlingException',
    $fault: 'client',
    $metadata: { httpStatusCode: status },
    message: 'Rate exceeded',
  });
}

function unavailable(): ServiceUnavailable {
  return new ServiceUnavailable({ $metadata: { httpStatusCode: 503 }, message: 'Service unavailable' });
}

function modelError(originalStatusCode: number, message = 'Received client error'): ModelError {
  return new ModelError({ $metadata: { httpStatusCode: 424 }, message, OriginalStatusCode: originalStatusCode });
}

async function captureError(promise: Promise<unknown>): Promise<EmbeddingUnavailableError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof EmbeddingUnavailableError) return error;
    throw error;
  }
  throw new Error('expected EmbeddingUnavailableError');
}

describe('SageMakerEmbedder: contracts', () => {
  it('tei: sends {"inputs"} as JSON and parses [[...]] into unit vectors in input order', async () => {
    // Arrange
    sageMaker.on(InvokeEndpointCommand).resolves(
      responseBody([
        [3, 4, 0],
        [0, 0, 2],
      ]),
    );
    const embedder = makeEmbedder({ contract: 'tei' });

    // Act
    const vectors = await embedder.embed(['first', 'second']);

    // Assert
    const input = sageMaker.commandCalls(InvokeEndpointCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      EndpointName: 'embed-ep',
      ContentType: 'application/json',
      Accept: 'application/json',
    });
    expect(requestJson(0)).toEqual({ inputs: ['first', 'second'], truncate: true });
    expectVector(vectors[0], [0.6, 0.8, 0]);
    expectVector(vectors[1], [0, 0, 1]);
  });

  it('jumpstart: sends {"text_inputs"} and parses {"embedding": [[...]]}', async () => {
    // Arrange
    sageMaker.on(InvokeEndpointCommand).resolves(
      responseBody({
        embedding: [
          [0, 5, 0],
          [1, 1, 1],
        ],
      }),
    );
    const embedder = makeEmbedder({ contract: 'jumpstart' });

    // Act
    const vectors = await embedder.embed(['a', 'b']);

    // Assert
    expect(requestJson(0)).toEqual({ text_inputs: ['a', 'b'] });
    expectVector(vectors[0], [0, 1, 0]);
    expectVector(vectors[1], unit([1, 1, 1]));
  });

  it('jumpstart: accepts a flat vector for a single input', async () => {
    sageMaker.on(InvokeEndpointCommand).resolves(responseBody({ embedding: [0, 0, 7] }));

    const [vector] = await makeEmbedder({ contract: 'jumpstart' }).embed(['only']);

    expectVector(vector, [0, 0, 1]);
  });

  it.each([
    { name: 'tei contract given a jumpstart answer', contract: 'tei' as const, body: { embedding: [[1, 0, 0]] } },
    { name: 'jumpstart contract given a tei answer', contract: 'jumpstart' as const, body: [[1, 0, 0]] },
    { name: 'a vector that is not an array', contract: 'tei' as const, body: [{ v: [1, 0, 0] }] },
    { name: 'a non-numeric component', contract: 'tei' as const, body: [[1, null, 0]] },
  ])('rejects $name as bad_response, without retrying', async ({ contract, body }) => {
    // Arrange
    sageMaker.on(InvokeEndpointCommand).resolves(responseBody(body));
    const embedder = makeEmbedder({ contract });

    // Act
    const error = await captureError(embedder.embed(['x']));

    // Assert
    expect(error.reason).toBe('bad_response');
    expect(sageMaker.commandCalls(InvokeEndpointCommand)).toHaveLength(1);
    expect(embedder.stats).toMatchObject({ calls: 1, failures: 1 });
  });

  it('rejects a body that is not JSON as bad_response', async () => {
    sageMaker.on(InvokeEndpointCommand).resolves({
      Body: new TextEncoder().encode('<html>oops</html>') as InvokeEndpointCommandOutput['Body'],
    });

    const error = await captureError(makeEmbedder().embed(['x']));

    expect(error.reason).toBe('bad_response');
  });

  it('rejects a wrong dimension as dimension_mismatch, without retrying', async () => {
    // Arrange: configured 3, the model answers 4
    sageMaker.on(InvokeEndpointCommand).resolves(responseBody([[1, 0, 0, 0]]));
    const embedder = makeEmbedder();

    // Act
    const error = await captureError(embedder.embed(['x']));

    // Assert
    expect(error.reason).toBe('dimension_mismatch');
    expect(sageMaker.commandCalls(InvokeEndpointCommand)).toHaveLength(1);
  });

  it('rejects a wrong number of vectors as bad_response', async () => {
    sageMaker.on(InvokeEndpointCommand).resolves(responseBody([[1, 0, 0]]));

    const error = await captureError(makeEmbedder().embed(['x', 'y']));

    expect(error.reason).toBe('bad_response');
    expect(error.message).toContain('expected 2 vectors');
  });

  it('keeps a zero vector zero', async () => {
    sageMaker.on(InvokeEndpointCommand).resolves(responseBody([[0, 0, 0]]));

    const [vector] = await makeEmbedder().embed(['x']);

    expectVector(vector, [0, 0, 0]);
  });
});

describe('SageMakerEmbedder: batching and cache', () => {
  it('returns [] for no texts without calling the endpoint', async () => {
    const embedder = makeEmbedder();

    await expect(embedder.embed([])).resolves.toEqual([]);
    expect(sageMaker.commandCalls(InvokeEndpointCommand)).toHaveLength(0);
  });

  it('sends a batch of 100 texts with few distinct values as exactly one request of the distinct texts', async () => {
    // Arrange
    sageMaker.on(InvokeEndpointCommand).callsFake(fakeTei);
    const embedder = makeEmbedder({ maxBatchSize: 8 });
    const distinct = ['shoes', 'dress', 'kettle', 'scarf', 'tea'];
    const texts = Array.from({ length: 100 }, (_, i) => distinct[i % distinct.length] as string);

    // Act
    const vectors = await embedder.embed(texts);

    // Assert
    expect(sageMaker.commandCalls(InvokeEndpointCommand)).toHaveLength(1);
    expect(requestJson(0)).toEqual({ inputs: distinct, truncate: true });
    expect(vectors).toHaveLength(100);
    texts.forEach((text, i) => expectVector(vectors[i], unit(fakeVector(text))));
    expect(embedder.stats).toMatchObject({ calls: 1, textsSent: 5, cacheHits: 0, failures: 0 });
  });

  it('serves repeats from the cache and sends only the misses', async () => {
    // Arrange
    sageMaker.on(InvokeEndpointCommand).callsFake(fakeTei);
    const embedder = makeEmbedder();
    await embedder.embed(['alpha', 'beta']);

    // Act
    const vectors = await embedder.embed(['beta', 'gamma', 'beta']);

    // Assert
    expect(sageMaker.commandCalls(InvokeEndpointCommand)).toHaveLength(2);
    expect(requestJson(1)).toEqual({ inputs: ['gamma'], truncate: true });
    expectVector(vectors[0], unit(fakeVector('beta')));
    expectVector(vectors[1], unit(fakeVector('gamma')));
    expectVector(vectors[2], unit(fakeVector('beta')));
    expect(embedder.stats).toMatchObject({ calls: 2, textsSent: 3, cacheHits: 1, failures: 0 });
  });

  it('evicts the least recently used text when the cache is full', async () => {
    // Arrange
    sageMaker.on(InvokeEndpointCommand).callsFake(fakeTei);
    const embedder = makeEmbedder({ cacheSize: 2 });
    await embedder.embed(['a', 'b']);
    await embedder.embed(['a']); // a is now the most recent
    await embedder.embed(['c']); // evicts b

    // Act
    await embedder.embed(['a', 'b']);

    // Assert
    expect(requestJson(2)).toEqual({ inputs: ['b'], truncate: true });
  });

  it('does not cache when cacheSize is 0', async () => {
    sageMaker.on(InvokeEndpointCommand).callsFake(fakeTei);
    const embedder = makeEmbedder({ cacheSize: 0 });

    await embedder.embed(['a']);
    await embedder.embed(['a']);

    expect(sageMaker.commandCalls(InvokeEndpointCommand)).toHaveLength(2);
    expect(embedder.stats.cacheHits).toBe(0);
  });

  it('returns copies, so a caller mutating a vector does not corrupt the cache', async () => {
    sageMaker.on(InvokeEndpointCommand).callsFake(fakeTei);
    const embedder = makeEmbedder();
    const [first] = await embedder.embed(['alpha']);
    first?.fill(42);

    const [second] = await embedder.embed(['alpha']);

    expectVector(second, unit(fakeVector('alpha')));
  });

  it('chunks misses at maxBatchSize, in order', async () => {
    // Arrange
    sageMaker.on(InvokeEndpointCommand).callsFake(fakeTei);
    const embedder = makeEmbedder({ maxBatchSize: 2 });

    // Act
    const vectors = await embedder.embed(['t1', 't2', 't3', 't4', 't5']);

    // Assert
    expect(sageMaker.commandCalls(InvokeEndpointCommand)).toHaveLength(3);
    expect([0, 1, 2].map(requestJson)).toEqual([
      { inputs: ['t1', 't2'], truncate: true },
      { inputs: ['t3', 't4'], truncate: true },
      { inputs: ['t5'], truncate: true },
    ]);
    expect(vectors).toHaveLength(5);
  });

  it('keeps chunks that succeeded when a later chunk fails, so a redelivery sends only the rest', async () => {
    // Arrange
    sageMaker.on(InvokeEndpointCommand).callsFakeOnce(fakeTei).rejectsOnce(unavailable()).callsFake(fakeTei);
    const embedder = makeEmbedder({ maxBatchSize: 2, maxRetries: 0 });
    await expect(embedder.embed(['a', 'b', 'c'])).rejects.toBeInstanceOf(EmbeddingUnavailableError);

    // Act
    await embedder.embed(['a', 'b', 'c']);

    // Assert
    expect(requestJson(2)).toEqual({ inputs: ['c'], truncate: true });
  });

  it('splits a chunk whose body would exceed the 6 MB payload limit', async () => {
    // Arrange: four 2 MB texts fit one chunk by count but not by size
    sageMaker.on(InvokeEndpointCommand).callsFake(fakeTei);
    const embedder = makeEmbedder({ maxBatchSize: 4, maxInputChars: 10_000_000 });
    const big = ['a', 'b', 'c', 'd'].map((c) => c.repeat(2 * 1024 * 1024));

    // Act
    const vectors = await embedder.embed(big);

    // Assert
    const calls = sageMaker.commandCalls(InvokeEndpointCommand);
    expect(calls).toHaveLength(2);
    for (const call of calls)
      expect((call.args[0].input.Body as Uint8Array).byteLength).toBeLessThanOrEqual(SAGEMAKER_MAX_PAYLOAD_BYTES);
    expect(vectors).toHaveLength(4);
  });

  it('a single text over the payload limit is not embeddable, and the endpoint is not called for it', async () => {
    sageMaker.on(InvokeEndpointCommand).callsFake(fakeTei);
    const embedder = makeEmbedder({ maxInputChars: 10_000_000 });

    const vectors = await embedder.embed(['x'.repeat(SAGEMAKER_MAX_PAYLOAD_BYTES), 'ok']);

    expect(vectors[0]).toBeNull();
    expectVector(vectors[1], unit(fakeVector('ok')));
    expect(requestJson(0)).toEqual({ inputs: ['ok'], truncate: true });
    expect(embedder.stats.notEmbeddable).toBe(1);
  });
});

describe('SageMakerEmbedder: errors, retries and timeouts', () => {
  it('retries a ThrottlingException (HTTP 400) and then succeeds', async () => {
    // Arrange
    sageMaker.on(InvokeEndpointCommand).rejectsOnce(throttling(400)).callsFake(fakeTei);
    const attempts: number[] = [];
    const embedder = makeEmbedder({ onCall: ({ attempt }) => attempts.push(attempt) });

    // Act
    const [vector] = await embedder.embed(['shoes']);

    // Assert
    expectVector(vector, unit(fakeVector('shoes')));
    expect(attempts).toEqual([1, 2]);
    expect(embedder.stats).toMatchObject({ calls: 2, textsSent: 2, cacheHits: 0, failures: 1 });
  });

  it.each([
    { name: 'HTTP 429', error: () => throttling(429) },
    { name: 'ServiceUnavailable (503)', error: () => unavailable() },
    { name: 'a ModelError whose container said 503', error: () => modelError(503) },
    {
      name: 'a reset connection',
      error: () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
    },
  ])('retries $name', async ({ error }) => {
    sageMaker.on(InvokeEndpointCommand).rejectsOnce(error()).callsFake(fakeTei);
    const embedder = makeEmbedder();

    await embedder.embed(['x']);

    expect(sageMaker.commandCalls(InvokeEndpointCommand)).toHaveLength(2);
  });

  it('gives up after maxRetries and reports the reason', async () => {
    // Arrange
    sageMaker.on(InvokeEndpointCommand).rejects(throttling(400));
    const embedder = makeEmbedder({ maxRetries: 3 });

    // Act
    const error = await captureError(embedder.embed(['x', 'y']));

    // Assert
    expect(error.reason).toBe('throttled');
    expect(error.attempts).toBe(4);
    expect(error.texts).toBe(2);
    expect(error.errorName).toBe('ThrottlingException');
    expect(sageMaker.commandCalls(InvokeEndpointCommand)).toHaveLength(4);
    expect(embedder.stats).toMatchObject({ calls: 4, failures: 4 });
  });

  it.each([
    { name: 'service_error after 5xx', error: () => unavailable(), reason: 'service_error' },
    { name: 'throttled after a container 429', error: () => modelError(429), reason: 'throttled' },
  ])('gives up with $name', async ({ error, reason }) => {
    sageMaker.on(InvokeEndpointCommand).rejects(error());

    const thrown = await captureError(makeEmbedder({ maxRetries: 1 }).embed(['x']));

    expect(thrown.reason).toBe(reason);
    expect(sageMaker.commandCalls(InvokeEndpointCommand)).toHaveLength(2);
  });

  it('does not retry a ModelError from a 4xx: a text refused alone is not embeddable (null)', async () => {
    // Arrange
    sageMaker.on(InvokeEndpointCommand).rejects(modelError(400));
    const embedder = makeEmbedder({ maxRetries: 3 });

    // Act
    const vectors = await embedder.embed(['x']);

    // Assert
    expect(vectors).toEqual([null]);
    expect(sageMaker.commandCalls(InvokeEndpointCommand)).toHaveLength(1);
    expect(embedder.stats).toMatchObject({ calls: 1, failures: 1, notEmbeddable: 1, isolationCalls: 0 });
  });

  it('raises model_error when the container keeps failing with a 5xx', async () => {
    sageMaker.on(InvokeEndpointCommand).rejects(modelError(500));

    const error = await captureError(makeEmbedder({ maxRetries: 1 }).embed(['x', 'y']));

    expect(error).toMatchObject({
      reason: 'model_error',
      attempts: 2,
      errorName: 'ModelError',
      originalStatusCode: 500,
    });
  });

  it('does not retry a ValidationError (e.g. unknown endpoint)', async () => {
    sageMaker
      .on(InvokeEndpointCommand)
      .rejects(new ValidationError({ $metadata: { httpStatusCode: 400 }, message: 'Endpoint x not found' }));

    const error = await captureError(makeEmbedder().embed(['x']));

    expect(error.reason).toBe('invalid_request');
    expect(sageMaker.commandCalls(InvokeEndpointCommand)).toHaveLength(1);
  });

  it('never puts the texts in the error, even when the model echoes them', async () => {
    // Arrange
    const secret = 'jane.doe@example.com wants a wedding dress';
    sageMaker.on(InvokeEndpointCommand).rejects(modelError(500, `cannot embed "${secret}"`));

    // Act
    const error = await captureError(makeEmbedder({ maxRetries: 0 }).embed([secret]));

    // Assert
    expect(error.message).not.toContain('jane');
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain('jane');
    expect(error.cause).toBeUndefined();
  });

  it('times out an attempt that never answers, aborts it, retries, then raises timeout', async () => {
    // Arrange: a request that hangs until aborted
    sageMaker.on(InvokeEndpointCommand).callsFake(() => new Promise(() => undefined));
    const embedder = makeEmbedder({ timeoutMs: 20, maxRetries: 1 });
    const started = Date.now();

    // Act
    const error = await captureError(embedder.embed(['x']));

    // Assert
    expect(error.reason).toBe('timeout');
    expect(error.attempts).toBe(2);
    expect(Date.now() - started).toBeLessThan(2_000);
    const signals = sageMaker.send
      .getCalls()
      .map((call) => ((call.args as unknown[])[1] as { abortSignal?: AbortSignal } | undefined)?.abortSignal);
    expect(signals).toHaveLength(2);
    for (const signal of signals) expect(signal?.aborted).toBe(true);
  });

  it('recovers when a timed-out attempt is followed by a fast one', async () => {
    sageMaker
      .on(InvokeEndpointCommand)
      .callsFakeOnce(() => new Promise(() => undefined))
      .callsFake(fakeTei);
    const embedder = makeEmbedder({ timeoutMs: 20 });

    const [vector] = await embedder.embed(['late']);

    expectVector(vector, unit(fakeVector('late')));
    expect(embedder.stats).toMatchObject({ calls: 2, failures: 1 });
  });

  it('waits a jittered, growing backoff between attempts', async () => {
    // Arrange: random() = 0.5, base 8 ms -> waits of 4, 8, 16 ms
    sageMaker.on(InvokeEndpointCommand).rejects(throttling(400));
    const times: number[] = [];
    const embedder = makeEmbedder({
      maxRetries: 3,
      backoffBaseMs: 8,
      random: () => 0.5,
      onCall: () => times.push(performance.now()),
    });

    // Act
    await captureError(embedder.embed(['x']));

    // Assert
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    expect(gaps).toHaveLength(3);
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(4 * 2 ** i - 1));
  });

  it.each([
    { name: 'dimension 0', overrides: { dimension: 0 } },
    { name: 'maxBatchSize 0', overrides: { maxBatchSize: 0 } },
    { name: 'negative maxRetries', overrides: { maxRetries: -1 } },
    { name: 'timeoutMs 0', overrides: { timeoutMs: 0 } },
  ])('rejects invalid options: $name', ({ overrides }) => {
    expect(() => makeEmbedder(overrides)).toThrow(RangeError);
  });
});
