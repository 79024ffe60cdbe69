/**
 * At-least-once, but not much more: four consumers ingest interleaved batches of the same customers concurrently,
 * and every change reaches the bus about once. Before the outbox claims, settling without moving the revision let a
 * writer that read an earlier revision re-add and republish published entries (2.57 deliveries per change).
 */
import type { SQSEvent } from 'aws-lambda';
import { makeHandler } from '../../functions/ingest/app';
import type { InboundEvent } from '../../shared/contracts/inbound';
import { createRng } from '../../shared/util/rng';
import { startEmbeddedStack, type EmbeddedStack } from '../../local/stack';
import { envelope, makeEvent } from '../support/factories';
import { modelFromPrototypes } from '../support/model';
import { testSettings } from '../support/settings';

const settings = testSettings();
const now = new Date('2026-11-10T12:00:00Z');
let stack: EmbeddedStack;

function stream(customers: number, events: number): InboundEvent[] {
  const rng = createRng(7);
  const out: InboundEvent[] = [];
  for (let i = 0; i < events; i++) {
    const customerId = `load-${rng.int(customers)}`;
    const occurredAt = new Date(now.getTime() - rng.int(30 * 86_400_000)).toISOString();
    const garden = rng.next() < 0.5;
    out.push(
      rng.next() < 0.3
        ? makeEvent('order.placed', {
            customerId,
            eventId: `ev-${i}`,
            orderId: `ord-${i}`,
            total: 20 + rng.int(200),
            occurredAt,
            items: [
              {
                sku: `s${rng.int(20)}`,
                title: garden ? 'Rose pruning shears' : 'Baby stroller',
                category: garden ? 'garden' : 'baby',
                price: 20,
                quantity: 1,
              },
            ],
          })
        : makeEvent('product.viewed', {
            customerId,
            eventId: `ev-${i}`,
            title: garden ? 'Ceramic plant pot' : 'Baby monitor',
            category: garden ? 'garden' : 'baby',
            occurredAt,
          }),
    );
  }
  return out;
}

function sqs(events: InboundEvent[], prefix: string): SQSEvent {
  return {
    Records: events.map((e, i) => ({ messageId: `${prefix}-${i}`, body: envelope(e.type, e.detail) })),
  } as unknown as SQSEvent;
}

describe('outbox under concurrent consumers', () => {
  beforeAll(async () => {
    stack = await startEmbeddedStack({ settings, clock: () => now });
    const model = modelFromPrototypes(
      [
        { segmentId: 'seg-001', name: 'Gardeners', events: stream(1, 1).map((e) => ({ ...e })) },
        {
          segmentId: 'seg-002',
          name: 'Parents',
          events: [makeEvent('product.viewed', { customerId: 'p', title: 'Baby monitor', category: 'baby' })],
        },
      ],
      settings,
      now,
    );
    await stack.modelStore.putVersion(model);
    await stack.modelStore.activate(1, null);
  });
  afterAll(() => stack.close());

  test('2,000 events for 200 customers over 4 consumers: at most 1.05 deliveries per change', async () => {
    const events = stream(200, 2_000);
    const batches: InboundEvent[][] = [];
    for (let i = 0; i < events.length; i += 25) batches.push(events.slice(i, i + 25));
    let next = 0;
    const consumer = async (c: number) => {
      const handler = makeHandler(stack.ingestDeps());
      while (next < batches.length) {
        const i = next++;
        const res = await handler(sqs(batches[i]!, `c${c}-b${i}`), {} as never);
        // a record handed back is redelivered, as SQS would
        if (res.batchItemFailures.length)
          batches.push(
            batches[i]!.filter((_, j) => res.batchItemFailures.some((f) => f.itemIdentifier === `c${c}-b${i}-${j}`)),
          );
      }
    };
    await Promise.all([0, 1, 2, 3].map(consumer));

    const delivered = stack.bus.events.filter(
      (e) => e['detail-type'] === 'segment.changed' || e['detail-type'] === 'lifecycle.changed',
    );
    const keys = new Set(delivered.map((e) => (e.detail as { dedupeKey: string }).dedupeKey));
    const ratio = delivered.length / keys.size;
    console.info(`${delivered.length} deliveries for ${keys.size} changes: ${ratio.toFixed(3)} per change`);
    expect(keys.size).toBeGreaterThan(200); // every customer changed stage and segment at least once
    expect(ratio).toBeLessThanOrEqual(1.05);
    expect(stack.metrics.counts.EventsIngested).toBe(2_000);
  });
});
