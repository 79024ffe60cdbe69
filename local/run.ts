import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { makeHandler } from '../functions/ingest/app';
import { stageConfig } from '../infra/config/stages';
import { settingsSchema, type Settings } from '../shared/config/settings';
import { OUTBOUND_SOURCE, type LifecycleChanged, type SegmentChanged } from '../shared/contracts/outbound';
import { behaviourRow, buildVector } from '../shared/domain/vector';
import type { CustomerProfile } from '../shared/ports/stores';
import { featuresAsOf } from '../shared/recluster/as-of';
import { documentClient } from '../shared/adapters/dynamo';
import { adjustedRandIndex } from '../shared/segmentation/metrics';
import type { SegmentationModel } from '../shared/segmentation/model';
import { LocalObjectStore } from './object-store';
import { projectTo2d, writeReport, type ReportData, type ReportSegment } from './report';
import { rejectOfQuarantined, writeRejects, type RejectLine } from './rejects';
import { readReplay, type ReplayFormat } from './replay';
import { createNdjsonRecorder, simulateStore, type Delivery } from './simulator';
import { startEmbeddedStack, type EmbeddedStack } from './stack';
import { cachedTemplate } from './template-cache';
import { startLocalNarration, writeSegmentsJson } from './catalogue';
import {
  consumerMetricsForStack,
  populationVectors,
  switchOracleNight,
  switchWeekEndsTonight,
  type ConsumerMetrics,
} from './summary-metrics';
import { buildReclusterHandlers, reclusterDepsForStack, runReclusterLocally } from './stepfunctions';

const DAY_MS = 86_400_000;

export type RunSource =
  | { kind: 'simulate'; customers: number; days: number; seed: number }
  | { kind: 'replay'; path: string; format?: ReplayFormat };

/** Where a run reports progress: a bar on a terminal, plain lines otherwise (see start.ts). */
export interface Progress {
  start(phase: string, total: number): void;
  update(done: number, info?: Record<string, string | number>): void;
  stop(): void;
  line(text: string): void;
}

export const silentProgress: Progress = { start: () => {}, update: () => {}, stop: () => {}, line: () => {} };

export interface RunOptions {
  source: RunSource;
  outDir: string;
  record?: string;
  /** Re-cluster every N simulated nights (default 1). */
  reclusterEvery?: number;
  /** No nightly run before this many customers exist. */
  minCustomersToCluster?: number;
  progress?: Progress;
  settings?: Settings;
  /**
   * Called with the embedded stack before it shuts down (tests inspect the table and the bus here; `--serve` serves
   * the query API until interrupted), with the run's summary and its end (the simulated or replayed clock).
   */
  beforeClose?: (stack: EmbeddedStack, summary: RunSummary, asOf: Date) => Promise<void>;
}

export interface RunSummary {
  source: string;
  /** `unreadable`: replayed lines the reader rejected (not JSON, not a row); they are in `rejected` too. */
  events: {
    delivered: number;
    ingested: number;
    duplicates: number;
    rejected: Record<string, number>;
    /** Events dropped because they were dated at or before their customer's erasure. */
    erasedDropped: number;
    /** Order and refund events in a currency without a conversion rate (kept in the log, out of money features). */
    unpricedMoney: number;
    unreadable?: number;
  };
  customers: number;
  model: { version: number; k: number; quality: SegmentationModel['quality'] } | null;
  segments: ReportSegment[];
  changes: { segment: number; lifecycle: number; segmentByReason: Record<string, number> };
  nightlyRuns: {
    succeeded: number;
    failed: number;
    reasons: string[];
    customersAssigned: number;
    profilesWritten: number;
    /** What each night read and re-placed (the nightly change index), and its totals. */
    work: NightlyWorkSummary;
  };
  /** Moves per night by reason, per customer-night, and the issue #10 targets (local/summary-metrics.ts). */
  consumer: ConsumerMetrics;
  /** The consumer metrics as printed lines (moves by reason per night, the targets). */
  consumerLines: string[];
  /** Moves of the last nightly run: each side by id and name, with the model version that named it. */
  transitions: {
    from: string;
    to: string;
    count: number;
    fromId?: string | null;
    toId?: string;
    fromVersion?: number | null;
    toVersion?: number;
  }[];
  timings: { seconds: number; eventsPerSecond: number; reclusterSeconds: number };
  truth?: { ari: number; switchedCustomers: number; switchedMovedShare: number };
  files: string[];
}

