/**
 * The nightly recluster state machine, end to end on one machine: the CDK app is synthesized for `dev`, its state
 * machine definition runs in aws-local-stepfunctions, and every Task runs the same `makeHandler` code as the
 * Lambdas, against dynalite, the local object store and the local bus. Customers with planted personas arrive
 * through the real ingest path with no model active.
 */
import { synthTemplate } from '../../infra/app';
import { RECLUSTER_FAILED_ERROR, QUALITY_GATE_REJECTED_ERROR } from '../../infra/state-machine-definition';
import { LocalObjectStore } from '../../local/object-store';
import { startEmbeddedStack, type EmbeddedStack } from '../../local/stack';
import {
  buildReclusterHandlers,
  reclusterDepsForStack,
  runReclusterLocally,
  type LocalExecutionResult,
  type ReclusterHandlers,
} from '../../local/stepfunctions';
import { DynamoRunStore, documentClient } from '../../shared/adapters/dynamo';
import type { Settings } from '../../shared/config/settings';
import type { InboundEvent } from '../../shared/contracts/inbound';
import {
  modelPublishedSchema,
  runFailedSchema,
  type ModelPublished,
  type RunFailed,
  type SegmentChanged,
} from '../../shared/contracts/outbound';
import type { ReclusterTask } from '../../shared/contracts/recluster';
import { processBatch } from '../../shared/ingest/process-batch';
import type { CustomerProfile } from '../../shared/ports/stores';
import { runObjectKeys } from '../../shared/recluster/artifacts';
import type { RunReport } from '../../shared/recluster/report';
import { adjustedRandIndex } from '../../shared/segmentation/metrics';
import type { SegmentationModel } from '../../shared/segmentation/model';
import { mapLimit } from '../../shared/util/concurrency';
import { createRng, type Rng } from '../../shared/util/rng';
import { envelope, makeEvent } from '../support/factories';
import { testSettings } from '../support/settings';

/**
 * These personas spread 2–15 events over 60–200 days: a store whose customers come back monthly, so its recent
 * behaviour is measured over weeks (the default 3-day half-lives suit the simulator's daily shoppers).
 */
const settings = testSettings({
  features: { activityHalfLifeDays: 30, interestHalfLifeDays: 30, timeZone: 'UTC' },
});
const INGESTED_AT = new Date('2026-11-10T12:00:00Z');
const AS_OF = '2026-11-11T03:00:00.000Z';
const CUSTOMERS_PER_PERSONA = 80;
const DAY_MS = 86_400_000;

interface Persona {
  name: string;
  category: string;
  titles: string[];
  queries: string[];
  channel: 'web' | 'app' | 'store' | 'marketplace';
  orders: [number, number];
  price: [number, number];
  discount: number;
  views: [number, number];
  searches: [number, number];
  cartAdds: [number, number];
  /** Activity spreads over this many days before ingestion. */
  windowDays: number;
}

