import {
  InvokeEndpointCommand,
  ModelError,
  SageMakerRuntimeClient,
  ServiceUnavailable,
  type InvokeEndpointCommandOutput,
} from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { SageMakerNarrator, type SageMakerNarratorOptions } from '../../../shared/adapters/sagemaker-narrator';
import { buildNarrationPrompt } from '../../../shared/catalogue/prompt';
import { ruleNarration } from '../../../shared/catalogue/rules';
import { NarrationUnavailableError } from '../../../shared/ports/narrator';
import { population, statsOf } from '../catalogue/fixtures';

const sageMaker = mockClient(SageMakerRuntimeClient);
const client = new SageMakerRuntimeClient({ region: 'us-east-1', maxAttempts: 1 });

beforeEach(() => {
  sageMaker.reset();
});

function makeNarrator(overrides: Partial<SageMakerNarratorOptions> = {}): SageMakerNarrator {
  return new SageMakerNarrator({
    client,
    endpointName: 'narrator-ep',
    contract: 'tgi',
    maxTokens: 500,
    temperature: 0,
    timeoutMs: 200,
    maxRetries: 2,
    backoffBaseMs: 1,
    ...overrides,
  });
}

const stats = statsOf([{ spec: { orders: 5, revenue: 250, days: 12, tenure: 400, categories: ['kitchen'] }, n: 6 }]);
const valid = ruleNarration('seg-001', stats.profile, population);
const prompt = buildNarrationPrompt(stats, valid, [], () => []);

function body(json: unknown): Partial<InvokeEndpointCommandOutput> {
  return { Body: new TextEncoder().encode(JSON.stringify(json)) as InvokeEndpointCommandOutput['Body'] };
}
const tgi = (text: string) => body([{ generated_text: text }]);
const chat = (text: string) => body({ choices: [{ message: { role: 'assistant', content: text } }] });
const modelError = (original: number) =>
  new ModelError({ $metadata: { httpStatusCode: 424 }, message: 'model says no', OriginalStatusCode: original });

async function failure(n: SageMakerNarrator): Promise<NarrationUnavailableError> {
  const error = await n.narrate(prompt).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(NarrationUnavailableError);
  return error as NarrationUnavailableError;
}

