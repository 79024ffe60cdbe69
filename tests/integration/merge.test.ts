/**
 * Identity merge (`customer.merged`): against dynalite, the local bus and the local SageMaker server, through the
 * ingest handler. Each ordering case of issue #13 §3 is a named test.
 */
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { makeHandler } from '../../functions/ingest/app';
import { makeHandler as makeOutboxHandler } from '../../functions/outbox/app';
import { CLAIM_LEASE_MS } from '../../shared/customer/evaluate';
import { documentClient, type DynamoQuarantine } from '../../shared/adapters/dynamo';
import type { InboundEvent } from '../../shared/contracts/inbound';
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
const merge = (from: string, to: string, eventId: string, occurredAt: string): InboundEvent =>
  makeEvent('customer.merged', { customerId: to, fromCustomerId: from, toCustomerId: to, eventId, occurredAt });
const erase = (customerId: string, eventId: string, occurredAt: string): InboundEvent =>
  makeEvent('customer.erased', { customerId, eventId, occurredAt });

function sqs(bodies: string[]): SQSEvent {
  batchNo += 1;
  return {
    Records: bodies.map((body, i) => ({ messageId: `m${batchNo}-${i}`, body })),
  } as unknown as SQSEvent;
}

async function ingest(events: InboundEvent[], deps: IngestDeps = stack.ingestDeps()) {
  const res = await makeHandler(deps)(sqs(events.map((e) => envelope(e.type, e.detail))), lambdaContext);
  expect(res.batchItemFailures).toEqual([]);
}

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

const profile = async (id: string) => (await stack.table.profiles.get(id))!;

/** Changes the bus delivered for one customer (its own `customerId`). */
const changesFor = (customerId: string) =>
  stack.bus.events
    .filter((e) => e.source === 'shoal' && (e.detail as { customerId?: string }).customerId === customerId)
    .map((e) => e['detail-type']);

async function sweepLater() {
  const later = new Date(clock.getTime() + 2 * CLAIM_LEASE_MS);
  await makeOutboxHandler({ ...stack.ingestDeps(), models: stack.modelStore, clock: () => later })();
}

async function expectErased(customerId: string) {
  expect((await itemsOf(customerId)).map((i) => i.sk)).toEqual(['PROFILE']);
  const p = await profile(customerId);
  expect(isTombstone(p)).toBe(true);
  expect(p.aliasOf).toBeUndefined();
  expect(p).toMatchObject({ assignment: null, traits: null, lifecycleStage: null, history: [], unlogged: [] });
}

