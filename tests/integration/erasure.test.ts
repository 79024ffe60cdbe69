/**
 * Erasure holds: against dynalite, the local bus and the local SageMaker server, through the ingest handler.
 * Each reproduction from the issue is a named case; the in-flight cases run the erasure at every phase of a batch.
 */
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { bodiesOf, sqsEvent } from '../support/sqs';
import { makeHandler } from '../../functions/ingest/app';
import { makeHandler as makeOutboxHandler } from '../../functions/outbox/app';
import { documentClient, type DynamoQuarantine } from '../../shared/adapters/dynamo';
import { RUN_OBJECT_RETENTION } from '../../shared/contracts/recluster';
import { readPopulation } from '../../shared/recluster/population';
import { scanShard } from '../../shared/recluster/scan';
import { LocalObjectStore } from '../../local/object-store';
import { reclusterDepsForStack } from '../../local/stepfunctions';
import type { InboundEvent } from '../../shared/contracts/inbound';
import { CLAIM_LEASE_MS } from '../../shared/customer/evaluate';
import { isTombstone } from '../../shared/customer/profile';
import type { IngestDeps } from '../../shared/ingest/process-batch';
import { startEmbeddedStack, type EmbeddedStack } from '../../local/stack';
import { envelope, makeEvent } from '../support/factories';
import { lambdaContext } from '../support/lambda';
import { modelFromPrototypes } from '../support/model';
import { testSettings } from '../support/settings';

const settings = testSettings();
let clock = new Date('2026-06-01T12:00:00Z');
let stack: EmbeddedStack;
let batchNo = 0;

const order = (customerId: string, eventId: string, occurredAt: string, total = 40): InboundEvent =>
  makeEvent('order.placed', {
    customerId,
    eventId,
    orderId: `ord-${eventId}`,
    total,
    occurredAt,
    items: [{ sku: 'G1', title: 'Rose pruning shears', category: 'garden', price: total, quantity: 1 }],
  });
const view = (customerId: string, eventId: string, occurredAt: string): InboundEvent =>
  makeEvent('product.viewed', { customerId, eventId, title: 'Baby stroller', category: 'baby', occurredAt });
const erase = (customerId: string, eventId: string, occurredAt: string): InboundEvent =>
  makeEvent('customer.erased', { customerId, eventId, occurredAt });

async function ingest(events: InboundEvent[], deps: IngestDeps = stack.ingestDeps()) {
  const res = await makeHandler(deps)(sqsEvent(bodiesOf(events), `b${++batchNo}`), lambdaContext);
  expect(res.batchItemFailures).toEqual([]);
}

/** Every item the table holds under the customer's partition. */
async function itemsOf(customerId: string) {
  const res = await documentClient(stack.dynamo.client).send(
    new QueryCommand({
      TableName: stack.dynamo.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `C#${customerId}` },
      ConsistentRead: true,
    }),
  );
  return res.Items ?? [];
}

/** What the bus delivered for one customer, in order. */
function deliveredFor(customerId: string) {
  return stack.bus.events
    .filter((e) => (e.detail as { customerId?: string }).customerId === customerId && e.source === 'shoal')
    .map((e) => ({ type: e['detail-type'], detail: e.detail as { dedupeKey: string } }));
}

async function sweepLater() {
  const later = new Date(clock.getTime() + 2 * CLAIM_LEASE_MS);
  const deps = stack.ingestDeps();
  await makeOutboxHandler({ ...deps, models: stack.modelStore, clock: () => later })();
}

/** The customer is erased for good: only the tombstone is left, and it holds nothing about the customer. */
async function expectErased(customerId: string) {
  const items = await itemsOf(customerId);
  expect(items.map((i) => i.sk)).toEqual(['PROFILE']);
  const profile = (await stack.table.profiles.get(customerId))!;
  expect(isTombstone(profile)).toBe(true);
  expect(profile).toMatchObject({ assignment: null, traits: null, lifecycleStage: null, history: [], unlogged: [] });
  expect(profile.features.revenue).toBe(0);
}

