import {
  InvokeEndpointCommand,
  ModelError,
  SageMakerRuntimeClient,
  ValidationError,
} from '@aws-sdk/client-sagemaker-runtime';
import { startLocalEmbeddingServer, type LocalEmbeddingServer } from '../../local/sagemaker-server';
import { SageMakerEmbedder, type SageMakerEmbedderOptions } from '../../shared/adapters/sagemaker-embedder';
import { embeddingSettingsSchema } from '../../shared/config/settings';
import { encodeText } from '../../shared/embedding/hashing-encoder';

const DIMENSION = 64;
const TEXTS = ['wireless headphones', 'running shoes for men', 'wireless headphones', 'Café crème', ''];

let server: LocalEmbeddingServer;
let client: SageMakerRuntimeClient;

beforeAll(async () => {
  server = await startLocalEmbeddingServer({ port: 0, dimension: DIMENSION });
  client = new SageMakerRuntimeClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    // The adapter owns retries.
    maxAttempts: 1,
  });
});

afterEach(() => {
  server.setFailure(null);
  server.setLatency(0);
});

afterAll(async () => {
  client.destroy();
  await server.close();
});

function makeEmbedder(overrides: Partial<SageMakerEmbedderOptions> = {}): SageMakerEmbedder {
  const settings = embeddingSettingsSchema.parse({
    endpointName: 'shoal-embed',
    contract: 'tei',
    dimension: DIMENSION,
  });
  return new SageMakerEmbedder({ client, ...settings, backoffBaseMs: 1, ...overrides });
}

function expectEncoded(actual: Float32Array | null | undefined, text: string): void {
  const expected = encodeText(text, DIMENSION);
  expect(actual).toBeInstanceOf(Float32Array);
  expect(actual).toHaveLength(DIMENSION);
  expected.forEach((x, i) => expect(actual?.[i]).toBeCloseTo(x, 6));
}

function norm(v: Float32Array | null | undefined): number {
  return Math.hypot(...(v ?? []));
}