/** One night's table work: profiles read (ScanShards and AssignShards), evaluated, written, and why it was full. */
export interface NightWork {
  runId: string;
  read: number;
  evaluated: number;
  written: number;
  /** Why every customer was read or re-placed that night (null: only what changed). */
  full: string | null;
}

export interface NightlyWorkSummary {
  nights: NightWork[];
  /** Mean profiles read per night, and per night per customer at the end of the run. */
  meanRead: number;
  meanEvaluated: number;
  meanWritten: number;
  readPerCustomerNight: number;
  fullNights: number;
  fullReasons: Record<string, number>;
}

export function nightlyWorkSummary(nights: NightWork[], customers: number): NightlyWorkSummary {
  const mean = (f: (w: NightWork) => number) =>
    nights.length ? nights.reduce((s, w) => s + f(w), 0) / nights.length : 0;
  const fullReasons: Record<string, number> = {};
  for (const w of nights) if (w.full) fullReasons[w.full] = (fullReasons[w.full] ?? 0) + 1;
  return {
    nights,
    meanRead: mean((w) => w.read),
    meanEvaluated: mean((w) => w.evaluated),
    meanWritten: mean((w) => w.written),
    readPerCustomerNight: customers ? mean((w) => w.read) / customers : 0,
    fullNights: nights.filter((w) => w.full).length,
    fullReasons,
  };
}

/** The settings a local run uses: the dev stage's, with a small shard count for one machine. */
export function localSettings(): Settings {
  const dev = stageConfig('dev').settings;
  return settingsSchema.parse({
    ...dev,
    recluster: { ...dev.recluster, shardCount: 2, nInit: 2, silhouetteSubsample: 1_500 },
    // The catalogue is narrated through the real SageMaker adapter, by the local stand-in (a template, not a model).
    narration: { endpointName: 'shoal-local-narrator', contract: 'chat' },
  });
}

const bump = (m: Record<string, number>, key: string, n = 1) => {
  m[key] = (m[key] ?? 0) + n;
};

/**
 * Runs the whole system on the embedded stack: events go to the local bus (the CDK rule's pattern), the queue
 * (SQS batch semantics) and the ingest handler; each simulated night the synthesized state machine runs under
 * aws-local-stepfunctions. Writes summary.json, profiles.ndjson and report.html to `outDir`.
 */
