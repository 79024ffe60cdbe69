import { RFM_MIN_BUYERS, scoreRfm } from '../../../shared/value/rfm';
import { featuresAsOf } from '../../../shared/recluster/as-of';
import { foldEvents } from '../../../shared/customer/fold';
import { emptyState } from '../../../shared/customer/state';
import { profileFromLog } from '../../support/memory-customer';
import { driftDetectedSchema, type DriftDetected } from '../../../shared/contracts/outbound';
import type { InboundEvent } from '../../../shared/contracts/inbound';
import type { CustomerProfile } from '../../../shared/ports/stores';
import { assignCustomer, assignShard, needsWrite } from '../../../shared/recluster/assign';
import { RUN_OBJECT_RETENTION } from '../../../shared/contracts/recluster';
import { readShardSample, runObjectKeys } from '../../../shared/recluster/artifacts';
import { fitModel, mergeShardSamples } from '../../../shared/recluster/fit-model';
import { markFailed } from '../../../shared/recluster/mark-failed';
import { planShards } from '../../../shared/recluster/plan';
import { ActiveModelChangedError, publishModel } from '../../../shared/recluster/publish';
import { naturalFeatures, scanRowOf, withTraits, type ScanRow } from '../../../shared/recluster/rows';
import { computeTraits } from '../../../shared/domain/traits';
import { fitValueModel } from '../../../shared/value';
import { testSettings } from '../../support/settings';
import { scanShard } from '../../../shared/recluster/scan';
import { shardReservoirCapacity, seedFor } from '../../../shared/recluster/seeds';
import { createRng } from '../../../shared/util/rng';
import { makeEvent } from '../../support/factories';
import { withLocalEmbeddings } from '../../support/model';
import { memoryDeps } from './memory-ports';

const GROUPS = [
  { category: 'garden', title: 'Rose pruning shears', query: 'compost bin', channel: 'web', orders: 3 },
  { category: 'baby', title: 'Baby stroller', query: 'car seat isofix', channel: 'app', orders: 1 },
  { category: 'electronics', title: '4K monitor', query: 'usb-c charger', channel: 'marketplace', orders: 2 },
  { category: 'books', title: 'Crime novel', query: 'travel guide', channel: 'web', orders: 0 },
] as const;
const INGESTED = new Date('2026-11-10T12:00:00Z');
const AS_OF = '2026-11-11T03:00:00.000Z';

function customerEvents(customerId: string, g: (typeof GROUPS)[number], i: number): InboundEvent[] {
  const day = (d: number) => new Date(INGESTED.getTime() - d * 86_400_000).toISOString();
  const events: InboundEvent[] = [];
  for (let o = 0; o < g.orders; o++) {
    events.push(
      makeEvent('order.placed', {
        customerId,
        eventId: `${customerId}-o${o}`,
        orderId: `${customerId}-ord${o}`,
        channel: g.channel,
        total: 40 + i,
        occurredAt: day(3 + o * 17 + (i % 5)),
        items: [{ sku: 's', title: g.title, category: g.category, price: 40 + i, quantity: 1 }],
      }),
    );
  }
  events.push(
    makeEvent('product.viewed', {
      customerId,
      eventId: `${customerId}-v`,
      title: g.title,
      category: g.category,
      channel: g.channel,
      occurredAt: day(2 + (i % 7)),
    }),
  );
  events.push(
    makeEvent('search.performed', {
      customerId,
      eventId: `${customerId}-s`,
      query: g.query,
      channel: g.channel,
      occurredAt: day(1 + (i % 3)),
    }),
  );
  return events;
}

function seed(deps: ReturnType<typeof memoryDeps>, perGroup = 15): Map<string, number> {
  const planted = new Map<string, number>();
  GROUPS.forEach((g, gi) => {
    for (let i = 0; i < perGroup; i++) {
      const customerId = `${g.category}-${String(i).padStart(2, '0')}`;
      const profile = profileFromLog(
        customerId,
        withLocalEmbeddings(customerEvents(customerId, g, i), deps.settings.embedding.dimension),
        INGESTED,
        deps.settings,
      );
      deps.profiles.items.set(customerId, profile);
      planted.set(customerId, gi);
    }
  });
  return planted;
}

