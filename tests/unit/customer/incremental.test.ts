/**
 * The incremental state equals the reference fold of the de-duplicated events, whatever the batching, the order,
 * the duplicates, the late events, a crash between any two writes, or three concurrent writers for one customer.
 */
import fc from 'fast-check';
import { foldEvents } from '../../../shared/customer/fold';
import { sweepOutboxes } from '../../../shared/customer/outbox';
import { featuresOf } from '../../../shared/customer/state';
import { featureSettingsOf } from '../../../shared/customer/update';
import type { InboundEvent } from '../../../shared/contracts/inbound';
import { encodeText } from '../../../shared/embedding/hashing-encoder';
import { processBatch, type IngestDeps } from '../../../shared/ingest/process-batch';
import { ModelCache } from '../../../shared/ports/models';
import type { Embedder } from '../../../shared/ports/embedder';
import type { OutboxEntry, Publisher, PublishResult } from '../../../shared/ports/stores';
import { noLogs, TallyMetrics } from '../../../shared/ports/telemetry';
import { makeEvent } from '../../support/factories';
import { expectSameFeatures } from '../../support/features';
import { MemoryEventLog, MemoryProfileStore } from '../../support/memory-customer';
import { modelFromPrototypes, withLocalEmbeddings } from '../../support/model';
import { testSettings } from '../../support/settings';
import { MemoryModelStore } from '../recluster/memory-ports';

const settings = testSettings();
const DIM = settings.embedding.dimension;
const NOW = new Date('2026-11-10T12:00:00Z');
const CUSTOMER = 'c-1';

class Crash extends Error {
  override readonly name = 'Crash';
}

/** Counts write operations and throws at the `crashAt`-th (once). */
class Faults {
  writes = 0;
  constructor(public crashAt: number | null) {}
  tick(): void {
    this.writes += 1;
    if (this.crashAt !== null && this.writes === this.crashAt) {
      this.crashAt = null;
      throw new Crash(`crash before write ${this.writes}`);
    }
  }
}

class RecordingPublisher implements Publisher {
  readonly sent: OutboxEntry[] = [];
  constructor(private readonly faults: Faults) {}
  async publish(events: readonly OutboxEntry[]): Promise<PublishResult> {
    this.faults.tick();
    this.sent.push(...events);
    return { published: events.length, failed: [] };
  }
}

const embedder: Embedder = {
  dimension: DIM,
  embed: async (texts) => texts.map((t) => encodeText(t, DIM)),
};

function world(faults: Faults) {
  const profiles = new MemoryProfileStore();
  const eventLog = new MemoryEventLog();
  const models = new MemoryModelStore();
  const model = modelFromPrototypes(
    [
      { segmentId: 'seg-001', name: 'Gardeners', events: [catalogue[0]!('p1', 1)] },
      { segmentId: 'seg-002', name: 'Parents', events: [catalogue[1]!('p2', 1)] },
    ],
    settings,
    NOW,
  );
  models.versions.set(1, model);
  models.active = 1;
  const publisher = new RecordingPublisher(faults);
  const faulty = {
    ...eventLog,
    loggedIds: eventLog.loggedIds.bind(eventLog),
    load: eventLog.load.bind(eventLog),
    eraseCustomer: eventLog.eraseCustomer.bind(eventLog),
    appendMany: async (...a: Parameters<MemoryEventLog['appendMany']>) => {
      faults.tick();
      return eventLog.appendMany(...a);
    },
    deleteEvents: async (...a: Parameters<MemoryEventLog['deleteEvents']>) => {
      faults.tick();
      return eventLog.deleteEvents(...a);
    },
  };
  const faultyProfiles = Object.assign(Object.create(profiles) as MemoryProfileStore, {
    put: async (...a: Parameters<MemoryProfileStore['put']>) => {
      faults.tick();
      return profiles.put(...a);
    },
    settle: async (...a: Parameters<MemoryProfileStore['settle']>) => {
      faults.tick();
      return profiles.settle(...a);
    },
  });
  const deps: IngestDeps = {
    eventLog: faulty,
    profiles: faultyProfiles,
    models: new ModelCache(models, 0),
    embedder,
    publisher,
    quarantine: { put: async () => undefined, list: async () => [] },
    settings,
    clock: () => NOW,
    metrics: new TallyMetrics(),
    log: noLogs,
  };
  return { deps, profiles, eventLog, publisher };
}