export async function runLocal(opts: RunOptions): Promise<RunSummary> {
  const started = performance.now();
  const progress = opts.progress ?? silentProgress;
  const settings = opts.settings ?? localSettings();
  let clock = new Date(0);
  const stack = await startEmbeddedStack({ settings, clock: () => clock, dynamoChildProcess: true });
  const narration = await startLocalNarration(settings);
  try {
    // The state machine as the dev stack defines it (cdk-nag checks the same app in tests and CI), synthesized once
    // per change of its inputs.
    const template = await cachedTemplate('dev');
    const objects = new LocalObjectStore({ clock: () => clock.getTime() });
    const reclusterDeps = reclusterDepsForStack(stack, { objects, clock: () => clock, narrator: narration.narrator });
    const handlers = buildReclusterHandlers(reclusterDeps);
    // The summary reads Shoal's own events; the storefront's are routed to ingest, not kept.
    stack.bus.archiveOnly((e) => e.source === OUTBOUND_SOURCE);
    const ingest = makeHandler(stack.ingestDeps());
    const profiles = stack.table.profiles;
    // Every outbound event as put on the bus, in order, through a rule like a consumer's (source "shoal").
    mkdirSync(opts.outDir, { recursive: true });
    const changes = createWriteStream(join(opts.outDir, 'changes.ndjson'));
    stack.bus.addRule({
      name: 'local-changes-ndjson',
      eventPattern: { source: [OUTBOUND_SOURCE] },
      target: (event) => {
        changes.write(
          `${JSON.stringify({ 'detail-type': event['detail-type'], time: event.time, detail: event.detail })}\n`,
        );
      },
    });
    // With arrival times, a replay of the recording is the same stream (late events stay late).
    const recorder = opts.record ? createNdjsonRecorder(opts.record, { arrivalTime: true }) : null;

    const rejected: Record<string, number> = {};
    let delivered = 0;
    let unreadable = 0;
    const rejects: RejectLine[] = [];
    let ingested = 0;
    let duplicates = 0;
    const customersSeen = new Set<string>();
    const runs = { succeeded: 0, failed: 0, reasons: [] as string[] };
    const sizesOverTime: ReportData['sizesOverTime'] = [];
    const qualityOverRuns: ReportData['qualityOverRuns'] = [];
    const models: SegmentationModel[] = [];
    const eventCounts = new Map<string, number>();
    const runIds: string[] = [];
    let firstArrival: Date | null = null;
    let pending: Delivery[] = [];

    const drain = async () => {
      if (pending.length === 0) return;
      const entries = pending.map((d) => ({
        Source: settings.source,
        DetailType: d.detailType,
        Detail: JSON.stringify(d.detail),
        Time: d.arrivalAt,
      }));
      // The clock never runs backwards: a late delivery keeps the latest arrival time seen.
      for (const d of pending) if (d.arrivalAt > clock) clock = d.arrivalAt;
      for (let i = 0; i < entries.length; i += 10) {
        const slice = entries.slice(i, i + 10);
        const routedBefore = stack.queue.stats.sent;
        await stack.bus.putEvents(slice);
        const routed = stack.queue.stats.sent - routedBefore;
        if (routed < slice.length) bump(rejected, 'unrouted_detail_type', slice.length - routed);
      }
      pending = [];
      await stack.queue.drain(async (event) => {
        const response = await ingest(event);
        return response;
      });
    };

    // Ingest outcomes are read from the handler's metrics tally (the same counters CloudWatch gets).
    const counts = () => stack.metrics.counts;

    let reclusterSeconds = 0;
    const work: NightWork[] = [];
    let truth: ReturnType<typeof simulateStore>['truth'] | null = null;
    // The switchers target's oracle bound, night by night (switchOracleNight), from the night's population files.
    const switchOracle = { hit: 0, total: 0 };
    const nightly = async (night: Date) => {
      await drain();
      if (customersSeen.size < (opts.minCustomersToCluster ?? 100)) return;
      clock = night;
      const t0 = performance.now();
      const before = { ...counts() };
      const delta = (name: string) => (counts()[name] ?? 0) - (before[name] ?? 0);
      const runId = `nightly-${night.toISOString().slice(0, 10)}`;
      runIds.push(runId);
      const result = await runReclusterLocally({
        template,
        handlers,
        input: { runId, asOf: night.toISOString() },
        executionName: runId,
      });
      stack.models.invalidate();
      reclusterSeconds += (performance.now() - t0) / 1000;
      const record = await reclusterDeps.runs.get(runId);
      work.push({
        runId,
        read: delta('ReclusterProfilesRead'),
        evaluated: delta('ReclusterProfilesEvaluated'),
        written: delta('ReclusterProfilesWritten') + delta('ReclusterProfilesRefreshed'),
        full: record?.nightly?.fullReason ?? (delta('ReclusterFullShards') > 0 ? 'full shard(s)' : null),
      });
      // The model ACTIVE after tonight's run (a refused run leaves the previous one): the report's series and the
      // switchers' oracle bound both read it.
      const active = await stack.modelStore.getActive();
      if (truth && active && [...truth.values()].some((t) => switchWeekEndsTonight(t, night))) {
        const vectors = await populationVectors(objects, runId, active, settings);
        if (vectors) {
          const tonight = switchOracleNight({ night, vectors, truth, eventCounts });
          switchOracle.hit += tonight.hit;
          switchOracle.total += tonight.total;
        }
      }
      // The previous run's shard files (samples, population) have served tonight: S3 expires them after a
      // day (RUN_OBJECT_RETENTION); a long local run drops them now. Its model artifact stays for the summary.
      const previousRunId = runIds[runIds.length - 2];
      if (previousRunId) await objects.expire([{ prefix: `runs/${previousRunId}/shards/`, days: 0 }], clock.getTime());
      if (result.status === 'SUCCEEDED') {
        runs.succeeded += 1;
        const model = active;
        if (model && models[models.length - 1]?.version !== model.version) {
          models.push(model);
          const day = night.toISOString().slice(0, 10);
          for (const p of model.profiles)
            sizesOverTime.push({ day, segmentId: p.segmentId, name: p.name, size: p.size });
          qualityOverRuns.push({
            run: models.length,
            day,
            silhouette: model.quality.silhouette,
            daviesBouldin: model.quality.daviesBouldin,
            stability: model.quality.stability,
            k: model.k,
          });
        }
      } else {
        runs.failed += 1;
        runs.reasons.push(`${runId}: ${result.error ?? 'failed'} ${result.cause ?? ''}`.trim().slice(0, 300));
      }
    };

    const noteActive = (d: Delivery) => {
      const detail = d.detail as { customerId?: unknown };
      if (typeof detail?.customerId === 'string') {
        customersSeen.add(detail.customerId);
        eventCounts.set(detail.customerId, (eventCounts.get(detail.customerId) ?? 0) + 1);
        firstArrival ??= d.arrivalAt;
      }
    };

    const rateOf = (n: number) => Math.round(n / Math.max(1e-3, (performance.now() - started) / 1000));
    if (opts.source.kind === 'simulate') {
      const store = simulateStore({ customers: opts.source.customers, days: opts.source.days, seed: opts.source.seed });
      truth = store.truth;
      progress.start('simulated days', opts.source.days);
      for (const day of store.days()) {
        for (const d of day.deliveries) {
          delivered += 1;
          await recorder?.write([d]);
          noteActive(d);
          pending.push(d);
          if (pending.length >= 500) await drain();
        }
        const night = new Date(day.date.getTime() + DAY_MS);
        if ((day.day + 1) % (opts.reclusterEvery ?? 1) === 0) await nightly(night);
        else await drain();
        progress.update(day.day + 1, {
          events: delivered,
          rate: rateOf(delivered),
          runs: runs.succeeded + runs.failed,
          model: models[models.length - 1]?.version ?? '-',
        });
      }
    } else {
      progress.start('replayed events', 0);
      let lastNight: number | null = null;
      let nights = 0;
      for await (const item of readReplay(opts.source.path, opts.source.format)) {
        if (item.kind === 'rejected') {
          bump(rejected, item.reason);
          unreadable += 1;
          rejects.push({ stage: 'reader', reason: item.reason, line: item.line, paths: [] });
          continue;
        }
        const d = item.delivery;
        const night = Math.floor(d.arrivalAt.getTime() / DAY_MS);
        if (lastNight !== null && night > lastNight) {
          nights += 1;
          if (nights % (opts.reclusterEvery ?? 1) === 0) await nightly(new Date(night * DAY_MS));
        }
        lastNight = lastNight === null ? night : Math.max(lastNight, night);
        delivered += 1;
        await recorder?.write([d]);
        noteActive(d);
        pending.push(d);
        if (pending.length >= 500) await drain();
        if (delivered % 1000 === 0)
          progress.update(delivered, {
            events: delivered,
            rate: rateOf(delivered),
            runs: runs.succeeded + runs.failed,
            model: models[models.length - 1]?.version ?? '-',
          });
      }
      if (lastNight !== null) await nightly(new Date((lastNight + 1) * DAY_MS));
    }
    await drain();
    progress.stop();
    await recorder?.close();

    // Quarantined records by reason, from the metrics the ingest path emits per reason.
    const quarantined = counts().QuarantinedEvents ?? 0;
    ingested = counts().EventsIngested ?? 0;
    duplicates = counts().DuplicateEvents ?? 0;
    if (quarantined) await countQuarantine(stack, rejected, rejects);

    // Everyone, evaluated as of the end of the run (the time of the last event).
    const all: CustomerProfile[] = [];
    for await (const p of profiles.scanShard(0, 1)) all.push(p);
    all.sort((a, b) => (a.customerId < b.customerId ? -1 : 1));
    const asOf = clock;
    mkdirSync(opts.outDir, { recursive: true });
    const lines = all.map((p) => {
      const features = featuresAsOf(p, asOf, settings);
      return JSON.stringify({
        customerId: p.customerId,
        features: { ...features, interest: undefined },
        segmentId: p.assignment?.segmentId ?? null,
        modelVersion: p.assignment?.modelVersion ?? null,
        probabilities: p.assignment?.topProbabilities ?? [],
        traits: p.traits,
      });
    });
    writeFileSync(join(opts.outDir, 'profiles.ndjson'), lines.join('\n') + (lines.length ? '\n' : ''));
    writeRejects(join(opts.outDir, 'rejects.ndjson'), rejects);

    const segmentEvents = stack.bus.eventsOf<SegmentChanged>('segment.changed');
    const lifecycleEvents = stack.bus.eventsOf<LifecycleChanged>('lifecycle.changed');
    const segmentByReason: Record<string, number> = {};
    for (const e of segmentEvents) bump(segmentByReason, e.detail.reason);

    const model = models[models.length - 1] ?? null;
    const segments = model ? segmentTable(model, all) : [];
    const transitions = models.length >= 2 ? lastTransitions(segmentEvents, model!, models[models.length - 2]!) : [];

    // What consumers felt: moves per night by reason, per customer-night, and the issue #10 targets.
    const consumer = await consumerMetricsForStack(stack, {
      objects,
      runIds,
      start: new Date(Math.floor((firstArrival ?? clock).getTime() / DAY_MS) * DAY_MS),
      ...(truth ? { truth, switchOracle } : {}),
      eventCounts,
    });
    const switched = new Set([...(truth?.entries() ?? [])].filter(([, t]) => t.switchedAt).map(([id]) => id));

    let truthSummary: RunSummary['truth'];
    if (truth && model) {
      const personaIndex = new Map<string, number>();
      const planted: number[] = [];
      const found: number[] = [];
      for (const p of all) {
        const t = truth.get(p.customerId);
        if (!t || t.kind !== 'customer' || !p.assignment) continue;
        const persona = t.switchedTo ?? t.persona;
        if (!personaIndex.has(persona)) personaIndex.set(persona, personaIndex.size);
        planted.push(personaIndex.get(persona)!);
        found.push(model.segmentIds.indexOf(p.assignment.segmentId));
      }
      const movedSwitched = new Set(
        segmentEvents
          .filter((e) => switched.has(e.detail.customerId) && e.detail.from !== null)
          .map((e) => e.detail.customerId),
      );
      truthSummary = {
        ari: planted.length ? adjustedRandIndex(planted, found) : 0,
        switchedCustomers: switched.size,
        switchedMovedShare: switched.size ? movedSwitched.size / switched.size : 0,
      };
    }

    const seconds = (performance.now() - started) / 1000;
    const summary: RunSummary = {
      source:
        opts.source.kind === 'simulate'
          ? `simulator (${opts.source.customers} customers, ${opts.source.days} days, seed ${opts.source.seed})`
          : `replay ${opts.source.path}`,
      events: {
        delivered,
        ingested,
        duplicates,
        rejected,
        unreadable,
        erasedDropped: counts().ErasedEventsDropped ?? 0,
        unpricedMoney: counts().UnpricedMoneyEvents ?? 0,
      },
      customers: all.length,
      model: model ? { version: model.version, k: model.k, quality: model.quality } : null,
      segments,
      changes: { segment: segmentEvents.length, lifecycle: lifecycleEvents.length, segmentByReason },
      nightlyRuns: {
        ...runs,
        customersAssigned: counts().ReclusterCustomersAssigned ?? 0,
        profilesWritten: counts().ReclusterProfilesWritten ?? 0,
        work: nightlyWorkSummary(work, all.length),
      },
      consumer: consumer.metrics,
      consumerLines: consumer.lines,
      transitions,
      timings: { seconds, eventsPerSecond: delivered / seconds, reclusterSeconds },
      ...(truthSummary ? { truth: truthSummary } : {}),
      files: [
        'summary.json',
        'profiles.ndjson',
        'rejects.ndjson',
        'changes.ndjson',
        'segments.json',
        'report.html',
      ].map((f) => join(opts.outDir, f)),
    };
    await new Promise<void>((resolve, reject) => changes.end((err?: Error | null) => (err ? reject(err) : resolve())));
    writeFileSync(join(opts.outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);

    if (model) writeSegmentsJson(opts.outDir, model);
    writeReport(join(opts.outDir, 'report.html'), {
      title: `Shoal local run — ${summary.source}`,
      generatedAt: new Date().toISOString(),
      summary: {
        'events delivered': delivered,
        'events ingested': ingested,
        rejected: Object.values(rejected).reduce((a, b) => a + b, 0),
        duplicates,
        customers: all.length,
        'model version': model?.version ?? '-',
        k: model?.k ?? '-',
        silhouette: model?.quality.silhouette ?? '-',
        'segment changes': segmentEvents.length,
        'lifecycle changes': lifecycleEvents.length,
        'moves per customer-night': Number(consumer.metrics.movesPerCustomerNight.toFixed(4)),
        seconds: Math.round(seconds),
      },
      segments,
      sizesOverTime,
      transitions,
      projection: model ? projection(model, all, asOf, settings) : [],
      qualityOverRuns,
      profiles: model ? profileHeatmap(model) : [],
      catalogue: model?.catalogue ?? [],
      backtest: model?.value.backtest ?? null,
      clvBySegment: all
        .filter((p) => p.assignment && p.traits && p.traits.clv !== null)
        .slice(0, 5_000)
        .map((p) => ({
          segmentId: p.assignment!.segmentId,
          name: nameOf(model, p.assignment!.segmentId),
          clv: p.traits!.clv!,
        })),
      ...consumer.report,
    });
    await opts.beforeClose?.(stack, summary, clock);
    return summary;
  } finally {
    await narration.close();
    await stack.close();
  }
}

async function countQuarantine(
  stack: Awaited<ReturnType<typeof startEmbeddedStack>>,
  rejected: Record<string, number>,
  rejects: RejectLine[],
) {
  // The quarantine has its own table; scan it once at the end of a run.
  const { ScanCommand } = await import('@aws-sdk/lib-dynamodb');
  const doc = documentClient(stack.dynamo.client);
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({
        TableName: stack.dynamo.quarantineTableName,
        ProjectionExpression: 'reason, rejection',
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      bump(rejected, String(item.reason));
      rejects.push(rejectOfQuarantined(String(item.reason), item.rejection));
    }
    start = page.LastEvaluatedKey;
  } while (start);
}

/** Per-segment feature means, standardised across segments, for the profile heatmap. */
function profileHeatmap(model: SegmentationModel): NonNullable<ReportData['profiles']> {
  const features = Object.keys(model.profiles[0]?.features ?? {});
  const out: NonNullable<ReportData['profiles']> = [];
  for (const feature of features) {
    const means = model.profiles.map((p) => p.features[feature]?.mean ?? 0);
    const mu = means.reduce((a, b) => a + b, 0) / Math.max(1, means.length);
    const sd = Math.sqrt(means.reduce((a, b) => a + (b - mu) ** 2, 0) / Math.max(1, means.length)) || 1;
    model.profiles.forEach((p, i) =>
      out.push({ segmentId: p.segmentId, name: p.name, feature, value: (means[i]! - mu) / sd }),
    );
  }
  return out;
}

function nameOf(model: SegmentationModel | null, segmentId: string): string {
  if (!model) return segmentId;
  const i = model.segmentIds.indexOf(segmentId);
  return i >= 0 ? (model.names[i] ?? segmentId) : segmentId;
}

function segmentTable(model: SegmentationModel, all: CustomerProfile[]): RunSummary['segments'] {
  const assigned = all.filter((p) => p.assignment);
  return model.segmentIds.map((id, i) => {
    const members = assigned.filter((p) => p.assignment!.segmentId === id);
    const mean = (f: (p: CustomerProfile) => number | null) => {
      const values = members.map(f).filter((v): v is number => v !== null);
      return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
    };
    const median = (f: (p: CustomerProfile) => number) => {
      const values = members.map(f).sort((a, b) => a - b);
      if (values.length === 0) return 0;
      const mid = Math.floor(values.length / 2);
      return values.length % 2 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
    };
    const profile = model.profiles.find((p) => p.segmentId === id);
    return {
      id,
      name: model.names[i] ?? id,
      size: members.length,
      share: assigned.length ? members.length / assigned.length : 0,
      meanOrders: mean((p) => p.features.orders) ?? 0,
      meanRevenue: mean((p) => p.features.revenue) ?? 0,
      medianOrders: median((p) => p.features.orders),
      medianRevenue: median((p) => p.features.revenue),
      meanClv: mean((p) => p.traits?.clv ?? null),
      meanChurnRisk: mean((p) => p.traits?.churnRisk ?? null),
      topCategories: (profile?.topCategories ?? []).slice(0, 3).map((c) => c.category),
    };
  });
}

/** Moves made by the last nightly run (reason "recluster" with the last model version), as a from→to matrix. */
function lastTransitions(
  events: { detail: SegmentChanged }[],
  model: SegmentationModel,
  previous: SegmentationModel,
): RunSummary['transitions'] {
  const cells = new Map<string, RunSummary['transitions'][number]>();
  for (const e of events) {
    if (e.detail.reason !== 'recluster' || e.detail.modelVersion !== model.version) continue;
    // A retired segment is named by the model that had it.
    const fromId = e.detail.from?.segmentId ?? null;
    const from = e.detail.from
      ? previous.segmentIds.includes(e.detail.from.segmentId)
        ? nameOf(previous, e.detail.from.segmentId)
        : e.detail.from.name
      : 'none';
    const key = `${fromId}\u0000${e.detail.to.segmentId}`;
    const cell = cells.get(key) ?? {
      from,
      to: e.detail.to.name,
      count: 0,
      fromId,
      toId: e.detail.to.segmentId,
      fromVersion: fromId ? previous.version : null,
      toVersion: model.version,
    };
    cell.count += 1;
    cells.set(key, cell);
  }
  return [...cells.values()];
}

function projection(
  model: SegmentationModel,
  all: CustomerProfile[],
  asOf: Date,
  settings: Settings,
): ReportData['projection'] {
  const members = all.filter((p) => p.assignment).slice(0, 3_000);
  const vectors = new Float64Array(members.length * model.dim);
  members.forEach((p, i) => {
    const f = featuresAsOf(p, asOf, settings);
    vectors.set(buildVector(behaviourRow(f), f.interest, model), i * model.dim);
  });
  const { x, y } = projectTo2d(vectors, members.length, model.dim, 1);
  return members.map((p, i) => ({
    x: x[i]!,
    y: y[i]!,
    segmentId: p.assignment!.segmentId,
    name: nameOf(model, p.assignment!.segmentId),
  }));
}