describe('erasure holds', () => {
  beforeAll(async () => {
    stack = await startEmbeddedStack({ settings, clock: () => clock });
    const model = modelFromPrototypes(
      [
        { segmentId: 'seg-001', name: 'Keen gardeners', events: [order('p-g', 'p-g1', '2026-05-01T09:00:00Z')] },
        { segmentId: 'seg-002', name: 'New parents', events: [view('p-b', 'p-b1', '2026-05-01T09:00:00Z')] },
      ],
      settings,
      clock,
    );
    await stack.modelStore.putVersion(model);
    await stack.modelStore.activate(1, null);
  });
  afterAll(() => stack.close());

  test('an order redelivered (same eventId) two days after the erasure does not bring the customer back', async () => {
    const o = order('e-1', 'e-1-o1', '2026-06-01T09:00:00Z', 999);
    await ingest([o]);
    clock = new Date('2026-06-02T12:00:00Z');
    await ingest([erase('e-1', 'e-1-x', '2026-06-02T11:00:00Z')]);
    clock = new Date('2026-06-04T12:00:00Z');
    const droppedBefore = stack.metrics.counts.ErasedEventsDropped ?? 0;

    await ingest([o]);

    await expectErased('e-1');
    expect(stack.metrics.counts.ErasedEventsDropped).toBe(droppedBefore + 1);
  });

  test('a late view dated before the erasure, arriving after it, is dropped', async () => {
    await ingest([order('e-2', 'e-2-o1', '2026-06-04T09:00:00Z')]);
    await ingest([erase('e-2', 'e-2-x', '2026-06-04T11:00:00Z')]);
    clock = new Date('2026-06-05T12:00:00Z');

    await ingest([view('e-2', 'e-2-v-late', '2026-06-04T10:30:00Z')]);

    await expectErased('e-2');
  });

  test('a customer who returns six months later starts a new epoch: no dedupe key repeats', async () => {
    clock = new Date('2026-06-05T12:00:00Z');
    await ingest([order('e-3', 'e-3-o1', '2026-06-05T09:00:00Z')]);
    await ingest([erase('e-3', 'e-3-x', '2026-06-05T11:00:00Z')]);
    clock = new Date('2026-12-05T12:00:00Z');

    await ingest([order('e-3', 'e-3-o2', '2026-12-05T09:00:00Z')]);

    const events = deliveredFor('e-3');
    const lifecycle = events.filter((e) => e.type === 'lifecycle.changed');
    const segment = events.filter((e) => e.type === 'segment.changed');
    expect(lifecycle).toHaveLength(2);
    expect(segment).toHaveLength(2);
    const keys = events.map((e) => e.detail.dedupeKey);
    expect(new Set(keys).size).toBe(keys.length);
    const profile = (await stack.table.profiles.get('e-3'))!;
    expect(profile).toMatchObject({ epoch: 1, erasedAt: '2026-06-05T11:00:00.000Z' });
    expect(profile.features).toMatchObject({ orders: 1, revenue: 40, eventCount: 1 });
    expect(profile.features.firstSeenAt).toBe('2026-12-05T09:00:00.000Z');
  });

  test('a redelivered erasure request after the customer returned erases nothing of the new epoch', async () => {
    clock = new Date('2026-12-06T12:00:00Z');
    await ingest([erase('e-3', 'e-3-x', '2026-06-05T11:00:00Z')]);
    expect((await stack.table.profiles.get('e-3'))!.features.orders).toBe(1);
  });

  const phases = [
    'after the profiles were read',
    'after the profile write, before the log write',
    'after the log write, before the publish',
    'after the publish, before the settle',
  ] as const;

  test.each(phases)('a batch in flight when the erasure lands (%s) leaves nothing behind', async (phase) => {
    const id = `e-fly-${phases.indexOf(phase)}`;
    clock = new Date('2027-01-10T12:00:00Z');
    await ingest([order(id, `${id}-o1`, '2027-01-10T08:00:00Z')]);
    const base = stack.ingestDeps();
    let erased = false;
    const eraseNow = async () => {
      if (erased) return;
      erased = true;
      await ingest([erase(id, `${id}-x`, '2027-01-10T11:00:00Z')]);
    };
    const deps: IngestDeps = {
      ...base,
      profiles: Object.assign(Object.create(base.profiles) as typeof base.profiles, {
        getMany: async (ids: readonly string[]) => {
          const got = await base.profiles.getMany(ids);
          if (phase === 'after the profiles were read') await eraseNow();
          return got;
        },
        settle: async (...a: Parameters<typeof base.profiles.settle>) => {
          if (phase === 'after the publish, before the settle') await eraseNow();
          return base.profiles.settle(...a);
        },
      }),
      eventLog: Object.assign(Object.create(base.eventLog) as typeof base.eventLog, {
        appendMany: async (...a: Parameters<typeof base.eventLog.appendMany>) => {
          if (phase === 'after the profile write, before the log write') await eraseNow();
          return base.eventLog.appendMany(...a);
        },
      }),
      publisher: {
        publish: async (entries) => {
          if (phase === 'after the log write, before the publish') await eraseNow();
          return base.publisher.publish(entries);
        },
      },
    };

    // A second order and a view, both dated before the erasure request.
    await ingest(
      [order(id, `${id}-o2`, '2027-01-10T09:00:00Z', 500), view(id, `${id}-v1`, '2027-01-10T09:30:00Z')],
      deps,
    );
    await sweepLater();

    expect(erased).toBe(true);
    await expectErased(id);
    const events = deliveredFor(id);
    const done = events.findIndex((e) => e.type === 'customer.erasure.completed');
    expect(done).toBeGreaterThanOrEqual(0);
    expect(events.filter((e) => e.type === 'customer.erasure.completed')).toHaveLength(1);
    // nothing about the customer is published after the confirmation
    expect(events.slice(done + 1)).toEqual([]);
  });

  test('an erasure leaves nothing in any store: table, quarantine, run artifacts and the embedding cache', async () => {
    const id = 'e-all';
    const email = 'jo.bloggs@example.com';
    clock = new Date('2027-02-01T12:00:00Z');
    const review = makeEvent('review.submitted', {
      customerId: id,
      eventId: `${id}-r`,
      rating: 2,
      text: `Arrived broken, write to me at ${email}`,
      occurredAt: '2027-02-01T09:40:00Z',
    });
    const deps = stack.ingestDeps();
    await ingest(
      [
        order(id, `${id}-o1`, '2027-02-01T09:00:00Z'),
        view(id, `${id}-v1`, '2027-02-01T09:10:00Z'),
        makeEvent('search.performed', {
          customerId: id,
          eventId: `${id}-s1`,
          query: 'rose shears',
          occurredAt: '2027-02-01T09:20:00Z',
        }),
        makeEvent('cart.updated', { customerId: id, eventId: `${id}-c1`, occurredAt: '2027-02-01T09:30:00Z' }),
        review,
      ],
      deps,
    );
    // Two rejects naming the customer, with the e-mail address in their raw payloads.
    const rejects = [
      envelope('order.placed', { eventId: `${id}-bad`, customerId: id, occurredAt: '2027-02-01T09:50:00Z', email }),
      envelope('order.teleported', { eventId: `${id}-unknown`, customerId: id, email }),
    ];
    await makeHandler(deps)(
      { Records: rejects.map((body, i) => ({ messageId: `rej-${i}`, body })) } as unknown as SQSEvent,
      lambdaContext,
    );
    // A nightly ScanShard writes the customer's id and vector into the run's artifacts.
    const objects = new LocalObjectStore({ clock: () => clock.getTime() });
    const recluster = reclusterDepsForStack(stack, { objects, clock: () => clock });
    await scanShard(
      { runId: 'run-erasure', asOf: clock.toISOString(), shard: 0, totalShards: 1, baseRunId: null },
      recluster,
    );
    const holding = async () => {
      let n = 0;
      for (const key of await objects.list()) {
        const body = Buffer.from((await objects.get(key)) ?? new Uint8Array()).toString('latin1');
        if (body.includes(id)) n += 1;
      }
      return n;
    };
    expect(await holding()).toBeGreaterThan(0);
    const quarantine = deps.quarantine as DynamoQuarantine;
    const quarantined = async () => {
      const res = await documentClient(stack.dynamo.client).send(
        new ScanCommand({ TableName: quarantine.tableName, ConsistentRead: true }),
      );
      return (res.Items ?? []).filter((item) => JSON.stringify(item).includes(id)).length;
    };
    expect(await quarantined()).toBe(2);

    clock = new Date('2027-02-01T13:00:00Z');
    await ingest([erase(id, `${id}-x`, '2027-02-01T12:30:00Z')]);

    // table: only the tombstone, holding nothing about the customer
    await expectErased(id);
    // quarantine: none of its rejects
    expect(await quarantined()).toBe(0);
    // the next night carries the population forward from the erasure night's files: the tombstone made the customer
    // due, so its row is dropped, not carried (and nothing of it is in the new run's objects)
    await scanShard(
      { runId: 'run-after-erasure', asOf: clock.toISOString(), shard: 0, totalShards: 1, baseRunId: 'run-erasure' },
      recluster,
    );
    const carried = await readPopulation(objects, 'run-after-erasure', 0);
    expect(carried).toMatchObject({ mode: 'index' });
    expect(carried!.customers.map((c) => c.id)).not.toContain(id);
    for (const key of await objects.list('runs/run-after-erasure/')) {
      expect(Buffer.from((await objects.get(key))!).toString('latin1')).not.toContain(id);
    }
    // run artifacts: kept only as long as a run needs them (RUN_OBJECT_RETENTION), then gone
    clock = new Date(clock.getTime() + RUN_OBJECT_RETENTION.artifacts.days * 86_400_000);
    await objects.expire([RUN_OBJECT_RETENTION.artifacts], clock.getTime());
    expect(await holding()).toBe(0);
    // the embedding cache is keyed by a hash of each text: it holds no text at all
    const cache = (deps.embedder as unknown as { cache: { keys(): IterableIterator<string> } }).cache;
    const keys = [...cache.keys()];
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((k) => k.includes(email) || k.includes('broken') || !/^[0-9a-f]{64}$/.test(k))).toEqual([]);
    // and the confirmation counts what each store deleted
    const done = stack.bus.events.filter(
      (e) =>
        e['detail-type'] === 'customer.erasure.completed' && (e.detail as { customerId: string }).customerId === id,
    );
    expect(done.map((e) => (e.detail as { deletedByStore: Record<string, number> }).deletedByStore)).toEqual([
      { table: 5, quarantine: 2 },
    ]);
  });
});
