import {
  InvokeEndpointCommand,
  ModelError,
  SageMakerRuntimeClient,
  ServiceUnavailable,
  type InvokeEndpointCommandInput,
  type InvokeEndpointCommandOutput,
} from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { cutToCodePoints, SageMakerEmbedder, sha256Hex } from '../../../shared/adapters/sagemaker-embedder';
import { embeddingSettingsSchema } from '../../../shared/config/settings';
import { EmbeddingUnavailableError } from '../../../shared/ports/embedder';

const sageMaker = mockClient(SageMakerRuntimeClient);
const client = new SageMakerRuntimeClient({ region: 'us-east-1', maxAttempts: 1 });
beforeEach(() => sageMaker.reset());

function makeEmbedder(settings: Record<string, unknown> = {}): SageMakerEmbedder {
  const parsed = embeddingSettingsSchema.parse({ endpointName: 'ep', contract: 'tei', dimension: 2, ...settings });
  return new SageMakerEmbedder({ client, ...parsed, maxRetries: 1, backoffBaseMs: 1 });
}

function inputsOf(input: InvokeEndpointCommandInput): string[] {
  return (JSON.parse(new TextDecoder().decode(input.Body as Uint8Array)) as { inputs: string[] }).inputs;
}

/** A fake model that refuses (ModelError, container 413) any request holding a text that starts with "BAD". */
function pickyModel(input: InvokeEndpointCommandInput): Partial<InvokeEndpointCommandOutput> {
  const inputs = inputsOf(input);
  if (inputs.some((t) => t.startsWith('BAD'))) {
    throw new ModelError({ $metadata: { httpStatusCode: 424 }, message: 'too long', OriginalStatusCode: 413 });
  }
  const body = new TextEncoder().encode(JSON.stringify(inputs.map((t) => [t.length, 1])));
  return { Body: body as InvokeEndpointCommandOutput['Body'] };
}

describe('SageMakerEmbedder isolates the texts a model refuses (issue #9 C11)', () => {
  test('one refused text among 8: the other 7 are embedded; 1 + 2·3 requests find it', async () => {
    sageMaker.on(InvokeEndpointCommand).callsFake(pickyModel);
    const embedder = makeEmbedder();
    const texts = ['a', 'b', 'c', 'd', 'e', 'BAD f', 'g', 'h'];

    const vectors = await embedder.embed(texts);

    expect(vectors.map((v) => v === null)).toEqual([false, false, false, false, false, true, false, false]);
    expect(sageMaker.commandCalls(InvokeEndpointCommand)).toHaveLength(7);
    expect(embedder.stats).toMatchObject({ notEmbeddable: 1, isolationCalls: 6 });
  });

  test('two refused texts in different halves are both isolated; the rest embedded', async () => {
    sageMaker.on(InvokeEndpointCommand).callsFake(pickyModel);
    const embedder = makeEmbedder();

    const vectors = await embedder.embed(['BAD 1', 'x', 'y', 'BAD 2']);

    expect(vectors.map((v) => v === null)).toEqual([true, false, false, true]);
    expect(embedder.stats.notEmbeddable).toBe(2);
  });

  test('an endpoint that becomes unavailable while isolating rejects the call (nothing is marked)', async () => {
    sageMaker
      .on(InvokeEndpointCommand)
      .callsFakeOnce(pickyModel)
      .rejects(new ServiceUnavailable({ $metadata: { httpStatusCode: 503 }, message: 'down' }));
    const embedder = makeEmbedder();

    await expect(embedder.embed(['a', 'BAD'])).rejects.toBeInstanceOf(EmbeddingUnavailableError);
    expect(embedder.stats.notEmbeddable).toBe(0);
  });

  test('the cache holds SHA-256 keys only, never a text', async () => {
    sageMaker.on(InvokeEndpointCommand).callsFake(pickyModel);
    const embedder = makeEmbedder();
    const texts = ['jane.doe@example.com', 'BAD secret'];

    await embedder.embed(texts);

    const cache = (embedder as unknown as { cache: { keys(): IterableIterator<string> } }).cache;
    const keys = [...cache.keys()].sort();
    expect(keys).toEqual(texts.map(sha256Hex).sort());
    for (const key of keys) expect(key).toMatch(/^[0-9a-f]{64}$/);
  });

  test('texts that cut to the same prefix share one request entry and one cache entry', async () => {
    sageMaker.on(InvokeEndpointCommand).callsFake(pickyModel);
    const embedder = makeEmbedder({ maxInputChars: 3 });

    const vectors = await embedder.embed(['abcdef', 'abcxyz', 'ab']);

    expect(inputsOf(sageMaker.commandCalls(InvokeEndpointCommand)[0]!.args[0].input)).toEqual(['abc', 'ab']);
    expect(Array.from(vectors[0]!)).toEqual(Array.from(vectors[1]!));
    expect(embedder.stats.truncated).toBe(1);
  });
});

describe('cutToCodePoints', () => {
  const cases: { name: string; text: string; max: number; expected: string }[] = [
    { name: 'short text unchanged', text: 'abc', max: 5, expected: 'abc' },
    { name: 'latin cut', text: 'abcdef', max: 4, expected: 'abcd' },
    { name: 'CJK counts one per character', text: '保温杯质量很好', max: 3, expected: '保温杯' },
    { name: 'an emoji (surrogate pair) is one code point, never split', text: 'a😀b😀c', max: 2, expected: 'a😀' },
    { name: 'cut right after a pair', text: '😀😀😀', max: 2, expected: '😀😀' },
    { name: 'a lone high surrogate counts as one', text: 'a\ud800bc', max: 2, expected: 'a\ud800' },
    { name: 'combining marks are code points of their own', text: 'e\u0301e\u0301', max: 3, expected: 'e\u0301e' },
  ];
  test.each(cases)('$name', ({ text, max, expected }) => {
    expect(cutToCodePoints(text, max)).toBe(expected);
  });
});