const PERSONAS: Persona[] = [
  {
    name: 'gardeners',
    category: 'garden',
    titles: ['Rose pruning shears', 'Ceramic plant pot', 'Compost bin', 'Hose reel', 'Bamboo garden trowel'],
    queries: ['rose seeds', 'compost bin', 'hedge trimmer'],
    channel: 'web',
    orders: [2, 4],
    price: [20, 60],
    discount: 0,
    views: [1, 3],
    searches: [1, 2],
    cartAdds: [0, 1],
    windowDays: 120,
  },
  {
    name: 'new parents',
    category: 'baby',
    titles: ['Baby stroller', 'Nappy bin', 'Car seat', 'Baby monitor', 'Cot mattress'],
    queries: ['baby stroller', 'nappies', 'car seat isofix'],
    channel: 'app',
    orders: [1, 2],
    price: [60, 160],
    discount: 0,
    views: [1, 3],
    searches: [1, 2],
    cartAdds: [1, 2],
    windowDays: 45,
  },
  {
    name: 'tech buyers',
    category: 'electronics',
    titles: ['Noise cancelling headphones', 'USB-C charger', '4K monitor', 'Mechanical keyboard', 'Wireless mouse'],
    queries: ['usb-c charger', 'gaming monitor', 'wireless headphones'],
    channel: 'marketplace',
    orders: [1, 2],
    price: [200, 600],
    discount: 0,
    views: [2, 4],
    searches: [1, 2],
    cartAdds: [0, 1],
    windowDays: 200,
  },
  {
    name: 'fashion deal seekers',
    category: 'fashion',
    titles: ['Summer dress', 'Denim jacket', 'Leather boots', 'Wool scarf', 'Linen shirt'],
    queries: ['dress sale', 'boots discount', 'scarf offer'],
    channel: 'store',
    orders: [4, 7],
    price: [15, 40],
    discount: 0.3,
    views: [1, 2],
    searches: [0, 1],
    cartAdds: [0, 1],
    windowDays: 90,
  },
  {
    name: 'book browsers',
    category: 'books',
    titles: ['Crime novel', 'Cookbook', 'Poetry collection', 'Travel guide', 'History of Rome'],
    queries: ['crime novel', 'best cookbook', 'travel guide'],
    channel: 'web',
    orders: [0, 0],
    price: [10, 20],
    discount: 0,
    views: [2, 4],
    searches: [1, 3],
    cartAdds: [0, 1],
    windowDays: 60,
  },
];

const between = (rng: Rng, [lo, hi]: [number, number]) => lo + rng.int(hi - lo + 1);
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)]!;

function personaEvents(customerId: string, p: Persona, rng: Rng): InboundEvent[] {
  const at = () => new Date(INGESTED_AT.getTime() - DAY_MS * (1 + rng.next() * (p.windowDays - 1))).toISOString();
  const events: InboundEvent[] = [];
  for (let i = 0; i < between(rng, p.orders); i++) {
    const price = Math.round(p.price[0] + rng.next() * (p.price[1] - p.price[0]));
    const discount = p.discount > 0 ? Math.round(price * p.discount * (0.8 + 0.4 * rng.next())) : 0;
    events.push(
      makeEvent('order.placed', {
        customerId,
        eventId: `${customerId}-o${i}`,
        orderId: `${customerId}-ord${i}`,
        occurredAt: at(),
        channel: p.channel,
        total: price - discount,
        discount,
        items: [{ sku: `${p.category}-${i}`, title: pick(rng, p.titles), category: p.category, price, quantity: 1 }],
      }),
    );
  }
  for (let i = 0; i < between(rng, p.views); i++) {
    events.push(
      makeEvent('product.viewed', {
        customerId,
        eventId: `${customerId}-v${i}`,
        occurredAt: at(),
        title: pick(rng, p.titles),
        category: p.category,
        channel: p.channel,
        price: p.price[0],
      }),
    );
  }
  for (let i = 0; i < between(rng, p.searches); i++) {
    events.push(
      makeEvent('search.performed', {
        customerId,
        eventId: `${customerId}-s${i}`,
        occurredAt: at(),
        query: pick(rng, p.queries),
        channel: p.channel,
      }),
    );
  }
  for (let i = 0; i < between(rng, p.cartAdds); i++) {
    events.push(
      makeEvent('cart.updated', {
        customerId,
        eventId: `${customerId}-c${i}`,
        occurredAt: at(),
        title: pick(rng, p.titles),
        category: p.category,
      }),
    );
  }
  return events;
}

let clock = INGESTED_AT;
let stack: EmbeddedStack;
let template: Record<string, unknown>;
const objects = new LocalObjectStore();
/** customerId → index of the planted persona. */
const planted = new Map<string, number>();

