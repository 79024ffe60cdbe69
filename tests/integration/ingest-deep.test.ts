import { makeHandler } from '../../functions/ingest/app';
import { documentClient, DynamoQuarantine } from '../../shared/adapters/dynamo';
import { startEmbeddedStack, type EmbeddedStack } from '../../local/stack';
import { envelope, makeDetail } from '../support/factories';
import { testSettings } from '../support/settings';
import { lambdaContext } from '../support/lambda';
import { sqsEvent } from '../support/sqs';

const settings = testSettings();
const now = new Date('2026-11-10T12:00:00Z');
let stack: EmbeddedStack;

describe('one deep record harms no other (issue #9 C9)', () => {
  beforeAll(async () => {
    stack = await startEmbeddedStack({ settings, clock: () => now });
  });
  afterAll(() => stack.close());

  test('C9: a search nested 5,000 arrays deep is quarantined as too_deep; the same customer’s order in the batch is kept', async () => {
    const search = envelope(
      'search.performed',
      makeDetail('search.performed', { customerId: 'deep-c', eventId: 'deep-s1', occurredAt: '2026-11-09T10:00:00Z' }),
    ).replace('"detail":{', `"detail":{"extra":${'['.repeat(5_000)}${']'.repeat(5_000)},`);
    const order = envelope(
      'order.placed',
      makeDetail('order.placed', { customerId: 'deep-c', eventId: 'deep-o1', occurredAt: '2026-11-09T11:00:00Z' }),
    );

    const response = await makeHandler(stack.ingestDeps())(sqsEvent([search, order], 'deep'), lambdaContext);

    expect(response.batchItemFailures).toEqual([]);
    const quarantined = await new DynamoQuarantine(
      documentClient(stack.dynamo.client),
      stack.dynamo.quarantineTableName,
      30,
    ).list('2026-11-10');
    expect(quarantined.map((q) => [q.messageId, q.rejection.reason, q.rejection.eventId])).toEqual([
      ['deep-0', 'too_deep', 'deep-s1'],
    ]);
    const profile = await stack.table.profiles.get('deep-c');
    expect(profile?.features.orders).toBe(1);
    expect((await stack.table.eventLog.load('deep-c')).map((e) => e.event.detail.eventId)).toEqual(['deep-o1']);
  });
});