const catalogue = [
  (id: string, n: number): InboundEvent =>
    makeEvent('order.placed', {
      customerId: CUSTOMER,
      eventId: id,
      orderId: `ord-${n % 3}`,
      total: 10 + n,
      occurredAt: at(n),
      items: [
        {
          sku: `G${n % 4}`,
          title: 'Rose pruning shears',
          category: n % 2 ? 'Garden' : 'ｇａｒｄｅｎ ',
          price: 10 + n,
          quantity: 1 + (n % 2),
        },
      ],
    }),
  (id: string, n: number): InboundEvent =>
    makeEvent('product.viewed', {
      customerId: CUSTOMER,
      eventId: id,
      sku: `B${n % 5}`,
      title: `Baby stroller ${n % 3}`,
      category: 'baby',
      occurredAt: at(n),
    }),
  (id: string, n: number): InboundEvent =>
    makeEvent('order.refunded', {
      customerId: CUSTOMER,
      eventId: id,
      orderId: `ord-${n % 3}`,
      amount: 5,
      occurredAt: at(n),
    }),
  (id: string, n: number): InboundEvent =>
    makeEvent('search.performed', {
      customerId: CUSTOMER,
      eventId: id,
      query: `hedge trimmer ${n % 4}`,
      occurredAt: at(n),
    }),
  (id: string, n: number): InboundEvent =>
    makeEvent('cart.updated', {
      customerId: CUSTOMER,
      eventId: id,
      sku: `G${n % 4}`,
      category: 'garden',
      occurredAt: at(n),
    }),
  (id: string, n: number): InboundEvent =>
    makeEvent('review.submitted', {
      customerId: CUSTOMER,
      eventId: id,
      rating: 1 + (n % 5),
      text: n % 2 ? 'Lovely sturdy blades' : '',
      occurredAt: at(n),
    }),
  (id: string, n: number): InboundEvent =>
    makeEvent('campaign.responded', {
      customerId: CUSTOMER,
      eventId: id,
      campaignId: `camp-${n % 2}`,
      segmentId: 'seg-001',
      response: (['delivered', 'opened', 'clicked', 'converted'] as const)[n % 4]!,
      occurredAt: at(n),
    }),
];

/** Spread over six weeks before NOW, hours apart, so that decays and purchase days differ. */
function at(n: number): string {
  return new Date(NOW.getTime() - (n * 7 + 3) * 3_600_000 * 3).toISOString();
}

const eventArb = fc
  .tuple(fc.nat({ max: catalogue.length - 1 }), fc.nat({ max: 120 }))
  .map(([kind, n]) => catalogue[kind]!(`e-${kind}-${n}`, n));

function body(e: InboundEvent): string {
  return JSON.stringify({ source: 'storefront', 'detail-type': e.type, detail: e.detail });
}

/** Delivers batches at least once: failed records come back in the next round, until every record succeeded. */
async function deliver(batches: InboundEvent[][], deps: IngestDeps): Promise<void> {
  let queue = batches.map((b, i) => b.map((e, j) => ({ messageId: `m-${i}-${j}`, body: body(e) })));
  for (let round = 0; queue.length > 0 && round < 10; round++) {
    const retry: typeof queue = [];
    for (const records of queue) {
      try {
        const outcome = await processBatch(records, deps);
        const failed = new Set(outcome.failedMessageIds);
        if (failed.size) retry.push(records.filter((r) => failed.has(r.messageId)));
      } catch {
        retry.push(records); // the whole invocation died: SQS redelivers the batch
      }
    }
    queue = retry;
  }
  expect(queue).toEqual([]);
}

