import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { makeHandler } from '../../functions/ingest/app';
import { SageMakerEmbedder } from '../../shared/adapters/sagemaker-embedder';
import { startEmbeddedStack, type EmbeddedStack } from '../../local/stack';
import { startLocalEmbeddingServer, type LocalEmbeddingServer } from '../../local/sagemaker-server';
import { makeEvent } from '../support/factories';
import { modelFromPrototypes } from '../support/model';
import { testSettings } from '../support/settings';
import { lambdaContext } from '../support/lambda';
import { bodiesOf, sqsEvent } from '../support/sqs';

const settings = testSettings();
const now = new Date('2026-11-10T12:00:00Z');
/** Issue #9 C11: a 1,280-character Chinese review, sent to a model that refuses inputs over 512 tokens. */
const LONG_REVIEW = '这款保温杯质量很好，保温效果出色，外观也很漂亮，物流很快，包装完好。'.repeat(40).slice(0, 1280);

let stack: EmbeddedStack;
let limited: LocalEmbeddingServer;
let client: SageMakerRuntimeClient;

const view = (customerId: string, n: number, title: string) =>
  makeEvent('product.viewed', {
    customerId,
    eventId: `${customerId}-v${n}`,
    title,
    occurredAt: `2026-11-0${n}T08:00:00Z`,
  });

describe('ingest with a model that refuses over-long texts (issue #9 C11)', () => {
  beforeAll(async () => {
    stack = await startEmbeddedStack({ settings, clock: () => now });
    const model = modelFromPrototypes(
      [
        { segmentId: 'seg-001', name: 'Gardeners', events: [view('proto-g', 1, 'Ceramic plant pot')] },
        { segmentId: 'seg-002', name: 'Parents', events: [view('proto-b', 1, 'Baby stroller')] },
      ],
      settings,
      now,
    );
    await stack.modelStore.putVersion(model);
    await stack.modelStore.activate(1, null);
    limited = await startLocalEmbeddingServer({ dimension: settings.embedding.dimension, maxInputChars: 512 });
    client = new SageMakerRuntimeClient({
      endpoint: limited.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
  });
  afterAll(async () => {
    client.destroy();
    await limited.close();
    await stack.close();
  });

  test('C11: the review alone is not embeddable; the other customers of the batch keep their embeddings; it is never retried', async () => {
    // Arrange: no cut and no truncate flag, so the model sees (and refuses) the whole review, as in the issue.
    const embedder = new SageMakerEmbedder({ ...settings.embedding, maxInputChars: 100_000, truncate: false, client });
    const handler = makeHandler(stack.ingestDeps({ embedder }));
    const refusedBefore = stack.metrics.counts.TextsNotEmbeddable ?? 0;
    const batch = [
      makeEvent('review.submitted', {
        customerId: 'reviewer',
        eventId: 'reviewer-w1',
        rating: 5,
        text: LONG_REVIEW,
        occurredAt: '2026-11-05T08:00:00Z',
      }),
      view('cust-a', 2, 'Ceramic plant pot'),
      view('cust-b', 3, 'Baby stroller'),
    ];

    // Act
    const response = await handler(sqsEvent(bodiesOf(batch), 'b1'), lambdaContext);

    // Assert
    expect(response.batchItemFailures).toEqual([]);
    const [a, b, reviewer] = await Promise.all(
      ['cust-a', 'cust-b', 'reviewer'].map((c) => stack.table.profiles.get(c)),
    );
    expect(a?.features.interest).not.toBeNull();
    expect(b?.features.interest).not.toBeNull();
    expect(a?.features.pendingEmbeddings).toBe(0);
    expect(b?.features.pendingEmbeddings).toBe(0);
    expect(reviewer?.features.pendingEmbeddings).toBe(0); // refused: not waiting for a retry
    const log = await stack.table.eventLog.load('reviewer');
    expect(log.map((e) => e.embedding)).toEqual(['refused']);
    expect((stack.metrics.counts.TextsNotEmbeddable ?? 0) - refusedBefore).toBe(1);
    expect(embedder.stats.notEmbeddable).toBe(1);

    // Act again, as a new cold start (an empty embedding cache): a later batch of the same customer does not send
    // the review again, because the state knows it was refused.
    const textsBefore = limited.stats.texts;
    const failuresBefore = limited.stats.failures;
    const cold = new SageMakerEmbedder({ ...settings.embedding, maxInputChars: 100_000, truncate: false, client });
    await makeHandler(stack.ingestDeps({ embedder: cold }))(
      sqsEvent(bodiesOf([view('reviewer', 6, 'Travel mug')]), 'b2'),
      lambdaContext,
    );
    expect(limited.stats.failures).toBe(failuresBefore);
    expect(limited.stats.texts - textsBefore).toBe(1); // only "Travel mug"
    expect((await stack.table.profiles.get('reviewer'))?.features.interest).not.toBeNull();
  });
});