describe('SageMakerNarrator fault cases', () => {
  it('ModelError from a 4xx container status: model_error, not retried', async () => {
    sageMaker.on(InvokeEndpointCommand).rejects(modelError(400));
    const error = await failure(makeNarrator());
    expect(error).toMatchObject({ reason: 'model_error', attempts: 1 });
    expect(sageMaker.commandCalls(InvokeEndpointCommand)).toHaveLength(1);
    expect(error.message).not.toContain('model says no');
  });

  it('ModelError from a 5xx container status is retried and can succeed', async () => {
    sageMaker
      .on(InvokeEndpointCommand)
      .rejectsOnce(modelError(503))
      .resolves(tgi(JSON.stringify(valid)));
    await expect(makeNarrator().narrate(prompt)).resolves.toEqual(valid);
    expect(sageMaker.commandCalls(InvokeEndpointCommand)).toHaveLength(2);
  });

  it('ServiceUnavailable past maxRetries: service_error after 1 + 2 attempts', async () => {
    sageMaker
      .on(InvokeEndpointCommand)
      .rejects(new ServiceUnavailable({ $metadata: { httpStatusCode: 503 }, message: 'x' }));
    const error = await failure(makeNarrator());
    expect(error).toMatchObject({ reason: 'service_error', attempts: 3 });
  });

  it('timeouts: each attempt is cut at timeoutMs, then timeout after 1 + maxRetries attempts', async () => {
    sageMaker.on(InvokeEndpointCommand).callsFake(() => new Promise(() => undefined));
    const started = Date.now();
    const error = await failure(makeNarrator({ timeoutMs: 50, maxRetries: 1 }));
    expect(error).toMatchObject({ reason: 'timeout', attempts: 2 });
    expect(sageMaker.commandCalls(InvokeEndpointCommand)).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it.each([
    {
      name: 'tgi envelope that is not JSON',
      contract: 'tgi' as const,
      out: { Body: new TextEncoder().encode('<html>') },
    },
    { name: 'tgi envelope without generated_text', contract: 'tgi' as const, out: body([{ text: '{}' }]) },
    { name: 'chat envelope without choices', contract: 'chat' as const, out: body({ output: '{}' }) },
    {
      name: 'chat content that is not a string',
      contract: 'chat' as const,
      out: body({ choices: [{ message: { content: 1 } }] }),
    },
  ])('$name: bad_response, not retried', async ({ contract, out }) => {
    sageMaker.on(InvokeEndpointCommand).resolves(out as Partial<InvokeEndpointCommandOutput>);
    const error = await failure(makeNarrator({ contract }));
    expect(error).toMatchObject({ reason: 'bad_response', attempts: 1 });
  });

  it('invalid JSON twice: invalid_json after exactly one repair request', async () => {
    sageMaker.on(InvokeEndpointCommand).resolves(tgi('{"name": "Loyal'));
    const n = makeNarrator();
    const error = await failure(n);
    expect(error).toMatchObject({ reason: 'invalid_json', attempts: 2 });
    expect(n.stats).toEqual({ calls: 2, repairs: 1, failures: 1 });
    const repair = JSON.parse(
      new TextDecoder().decode(sageMaker.commandCalls(InvokeEndpointCommand)[1]!.args[0].input.Body as Uint8Array),
    ) as { inputs: string };
    expect(repair.inputs).toContain('Your previous answer was invalid: answer is not a JSON object');
  });

  it.each([
    { name: 'missing strategy', json: { name: valid.name, persona: valid.persona } },
    { name: 'name over 40 characters', json: { ...valid, name: 'x'.repeat(41) } },
    { name: 'objective outside the enum', json: { ...valid, strategy: { ...valid.strategy, objective: 'delight' } } },
    { name: 'an array instead of an object', json: [valid] },
  ])('JSON of the wrong shape ($name): invalid_narration after one repair', async ({ json }) => {
    sageMaker.on(InvokeEndpointCommand).resolves(chat(JSON.stringify(json)));
    const error = await failure(makeNarrator({ contract: 'chat' }));
    expect(error).toMatchObject({ reason: 'invalid_narration', attempts: 2 });
    expect(sageMaker.commandCalls(InvokeEndpointCommand)).toHaveLength(2);
  });

  it('wrong shape, then a valid repair: the repaired narration', async () => {
    sageMaker
      .on(InvokeEndpointCommand)
      .resolvesOnce(chat('{"name": "x"}'))
      .resolves(chat('```json\n' + JSON.stringify(valid) + '\n```'));
    await expect(makeNarrator({ contract: 'chat' }).narrate(prompt)).resolves.toEqual(valid);
  });

  it('a model that obeys an injected instruction cannot add fields or change the format', async () => {
    sageMaker.on(InvokeEndpointCommand).resolves(tgi(JSON.stringify({ ...valid, pwned: true, html: '<b>x</b>' })));
    const narration = await makeNarrator().narrate(prompt);
    expect(Object.keys(narration).sort()).toEqual(['name', 'persona', 'strategy']);
    expect(narration).toEqual(valid);
  });

  it('temperature 0 asks for greedy decoding (no temperature sent; TGI rejects 0)', async () => {
    sageMaker.on(InvokeEndpointCommand).resolves(tgi(JSON.stringify(valid)));
    await makeNarrator({ temperature: 0 }).narrate(prompt);
    const request = JSON.parse(
      new TextDecoder().decode(sageMaker.commandCalls(InvokeEndpointCommand)[0]!.args[0].input.Body as Uint8Array),
    ) as { parameters: Record<string, unknown> };
    expect(request.parameters).toMatchObject({ do_sample: false, max_new_tokens: 500 });
    expect(request.parameters).not.toHaveProperty('temperature');
  });
});