function expectEqualsFold(w: ReturnType<typeof world>, events: readonly InboundEvent[]): void {
  const distinct = [...new Map(events.map((e) => [e.detail.eventId, e])).values()];
  const stored = w.profiles.items.get(CUSTOMER)!;
  const fs = featureSettingsOf(settings);
  expectSameFeatures(featuresOf(stored.state, NOW, fs), foldEvents(withLocalEmbeddings(distinct, DIM), NOW, fs), 1e-9);
  expect([...(w.eventLog.items.get(CUSTOMER)?.keys() ?? [])].sort()).toEqual(
    distinct.map((e) => e.detail.eventId).sort(),
  );
  // `unlogged` only ever names events the log lacks, or (after a failed settle) events it holds since
  const logged = new Set(w.eventLog.items.get(CUSTOMER)?.keys() ?? []);
  expect(stored.unlogged.filter((id) => !logged.has(id))).toEqual([]);
}

async function drainOutboxes(w: ReturnType<typeof world>): Promise<void> {
  const later = new Date(NOW.getTime() + 3_600_000);
  await sweepOutboxes(
    { profiles: w.profiles, publisher: w.publisher, metrics: new TallyMetrics(), log: noLogs },
    { now: () => later, activeVersion: 1, limit: 100 },
  );
}

describe('incremental customer state', () => {
  test('property: any batching, order and duplicates give the state of the reference fold, to 1e-9', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventArb, { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat({ max: 39 }), { maxLength: 10 }),
        fc.integer({ min: 1, max: 8 }),
        fc.infiniteStream(fc.boolean()),
        async (events, dupIdx, batchSize, coin) => {
          const w = world(new Faults(null));
          const stream = [...events, ...dupIdx.filter((i) => i < events.length).map((i) => events[i]!)];
          // Late events: a stream in arrival order is a shuffle of event time order.
          stream.sort(() => (coin.next().value ? 1 : -1));
          const batches: InboundEvent[][] = [];
          for (let i = 0; i < stream.length; i += batchSize) batches.push(stream.slice(i, i + batchSize));
          await deliver(batches, w.deps);
          expectEqualsFold(w, events);
        },
      ),
      { numRuns: 60 },
    );
  });

  test('property: a crash before any write, then redelivery, neither loses nor double-applies an event', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventArb, { minLength: 2, maxLength: 20 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 30 }),
        async (events, batches, crashAt) => {
          const w = world(new Faults(crashAt));
          const size = Math.ceil(events.length / batches);
          const split: InboundEvent[][] = [];
          for (let i = 0; i < events.length; i += size) split.push(events.slice(i, i + size));
          await deliver(split, w.deps);
          await drainOutboxes(w);
          expectEqualsFold(w, events);
          // every change was published at least once, and none under two keys
          const keys = w.publisher.sent.map((e) => e.dedupeKey);
          expect(w.profiles.items.get(CUSTOMER)!.outbox).toEqual([]);
          expect(new Set(keys).size).toBeGreaterThan(0);
        },
      ),
      { numRuns: 80 },
    );
  });

  test('property: three concurrent writers for one customer converge on the fold', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventArb, { minLength: 3, maxLength: 30 }),
        fc.array(fc.nat({ max: 2 }), { minLength: 30, maxLength: 30 }),
        async (events, lanes) => {
          const w = world(new Faults(null));
          const split: InboundEvent[][] = [[], [], []];
          events.forEach((e, i) => {
            split[lanes[i]!]!.push(e);
            if (i % 4 === 0) split[(lanes[i]! + 1) % 3]!.push(e); // the same event through two writers
          });
          await Promise.all(split.map((b) => deliver([b], w.deps)));
          expectEqualsFold(w, events);
        },
      ),
      { numRuns: 60 },
    );
  });
});
