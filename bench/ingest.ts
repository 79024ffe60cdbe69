/**
 * npm run bench:ingest — throughput of the real-time path.
 *  (a) pure compute (validate, fold, vector, assign) on one core, with JSON.parse of the same bodies as a reference;
 *  (b) the ingest handler end to end against dynalite + the local SageMaker server + the local bus,
 *      with DynamoDB requests and embedding calls per event.
 */
import { availableParallelism, cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { SQSEvent } from 'aws-lambda';
import { makeHandler } from '../functions/ingest/app';
import { stageConfig } from '../infra/config/stages';
import { settingsSchema } from '../shared/config/settings';
import { validateInbound } from '../shared/contracts/validate';
import type { InboundEvent } from '../shared/contracts/inbound';
import { assignWithHysteresis, softAssign } from '../shared/domain/assign';
import { foldEvents } from '../shared/customer/fold';
import { eventText, type LoggedEvent } from '../shared/domain/features';
import { BEHAVIOUR_FEATURES, behaviourRow, buildVector } from '../shared/domain/vector';
import { encodeText } from '../shared/embedding/hashing-encoder';
import { createRng } from '../shared/util/rng';
import { startEmbeddedStack } from '../local/stack';
import type { SegmentationModel } from '../shared/segmentation/model';

const CATEGORIES = ['garden', 'baby', 'kitchen', 'electronics', 'books', 'pets'];
const NOUNS = ['pot', 'monitor', 'kettle', 'speaker', 'novel', 'leash', 'trowel', 'blanket', 'pan', 'cable'];
const rng = createRng(42);
let seq = 0;

function makeEvents(customers: number, perCustomer: number): InboundEvent[] {
  const out: InboundEvent[] = [];
  const start = Date.parse('2026-09-01T00:00:00Z');
  for (let c = 0; c < customers; c++) {
    const customerId = `cust-${c}`;
    const cat = CATEGORIES[c % CATEGORIES.length]!;
    for (let i = 0; i < perCustomer; i++) {
      const occurredAt = new Date(start + rng.int(60 * 86_400_000)).toISOString();
      const noun = NOUNS[rng.int(NOUNS.length)]!;
      const title = `${cat} ${noun} ${rng.int(40)}`;
      const base = { eventId: `e-${++seq}`, customerId, occurredAt, schemaVersion: 1 };
      const r = rng.next();
      if (r < 0.15) {
        out.push({
          type: 'order.placed',
          detail: {
            ...base,
            orderId: `o-${seq}`,
            total: 30,
            currency: 'GBP',
            channel: 'web',
            discount: 0,
            items: [{ sku: `s${seq}`, title, category: cat, price: 30, quantity: 1 }],
          },
        });
      } else if (r < 0.7) {
        out.push({
          type: 'product.viewed',
          detail: { ...base, sku: `s${seq}`, title, category: cat, price: 10, channel: 'app' },
        });
      } else if (r < 0.85) {
        out.push({ type: 'search.performed', detail: { ...base, query: `${cat} ${noun}`, channel: 'web' } });
      } else {
        out.push({
          type: 'cart.updated',
          detail: { ...base, sku: `s${seq}`, title, category: cat, action: 'added', quantity: 1 },
        });
      }
    }
  }
  return out;
}

const body = (e: InboundEvent) =>
  JSON.stringify({ version: '0', 'detail-type': e.type, source: 'storefront', detail: e.detail });

function syntheticModel(dim: number): SegmentationModel {
  const b = BEHAVIOUR_FEATURES.length;
  const k = 8;
  return {
    version: 1,
    runId: 'bench',
    createdAt: new Date().toISOString(),
    featureNames: [...BEHAVIOUR_FEATURES],
    scaler: { center: Array(b).fill(0), scale: Array(b).fill(1), clip: 5 },
    weights: { behaviour: 1, interest: 1.5 },
    embeddingDim: dim,
    dim: b + dim,
    k,
    centroids: Array.from({ length: k * (b + dim) }, () => rng.normal() * 0.3),
    segmentIds: Array.from({ length: k }, (_, i) => `seg-${String(i + 1).padStart(3, '0')}`),
    names: Array.from({ length: k }, (_, i) => `Segment ${i + 1}`),
    tau: 1,
    profiles: [],
    quality: { silhouette: 0.3, daviesBouldin: 1, stability: null },
    retiredSegmentIds: [],
    nextSegmentNumber: k + 1,
    value: {
      bgnbd: { r: 0.2426, alpha: 4.4135, a: 0.7929, b: 2.4258, source: 'prior' },
      gammaGamma: { p: 6.25, q: 3.74, v: 15.45, source: 'prior' },
      timeUnit: 'weeks',
    },
  };
}

async function main() {
  const cores = availableParallelism();
  console.log(`bench:ingest — ${cores} cores (${cpus()[0]?.model ?? 'unknown cpu'}), node ${process.version}`);
  const dev = stageConfig('dev').settings;
  const settings = settingsSchema.parse({ ...dev, embedding: { ...dev.embedding, dimension: 64 } });
  const dim = settings.embedding.dimension;
  const model = syntheticModel(dim);
  const now = new Date('2026-11-01T00:00:00Z');

  // (a) pure compute: batches of 100 events over 20 customers whose logs hold 50 earlier events each
  const customers = 2_000;
  const history = makeEvents(customers, 50);
  const embeddingOf = new Map<string, Float32Array>();
  const logs = new Map<string, LoggedEvent[]>();
  for (const e of history) {
    const text = eventText(e);
    let emb: Float32Array | null = null;
    if (text) {
      emb = embeddingOf.get(text) ?? encodeText(text, dim);
      embeddingOf.set(text, emb);
    }
    const list = logs.get(e.detail.customerId) ?? [];
    list.push({ event: e, embedding: emb });
    logs.set(e.detail.customerId, list);
  }
  const fresh = makeEvents(customers, 5).map((e) => body(e));
  const batches: string[][] = [];
  for (let i = 0; i < fresh.length; i += 100) batches.push(fresh.slice(i, i + 100));

  const runCompute = () => {
    let events = 0;
    for (const batch of batches) {
      const byCustomer = new Map<string, LoggedEvent[]>();
      for (const b of batch) {
        const r = validateInbound(b, now);
        if (!r.ok) continue;
        const text = eventText(r.event);
        const list = byCustomer.get(r.event.detail.customerId) ?? [];
        list.push({ event: r.event, embedding: text ? (embeddingOf.get(text) ?? null) : null });
        byCustomer.set(r.event.detail.customerId, list);
        events += 1;
      }
      for (const [customerId, list] of byCustomer) {
        const f = foldEvents([...(logs.get(customerId) ?? []), ...list], now, settings.features);
        const soft = softAssign(buildVector(behaviourRow(f), f.interest, model), model);
        assignWithHysteresis({ current: null, soft, model, now, settings: settings.hysteresis });
      }
    }
    return events;
  };
  const runReference = () => {
    let n = 0;
    for (const batch of batches) for (const b of batch) n += JSON.parse(b) ? 1 : 0;
    return n;
  };
  runCompute(); // warm-up
  runReference();
  // Best of 5 (the machine is shared: the fastest run is the least disturbed one), reference interleaved.
  const time = (fn: () => number) => {
    const t = performance.now();
    const n = fn();
    return { n, sec: (performance.now() - t) / 1000 };
  };
  const computeRuns: number[] = [];
  const refRuns: number[] = [];
  let computed = 0;
  let parsed = 0;
  for (let r = 0; r < 5; r++) {
    const c = time(runCompute);
    const p = time(runReference);
    computed = c.n;
    parsed = p.n;
    computeRuns.push(c.sec);
    refRuns.push(p.sec);
  }
  const computeSec = Math.min(...computeRuns);
  const refSec = Math.min(...refRuns);
  const computeRate = computed / computeSec;
  console.log(`(a) pure compute path (validate + fold of a 50-event log + vector + assign), one core, best of 5:`);
  console.log(
    `    ${computed} events in ${computeSec.toFixed(3)} s = ${Math.round(computeRate).toLocaleString('en')} events/s (target >= 20,000)`,
  );
  console.log(
    `    reference JSON.parse of the same bodies: ${Math.round(parsed / refSec).toLocaleString('en')} events/s; compute/parse time ratio ${(computeSec / refSec).toFixed(1)}x`,
  );

  // (b) end to end against the embedded servers
  const stack = await startEmbeddedStack({ settings, clock: () => now });
  let ddbRequests = 0;
  stack.dynamo.client.middlewareStack.add(
    (next) => async (args) => {
      ddbRequests += 1;
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  await stack.modelStore.putVersion(model);
  await stack.modelStore.activate(1, null);
  const handler = makeHandler(stack.ingestDeps());
  const e2eEvents = makeEvents(300, 10).map((e) => body(e));
  ddbRequests = 0;
  const invocationsBefore = stack.embeddingServer.stats.invocations;
  const t0 = performance.now();
  let failed = 0;
  for (let i = 0; i < e2eEvents.length; i += 100) {
    const Records = e2eEvents
      .slice(i, i + 100)
      .map((b, j) => ({ messageId: `m${i + j}`, body: b })) as unknown as SQSEvent['Records'];
    const res = await handler({ Records }, {} as never);
    failed += res.batchItemFailures.length;
  }
  const e2eSec = (performance.now() - t0) / 1000;
  const calls = stack.embeddingServer.stats.invocations - invocationsBefore;
  console.log(`(b) ingest handler end to end (dynalite + local SageMaker + local bus), batch size 100:`);
  console.log(
    `    ${e2eEvents.length} events in ${e2eSec.toFixed(2)} s = ${Math.round(e2eEvents.length / e2eSec).toLocaleString('en')} events/s, ${failed} failed records`,
  );
  console.log(`    DynamoDB requests per event: ${(ddbRequests / e2eEvents.length).toFixed(2)}`);
  console.log(
    `    embedding calls per event: ${(calls / e2eEvents.length).toFixed(4)} (= 1/${Math.round(e2eEvents.length / Math.max(1, calls))}; target <= 1/20)`,
  );
  await stack.close();
  const ok = computeRate >= 20_000 && calls / e2eEvents.length <= 1 / 20 && failed === 0;
  console.log(ok ? 'targets met' : 'TARGETS NOT MET');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