async function seedThroughIngest(): Promise<void> {
  const rng = createRng(7);
  const perCustomer: InboundEvent[][] = [];
  PERSONAS.forEach((persona, p) => {
    for (let i = 0; i < CUSTOMERS_PER_PERSONA; i++) {
      const customerId = `c-${persona.category}-${String(i).padStart(3, '0')}`;
      planted.set(customerId, p);
      perCustomer.push(personaEvents(customerId, persona, rng));
    }
  });
  // ~100 records per SQS-sized batch, a customer's events in one batch; four batches in flight.
  const batches: InboundEvent[][] = [];
  let current: InboundEvent[] = [];
  for (const events of perCustomer) {
    current.push(...events);
    if (current.length >= 100) {
      batches.push(current);
      current = [];
    }
  }
  if (current.length) batches.push(current);
  const deps = stack.ingestDeps();
  await mapLimit(batches, 4, async (batch, b) => {
    const outcome = await processBatch(
      batch.map((e, i) => ({ messageId: `seed-${b}-${i}`, body: envelope(e.type, e.detail) })),
      deps,
    );
    expect(outcome.failedMessageIds).toEqual([]);
  });
}

function deps(overrides: { settings?: Settings } = {}) {
  return reclusterDepsForStack(stack, { objects, clock: () => clock, ...overrides });
}

function run(
  runId: string,
  handlers: ReclusterHandlers = buildReclusterHandlers(deps()),
): Promise<LocalExecutionResult> {
  return runReclusterLocally({ template, handlers, input: { runId, asOf: AS_OF }, executionName: `exec-${runId}` });
}

async function allProfiles(): Promise<CustomerProfile[]> {
  const out: CustomerProfile[] = [];
  for await (const p of deps().profiles.scanShard(0, 1)) out.push(p);
  return out.sort((a, b) => (a.customerId < b.customerId ? -1 : 1));
}

async function activeVersion(): Promise<number | null> {
  return (await stack.modelStore.getActive())?.version ?? null;
}

const eventsOf = <T>(type: string) => stack.bus.eventsOf<T>(type).map((e) => e.detail);
const publishedOf = (runId: string) =>
  eventsOf<ModelPublished>('segmentation.model.published').filter((d) => d.runId === runId);
const failedOf = (runId: string) => eventsOf<RunFailed>('segmentation.run.failed').filter((d) => d.runId === runId);

/** Planted persona labels against assigned segments, over every customer. */
function ariAgainstPlanted(profiles: CustomerProfile[]): number {
  const ids = [...new Set(profiles.map((p) => p.assignment!.segmentId))].sort();
  return adjustedRandIndex(
    profiles.map((p) => planted.get(p.customerId)!),
    profiles.map((p) => ids.indexOf(p.assignment!.segmentId)),
  );
}

/** What must not differ between two fits of the same data: everything but version, run and time. */
function modelShape(m: SegmentationModel) {
  return {
    k: m.k,
    segmentIds: m.segmentIds,
    names: m.names,
    centroids: m.centroids.map((x) => Number(x.toFixed(9))),
    scaler: m.scaler,
    tau: Number(m.tau.toFixed(9)),
    sizes: m.profiles.map((p) => p.size),
  };
}

/** Throws once in `task` (the first shard's invocation for Map tasks), before or after the real handler ran. */
function failingOnce(
  handlers: ReclusterHandlers,
  task: ReclusterTask,
  when: 'before' | 'after' = 'before',
): ReclusterHandlers {
  let armed = true;
  const real = handlers[task];
  return {
    ...handlers,
    [task]: async (input: unknown) => {
      const shard = (input as { shard?: number }).shard;
      if (!armed || (shard !== undefined && shard !== 0)) return real(input);
      armed = false;
      if (when === 'after') await real(input);
      throw new Error(`injected failure in ${task}`);
    },
  };
}

let reference: SegmentationModel;

beforeAll(async () => {
  const t0 = Date.now();
  template = synthTemplate('dev');
  const t1 = Date.now();
  stack = await startEmbeddedStack({ settings, clock: () => clock });
  await seedThroughIngest();
  clock = new Date('2026-11-11T03:05:00Z');
  console.info(`setup: synth ${t1 - t0} ms, ${planted.size} customers ingested in ${Date.now() - t1} ms`);
}, 120_000);
afterAll(() => stack?.close());

