import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { startLocalEmbeddingServer, type LocalEmbeddingServer } from '../../local/sagemaker-server';
import { SageMakerEmbedder, sha256Hex, type SageMakerEmbedderOptions } from '../../shared/adapters/sagemaker-embedder';
import { embeddingSettingsSchema } from '../../shared/config/settings';
import { encodeText } from '../../shared/embedding/hashing-encoder';

const DIMENSION = 32;
/** The model's limit in this suite: 512 "tokens" (code points), like a BERT-size TEI model. */
const MODEL_LIMIT = 512;
/** Issue #9 C11: a 1,280-character Chinese review. */
const LONG_REVIEW = '这款保温杯质量很好，保温效果出色，外观也很漂亮，物流很快，包装完好。'.repeat(40).slice(0, 1280);
const OTHERS = ['wireless headphones', 'running shoes for men', 'Café crème'];

let server: LocalEmbeddingServer;
let client: SageMakerRuntimeClient;

beforeAll(async () => {
  server = await startLocalEmbeddingServer({ port: 0, dimension: DIMENSION, maxInputChars: MODEL_LIMIT });
  client = new SageMakerRuntimeClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client.destroy();
  await server.close();
});

function makeEmbedder(settings: Record<string, unknown>, extra: Partial<SageMakerEmbedderOptions> = {}) {
  const parsed = embeddingSettingsSchema.parse({
    endpointName: 'shoal-embed',
    contract: 'tei',
    dimension: DIMENSION,
    ...settings,
  });
  return new SageMakerEmbedder({ client, ...parsed, backoffBaseMs: 1, ...extra });
}

function expectEncodes(actual: Float32Array | null | undefined, text: string): void {
  expect(actual).toBeInstanceOf(Float32Array);
  const expected = encodeText(text, DIMENSION);
  expected.forEach((x, i) => expect(actual![i]).toBeCloseTo(x, 5));
}

describe('over-long texts and the embedding model, through the real SDK (issue #9 C11)', () => {
  test('precondition: the 1,280-character review is over the model limit', () => {
    expect([...LONG_REVIEW]).toHaveLength(1280);
  });

  test('C11: a model that refuses the long review costs the others nothing; the review alone is not embeddable', async () => {
    // Arrange: no cut on our side, no truncate flag: the model sees the whole review and refuses it.
    const notEmbeddable: { sha256: string; codePoints: number }[] = [];
    const embedder = makeEmbedder(
      { maxInputChars: 100_000, truncate: false },
      { onNotEmbeddable: (info) => notEmbeddable.push(info) },
    );
    const before = server.stats.invocations;

    // Act
    const vectors = await embedder.embed([OTHERS[0]!, LONG_REVIEW, OTHERS[1]!, OTHERS[2]!]);

    // Assert
    expect(vectors[1]).toBeNull();
    expectEncodes(vectors[0], OTHERS[0]!);
    expectEncodes(vectors[2], OTHERS[1]!);
    expectEncodes(vectors[3], OTHERS[2]!);
    expect(embedder.stats.notEmbeddable).toBe(1);
    expect(notEmbeddable).toEqual([{ sha256: sha256Hex(LONG_REVIEW), codePoints: 1280 }]);
    // 1 refused request of 4, then halves [2 | 2], then [1 | 1] for the refused half: 5 requests.
    expect(server.stats.invocations - before).toBe(5);

    // Act again: the review is known not embeddable and is never sent again.
    const again = server.stats.invocations;
    const second = await embedder.embed([LONG_REVIEW, OTHERS[0]!]);
    expect(second[0]).toBeNull();
    expectEncodes(second[1], OTHERS[0]!);
    expect(server.stats.invocations - again).toBe(0);
  });

  test('C11: cut to the configured limit on a code point boundary, the review is embedded as its first 512 characters', async () => {
    const embedder = makeEmbedder({ maxInputChars: MODEL_LIMIT, truncate: false });

    const [review, other] = await embedder.embed([LONG_REVIEW, OTHERS[0]!]);

    expectEncodes(review, [...LONG_REVIEW].slice(0, MODEL_LIMIT).join(''));
    expectEncodes(other, OTHERS[0]!);
    expect(embedder.stats).toMatchObject({ truncated: 1, notEmbeddable: 0, calls: 1 });
  });

  test('C11: with TEI’s truncate flag the container cuts the review itself', async () => {
    const embedder = makeEmbedder({ maxInputChars: 100_000, truncate: true });

    const [review] = await embedder.embed([LONG_REVIEW]);

    expectEncodes(review, [...LONG_REVIEW].slice(0, MODEL_LIMIT).join(''));
    expect(embedder.stats).toMatchObject({ calls: 1, notEmbeddable: 0 });
  });

  test('the JumpStart contract has no truncate flag: only the cut applies, and a refused text is isolated', async () => {
    const embedder = makeEmbedder({ contract: 'jumpstart', maxInputChars: 100_000, truncate: true });

    const vectors = await embedder.embed([LONG_REVIEW, OTHERS[0]!]);

    expect(vectors[0]).toBeNull();
    expectEncodes(vectors[1], OTHERS[0]!);
  });
});
