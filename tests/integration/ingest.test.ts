import { makeHandler } from '../../functions/ingest/app';
import { makeHandler as makeOutboxHandler } from '../../functions/outbox/app';
import { DynamoEventLog, DynamoModelStore, DynamoQuarantine, documentClient } from '../../shared/adapters/dynamo';
import { CLAIM_LEASE_MS } from '../../shared/customer/evaluate';
import { isTombstone } from '../../shared/customer/profile';
import type { SegmentChanged } from '../../shared/contracts/outbound';
import { foldEvents } from '../../shared/customer/fold';
import type { ProfileStore } from '../../shared/ports/stores';
import { startEmbeddedStack, type EmbeddedStack } from '../../local/stack';
import { envelope, makeEvent } from '../support/factories';
import { modelFromPrototypes, withLocalEmbeddings } from '../support/model';
import { testSettings } from '../support/settings';
import { expectSameFeatures } from '../support/features';
import { lambdaContext } from '../support/lambda';
import { bodiesOf, sqsEvent } from '../support/sqs';

const settings = testSettings();
const now = new Date('2026-11-10T12:00:00Z');
let stack: EmbeddedStack;

const garden = (customerId: string, n: number, day = '2026-11-0') => [
  makeEvent('product.viewed', {
    customerId,
    eventId: `${customerId}-v${n}`,
    title: 'Ceramic plant pot',
    category: 'garden',
    occurredAt: `${day}${(n % 9) + 1}T08:00:00Z`,
  }),
  makeEvent('order.placed', {
    customerId,
    eventId: `${customerId}-o${n}`,
    orderId: `${customerId}-ord${n}`,
    total: 40,
    occurredAt: `${day}${(n % 9) + 1}T09:00:00Z`,
    items: [{ sku: 'G1', title: 'Rose pruning shears', category: 'garden', price: 40, quantity: 1 }],
  }),
];
const baby = (customerId: string, n: number) => [
  makeEvent('search.performed', {
    customerId,
    eventId: `${customerId}-s${n}`,
    query: 'baby stroller',
    channel: 'app',
    occurredAt: `2026-11-0${n + 1}T10:00:00Z`,
  }),
  makeEvent('cart.updated', {
    customerId,
    eventId: `${customerId}-c${n}`,
    title: 'Baby stroller',
    category: 'baby',
    occurredAt: `2026-11-0${n + 1}T10:05:00Z`,
  }),
];