async function captureError(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('local SageMaker embedding server + SageMakerEmbedder, through the real SDK', () => {
  it.each(['tei', 'jumpstart'] as const)(
    '%s: returns the encodeText vectors, unit norm, in input order',
    async (contract) => {
      // Arrange
      const embedder = makeEmbedder({ contract });
      const before = server.stats.invocations;

      // Act
      const vectors = await embedder.embed(TEXTS);

      // Assert
      expect(vectors).toHaveLength(TEXTS.length);
      TEXTS.forEach((text, i) => expectEncoded(vectors[i], text));
      vectors.slice(0, 4).forEach((v) => expect(norm(v)).toBeCloseTo(1, 5));
      expect(norm(vectors[4])).toBe(0); // the empty text has no features
      expect(server.stats.invocations - before).toBe(1);
      expect(embedder.stats).toMatchObject({ calls: 1, textsSent: 4, cacheHits: 0, failures: 0 });
    },
  );

  it('serves a repeated batch from the cache without a second invocation', async () => {
    // Arrange
    const embedder = makeEmbedder();
    await embedder.embed(TEXTS);
    const before = server.stats.invocations;

    // Act
    const vectors = await embedder.embed(TEXTS);

    // Assert
    expect(server.stats.invocations).toBe(before);
    TEXTS.forEach((text, i) => expectEncoded(vectors[i], text));
    expect(embedder.stats.cacheHits).toBe(4);
  });

  it('chunks the distinct misses at maxBatchSize', async () => {
    // Arrange
    const embedder = makeEmbedder({ maxBatchSize: 3 });
    const texts = Array.from({ length: 7 }, (_, i) => `product number ${i}`);
    const before = { ...server.stats };

    // Act
    const vectors = await embedder.embed([...texts, ...texts]);

    // Assert
    expect(server.stats.invocations - before.invocations).toBe(3);
    expect(server.stats.texts - before.texts).toBe(7);
    expect(vectors).toHaveLength(14);
    [...texts, ...texts].forEach((text, i) => expectEncoded(vectors[i], text));
  });

  it('a ModelError set on the server arrives as the SDK ModelError, with the container status', async () => {
    // Arrange
    server.setFailure({ status: 424, errorType: 'ModelError', originalStatusCode: 400, times: 1 });

    // Act
    const error = await captureError(
      client.send(
        new InvokeEndpointCommand({
          EndpointName: 'shoal-embed',
          ContentType: 'application/json',
          Accept: 'application/json',
          Body: new TextEncoder().encode(JSON.stringify({ inputs: ['x'] })),
        }),
      ),
    );

    // Assert
    expect(error).toBeInstanceOf(ModelError);
    expect(error).toMatchObject({ name: 'ModelError', OriginalStatusCode: 400, $metadata: { httpStatusCode: 424 } });
  });

  it('the embedder does not retry a ModelError (400) on one text: the text is not embeddable (null)', async () => {
    // Arrange
    server.setFailure({ status: 424, errorType: 'ModelError', originalStatusCode: 400 });
    const embedder = makeEmbedder({ maxRetries: 2 });
    const before = server.stats.invocations;

    // Act
    const vectors = await embedder.embed(['never embedded']);

    // Assert
    expect(vectors).toEqual([null]);
    expect(embedder.stats.notEmbeddable).toBe(1);
    expect(server.stats.invocations - before).toBe(1);
  });

  it.each([
    { name: 'ThrottlingException (400)', status: 400, errorType: 'ThrottlingException' },
    { name: 'ServiceUnavailable (503)', status: 503, errorType: 'ServiceUnavailable' },
    { name: 'ModelNotReadyException (429)', status: 429, errorType: 'ModelNotReadyException' },
  ])('retries a transient $name and succeeds', async ({ status, errorType }) => {
    // Arrange
    server.setFailure({ status, errorType, times: 1 });
    const embedder = makeEmbedder({ maxRetries: 2 });
    const before = server.stats.invocations;

    // Act
    const [vector] = await embedder.embed([`retry after ${errorType}`]);

    // Assert
    expectEncoded(vector, `retry after ${errorType}`);
    expect(server.stats.invocations - before).toBe(2);
    expect(embedder.stats).toMatchObject({ calls: 2, failures: 1 });
  });

  it('times out a slow endpoint through the real HTTP handler', async () => {
    // Arrange
    server.setLatency(400);
    const embedder = makeEmbedder({ timeoutMs: 100, maxRetries: 0 });
    const started = Date.now();

    // Act
    const error = await captureError(embedder.embed(['slow']));

    // Assert
    expect(error).toMatchObject({ reason: 'timeout', attempts: 1 });
    expect(Date.now() - started).toBeLessThan(400);
  });

  it('rejects a forced response contract that does not match the adapter', async () => {
    // Arrange: a server that always answers in the JumpStart shape, and a TEI adapter
    const jumpstartOnly = await startLocalEmbeddingServer({ dimension: DIMENSION, contract: 'jumpstart' });
    const otherClient = new SageMakerRuntimeClient({
      endpoint: jumpstartOnly.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    try {
      // Act
      const error = await captureError(makeEmbedder({ client: otherClient, contract: 'tei' }).embed(['x']));

      // Assert
      expect(error).toMatchObject({ reason: 'bad_response' });
    } finally {
      otherClient.destroy();
      await jumpstartOnly.close();
    }
  });

  it('a wrong configured dimension is caught as dimension_mismatch', async () => {
    const error = await captureError(makeEmbedder({ dimension: DIMENSION * 2 }).embed(['x']));

    expect(error).toMatchObject({ reason: 'dimension_mismatch' });
  });

  it('answers a body over 6 MB with ValidationError (413), as SageMaker does', async () => {
    const error = await captureError(
      client.send(
        new InvokeEndpointCommand({
          EndpointName: 'shoal-embed',
          ContentType: 'application/json',
          Body: new TextEncoder().encode(JSON.stringify({ inputs: ['x'.repeat(6 * 1024 * 1024)] })),
        }),
      ),
    );

    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ $metadata: { httpStatusCode: 413 } });
  });

  it('relays a malformed request body as a ModelError from the container (422)', async () => {
    const error = await captureError(
      client.send(
        new InvokeEndpointCommand({
          EndpointName: 'shoal-embed',
          ContentType: 'application/json',
          Body: new TextEncoder().encode('{"prompt": "x"}'),
        }),
      ),
    );

    expect(error).toBeInstanceOf(ModelError);
    expect(error).toMatchObject({ OriginalStatusCode: 422 });
  });
});