async function runServices(deps: ReturnType<typeof memoryDeps>, runId: string) {
  const plan = await planShards({ runId, asOf: AS_OF }, deps);
  const scans = await Promise.all(plan.shards.map((s) => scanShard(s, deps)));
  const fit = await fitModel({ runId, asOf: plan.asOf, scans }, deps);
  if (!fit.gate.passed) return { plan, scans, fit, assignments: [] };
  const assignments = await Promise.all(
    plan.shards.map((s) => assignShard({ ...s, modelVersion: fit.modelVersion }, deps)),
  );
  const published = await publishModel({ runId, modelVersion: fit.modelVersion, assignments }, deps);
  return { plan, scans, fit, assignments, published };
}

const quietSettings = (deps: ReturnType<typeof memoryDeps>) => {
  // A small store: k in [4, 6], value model priors (too few customers to fit).
  deps.settings.recluster = { ...deps.settings.recluster, kMin: 4, kMax: 6, silhouetteSubsample: 100 };
  return deps;
};

describe('the recluster services over in-memory ports', () => {
  test('scan → fit → assign → publish: everyone assigned, one model published, artifacts written', async () => {
    const deps = quietSettings(memoryDeps());
    const planted = seed(deps);

    const { scans, fit, assignments, published } = await runServices(deps, 'r1');

    expect(scans.reduce((s, x) => s + x.customers, 0)).toBe(planted.size);
    expect(fit).toMatchObject({ runId: 'r1', modelVersion: 1, k: 4, gate: { passed: true } });
    expect(assignments.reduce((s, a) => s + a.assigned, 0)).toBe(planted.size);
    expect(published).toMatchObject({ emitted: true, customersAssigned: planted.size, customersMoved: planted.size });
    expect(deps.models.active).toBe(1);
    const bySegment = new Map<string, Set<number>>();
    for (const p of deps.profiles.items.values()) {
      expect(p.assignment?.modelVersion).toBe(1);
      const s = bySegment.get(p.assignment!.segmentId) ?? new Set<number>();
      s.add(planted.get(p.customerId)!);
      bySegment.set(p.assignment!.segmentId, s);
    }
    expect([...bySegment.values()].every((groups) => groups.size === 1)).toBe(true);
    expect(deps.publisher.of('segment.changed')).toHaveLength(planted.size);
    expect(deps.publisher.of('segmentation.model.published')).toHaveLength(1);

    const sample = await readShardSample(deps.objects, scans[0]!.sampleKey);
    expect(sample.rows).toHaveLength(scans[0]!.sampled);
    expect(sample.population).toBe(scans[0]!.customers);
    expect(await deps.objects.getText(runObjectKeys.reportHtml('r1'))).toContain('Model version <b>1</b>');
  });

  test('FitModel stores RFM quintile breakpoints over the sample’s buyers; AssignShard scores every buyer with them', async () => {
    const deps = quietSettings(memoryDeps());
    seed(deps);
    await runServices(deps, 'r1');
    const model = (await deps.models.getVersion(1))!;
    const buyers = [...deps.profiles.items.values()].filter((p) => p.features.orders > 0);
    expect(buyers.length).toBeGreaterThanOrEqual(RFM_MIN_BUYERS);
    expect(model.rfm?.buyers).toBe(buyers.length); // a store this small is sampled whole
    for (const p of deps.profiles.items.values()) {
      const expected =
        p.features.orders > 0 ? scoreRfm(featuresAsOf(p, new Date(AS_OF), deps.settings), model.rfm) : null;
      expect(p.traits?.rfm ?? null).toEqual(expected);
    }
  });

  test('a rerun of every task of a published run changes nothing and sends nothing', async () => {
    const deps = quietSettings(memoryDeps());
    seed(deps);
    await runServices(deps, 'r1');
    const before = structuredClone([...deps.profiles.items.values()]);
    const sent = deps.publisher.sent.length;

    const again = await runServices(deps, 'r1');

    expect(again.fit.modelVersion).toBe(1);
    expect(again.assignments.reduce((s, a) => s + a.moved, 0)).toBe(0);
    expect(again.published).toMatchObject({ emitted: false });
    expect([...deps.profiles.items.values()]).toEqual(before);
    expect(deps.publisher.sent).toHaveLength(sent);
    expect(await deps.models.latestVersionNumber()).toBe(1);
  });

  test('FitModel reuses the version it reserved, unless another run stored that version meanwhile', async () => {
    const deps = quietSettings(memoryDeps());
    seed(deps);
    const plan = await planShards({ runId: 'r1', asOf: AS_OF }, deps);
    const scans = await Promise.all(plan.shards.map((s) => scanShard(s, deps)));
    const strict = {
      ...deps,
      settings: {
        ...deps.settings,
        recluster: {
          ...deps.settings.recluster,
          quality: { ...deps.settings.recluster.quality, minSilhouette: 0.999 },
        },
      },
    };
    const rejected = await fitModel({ runId: 'r1', asOf: plan.asOf, scans }, strict);
    expect(rejected).toMatchObject({ modelVersion: 1, gate: { passed: false } });
    expect(await deps.models.getVersion(1)).toBeNull(); // reserved, not stored

    expect((await fitModel({ runId: 'r1', asOf: plan.asOf, scans }, deps)).modelVersion).toBe(1);
    const other = { ...(await deps.models.getVersion(1))!, runId: 'someone-else' };
    deps.models.versions.set(1, other);
    await deps.runs.put({ ...(await deps.runs.get('r1'))!, fit: null, rev: 99 }, (await deps.runs.get('r1'))!.rev);
    expect((await fitModel({ runId: 'r1', asOf: plan.asOf, scans }, deps)).modelVersion).toBe(2);
  });

  test('Publish refuses to flip ACTIVE away from a version another run published meanwhile', async () => {
    const deps = quietSettings(memoryDeps());
    seed(deps);
    const plan = await planShards({ runId: 'r1', asOf: AS_OF }, deps);
    const scans = await Promise.all(plan.shards.map((s) => scanShard(s, deps)));
    const fit = await fitModel({ runId: 'r1', asOf: plan.asOf, scans }, deps);
    deps.models.versions.set(7, { ...(await deps.models.getVersion(fit.modelVersion))!, version: 7, runId: 'r7' });
    deps.models.active = 7;

    await expect(
      publishModel({ runId: 'r1', modelVersion: fit.modelVersion, assignments: [] }, deps),
    ).rejects.toBeInstanceOf(ActiveModelChangedError);
    expect(deps.models.active).toBe(7);
    await markFailed({ runId: 'r1', state: 'Publish', error: { Error: 'ActiveModelChanged' } }, deps);
    expect(deps.publisher.of('segmentation.model.published')).toEqual([]);
  });

  test('Publish sends its event again only if the earlier attempt could not', async () => {
    const deps = quietSettings(memoryDeps());
    seed(deps);
    const plan = await planShards({ runId: 'r1', asOf: AS_OF }, deps);
    const scans = await Promise.all(plan.shards.map((s) => scanShard(s, deps)));
    const fit = await fitModel({ runId: 'r1', asOf: plan.asOf, scans }, deps);
    deps.publisher.failNext = 1;
    await expect(publishModel({ runId: 'r1', modelVersion: fit.modelVersion, assignments: [] }, deps)).rejects.toThrow(
      /not accepted/,
    );
    expect(deps.models.active).toBe(fit.modelVersion); // the flip is the commit point
    // MarkFailed finds the model live: the run is published, and MarkFailed sends the event Publish could not.
    expect(await markFailed({ runId: 'r1', state: 'Publish', error: { Error: 'Error' } }, deps)).toMatchObject({
      published: true,
      publishedEmitted: true,
      emitted: false,
    });
    expect((await deps.runs.get('r1'))?.status).toBe('published'); // never regressed to failed
    expect(deps.publisher.of('segmentation.run.failed')).toEqual([]);

    expect(await publishModel({ runId: 'r1', modelVersion: fit.modelVersion, assignments: [] }, deps)).toMatchObject({
      emitted: false,
    });
    expect(deps.publisher.of('segmentation.model.published')).toHaveLength(1);
  });

  test('Publish dies after the flip, before recording the run: MarkFailed records it published with its counts, not FAILED', async () => {
    const deps = quietSettings(memoryDeps());
    seed(deps);
    const plan = await planShards({ runId: 'r1', asOf: AS_OF }, deps);
    const scans = await Promise.all(plan.shards.map((s) => scanShard(s, deps)));
    const fit = await fitModel({ runId: 'r1', asOf: plan.asOf, scans }, deps);
    const assignments = await Promise.all(
      plan.shards.map((s) => assignShard({ ...s, modelVersion: fit.modelVersion }, deps)),
    );
    const realPut = deps.runs.put.bind(deps.runs);
    let armed = true;
    deps.runs.put = async (record, rev) => {
      if (armed && record.status === 'published') {
        armed = false;
        throw new Error('Lambda timed out after the flip');
      }
      return realPut(record, rev);
    };
    await expect(publishModel({ runId: 'r1', modelVersion: fit.modelVersion, assignments }, deps)).rejects.toThrow(
      /timed out/,
    );
    expect(deps.models.active).toBe(fit.modelVersion);
    expect((await deps.runs.get('r1'))?.status).toBe('running');

    await markFailed({ runId: 'r1', state: 'Publish', error: { Error: 'States.Timeout' } }, deps);
    const run = (await deps.runs.get('r1'))!;
    expect(run.status).toBe('published');
    expect(run.failure).toBeNull();
    expect(run.published).toMatchObject({ modelVersion: fit.modelVersion, customersAssigned: 60, eventSent: true });
    expect(deps.publisher.of('segmentation.run.failed')).toEqual([]);
    expect(deps.publisher.of('segmentation.model.published')).toEqual([
      expect.objectContaining({ runId: 'r1', modelVersion: fit.modelVersion, customersAssigned: 60 }),
    ]);
  });

  test('MarkFailed itself fails: the next run ends the abandoned run failed and sends segmentation.run.failed', async () => {
    let now = new Date('2026-11-11T03:05:00Z');
    const deps = { ...quietSettings(memoryDeps()), clock: () => now };
    seed(deps);
    await planShards({ runId: 'r1', asOf: AS_OF }, deps);
    const realPut = deps.runs.put.bind(deps.runs);
    deps.runs.put = async (record, rev) => {
      if (record.runId === 'r1' && record.status === 'failed') throw new Error('ProvisionedThroughputExceeded');
      return realPut(record, rev);
    };
    await expect(markFailed({ runId: 'r1', state: 'ScanShards', error: { Error: 'Error' } }, deps)).rejects.toThrow();
    expect((await deps.runs.get('r1'))?.status).toBe('running');
    expect(deps.publisher.of('segmentation.run.failed')).toEqual([]);
    deps.runs.put = realPut;

    now = new Date('2026-11-12T03:05:00Z');
    await planShards({ runId: 'r2', asOf: '2026-11-12T03:00:00.000Z' }, deps);
    const r1 = (await deps.runs.get('r1'))!;
    expect(r1.status).toBe('failed');
    expect(r1.failure).toMatchObject({ state: 'Reconcile', error: 'RunAbandoned', eventSent: true });
    expect(deps.publisher.of('segmentation.run.failed')).toEqual([
      expect.objectContaining({ runId: 'r1', error: 'RunAbandoned' }),
    ]);
  });

  test('a run left running whose model is live is recorded published by the next run; a fresh one is left alone', async () => {
    let now = new Date('2026-11-11T03:05:00Z');
    const deps = { ...quietSettings(memoryDeps()), clock: () => now };
    seed(deps);
    const plan = await planShards({ runId: 'r1', asOf: AS_OF }, deps);
    const scans = await Promise.all(plan.shards.map((s) => scanShard(s, deps)));
    const fit = await fitModel({ runId: 'r1', asOf: plan.asOf, scans }, deps);
    await deps.models.activate(fit.modelVersion, null); // the flip happened; nothing after it did
    now = new Date('2026-11-11T03:30:00Z');
    await planShards({ runId: 'r0-overlap', asOf: AS_OF }, deps);
    expect((await deps.runs.get('r1'))?.status).toBe('published');
    expect(deps.publisher.of('segmentation.model.published')).toHaveLength(1);

    // r0-overlap is still within STALE_RUN_MS when r3 starts: it may still be going, so it stays running.
    now = new Date('2026-11-11T04:00:00Z');
    await planShards({ runId: 'r3', asOf: AS_OF }, deps);
    expect((await deps.runs.get('r0-overlap'))?.status).toBe('running');
    expect(deps.publisher.of('segmentation.run.failed')).toEqual([]);
  });

  test('a night whose customers all shifted one feature publishes segmentation.drift.detected with that feature and its PSI', async () => {
    let now = new Date('2026-11-11T03:05:00Z');
    const deps = { ...quietSettings(memoryDeps()), clock: () => now };
    seed(deps);
    await runServices(deps, 'r1');
    expect(deps.publisher.of('segmentation.drift.detected')).toEqual([]);
    // Every order now carries a 90 % discount: discountShare jumps for every buyer (the state is the source).
    for (const p of deps.profiles.items.values()) {
      for (const o of Object.values(p.state.orders)) o.discount = 9 * o.total;
      p.nightly = undefined; // as a real write leaves it: due at the next night
    }
    now = new Date('2026-11-11T03:06:00Z');
    await runServices(deps, 'r2');
    const [drift] = deps.publisher.of('segmentation.drift.detected') as DriftDetected[];
    expect(driftDetectedSchema.parse(drift)).toMatchObject({ runId: 'r2', referenceModelVersion: 1 });
    expect(drift!.reasons).toContain('features');
    expect(drift!.features[0]).toMatchObject({ feature: 'discountShare' });
    expect(drift!.features[0]!.psi).toBeGreaterThan(0.25);
    expect((await deps.runs.get('r2'))?.fit?.drift).toMatchObject({ detected: true });
  });

  test('AssignShard re-reads and re-evaluates after losing a race to a real-time write; a newer version is left alone', async () => {
    const deps = quietSettings(memoryDeps());
    seed(deps);
    const { fit } = await runServices(deps, 'r1');
    const model = (await deps.models.getVersion(fit.modelVersion))!;
    const id = 'garden-00';
    const stored = deps.profiles.items.get(id)!;
    let raced = false;
    deps.profiles.beforePut = (p) => {
      if (p.customerId !== id || raced) return;
      raced = true; // a real-time write lands first
      deps.profiles.items.set(id, {
        ...structuredClone(stored),
        rev: stored.rev + 1,
        assignment: null,
        nightly: undefined,
      });
    };
    const result = await assignCustomer(
      { ...stored, assignment: null },
      { ...model, version: 2, runId: 'r2' },
      new Date(AS_OF),
      deps,
    );
    expect(result).toMatchObject({ outcome: 'moved', conflicts: 1 });
    expect(deps.profiles.items.get(id)).toMatchObject({ rev: stored.rev + 2, assignment: { modelVersion: 2 } });

    const older = await assignCustomer(deps.profiles.items.get(id)!, model, new Date(AS_OF), deps);
    expect(older.outcome).toBe('newer');
    expect(deps.profiles.items.get(id)?.assignment?.modelVersion).toBe(2);
  });
});

