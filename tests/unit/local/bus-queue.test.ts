import { createHash } from 'node:crypto';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { LocalEventBus, MAX_REQUEST_BYTES, PutEventsValidationError, type BusEvent } from '../../../local/bus';
import { LocalQueue, MAX_MESSAGE_BYTES, messageSize } from '../../../local/queue';
import { putEventsEntrySize } from '../../../shared/events/entry-size';
import { INBOUND_DETAIL_TYPES } from '../../../shared/contracts/inbound';
import { InvalidEventPatternError } from '../../../shared/events/pattern';
import { busRules } from '../../../shared/events/rules';

const FIXED_NOW = Date.parse('2026-03-01T12:34:56.789Z');

function entry(detailType: string, detail: unknown = { n: 1 }, source = 'storefront') {
  return { Source: source, DetailType: detailType, Detail: JSON.stringify(detail) };
}

describe('LocalEventBus', () => {
  // PutEvents API reference: "If the submission was successful, the entry has the event ID in it. Otherwise, you can use
  // the error code and error message to identify the problem with the entry." Error codes: "InvalidArgument — A
  // specified parameter is not valid." / "MalformedDetail — The JSON provided is not valid."
  test('putEvents returns index-aligned results and builds the standard envelope', async () => {
    const bus = new LocalEventBus({ account: '111122223333', region: 'eu-west-1', now: () => FIXED_NOW });
    const result = await bus.putEvents([
      entry('order.placed', { orderId: 'o-1', total: 12.5 }),
      { Source: 'storefront', DetailType: 'order.placed' },
      { Source: 'storefront', DetailType: 'order.placed', Detail: '{not json' },
      { Source: 'storefront', DetailType: 'order.placed', Detail: '[1,2]' },
      { DetailType: 'order.placed', Detail: '{}' },
      { ...entry('cart.updated'), Time: new Date('2026-02-01T00:00:00.000Z'), Resources: ['arn:aws:x'] },
    ]);

    expect(result.FailedEntryCount).toBe(4);
    expect(result.Entries).toEqual([
      { EventId: expect.any(String) },
      { ErrorCode: 'InvalidArgument', ErrorMessage: expect.stringContaining('Detail') },
      { ErrorCode: 'MalformedDetail', ErrorMessage: expect.any(String) },
      { ErrorCode: 'MalformedDetail', ErrorMessage: expect.any(String) },
      { ErrorCode: 'InvalidArgument', ErrorMessage: expect.stringContaining('Source') },
      { EventId: expect.any(String) },
    ]);

    const [placed, cart] = bus.events;
    expect(bus.events).toHaveLength(2);
    expect(placed).toEqual({
      version: '0',
      id: (result.Entries[0] as { EventId: string }).EventId,
      'detail-type': 'order.placed',
      source: 'storefront',
      account: '111122223333',
      time: '2026-03-01T12:34:56Z',
      region: 'eu-west-1',
      resources: [],
      detail: { orderId: 'o-1', total: 12.5 },
    });
    expect(cart?.time).toBe('2026-02-01T00:00:00Z');
    expect(cart?.resources).toEqual(['arn:aws:x']);
    expect(bus.eventsOf('cart.updated')).toEqual([cart]);
    expect(bus.eventsOf<{ orderId: string }>('order.placed')[0]?.detail.orderId).toBe('o-1');
  });

  // PutEvents API reference: Entries — "Array Members: Minimum number of 1 item. Maximum number of 10 items."
  test('putEvents rejects requests with 0 or more than 10 entries', async () => {
    const bus = new LocalEventBus();
    await expect(bus.putEvents([])).rejects.toThrow(PutEventsValidationError);
    const eleven = Array.from({ length: 11 }, (_, i) => entry(`t${i}`));
    await expect(bus.putEvents(eleven)).rejects.toThrow(PutEventsValidationError);
    expect(bus.events).toHaveLength(0);
  });

  // The shape Shoal's CDK rule uses: { source: ['storefront'] }, a catch-all for the storefront source ("Event
  // pattern syntax": a field matches any listed value; fields the pattern does not name are not constrained). Unknown
  // and mis-cased detail-types reach the queue, where validation quarantines them as unknown_detail_type.
  test('routes every storefront event to the ingest rule, whatever its detail-type; other sources not', async () => {
    const bus = new LocalEventBus();
    const ingested: BusEvent[] = [];
    for (const rule of busRules('storefront')) {
      bus.addRule({ name: rule.id, eventPattern: rule.eventPattern, target: (e) => void ingested.push(e) });
    }
    const result = await bus.putEvents([
      entry('order.placed'),
      entry('product.viewed'),
      entry('order.placed', {}, 'other-shop'),
      entry('segment.changed', {}, 'shoal'),
      entry('Order.Placed'),
      entry('order.created'),
    ]);
    expect(result.FailedEntryCount).toBe(0);
    expect(bus.events).toHaveLength(6); // the archive keeps everything, routed or not
    expect(ingested.map((e) => `${e.source}/${e['detail-type']}`)).toEqual([
      'storefront/order.placed',
      'storefront/product.viewed',
      'storefront/Order.Placed',
      'storefront/order.created',
    ]);
    expect(bus.matchingRules({ source: 'storefront', 'detail-type': INBOUND_DETAIL_TYPES[0] })).toEqual(['IngestRule']);
    expect(bus.matchingRules({ source: 'shoal', 'detail-type': 'segment.changed' })).toEqual([]);
  });

  test('every matching rule receives the event; content filters on detail work', async () => {
    const bus = new LocalEventBus();
    const calls: string[] = [];
    bus.addRule({
      name: 'all-orders',
      eventPattern: { 'detail-type': [{ prefix: 'order.' }] },
      target: () => void calls.push('all-orders'),
    });
    bus.addRule({
      name: 'big-orders',
      eventPattern: JSON.stringify({ detail: { total: [{ numeric: ['>=', 100] }] } }),
      target: async () => {
        await Promise.resolve();
        calls.push('big-orders');
      },
    });
    bus.addRule({ name: 'nothing', eventPattern: { source: ['nobody'] }, target: () => void calls.push('nothing') });

    await bus.putEvents([entry('order.placed', { total: 150 }), entry('order.placed', { total: 5 })]);
    expect(calls.sort()).toEqual(['all-orders', 'all-orders', 'big-orders']);
  });

  test('addRule validates the pattern like PutRule and replaces a rule of the same name', async () => {
    const bus = new LocalEventBus();
    expect(() => bus.addRule({ name: 'bad', eventPattern: { source: [] }, target: () => undefined })).toThrow(
      InvalidEventPatternError,
    );
    const seen: string[] = [];
    bus.addRule({ name: 'r', eventPattern: { source: ['a'] }, target: () => void seen.push('first') });
    bus.addRule({ name: 'r', eventPattern: { source: ['storefront'] }, target: () => void seen.push('second') });
    expect(bus.ruleNames).toEqual(['r']);
    await bus.putEvents([entry('order.placed')]);
    expect(seen).toEqual(['second']);
    expect(bus.removeRule('r')).toBe(true);
    await bus.putEvents([entry('order.placed')]);
    expect(seen).toEqual(['second']);
  });

  test('a failing target does not fail PutEvents nor the other targets; targets get their own copy', async () => {
    const bus = new LocalEventBus();
    const received: BusEvent<{ n: number }>[] = [];
    bus.addRule({
      name: 'broken',
      eventPattern: { source: ['storefront'] },
      target: (e) => {
        (e.detail as { n: number }).n = 999;
        throw new Error('boom');
      },
    });
    bus.addRule({
      name: 'ok',
      eventPattern: { source: ['storefront'] },
      target: (e) => void received.push(e as BusEvent<{ n: number }>),
    });

    const result = await bus.putEvents([entry('order.placed', { n: 1 })]);
    expect(result.FailedEntryCount).toBe(0);
    expect(received[0]?.detail.n).toBe(1);
    expect(bus.events[0]?.detail).toEqual({ n: 1 });
    expect(bus.failedDeliveries).toHaveLength(1);
    expect(bus.failedDeliveries[0]?.rule).toBe('broken');
    bus.clear();
    expect(bus.events).toHaveLength(0);
    expect(bus.failedDeliveries).toHaveLength(0);
  });

  describe('HTTP server speaking the EventBridge JSON protocol', () => {
    let bus: LocalEventBus;
    let server: Awaited<ReturnType<LocalEventBus['listen']>>;
    let client: EventBridgeClient;
    const routed: BusEvent[] = [];

    beforeAll(async () => {
      bus = new LocalEventBus({ name: 'shoal-local', region: 'us-east-1' });
      bus.addRule({
        name: 'ingest',
        eventPattern: busRules('storefront')[0]!.eventPattern,
        target: (e) => void routed.push(e),
      });
      server = await bus.listen();
      client = new EventBridgeClient({
        region: 'us-east-1',
        endpoint: server.endpoint,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        maxAttempts: 1,
      });
    });

    afterAll(async () => {
      client.destroy();
      await server.close();
    });

    test('PutEventsCommand round-trips through the real SDK client', async () => {
      expect(server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const out = await client.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: 'shoal-local',
              Source: 'storefront',
              DetailType: 'order.placed',
              Detail: JSON.stringify({ orderId: 'o-9' }),
            },
            {
              EventBusName: 'shoal-local',
              Source: 'storefront',
              DetailType: 'search.performed',
              Detail: '{"q":"boots"}',
              Time: new Date('2026-01-02T03:04:05Z'),
            },
            { Source: 'storefront', DetailType: 'order.placed', Detail: 'nope' },
          ],
        }),
      );
      expect(out.$metadata.httpStatusCode).toBe(200);
      expect(out.FailedEntryCount).toBe(1);
      expect(out.Entries?.[0]?.EventId).toEqual(bus.events[0]?.id);
      expect(out.Entries?.[2]).toEqual({ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' });
      expect(routed.map((e) => e.detail)).toEqual([{ orderId: 'o-9' }, { q: 'boots' }]);
      expect(bus.eventsOf('search.performed')[0]?.time).toBe('2026-01-02T03:04:05Z');
      expect(bus.archived[0]?.eventBusName).toBe('shoal-local');
    });

    test('request-level validation errors surface as ValidationException in the SDK', async () => {
      const entries = Array.from({ length: 11 }, () => entry('order.placed'));
      await expect(client.send(new PutEventsCommand({ Entries: entries }))).rejects.toMatchObject({
        name: 'ValidationException',
        $metadata: { httpStatusCode: 400 },
      });
    });

    test('other operations are refused', async () => {
      const res = await fetch(server.endpoint, {
        method: 'POST',
        headers: { 'x-amz-target': 'AWSEvents.ListRules', 'content-type': 'application/x-amz-json-1.1' },
        body: '{}',
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ __type: 'UnknownOperationException' });
    });
  });
});