describe('identity merge (customer.merged)', () => {
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

  test('events for the alias before the merge: the survivor absorbs them exactly, the alias keeps no assignment', async () => {
    await ingest([
      view('m1-anon', 'm1-v1', '2026-06-01T08:00:00Z'),
      order('m1-anon', 'm1-o1', '2026-06-01T08:30:00Z', 25),
    ]);
    await ingest([order('m1-user', 'm1-o2', '2026-06-01T09:00:00Z', 60)]);
    expect((await profile('m1-anon')).assignment).not.toBeNull();

    await ingest([merge('m1-anon', 'm1-user', 'm1-m', '2026-06-01T10:00:00Z')]);

    const survivor = await profile('m1-user');
    expect(survivor.features).toMatchObject({ eventCount: 3, orders: 2, revenue: 85 });
    expect(survivor.features.firstSeenAt).toBe('2026-06-01T08:00:00.000Z');
    expect(survivor.mergedFrom).toEqual(['m1-anon']);
    const alias = await profile('m1-anon');
    expect(alias).toMatchObject({ aliasOf: 'm1-user', assignment: null, lifecycleStage: null });
    expect(alias.state.events).toBe(0); // the survivor holds its state now: no second copy
    // the alias's logged events stay under its id: they are the record
    expect((await itemsOf('m1-anon')).map((i) => i.sk).sort()).toEqual(['E#m1-o1', 'E#m1-v1', 'PROFILE']);
  });

  test('events for the alias after the merge count for the survivor, and are logged under it', async () => {
    const aliasRev = (await profile('m1-anon')).rev;

    await ingest([order('m1-anon', 'm1-o3', '2026-06-01T11:00:00Z', 15)]);

    expect((await profile('m1-user')).features).toMatchObject({ eventCount: 4, orders: 3, revenue: 100 });
    expect((await profile('m1-anon')).rev).toBe(aliasRev);
    expect((await itemsOf('m1-user')).map((i) => i.sk).sort()).toEqual(['E#m1-o2', 'E#m1-o3', 'PROFILE']);
  });

  test('a late event for the alias (dated before the merge, arriving after it) counts for the survivor', async () => {
    clock = new Date('2026-06-02T12:00:00Z');

    await ingest([view('m1-anon', 'm1-v-late', '2026-06-01T07:00:00Z')]);

    const survivor = await profile('m1-user');
    expect(survivor.features).toMatchObject({ eventCount: 5, orders: 3 });
    expect(survivor.features.firstSeenAt).toBe('2026-06-01T07:00:00.000Z');
  });

  test('an event logged under the alias before the merge and redelivered after it is not counted twice', async () => {
    const duplicatesBefore = stack.metrics.counts.DuplicateEvents ?? 0;

    await ingest([order('m1-anon', 'm1-o1', '2026-06-01T08:30:00Z', 25)]);

    expect((await profile('m1-user')).features).toMatchObject({ eventCount: 5, orders: 3, revenue: 100 });
    expect(stack.metrics.counts.DuplicateEvents).toBe(duplicatesBefore + 1);
  });

  test('a merge redelivered changes nothing: same state, same revision, nothing published', async () => {
    const before = await profile('m1-user');
    const published = stack.bus.events.length;

    await ingest([merge('m1-anon', 'm1-user', 'm1-m', '2026-06-01T10:00:00Z')]);

    const after = await profile('m1-user');
    expect(after.rev).toBe(before.rev);
    expect(after.features).toEqual(before.features);
    expect(stack.bus.events.length).toBe(published);
  });

  test("one segment.changed and one lifecycle.changed for the survivor; the alias's unpublished changes are dropped", async () => {
    // The account only browsed baby goods, days ago (past the minimum dwell in a segment).
    clock = new Date('2026-06-01T12:00:00Z');
    await ingest([view('m2-user', 'm2-v1', '2026-06-01T09:00:00Z')]);
    clock = new Date('2026-06-03T12:00:00Z');
    // The anonymous visitor buys garden tools while the bus is down: its own changes stay in its outbox.
    const down: IngestDeps = {
      ...stack.ingestDeps(),
      publisher: { publish: async () => Promise.reject(new Error('bus down')) },
    };
    await ingest(
      [
        order('m2-anon', 'm2-o1', '2026-06-03T08:00:00Z'),
        order('m2-anon', 'm2-o2', '2026-06-03T08:10:00Z'),
        order('m2-anon', 'm2-o3', '2026-06-03T08:20:00Z'),
      ],
      down,
    );
    expect((await profile('m2-anon')).outbox.length).toBeGreaterThan(0);
    const before = await profile('m2-user');
    expect(before.assignment?.segmentId).toBe('seg-002');
    const userBefore = changesFor('m2-user').length;
    clock = new Date(clock.getTime() + 2 * CLAIM_LEASE_MS);

    await ingest([merge('m2-anon', 'm2-user', 'm2-m', '2026-06-03T10:00:00Z')]);
    await sweepLater();

    const after = await profile('m2-user');
    expect(after.assignment?.segmentId).toBe('seg-001');
    expect(after.lifecycleStage).not.toBe(before.lifecycleStage);
    expect(changesFor('m2-user').slice(userBefore).sort()).toEqual(['lifecycle.changed', 'segment.changed']);
    expect(changesFor('m2-anon')).toEqual([]);
    expect((await profile('m2-anon')).outbox).toEqual([]);
  });

  test('a chain of merges (a → b, then b → c): events for a count for c', async () => {
    clock = new Date('2026-06-04T12:00:00Z');
    await ingest([order('m3-a', 'm3-o1', '2026-06-04T08:00:00Z', 10)]);
    await ingest([order('m3-b', 'm3-o2', '2026-06-04T08:30:00Z', 20)]);
    await ingest([order('m3-c', 'm3-o3', '2026-06-04T09:00:00Z', 30)]);
    await ingest([merge('m3-a', 'm3-b', 'm3-m1', '2026-06-04T09:10:00Z')]);
    await ingest([merge('m3-b', 'm3-c', 'm3-m2', '2026-06-04T09:20:00Z')]);

    await ingest([order('m3-a', 'm3-o4', '2026-06-04T10:00:00Z', 40)]);

    expect((await profile('m3-c')).features).toMatchObject({ eventCount: 4, orders: 4, revenue: 100 });
    expect((await profile('m3-c')).mergedFrom).toEqual(['m3-a', 'm3-b']);
    expect((await profile('m3-b')).features.orders).toBe(0); // the link only: c holds its state
    // and the first merge redelivered now absorbs nothing more
    await ingest([merge('m3-a', 'm3-b', 'm3-m1', '2026-06-04T09:10:00Z')]);
    expect((await profile('m3-c')).features.revenue).toBe(100);
  });

  test('a merge back into the from-id (b → a after a → b) is refused: no cycle is written', async () => {
    const refused = stack.metrics.counts.MergesRefused ?? 0;

    await ingest([merge('m3-c', 'm3-a', 'm3-m3', '2026-06-04T11:00:00Z')]);

    expect(stack.metrics.counts.MergesRefused).toBe(refused + 1);
    expect((await profile('m3-c')).aliasOf).toBeUndefined();
    await ingest([order('m3-a', 'm3-o5', '2026-06-04T11:30:00Z', 5)]);
    expect((await profile('m3-c')).features.orders).toBe(5);
  });

  test('an id erased before it was merged keeps its fence: its late events stay dropped after the merge', async () => {
    clock = new Date('2026-06-04T18:00:00Z');
    await ingest([order('m6-anon', 'm6-o1', '2026-06-04T12:00:00Z')]);
    await ingest([erase('m6-anon', 'm6-x', '2026-06-04T13:00:00Z')]);
    await ingest([order('m6-user', 'm6-o2', '2026-06-04T14:00:00Z')]);
    await ingest([merge('m6-anon', 'm6-user', 'm6-m', '2026-06-04T15:00:00Z')]);
    const dropped = stack.metrics.counts.ErasedEventsDropped ?? 0;

    await ingest([
      view('m6-anon', 'm6-v-late', '2026-06-04T12:30:00Z'),
      view('m6-anon', 'm6-v2', '2026-06-04T16:00:00Z'),
    ]);

    expect(stack.metrics.counts.ErasedEventsDropped).toBe(dropped + 1);
    expect((await profile('m6-user')).features).toMatchObject({ eventCount: 2, orders: 1 });
    expect((await itemsOf('m6-user')).map((i) => i.sk).sort()).toEqual(['E#m6-o2', 'E#m6-v2', 'PROFILE']);
  });

  async function withRejects(ids: string[]) {
    const deps = stack.ingestDeps();
    await makeHandler(deps)(
      sqs(
        ids.map((id) =>
          envelope('order.placed', { eventId: `${id}-bad`, customerId: id, occurredAt: clock.toISOString() }),
        ),
      ),
      lambdaContext,
    );
    const quarantine = deps.quarantine as DynamoQuarantine;
    return async () => {
      const res = await documentClient(stack.dynamo.client).send(
        new ScanCommand({ TableName: quarantine.tableName, ConsistentRead: true }),
      );
      return (res.Items ?? []).filter((item) => ids.some((id) => JSON.stringify(item).includes(`${id}-bad`))).length;
    };
  }

  test('erasure of the from-id after the merge erases the survivor too (profiles, logs, quarantine)', async () => {
    clock = new Date('2026-06-05T12:00:00Z');
    await ingest([order('m4-anon', 'm4-o1', '2026-06-05T08:00:00Z')]);
    await ingest([order('m4-user', 'm4-o2', '2026-06-05T09:00:00Z')]);
    await ingest([merge('m4-anon', 'm4-user', 'm4-m', '2026-06-05T10:00:00Z')]);
    await ingest([view('m4-anon', 'm4-v1', '2026-06-05T10:30:00Z')]);
    const quarantined = await withRejects(['m4-anon', 'm4-user']);
    expect(await quarantined()).toBe(2);

    await ingest([erase('m4-anon', 'm4-x', '2026-06-05T11:00:00Z')]);

    await expectErased('m4-anon');
    await expectErased('m4-user');
    expect(await quarantined()).toBe(0);
    const done = stack.bus.events.filter((e) => e['detail-type'] === 'customer.erasure.completed');
    expect(
      done
        .map((e) => (e.detail as { customerId: string }).customerId)
        .filter((id) => id.startsWith('m4-'))
        .sort(),
    ).toEqual(['m4-anon', 'm4-user']);
  });

  test('erasure of the survivor erases the alias; the alias id then starts afresh', async () => {
    clock = new Date('2026-06-06T12:00:00Z');
    await ingest([order('m5-anon', 'm5-o1', '2026-06-06T08:00:00Z')]);
    await ingest([merge('m5-anon', 'm5-user', 'm5-m', '2026-06-06T09:00:00Z')]);
    const quarantined = await withRejects(['m5-anon']);
    expect(await quarantined()).toBe(1);

    await ingest([erase('m5-user', 'm5-x', '2026-06-06T11:00:00Z')]);

    await expectErased('m5-user');
    await expectErased('m5-anon');
    expect(await quarantined()).toBe(0);
    // a redelivered merge after the erasure does not bring the alias's history back
    await ingest([merge('m5-anon', 'm5-user', 'm5-m', '2026-06-06T09:00:00Z')]);
    expect((await profile('m5-user')).features.orders).toBe(0);
    await expectErased('m5-anon');
    // the erased alias is no alias any more: its id starts a customer of its own
    clock = new Date('2026-06-07T12:00:00Z');
    await ingest([order('m5-anon', 'm5-o2', '2026-06-07T08:00:00Z', 70)]);
    expect((await profile('m5-anon')).features).toMatchObject({ orders: 1, revenue: 70 });
    expect((await profile('m5-user')).features.orders).toBe(0);
  });
});