describe('pure helpers', () => {
  const row = (customerId: string): ScanRow => ({
    customerId,
    behaviour: [1],
    interest: null,
    natural: {},
    topCategories: [],
    channelShares: {},
    orders: 0,
    purchase: { x: 0, tx: 0, T: 0, meanRepeatSpend: 0 },
  });

  test('mergeShardSamples: a uniform sample in customer order, whatever the shard order', () => {
    const shards = [0, 1, 2].map((s) => ({
      rows: Array.from({ length: 30 }, (_, i) => row(`c${s}-${String(i).padStart(2, '0')}`)),
      population: 30,
    }));
    const a = mergeShardSamples(shards, 50, 'run', 1);
    const b = mergeShardSamples([...shards].reverse(), 50, 'run', 1);
    expect(a).toHaveLength(50);
    expect(a.map((r) => r.customerId)).toEqual([...a.map((r) => r.customerId)].sort());
    expect(mergeShardSamples(shards, 500, 'run', 1)).toHaveLength(90);
    expect(new Set(b.map((r) => r.customerId)).size).toBe(50);
  });

  test('shard reservoirs hold more than their expected share of the sample', () => {
    expect(shardReservoirCapacity(20_000, 1)).toBe(20_000);
    expect(shardReservoirCapacity(20_000, 4)).toBe(6_314);
    expect(shardReservoirCapacity(200_000, 256)).toBe(1_041);
    expect(shardReservoirCapacity(100, 2)).toBe(100);
    expect(seedFor(1, 'run', 0)).toBe(seedFor(1, 'run', 0));
    expect(seedFor(1, 'run', 0)).not.toBe(seedFor(1, 'run', 1));
    expect(createRng(seedFor(1, 'r', 0)).next()).not.toBe(createRng(seedFor(1, 'r', 1)).next());
  });

  test('sample rows carry the traits computeTraits gives, and natural units without a recency for browsers', () => {
    const settings = testSettings();
    const value = fitValueModel([]);
    for (const [g, i] of [
      [GROUPS[0], 1],
      [GROUPS[3], 2],
    ] as const) {
      const id = `${g.category}-x`;
      const f = foldEvents(withLocalEmbeddings(customerEvents(id, g, i), 32), INGESTED, settings.features);
      const [row] = withTraits([scanRowOf(id, f)], value, settings.value);
      const t = computeTraits(f, value, null, settings.value);
      // A prospect (no order) has no traits, so it stays out of the segment's mean CLV and churn risk.
      expect(row!.traits).toEqual(f.orders > 0 ? { clv: t.clv, churnRisk: t.churnRisk } : null);
      expect('daysSinceLastOrder' in naturalFeatures(f)).toBe(f.orders > 0);
    }
  });

  test('needsWrite: segment, stage or a material trait move; not a new version or a refresh alone', () => {
    const base: CustomerProfile = {
      customerId: 'c',
      rev: 1,
      epoch: 0,
      erasedAt: null,
      state: emptyState(),
      history: [],
      unlogged: [],
      updatedAt: AS_OF,
      features: {} as CustomerProfile['features'],
      assignment: {
        segmentId: 'seg-001',
        modelVersion: 1,
        since: AS_OF,
        distance: 1,
        confidence: 0.9,
        topProbabilities: [],
      },
      traits: {
        pAlive: 0.5,
        churnRisk: 0.5,
        expectedOrders90d: 1,
        expectedSpend: 10,
        clv: 100,
        lifecycleStage: 'active',
      },
      lifecycleStage: 'active',
      outbox: [],
    };
    expect(needsWrite(base, { ...base, rev: 2, updatedAt: 'later' })).toBe(false);
    expect(needsWrite(base, { ...base, assignment: { ...base.assignment!, modelVersion: 2 } })).toBe(false);
    expect(needsWrite(base, { ...base, assignment: { ...base.assignment!, segmentId: 'seg-002' } })).toBe(true);
    expect(needsWrite(base, { ...base, lifecycleStage: 'at_risk' })).toBe(true);
    expect(needsWrite(base, { ...base, traits: { ...base.traits!, pAlive: 0.4 } })).toBe(true);
    expect(needsWrite(base, { ...base, traits: { ...base.traits!, pAlive: 0.495, churnRisk: 0.505 } })).toBe(false);
    expect(needsWrite(base, { ...base, traits: { ...base.traits!, clv: 103 } })).toBe(false);
    expect(needsWrite(base, { ...base, traits: { ...base.traits!, clv: 110 } })).toBe(true);
    expect(needsWrite({ ...base, assignment: null }, base)).toBe(true);
  });
});