describe('LocalQueue', () => {
  const bodies = (e: SQSEvent) => e.Records.map((r) => r.body);

  test('delivers SQSEvent batches of at most batchSize records, oldest first', async () => {
    const queue = new LocalQueue({
      name: 'ingest',
      batchSize: 10,
      region: 'eu-west-1',
      account: '111122223333',
      now: () => FIXED_NOW,
    });
    for (let i = 0; i < 25; i++) queue.send(`m${i}`);
    const batches: string[][] = [];
    const result = await queue.drain((e) => void batches.push(bodies(e)));

    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(batches.flat()).toEqual(Array.from({ length: 25 }, (_, i) => `m${i}`));
    expect(result).toEqual({ batches: 3, sent: 0, delivered: 25, succeeded: 25, retried: 0, deadLettered: 0 });
    expect(queue.stats).toEqual({ sent: 25, delivered: 25, succeeded: 25, retried: 0, deadLettered: 0 });
    expect(queue.depth).toBe(0);
  });

  test('records have the aws-lambda SQSRecord shape', async () => {
    const queue = new LocalQueue({
      name: 'ingest',
      region: 'eu-west-1',
      account: '111122223333',
      now: () => FIXED_NOW,
    });
    const id = queue.send('{"hello":"world"}', {
      messageAttributes: { kind: { dataType: 'String', stringValue: 'x' } },
    });
    let record: SQSRecord | undefined;
    let functionName = '';
    let remaining = 0;
    await queue.drain((e, context) => {
      record = e.Records[0];
      functionName = context.functionName;
      remaining = context.getRemainingTimeInMillis();
    });
    expect(record).toEqual({
      messageId: id,
      receiptHandle: expect.any(String),
      body: '{"hello":"world"}',
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(FIXED_NOW),
        SenderId: expect.any(String),
        ApproximateFirstReceiveTimestamp: String(FIXED_NOW),
      },
      messageAttributes: { kind: { dataType: 'String', stringValue: 'x' } },
      md5OfBody: createHash('md5').update('{"hello":"world"}').digest('hex'),
      md5OfMessageAttributes: expect.any(String),
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:111122223333:ingest',
      awsRegion: 'eu-west-1',
    });
    expect(functionName).toBe('ingest-consumer');
    expect(remaining).toBeGreaterThan(0);
  });

  // Lambda operator guide, "Handling errors for an SQS event source": "When your Lambda function encounters an error
  // while processing a batch, all messages in that batch become visible in the queue again by default" — with
  // partial batch responses (ReportBatchItemFailures) only the reported itemIdentifiers come back.
  test('partial batch failure: only the reported items come back, with a higher receive count', async () => {
    const queue = new LocalQueue({ batchSize: 3, maxReceiveCount: 5 });
    const ids = ['a', 'b', 'c', 'd'].map((b) => queue.send(b));
    const deliveries: string[] = [];
    let first = true;
    const result = await queue.drain((e) => {
      deliveries.push(...e.Records.map((r) => `${r.body}#${r.attributes.ApproximateReceiveCount}`));
      if (!first) return;
      first = false;
      return { batchItemFailures: [{ itemIdentifier: ids[1]! }] };
    });
    // b failed in the first batch [a,b,c]; it is re-queued at the back, behind d.
    expect(deliveries).toEqual(['a#1', 'b#1', 'c#1', 'd#1', 'b#2']);
    expect(result).toMatchObject({ batches: 2, delivered: 5, succeeded: 4, retried: 1, deadLettered: 0 });
    expect(queue.deadLetters).toHaveLength(0);
  });

  test('a thrown handler error makes the whole batch come back', async () => {
    const queue = new LocalQueue({ batchSize: 2 });
    queue.send('x');
    queue.send('y');
    let calls = 0;
    const deliveries: string[][] = [];
    await queue.drain((e) => {
      deliveries.push(e.Records.map((r) => `${r.body}#${r.attributes.ApproximateReceiveCount}`));
      if (calls++ === 0) throw new Error('transient');
    });
    expect(deliveries).toEqual([
      ['x#1', 'y#1'],
      ['x#2', 'y#2'],
    ]);
    expect(queue.stats).toEqual({ sent: 2, delivered: 4, succeeded: 2, retried: 2, deadLettered: 0 });
  });

  // SQS developer guide / CDK DeadLetterQueue.maxReceiveCount: "The number of times a message can be unsuccessfully
  // dequeued before being moved to the dead-letter queue."
  test('a message failing maxReceiveCount times moves to the dead-letter list', async () => {
    const queue = new LocalQueue({ batchSize: 10, maxReceiveCount: 3 });
    const poison = queue.send('poison');
    queue.send('fine');
    const seen: string[] = [];
    const result = await queue.drain((e) => {
      seen.push(...e.Records.map((r) => `${r.body}#${r.attributes.ApproximateReceiveCount}`));
      return {
        batchItemFailures: e.Records.filter((r) => r.body === 'poison').map((r) => ({ itemIdentifier: r.messageId })),
      };
    });
    expect(seen).toEqual(['poison#1', 'fine#1', 'poison#2', 'poison#3']);
    expect(result).toMatchObject({ batches: 3, delivered: 4, succeeded: 1, retried: 2, deadLettered: 1 });
    expect(queue.deadLetters.map((m) => [m.messageId, m.body, m.receiveCount])).toEqual([[poison, 'poison', 3]]);
    expect(queue.depth).toBe(0);
    // Redrive: dead letters can be taken and sent again.
    const [dead] = queue.takeDeadLetters();
    expect(queue.deadLetters).toHaveLength(0);
    queue.send(dead!.body);
    await queue.drain(() => undefined);
    expect(queue.stats).toEqual({ sent: 3, delivered: 5, succeeded: 2, retried: 2, deadLettered: 1 });
  });

  test('a thrown error also counts towards the dead-letter limit; the error is kept', async () => {
    const queue = new LocalQueue({ maxReceiveCount: 2 });
    queue.send('always-throws');
    await queue.drain(() => {
      throw new Error('permanent');
    });
    expect(queue.deadLetters).toHaveLength(1);
    expect(queue.deadLetters[0]?.lastError).toEqual(new Error('permanent'));
    expect(queue.stats).toEqual({ sent: 1, delivered: 2, succeeded: 0, retried: 1, deadLettered: 1 });
  });

  // Lambda developer guide, partial batch responses: the batch is a complete success for an empty or null
  // batchItemFailures / an empty or null response, and a complete failure for an empty-string or null itemIdentifier
  // or "an itemIdentifier value with a message ID that doesn't exist".
  test.each([
    { name: 'undefined', response: undefined, retried: 0 },
    { name: 'empty list', response: { batchItemFailures: [] }, retried: 0 },
    { name: 'null list', response: { batchItemFailures: null }, retried: 0 },
    { name: 'empty-string itemIdentifier', response: { batchItemFailures: [{ itemIdentifier: '' }] }, retried: 2 },
    { name: 'unknown itemIdentifier', response: { batchItemFailures: [{ itemIdentifier: 'x' }] }, retried: 2 },
    { name: 'null itemIdentifier', response: { batchItemFailures: [{ itemIdentifier: null }] }, retried: 2 },
  ])('batch response with $name → $retried messages retried', async ({ response, retried }) => {
    const queue = new LocalQueue({ maxReceiveCount: 2 });
    queue.send('a');
    queue.send('b');
    let calls = 0;
    await queue.drain(() => (calls++ === 0 ? (response as never) : undefined));
    expect(queue.stats.retried).toBe(retried);
  });

  test('without ReportBatchItemFailures a returned list is ignored', async () => {
    const queue = new LocalQueue({ reportBatchItemFailures: false });
    const id = queue.send('a');
    await queue.drain(() => ({ batchItemFailures: [{ itemIdentifier: id }] }));
    expect(queue.stats).toMatchObject({ delivered: 1, succeeded: 1, retried: 0 });
  });

  test('messages sent while draining are delivered in the same drain', async () => {
    const queue = new LocalQueue({ batchSize: 1 });
    queue.send('1');
    const seen: string[] = [];
    await queue.drain((e) => {
      const body = e.Records[0]!.body;
      seen.push(body);
      if (body.length < 3) queue.send(`${body}+`);
    });
    expect(seen).toEqual(['1', '1+', '1++']);
  });

  test('validates its options and message size', () => {
    expect(() => new LocalQueue({ batchSize: 0 })).toThrow(RangeError);
    expect(() => new LocalQueue({ maxReceiveCount: 1001 })).toThrow(RangeError);
    const queue = new LocalQueue();
    expect(() => queue.send('')).toThrow(RangeError);
    expect(() => queue.send('x'.repeat(1024 * 1024 + 1))).toThrow(RangeError);
  });

  // SQS quotas: the maximum message size is 1 MiB (1,048,576 bytes), and "all parts of the message attribute,
  // including Name, Type, and Value, are part of the message size restriction".
  test('accepts a message of exactly 1 MiB and counts attributes towards the limit', () => {
    const queue = new LocalQueue();
    expect(() => queue.send('x'.repeat(MAX_MESSAGE_BYTES))).not.toThrow();
    const attrs = { k: { dataType: 'String', stringValue: 'v' } }; // 1 + 6 + 1 bytes
    expect(messageSize('x'.repeat(10), attrs)).toBe(18);
    expect(() => queue.send('x'.repeat(MAX_MESSAGE_BYTES - 8), { messageAttributes: attrs })).not.toThrow();
    expect(() => queue.send('x'.repeat(MAX_MESSAGE_BYTES - 7), { messageAttributes: attrs })).toThrow(RangeError);
  });

  test('works with Powertools processPartialResponse (the handler shape Shoal uses)', async () => {
    const processor = new BatchProcessor(EventType.SQS);
    const recordHandler = async (record: SQSRecord) => {
      if (record.body.startsWith('bad')) throw new Error(`cannot process ${record.body}`);
    };
    const queue = new LocalQueue({ batchSize: 5, maxReceiveCount: 2 });
    ['ok1', 'bad1', 'ok2'].forEach((b) => queue.send(b));
    const result = await queue.drain((event, context) =>
      processPartialResponse(event, recordHandler, processor, { context }),
    );
    expect(result).toMatchObject({ delivered: 4, succeeded: 2, retried: 1, deadLettered: 1 });
    expect(queue.deadLetters.map((m) => m.body)).toEqual(['bad1']);
  });
});