describe('nightly recluster: the synthesized state machine, run locally', () => {
  test('the first run segments everyone, recovers the planted personas and publishes version 1', async () => {
    expect(await activeVersion()).toBeNull();
    const before = await allProfiles();
    expect(before).toHaveLength(planted.size);
    expect(before.every((p) => p.assignment === null)).toBe(true);

    const result = await run('night-1');

    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    expect(result.visited).toEqual([
      'PlanShards',
      'ScanShards',
      'ScanShard',
      'FitModel',
      'QualityGate',
      'AssignShards',
      'AssignShard',
      'Publish',
    ]);
    expect(await activeVersion()).toBe(1);

    const profiles = await allProfiles();
    expect(profiles.every((p) => p.assignment?.modelVersion === 1)).toBe(true);
    const ari = ariAgainstPlanted(profiles);
    expect(ari).toBeGreaterThanOrEqual(0.9);

    const [published, ...more] = publishedOf('night-1');
    expect(more).toEqual([]);
    expect(() => modelPublishedSchema.parse(published)).not.toThrow();
    expect(published).toMatchObject({ modelVersion: 1, customersAssigned: planted.size, customersMoved: planted.size });
    expect(published!.segments).toHaveLength(published!.k);
    expect(published!.segments.every((s) => s.name !== '' && s.size > 0)).toBe(true);
    expect(published!.quality.silhouette).toBeGreaterThan(0);

    const changes = eventsOf<SegmentChanged>('segment.changed').filter((d) => d.modelVersion === 1);
    expect(changes.every((d) => d.reason === 'recluster' && d.from === null)).toBe(true);
    expect(changes.map((d) => d.customerId).sort()).toEqual([...planted.keys()].sort());

    const report = JSON.parse((await objects.getText(runObjectKeys.reportJson('night-1')))!) as RunReport;
    expect(report).toMatchObject({ modelVersion: 1, customers: { assigned: planted.size } });
    expect(await objects.getText(runObjectKeys.reportHtml('night-1'))).toContain('<table>');
    expect(
      await new DynamoRunStore(documentClient(stack.dynamo.client), stack.dynamo.tableName).get('night-1'),
    ).toMatchObject({
      status: 'published',
      published: { modelVersion: 1, eventSent: true },
    });
    console.info(
      `first run: k=${published!.k}, ARI vs planted ${ari.toFixed(4)}, silhouette ${published!.quality.silhouette.toFixed(3)}`,
    );
  });

  test('a second run on unchanged data publishes version 2 and keeps everyone where they were', async () => {
    const before = new Map((await allProfiles()).map((p) => [p.customerId, p.assignment!.segmentId]));

    const result = await run('night-2');

    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    expect(await activeVersion()).toBe(2);
    const after = await allProfiles();
    const kept = after.filter((p) => p.assignment?.segmentId === before.get(p.customerId)).length;
    expect(kept / after.length).toBeGreaterThanOrEqual(0.99);
    // Only what changed is written: a customer left in its (aligned) segment with steady traits keeps its stored
    // assignment, so most profiles still carry version 1.
    const rewritten = after.filter((p) => p.assignment?.modelVersion === 2).length;
    expect(rewritten).toBeLessThan(after.length / 2);
    reference = (await stack.modelStore.getVersion(2))!;
    expect(reference.quality.stability).toBeGreaterThanOrEqual(0.98);
    const [published] = publishedOf('night-2');
    expect(published).toMatchObject({ modelVersion: 2, customersMoved: after.length - kept });
    // Nothing changed and the model moved little: the change index re-evaluates far fewer than everyone.
    expect(published!.customersAssigned).toBeLessThan(planted.size / 2);
    console.info(`second run: kept ${kept}/${after.length}, stability ARI ${reference.quality.stability?.toFixed(4)}`);
  });

  test('a run that fails in every state in turn keeps the active model, reports each failure once, and converges', async () => {
    // One runId through six attempts: each fails one state further along (Map tasks: the first shard, before or
    // after its work), the last succeeds. Every attempt is a rerun of the previous one with the same runId.
    const runId = 'night-3';
    const active = await activeVersion();
    const attempts = [
      ['PlanShards', 'plan-shards', 'before'],
      ['ScanShards', 'scan-shard', 'before'],
      ['FitModel', 'fit-model', 'before'],
      ['AssignShards', 'assign-shard', 'before'],
      ['AssignShards', 'assign-shard', 'after'],
      ['Publish', 'publish', 'before'],
    ] as const;
    for (const [state, task, when] of attempts) {
      const failed = await run(runId, failingOnce(buildReclusterHandlers(deps()), task, when));

      expect(failed).toMatchObject({ status: 'FAILED', error: RECLUSTER_FAILED_ERROR, cause: state });
      expect(failed.visited.slice(-4)).toEqual([`${state}Failed`, 'MarkFailed', 'RunOutcome', 'Failed']);
      expect(await activeVersion()).toBe(active);
      const events = failedOf(runId).filter((e) => e.state === state);
      expect(events).toHaveLength(when === 'after' ? 2 : 1); // the 'before' attempt in this state sent the first
      expect(runFailedSchema.parse(events.at(-1))).toMatchObject({
        runId,
        state,
        error: 'Error',
        cause: `injected failure in ${task}`,
      });
      expect(publishedOf(runId)).toEqual([]);
    }
    const afterAssign = await allProfiles();
    // Assigned but not active: changed customers carry the new version, the rest keep the one they had.
    expect(afterAssign.every((p) => (p.assignment?.modelVersion ?? 0) <= active! + 1)).toBe(true);

    // The last attempt succeeds, even though one ScanShard invocation is throttled (the Retry takes it).
    const throttled = failingOnce(buildReclusterHandlers(deps()), 'scan-shard');
    const scan = throttled['scan-shard'];
    let throttles = 0;
    throttled['scan-shard'] = async (input) => {
      try {
        return await scan(input);
      } catch {
        throttles += 1;
        throw Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
      }
    };
    const rerun = await run(runId, throttled);

    expect(rerun.status).toBe('SUCCEEDED');
    expect(throttles).toBe(1);
    expect(await activeVersion()).toBe(active! + 1); // the version reserved by the first fit: none burnt
    const published = (await stack.modelStore.getActive())!;
    expect(published.runId).toBe(runId);
    expect(modelShape(published)).toEqual(modelShape(reference)); // what the uninjected night-2 fitted
    expect(publishedOf(runId)).toHaveLength(1);
    expect(failedOf(runId).map((e) => e.state)).toEqual(attempts.map(([state]) => state));
    const profiles = await allProfiles();
    expect(profiles.every((p) => (p.assignment?.modelVersion ?? 0) <= published.version && p.outbox.length === 0)).toBe(
      true,
    );
    // Every customer sits in a segment of the published model.
    expect(profiles.every((p) => published.segmentIds.includes(p.assignment!.segmentId))).toBe(true);

    // Rerunning a published run changes nothing and sends nothing.
    const again = await run(runId);
    expect(again.status).toBe('SUCCEEDED');
    expect(await activeVersion()).toBe(published.version);
    expect(publishedOf(runId)).toHaveLength(1);
  });

  test('a model the quality gate rejects is not published', async () => {
    const runId = 'gate-rejects';
    const active = await activeVersion();
    const latest = await stack.modelStore.latestVersionNumber();
    const strict = testSettings({
      features: settings.features,
      recluster: { ...settings.recluster, quality: { ...settings.recluster.quality, minSilhouette: 0.99 } },
    });

    const result = await run(runId, buildReclusterHandlers(deps({ settings: strict })));

    expect(result).toMatchObject({ status: 'FAILED', error: RECLUSTER_FAILED_ERROR, cause: 'QualityGate' });
    expect(result.visited).toContain('QualityGateRejected');
    expect(result.visited).not.toContain('AssignShards');
    expect(await activeVersion()).toBe(active);
    expect(await stack.modelStore.latestVersionNumber()).toBe(latest);
    const [event, ...more] = failedOf(runId);
    expect(more).toEqual([]);
    expect(event).toMatchObject({ runId, state: 'QualityGate', error: QUALITY_GATE_REJECTED_ERROR });
    expect(event!.cause).toMatch(/silhouette .* < 0\.99/);
  });
});