describe('what a run leaves in the bucket (retention: RUN_OBJECT_RETENTION, pinned by the infra tests)', () => {
  test('customer ids appear only under the run-artifact prefix (expired after a day); reports hold aggregates', async () => {
    const deps = quietSettings(memoryDeps());
    const planted = seed(deps);
    await runServices(deps, 'r1');

    const keys = await deps.objects.list();
    const holdingIds: string[] = [];
    for (const key of keys) {
      const bytes = await deps.objects.get(key);
      const text = Buffer.from(bytes!).toString('latin1'); // ids are ASCII, in JSON and in the vectors header alike
      if ([...planted.keys()].some((id) => text.includes(`"${id}"`))) holdingIds.push(key);
    }

    expect(keys.filter((k) => k.startsWith(RUN_OBJECT_RETENTION.reports.prefix)).sort()).toEqual([
      runObjectKeys.reportHtml('r1'),
      runObjectKeys.reportJson('r1'),
    ]);
    expect(holdingIds.length).toBeGreaterThan(0);
    expect(holdingIds.filter((k) => !k.startsWith(RUN_OBJECT_RETENTION.artifacts.prefix))).toEqual([]);
    expect(keys.every((k) => Object.values(RUN_OBJECT_RETENTION).some((r) => k.startsWith(r.prefix)))).toBe(true);
  });
});