describe('bus → queue → consumer', () => {
  test('the ingest rule feeds the queue with EventBridge envelopes', async () => {
    const bus = new LocalEventBus({ now: () => FIXED_NOW });
    const queue = new LocalQueue({ name: 'shoal-ingest', batchSize: 10 });
    const rule = busRules('storefront')[0]!;
    bus.addRule({ name: rule.id, eventPattern: rule.eventPattern, target: (e) => void queue.send(JSON.stringify(e)) });

    await bus.putEvents([
      entry('order.placed', { orderId: 'o-1' }),
      entry('ignored.type', { n: 1 }, 'other-shop'),
      entry('cart.updated', { items: 2 }),
    ]);
    expect(queue.depth).toBe(2);

    const consumed: BusEvent[] = [];
    await queue.drain((e) => {
      for (const r of e.Records) consumed.push(JSON.parse(r.body) as BusEvent);
    });
    expect(consumed.map((e) => [e['detail-type'], e.detail])).toEqual([
      ['order.placed', { orderId: 'o-1' }],
      ['cart.updated', { items: 2 }],
    ]);
    expect(consumed[0]?.id).toBe(bus.eventsOf('order.placed')[0]?.id);
  });

  // "Calculating PutEvents event entry size": the entries of a request total at most 256 KiB. EventBridge then wraps
  // the entry in its envelope (id, account, time, region, resources), so the SQS body is larger than the entry.
  test('an entry of exactly 256 KiB accepted by the bus reaches the queue; one byte more is refused by the bus', async () => {
    const bus = new LocalEventBus({ now: () => FIXED_NOW });
    const queue = new LocalQueue({ name: 'shoal-ingest' });
    const rule = busRules('storefront')[0]!;
    bus.addRule({ name: rule.id, eventPattern: rule.eventPattern, target: (e) => void queue.send(JSON.stringify(e)) });
    const sized = (bytes: number) => {
      const overhead = putEventsEntrySize(entry('order.placed', { pad: '' }));
      return entry('order.placed', { pad: 'x'.repeat(bytes - overhead) });
    };
    expect(putEventsEntrySize(sized(MAX_REQUEST_BYTES))).toBe(256 * 1024);

    const result = await bus.putEvents([sized(MAX_REQUEST_BYTES)]);

    expect(result.FailedEntryCount).toBe(0);
    expect(bus.failedDeliveries).toEqual([]);
    expect(queue.depth).toBe(1);
    expect(Buffer.byteLength(queue.messages[0]!.body)).toBeGreaterThan(256 * 1024);
    await expect(bus.putEvents([sized(MAX_REQUEST_BYTES + 1)])).rejects.toThrow(PutEventsValidationError);
  });
});
