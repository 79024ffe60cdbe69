/**
 * The identity merge through the ingest path (in-memory stores): whatever the arrival order of the two ids' events
 * and of the merge, the batching and the redeliveries, the survivor ends with the state of the fold of both ids'
 * distinct events, and alias chains resolve within their bound.
 */
import fc from 'fast-check';
import type { InboundEvent } from '../../../shared/contracts/inbound';
import { MAX_ALIAS_HOPS, resolveAliases } from '../../../shared/customer/alias';
import { foldEvents } from '../../../shared/customer/fold';
import { featuresOf } from '../../../shared/customer/state';
import { featureSettingsOf, refoldAll } from '../../../shared/customer/update';
import { encodeText } from '../../../shared/embedding/hashing-encoder';
import { processBatch, type IngestDeps } from '../../../shared/ingest/process-batch';
import { ModelCache } from '../../../shared/ports/models';
import { noLogs, TallyMetrics } from '../../../shared/ports/telemetry';
import { makeEvent } from '../../support/factories';
import { expectSameFeatures } from '../../support/features';
import { MemoryEventLog, MemoryProfileStore, profileFromLog } from '../../support/memory-customer';
import { withLocalEmbeddings } from '../../support/model';
import { testSettings } from '../../support/settings';
import { MemoryModelStore } from '../recluster/memory-ports';

const settings = testSettings();
const DIM = settings.embedding.dimension;
const NOW = new Date('2026-11-10T12:00:00Z');
const at = (n: number) => new Date(NOW.getTime() - (n * 7 + 3) * 3_600_000 * 3).toISOString();

function world() {
  const profiles = new MemoryProfileStore();
  const eventLog = new MemoryEventLog();
  const deps: IngestDeps = {
    eventLog,
    profiles,
    models: new ModelCache(new MemoryModelStore(), 0),
    embedder: { dimension: DIM, embed: async (texts) => texts.map((t) => encodeText(t, DIM)) },
    publisher: { publish: async (events) => ({ published: events.length, failed: [] }) },
    quarantine: { put: async () => ({ failed: [] }), list: async () => [], eraseCustomer: async () => 0 },
    settings,
    clock: () => NOW,
    metrics: new TallyMetrics(),
    log: noLogs,
  };
  return { deps, profiles, eventLog };
}

const kinds = [
  (customerId: string, id: string, n: number): InboundEvent =>
    makeEvent('order.placed', {
      customerId,
      eventId: id,
      orderId: `ord-${n % 4}`,
      total: 10 + n,
      occurredAt: at(n),
      items: [{ sku: `G${n % 3}`, title: 'Rose shears', category: 'garden', price: 10 + n, quantity: 1 }],
    }),
  (customerId: string, id: string, n: number): InboundEvent =>
    makeEvent('product.viewed', { customerId, eventId: id, title: `Stroller ${n % 3}`, occurredAt: at(n) }),
  (customerId: string, id: string, n: number): InboundEvent =>
    makeEvent('order.refunded', { customerId, eventId: id, orderId: `ord-${n % 4}`, amount: 3, occurredAt: at(n) }),
  (customerId: string, id: string, n: number): InboundEvent =>
    makeEvent('search.performed', { customerId, eventId: id, query: `trowel ${n % 2}`, occurredAt: at(n) }),
];

/** An event of either id: the anonymous one or the account. */
const eventArb = fc
  .tuple(fc.boolean(), fc.nat({ max: kinds.length - 1 }), fc.nat({ max: 100 }))
  .map(([anon, kind, n]) => kinds[kind]!(anon ? 'anon' : 'user', `${anon ? 'a' : 'u'}-${kind}-${n}`, n));

const body = (e: InboundEvent) => JSON.stringify({ source: 'storefront', 'detail-type': e.type, detail: e.detail });

