import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { LocalEventBus, type ListeningBus } from '../../../local/bus';
import { sendToBus, type BackfillEntry } from '../../../shared/backfill';
import { PUT_EVENTS_MAX_REQUEST_BYTES, putEventsEntrySize } from '../../../shared/events/entry-size';
import { makeDetail } from '../../support/factories';

let bus: LocalEventBus;
let server: ListeningBus;
let client: EventBridgeClient;
let requests: number[];

beforeEach(async () => {
  bus = new LocalEventBus({ name: 'shoal-test' });
  server = await bus.listen();
  client = new EventBridgeClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  // Entries per PutEvents request, as the client sent them.
  requests = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { Entries?: unknown[] };
      requests.push(input.Entries?.length ?? 0);
      return next(args);
    },
    { step: 'initialize' },
  );
});
afterEach(async () => {
  client.destroy();
  await server.close();
});

/** A valid order.placed whose Detail is `kb` KiB (padded with more items of a 500-character title). */
function orderOfKb(kb: number, eventId: string): BackfillEntry {
  const item = { sku: 'SKU', title: 'T'.repeat(500), category: 'garden', price: 1, quantity: 1 };
  const detail = makeDetail('order.placed', { eventId, customerId: 'c-big' });
  const target = kb * 1024;
  while (JSON.stringify(detail).length + 600 < target) detail.items.push({ ...item });
  const pad = target - JSON.stringify({ ...detail, note: '' }).length;
  return { detailType: 'order.placed', detail: { ...detail, note: 'n'.repeat(Math.max(0, pad)) } };
}

describe('shoal backfill: PutEvents batching by count and by size', () => {
  it('sends ten valid orders of 31 KB each in two requests (8 + 2), none over 256 KiB', async () => {
    const orders = Array.from({ length: 10 }, (_, i) => orderOfKb(31, `big-${i}`));
    expect(JSON.stringify(orders[0]!.detail).length).toBe(31 * 1024);

    const result = await sendToBus(client, 'shoal-test', 'storefront', orders);

    expect(result).toEqual({ sent: 10, failed: [], tooLarge: [] });
    expect(requests).toEqual([8, 2]);
    expect(bus.eventsOf('order.placed')).toHaveLength(10);
  });

  it('still sends ten entries per request when they are small', async () => {
    const small = Array.from({ length: 25 }, (_, i) => ({
      detailType: 'search.performed',
      detail: makeDetail('search.performed', { eventId: `s-${i}` }),
    }));
    const result = await sendToBus(client, 'shoal-test', 'storefront', small);
    expect(result.sent).toBe(25);
    expect(requests).toEqual([10, 10, 5]);
  });

  it('reports an event too large for any request by its line, and sends the others', async () => {
    const huge = { ...orderOfKb(300, 'huge'), line: 3 };
    const entries = [
      { ...orderOfKb(1, 'a'), line: 1 },
      { ...orderOfKb(1, 'b'), line: 2 },
      huge,
      { ...orderOfKb(1, 'c'), line: 4 },
    ];
    const hugeBytes = putEventsEntrySize({
      Source: 'storefront',
      DetailType: huge.detailType,
      Detail: JSON.stringify(huge.detail),
    });

    const result = await sendToBus(client, 'shoal-test', 'storefront', entries);

    expect(hugeBytes).toBeGreaterThan(PUT_EVENTS_MAX_REQUEST_BYTES);
    expect(result).toEqual({ sent: 3, failed: [], tooLarge: [{ line: 3, bytes: hugeBytes }] });
  });

  it('sends an entry of exactly 256 KiB on its own', async () => {
    const base = orderOfKb(1, 'edge');
    const overhead =
      putEventsEntrySize({ Source: 'storefront', DetailType: 'order.placed', Detail: JSON.stringify(base.detail) }) -
      (base.detail as { note: string }).note.length;
    const note = 'n'.repeat(PUT_EVENTS_MAX_REQUEST_BYTES - overhead);
    const edge = { ...base, detail: { ...(base.detail as object), note } };

    const result = await sendToBus(client, 'shoal-test', 'storefront', [orderOfKb(1, 'x'), edge, orderOfKb(1, 'y')]);

    expect(result).toEqual({ sent: 3, failed: [], tooLarge: [] });
    expect(requests).toEqual([1, 1, 1]);
  });
});

describe('shoal backfill: failures are counted, never thrown', () => {
  // Created here, not at collection time: mockClient patches every EventBridgeClient, the real ones above included.
  let eventbridge: ReturnType<typeof mockClient>;
  beforeAll(() => {
    eventbridge = mockClient(EventBridgeClient);
  });
  beforeEach(() => eventbridge.reset());
  afterAll(() => eventbridge.restore());
  const three = Array.from({ length: 3 }, (_, i) => ({ detailType: 'search.performed', detail: { n: i } }));

  it('retries throttled entries, then counts what still fails by code', async () => {
    eventbridge
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 2,
        Entries: [{ EventId: '1' }, { ErrorCode: 'ThrottlingException' }, { ErrorCode: 'MalformedDetail' }],
      })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: '2' }] });

    const result = await sendToBus(new EventBridgeClient({ region: 'us-east-1' }), 'b', 'storefront', three);

    expect(result).toEqual({ sent: 2, failed: [{ errorCode: 'MalformedDetail', count: 1 }], tooLarge: [] });
    expect(eventbridge.commandCalls(PutEventsCommand)).toHaveLength(2);
  });

  it('counts a request that fails as a whole and goes on with the next', async () => {
    const err = Object.assign(new Error('boom'), { name: 'InternalException' });
    eventbridge
      .on(PutEventsCommand)
      .rejectsOnce(err)
      .resolves({ FailedEntryCount: 0, Entries: Array.from({ length: 3 }, (_, i) => ({ EventId: `${i}` })) });
    const thirteen = Array.from({ length: 13 }, (_, i) => ({ detailType: 'search.performed', detail: { n: i } }));

    const result = await sendToBus(new EventBridgeClient({ region: 'us-east-1' }), 'b', 'storefront', thirteen);

    expect(result).toEqual({ sent: 3, failed: [{ errorCode: 'InternalException', count: 10 }], tooLarge: [] });
  });
});
