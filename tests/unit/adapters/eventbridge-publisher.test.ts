import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgePublisher } from '../../../shared/adapters/eventbridge-publisher';
import type { OutboxEntry } from '../../../shared/ports/stores';

// Faults no embedded server produces: per-entry failures (FailedEntryCount) and a throttled call.
const eb = mockClient(EventBridgeClient);

const entry = (n: number): OutboxEntry => ({
  dedupeKey: `k${n}`,
  event: {
    detailType: 'lifecycle.changed',
    detail: {
      customerId: `c${n}`,
      from: null,
      to: 'new',
      pAlive: 1,
      changedAt: '2026-11-10T00:00:00.000Z',
      dedupeKey: `k${n}`,
    },
  },
});

const publisher = () =>
  new EventBridgePublisher({
    client: new EventBridgeClient({}),
    eventBusName: 'bus',
    maxAttempts: 3,
    sleep: async () => undefined,
  });

describe('EventBridgePublisher', () => {
  beforeEach(() => eb.reset());

  test('sends at most 10 entries per PutEvents call, to the configured bus with source shoal', async () => {
    eb.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map((_, i) => ({ EventId: `e${i}` })),
    }));
    const result = await publisher().publish(Array.from({ length: 23 }, (_, i) => entry(i)));
    expect(result).toEqual({ published: 23, failed: [] });
    const calls = eb.commandCalls(PutEventsCommand);
    expect(calls.map((c) => c.args[0].input.Entries?.length)).toEqual([10, 10, 3]);
    expect(calls[0]!.args[0].input.Entries![0]).toMatchObject({
      EventBusName: 'bus',
      Source: 'shoal',
      DetailType: 'lifecycle.changed',
    });
  });

  test('retries only the entries reported failed (FailedEntryCount)', async () => {
    eb.on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ EventId: 'a' }, { ErrorCode: 'InternalFailure', ErrorMessage: 'x' }, { EventId: 'c' }],
      })
      .resolvesOnce({ FailedEntryCount: 0, Entries: [{ EventId: 'b' }] });
    const result = await publisher().publish([entry(1), entry(2), entry(3)]);
    expect(result).toEqual({ published: 3, failed: [] });
    const second = eb.commandCalls(PutEventsCommand)[1]!.args[0].input.Entries!;
    expect(second.map((e) => JSON.parse(e.Detail!).dedupeKey)).toEqual(['k2']);
  });

  test('a throttled call is retried, then succeeds', async () => {
    eb.on(PutEventsCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'a' }] });
    expect(await publisher().publish([entry(1)])).toEqual({ published: 1, failed: [] });
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(2);
  });

  test('entries that keep failing are returned with their last error code, not thrown', async () => {
    eb.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }],
    });
    const result = await publisher().publish([entry(7)]);
    expect(result).toEqual({ published: 0, failed: [{ dedupeKey: 'k7', errorCode: 'ThrottlingException' }] });
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(3);
  });
});