describe('ingest handler against dynalite and the local SageMaker server', () => {
  beforeAll(async () => {
    stack = await startEmbeddedStack({ settings, clock: () => now });
    const model = modelFromPrototypes(
      [
        { segmentId: 'seg-001', name: 'Keen gardeners', events: garden('proto-g', 1) },
        { segmentId: 'seg-002', name: 'New parents', events: baby('proto-b', 1) },
      ],
      settings,
      now,
    );
    await stack.modelStore.putVersion(model);
    await stack.modelStore.activate(1, null);
  });
  afterAll(() => stack.close());

  const doc = () => documentClient(stack.dynamo.client);

  test('a mixed batch: valid, invalid, duplicate and out-of-order events for several customers', async () => {
    const g = garden('cust-g', 1).concat(garden('cust-g', 2));
    const b = baby('cust-b', 1).concat(baby('cust-b', 2));
    const bodies = [
      ...bodiesOf([g[3]!, g[1]!, b[2]!, g[0]!]), // out of order
      '{"not json',
      envelope('order.teleported', { eventId: 'x', customerId: 'cust-g' }),
      envelope('order.placed', {
        ...g[1]!.detail,
        eventId: 'neg',
        items: [{ sku: 'a', title: 't', category: 'garden', price: 1, quantity: -3 }],
      }),
      ...bodiesOf([g[2]!, b[0]!, b[1]!, b[3]!]),
      ...bodiesOf([g[1]!, b[0]!]), // duplicates within the batch
    ];
    const handler = makeHandler(stack.ingestDeps());
    const before = stack.embeddingServer.stats.invocations;

    const response = await handler(sqsEvent(bodies), lambdaContext);

    expect(response).toEqual({ batchItemFailures: [] });
    // one hosted-model call for the whole batch
    expect(stack.embeddingServer.stats.invocations - before).toBe(1);

    const quarantined = await new DynamoQuarantine(doc(), stack.dynamo.quarantineTableName, 30).list('2026-11-10');
    expect(quarantined.map((q) => [q.messageId, q.rejection.reason]).sort()).toEqual([
      ['m-4', 'invalid_json'],
      ['m-5', 'unknown_detail_type'],
      ['m-6', 'schema_violation'],
    ]);
    expect(quarantined.find((q) => q.messageId === 'm-6')?.raw).toBe(bodies[6]);

    // the stored features are exactly the fold of the distinct events, in order, once
    const profiles = stack.table.profiles;
    const stored = await profiles.get('cust-g');
    const expected = foldEvents(withLocalEmbeddings(g, settings.embedding.dimension), now, settings.features);
    expectSameFeatures(stored!.features, expected, 1e-6); // float32 embeddings stored, float64 in the fold
    expect(stored?.features.orders).toBe(2);
    // the history names the batch's latest event as the cause of each transition
    expect(stored?.history.map((h) => h.cause)).toEqual(['cust-g-o2', 'cust-g-o2']);
    expect(stored?.features.revenue).toBe(80);

    // exactly one published change per real change, each with its dedupe key
    const changes = stack.bus.eventsOf<SegmentChanged>('segment.changed');
    expect(changes.map((e) => [e.detail.customerId, e.detail.to.segmentId]).sort()).toEqual([
      ['cust-b', 'seg-002'],
      ['cust-g', 'seg-001'],
    ]);
    expect(new Set(changes.map((e) => e.detail.dedupeKey)).size).toBe(2);
    expect(changes.every((e) => e.source === 'shoal' && e.detail.reason === 'event')).toBe(true);
    expect(stack.bus.eventsOf('lifecycle.changed')).toHaveLength(2);
    expect((await profiles.get('cust-g'))?.outbox).toEqual([]);

    // redelivering the whole batch changes nothing and publishes nothing new
    const again = await makeHandler(stack.ingestDeps())(sqsEvent(bodies, 'r'), lambdaContext);
    expect(again).toEqual({ batchItemFailures: [] });
    expect(stack.bus.eventsOf('segment.changed')).toHaveLength(2);
    const log = await new DynamoEventLog(doc(), stack.dynamo.tableName).load('cust-g');
    expect(log).toHaveLength(4);
  });

  test('a failing customer fails only its own records', async () => {
    const deps = stack.ingestDeps();
    const flaky: ProfileStore = {
      ...deps.profiles,
      get: deps.profiles.get.bind(deps.profiles),
      getMany: deps.profiles.getMany.bind(deps.profiles),
      audience: deps.profiles.audience.bind(deps.profiles),
      settle: deps.profiles.settle.bind(deps.profiles),
      pendingOutbox: deps.profiles.pendingOutbox.bind(deps.profiles),
      scanShard: deps.profiles.scanShard.bind(deps.profiles),
      put: async (p, rev) => {
        if (p.customerId === 'cust-x')
          throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
        return deps.profiles.put(p, rev);
      },
    };
    const handler = makeHandler({ ...deps, profiles: flaky });
    const bodies = bodiesOf([...garden('cust-x', 3), ...garden('cust-y', 3)]);
    const response = await handler(sqsEvent(bodies, 'f'), lambdaContext);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['f-0', 'f-1']);
    expect(await deps.profiles.get('cust-y')).not.toBeNull();
    // the retried records succeed once the store recovers, and nothing was lost
    const retry = await makeHandler(deps)(sqsEvent(bodies.slice(0, 2), 'f'), lambdaContext);
    expect(retry.batchItemFailures).toEqual([]);
    expect((await deps.profiles.get('cust-x'))?.features.orders).toBe(1);
  });

  test('embedding endpoint down: features still update, interest is kept, then backfilled', async () => {
    const deps = stack.ingestDeps();
    await makeHandler(deps)(sqsEvent(bodiesOf(garden('cust-e', 1)), 'e1'), lambdaContext);
    const before = await deps.profiles.get('cust-e');
    // An outage (5xx), not a refusal: a ModelError with a 4xx now means "this text is not embeddable" (issue #9 C11).
    stack.embeddingServer.setFailure({ status: 503, errorType: 'ServiceUnavailable' });
    const failuresBefore = stack.metrics.counts.EmbeddingFailures ?? 0;

    // texts the embedder has not cached yet
    const fresh = garden('cust-e', 2).map((e) =>
      e.type === 'product.viewed' ? makeEvent('product.viewed', { ...e.detail, title: 'Galvanised watering can' }) : e,
    );
    fresh.push(
      makeEvent('search.performed', {
        customerId: 'cust-e',
        eventId: 'cust-e-s2',
        query: 'hedge trimmer',
        occurredAt: '2026-11-03T10:00:00Z',
      }),
    );
    const res = await makeHandler(deps)(sqsEvent(bodiesOf(fresh), 'e2'), lambdaContext);

    expect(res.batchItemFailures).toEqual([]);
    const during = await deps.profiles.get('cust-e');
    expect(during?.features.orders).toBe(2);
    expect(during?.features.pendingEmbeddings).toBe(3); // the whole batch call failed
    expect(during?.features.interest).not.toBeNull();
    expect(stack.metrics.counts.EmbeddingFailures).toBe(failuresBefore + 1);
    expect(before?.features.interest).not.toBeNull();

    stack.embeddingServer.setFailure(null);
    await makeHandler(deps)(sqsEvent(bodiesOf(garden('cust-e', 3)), 'e3'), lambdaContext);
    const after = await deps.profiles.get('cust-e');
    expect(after?.features.pendingEmbeddings).toBe(0);
    expect(after?.features.orders).toBe(3);
  });

  test('a newer model version on the profile is never overwritten by the older active model', async () => {
    const deps = stack.ingestDeps();
    const store = new DynamoModelStore(doc(), stack.dynamo.tableName);
    const v1 = await store.getVersion(1);
    const v2 = {
      ...v1!,
      version: 2,
      runId: 'test-2',
      segmentIds: ['seg-001', 'seg-003'],
      names: ['Keen gardeners', 'Parents v2'],
    };
    await store.putVersion(v2); // stored but not active: the nightly run assigns before it flips ACTIVE
    await makeHandler(deps)(sqsEvent(bodiesOf(baby('cust-n', 1)), 'n1'), lambdaContext);
    const p = (await deps.profiles.get('cust-n'))!;
    expect(
      await deps.profiles.put(
        { ...p, rev: p.rev + 1, assignment: { ...p.assignment!, modelVersion: 2, segmentId: 'seg-003' } },
        p.rev,
      ),
    ).toBe('written');

    await makeHandler(deps)(sqsEvent(bodiesOf(baby('cust-n', 2)), 'n2'), lambdaContext);

    const after = await deps.profiles.get('cust-n');
    expect(after?.assignment).toMatchObject({ modelVersion: 2, segmentId: 'seg-003' });
  });

  test('customer.erased deletes everything held and confirms', async () => {
    const deps = stack.ingestDeps();
    await makeHandler(deps)(sqsEvent(bodiesOf(garden('cust-z', 1)), 'z1'), lambdaContext);
    const erase = makeEvent('customer.erased', {
      customerId: 'cust-z',
      eventId: 'erase-z',
      occurredAt: '2026-11-10T11:00:00Z',
    });

    const res = await makeHandler(deps)(sqsEvent(bodiesOf([erase]), 'z2'), lambdaContext);

    expect(res.batchItemFailures).toEqual([]);
    const tombstone = (await deps.profiles.get('cust-z'))!;
    expect(isTombstone(tombstone)).toBe(true);
    expect(tombstone).toMatchObject({ assignment: null, traits: null, outbox: [], history: [], epoch: 1 });
    expect(await deps.eventLog.load('cust-z')).toEqual([]);
    const done = stack.bus.eventsOf<{ customerId: string; itemsDeleted: number }>('customer.erasure.completed');
    expect(done.map((e) => e.detail)).toEqual([
      expect.objectContaining({ customerId: 'cust-z', itemsDeleted: expect.any(Number) }),
    ]);
    expect(done[0]!.detail.itemsDeleted).toBe(2); // the 2 logged events; the profile stays as a tombstone
  });

  test('a crash between the profile write and the publish loses nothing: the sweeper publishes with the same key', async () => {
    const deps = stack.ingestDeps();
    const down = {
      publish: async (entries: readonly { dedupeKey: string }[]) => ({
        published: 0,
        failed: entries.map((e) => ({ dedupeKey: e.dedupeKey, errorCode: 'InternalFailure' })),
      }),
    };
    await makeHandler({ ...deps, publisher: down })(sqsEvent(bodiesOf(garden('cust-o', 1)), 'o1'), lambdaContext);
    const stuck = (await deps.profiles.get('cust-o'))!.outbox;
    expect(stuck.map((e) => e.event.detailType).sort()).toEqual(['lifecycle.changed', 'segment.changed']);
    expect(
      stack.bus.eventsOf<SegmentChanged>('segment.changed').filter((e) => e.detail.customerId === 'cust-o'),
    ).toHaveLength(0);

    // The writer's claim holds for its lease; after it, the sweeper takes over.
    const later = () => new Date(now.getTime() + 2 * CLAIM_LEASE_MS);
    const sweeper = () =>
      makeOutboxHandler({
        profiles: deps.profiles,
        models: stack.modelStore,
        publisher: deps.publisher,
        metrics: deps.metrics,
        log: deps.log,
        clock: later,
      })();
    expect(await makeOutboxHandler({ ...deps, models: stack.modelStore, clock: () => now })()).toEqual({
      profiles: 0,
      published: 0,
    });
    const swept = await sweeper();

    expect(swept).toEqual({ profiles: 1, published: 2 });
    const published = stack.bus
      .eventsOf<SegmentChanged>('segment.changed')
      .filter((e) => e.detail.customerId === 'cust-o');
    expect(published.map((e) => e.detail.dedupeKey)).toEqual(
      stuck.filter((e) => e.event.detailType === 'segment.changed').map((e) => e.dedupeKey),
    );
    expect((await deps.profiles.get('cust-o'))!.outbox).toEqual([]);
    expect(await sweeper()).toEqual({ profiles: 0, published: 0 });
  });
});