describe('identity merge through the ingest path', () => {
  test("property: any arrival order of both ids' events and the merge, any batching and redelivery, gives the survivor the fold of the union, to 1e-9", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventArb, { minLength: 1, maxLength: 30 }),
        fc.nat({ max: 30 }),
        fc.array(fc.nat({ max: 29 }), { maxLength: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.boolean(),
        async (events, mergeAt, dupIdx, batchSize, mergeTwice) => {
          const w = world();
          const merge = makeEvent('customer.merged', {
            customerId: 'user',
            fromCustomerId: 'anon',
            toCustomerId: 'user',
            eventId: 'merge-1',
            occurredAt: at(0),
          });
          const stream: InboundEvent[] = [...events];
          stream.splice(Math.min(mergeAt, stream.length), 0, merge);
          for (const i of dupIdx) if (i < events.length) stream.push(events[i]!);
          if (mergeTwice) stream.push(merge);
          for (let i = 0; i < stream.length; i += batchSize) {
            const records = stream.slice(i, i + batchSize).map((e, j) => ({ messageId: `m-${i}-${j}`, body: body(e) }));
            expect((await processBatch(records, w.deps)).failedMessageIds).toEqual([]);
          }
          const distinct = [...new Map(events.map((e) => [e.detail.eventId, e])).values()];
          const fs = featureSettingsOf(settings);
          const survivor = w.profiles.items.get('user')!;
          expectSameFeatures(
            featuresOf(survivor.state, NOW, fs),
            foldEvents(withLocalEmbeddings(distinct, DIM), NOW, fs),
            1e-9,
          );
          expect(survivor.mergedFrom).toEqual(['anon']);
          expect(w.profiles.items.get('anon')!.aliasOf).toBe('user');
          // every event is logged once: under the alias if it came before the merge, else under the survivor
          const logged = [...w.eventLog.items.values()].flatMap((m) => [...m.keys()]);
          expect(logged.sort()).toEqual(distinct.map((e) => e.detail.eventId).sort());
        },
      ),
      { numRuns: 80 },
    );
  });

  test('property: batches for both ids delivered concurrently with the merge (records failed back are redelivered) converge on the fold of the union', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventArb, { minLength: 2, maxLength: 24 }),
        fc.array(fc.nat({ max: 2 }), { minLength: 25, maxLength: 25 }),
        async (events, lanes) => {
          const w = world();
          const merge = makeEvent('customer.merged', {
            customerId: 'user',
            fromCustomerId: 'anon',
            toCustomerId: 'user',
            eventId: 'merge-1',
            occurredAt: at(0),
          });
          const split: InboundEvent[][] = [[], [], []];
          [...events, merge].forEach((e, i) => split[lanes[i]!]!.push(e));
          /** At-least-once delivery, batches of 3: failed records come back until none is left. */
          const deliver = async (lane: InboundEvent[], k: number) => {
            let queue = lane.map((e, i) => ({ messageId: `l${k}-${i}`, body: body(e) }));
            for (let round = 0; queue.length > 0 && round < 10; round++) {
              const retry: typeof queue = [];
              for (let i = 0; i < queue.length; i += 3) {
                const records = queue.slice(i, i + 3);
                const failed = new Set((await processBatch(records, w.deps)).failedMessageIds);
                retry.push(...records.filter((r) => failed.has(r.messageId)));
              }
              queue = retry;
            }
            expect(queue).toEqual([]);
          };
          await Promise.all(split.map((lane, k) => deliver(lane, k)));
          const distinct = [...new Map(events.map((e) => [e.detail.eventId, e])).values()];
          const fs = featureSettingsOf(settings);
          expectSameFeatures(
            featuresOf(w.profiles.items.get('user')!.state, NOW, fs),
            foldEvents(withLocalEmbeddings(distinct, DIM), NOW, fs),
            1e-9,
          );
        },
      ),
      { numRuns: 80 },
    );
  });

  test('a refold rebuilds the survivor from its own log and the logs of the ids merged into it', async () => {
    const w = world();
    const events = [
      kinds[0]!('anon', 'a-o1', 30),
      kinds[1]!('anon', 'a-v1', 20),
      kinds[0]!('user', 'u-o1', 11),
      kinds[2]!('user', 'u-r1', 5),
    ];
    const send = (list: InboundEvent[]) =>
      processBatch(
        list.map((e, i) => ({ messageId: `r-${e.detail.eventId}-${i}`, body: body(e) })),
        w.deps,
      );
    await send(events.slice(0, 2));
    await send([makeEvent('customer.merged', { customerId: 'user', fromCustomerId: 'anon', toCustomerId: 'user' })]);
    await send(events.slice(2));
    const fs = featureSettingsOf(settings);
    const expected = foldEvents(withLocalEmbeddings(events, DIM), NOW, fs);

    const tally = await refoldAll(w.deps, { now: () => NOW });

    expect(tally.customers).toBe(1); // the alias is not a customer of its own
    expectSameFeatures(featuresOf(w.profiles.items.get('user')!.state, NOW, fs), expected, 1e-9);
    expect(featuresOf(w.profiles.items.get('user')!.state, NOW, fs).orders).toBe(2);
  });

  test('reads per batch: no alias costs nothing extra; a routed event one more log lookup; a chain one read per hop', async () => {
    const w = world();
    const reads = { profiles: 0, log: 0 };
    const getMany = w.profiles.getMany.bind(w.profiles);
    const loggedIds = w.eventLog.loggedIds.bind(w.eventLog);
    w.deps.profiles = Object.assign(Object.create(w.profiles) as MemoryProfileStore, {
      getMany: (ids: readonly string[]) => ((reads.profiles += 1), getMany(ids)),
    });
    w.deps.eventLog = Object.assign(Object.create(w.eventLog) as MemoryEventLog, {
      loggedIds: (ids: Parameters<MemoryEventLog['loggedIds']>[0]) => ((reads.log += 1), loggedIds(ids)),
    });
    const batch = async (list: InboundEvent[]) => {
      reads.profiles = 0;
      reads.log = 0;
      await processBatch(
        list.map((e, i) => ({ messageId: `q-${e.detail.eventId}-${i}`, body: body(e) })),
        w.deps,
      );
      return { ...reads };
    };
    const merged = (from: string, to: string, eventId: string) =>
      makeEvent('customer.merged', { customerId: to, fromCustomerId: from, toCustomerId: to, eventId });

    expect(await batch([kinds[1]!('a', 'v-1', 1), kinds[1]!('b', 'v-2', 2)])).toEqual({ profiles: 1, log: 1 });
    await batch([merged('a', 'b', 'm-1')]);
    expect(await batch([kinds[1]!('a', 'v-3', 3)])).toEqual({ profiles: 2, log: 2 });
    await batch([merged('b', 'c', 'm-2')]);
    expect(await batch([kinds[1]!('a', 'v-4', 4)])).toEqual({ profiles: 3, log: 2 });
    expect(featuresOf(w.profiles.items.get('c')!.state, NOW, featureSettingsOf(settings)).eventCount).toBe(4);
  });

  const alias = (id: string, to: string) => ({
    ...profileFromLog(id, [], NOW, settings),
    aliasOf: to,
  });

  test('a chain of MAX_ALIAS_HOPS merges resolves to its end; one more is reported, not followed', async () => {
    const profiles = new MemoryProfileStore();
    const ids = Array.from({ length: MAX_ALIAS_HOPS + 2 }, (_, i) => `c${i}`);
    for (let i = 0; i + 1 < ids.length; i++) profiles.items.set(ids[i]!, alias(ids[i]!, ids[i + 1]!));
    profiles.items.set(ids.at(-1)!, profileFromLog(ids.at(-1)!, [], NOW, settings));

    const r = await resolveAliases([ids[0]!, ids[1]!], profiles);

    expect(r.unresolved.get(ids[0]!)).toBe('alias_chain_too_long');
    expect(r.survivor.get(ids[1]!)).toBe(ids.at(-1));
  });

  test('a cycle of aliases is reported as alias_cycle and its events fail back to the queue', async () => {
    const w = world();
    w.profiles.items.set('x', alias('x', 'y'));
    w.profiles.items.set('y', alias('y', 'x'));

    const r = await resolveAliases(['x'], w.profiles);
    expect(r.unresolved.get('x')).toBe('alias_cycle');
    const out = await processBatch([{ messageId: 'm-1', body: body(kinds[1]!('x', 'x-v1', 1)) }], w.deps);
    expect(out.failedMessageIds).toEqual(['m-1']);
  });
});
