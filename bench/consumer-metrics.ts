/**
 * What consumers feel, measured on a simulated store run end to end (`runLocal`, the same path as `npm start`):
 * moves per night by reason, moves per customer-night, the issue #10 targets (local/summary-metrics.ts).
 *
 *   npx tsx bench/consumer-metrics.ts [--customers 300] [--days 14] [--seed 7] [--out out/consumer-metrics]
 *
 * Prints the targets and writes consumer-metrics.json next to the run's summary.json. Until local/run.ts calls
 * local/summary-metrics.ts itself, this is how the targets are measured.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runLocal } from '../local/run';
import { simulateStore } from '../local/simulator';
import {
  consumerMetrics,
  formatTargets,
  plantedAri,
  supervisedAriBound,
  type RunDiagnostics,
} from '../local/summary-metrics';
import { behaviourRow, buildVector } from '../shared/domain/vector';
import { DynamoProfileStore, DynamoRunStore, documentClient } from '../shared/adapters/dynamo';
import type { DriftDetected, ModelPublished, SegmentChanged } from '../shared/contracts/outbound';
import type { RunRecord } from '../shared/ports/stores';

const { values } = parseArgs({
  options: {
    customers: { type: 'string', default: '300' },
    days: { type: 'string', default: '14' },
    seed: { type: 'string', default: '7' },
    out: { type: 'string', default: 'out/consumer-metrics' },
  },
});
const customers = Number(values.customers);
const days = Number(values.days);
const seed = Number(values.seed);

async function main(): Promise<void> {
  const store = simulateStore({ customers, days, seed });
  const eventCounts = new Map<string, number>();
  let start: Date | null = null;
  for (const day of store.days()) {
    start ??= day.date;
    for (const d of day.deliveries) {
      if (d.meta?.malformed || d.meta?.duplicate) continue;
      const id = (d.detail as { customerId?: unknown })?.customerId;
      if (typeof id === 'string') eventCounts.set(id, (eventCounts.get(id) ?? 0) + 1);
    }
  }
  let metrics: ReturnType<typeof consumerMetrics> | null = null;
  const t0 = performance.now();
  const summary = await runLocal({
    source: { kind: 'simulate', customers, days, seed },
    outDir: values.out!,
    beforeClose: async (stack) => {
      const doc = documentClient(stack.dynamo.client);
      const runStore = new DynamoRunStore(doc, stack.dynamo.tableName);
      const runs: RunDiagnostics[] = [];
      const records = new Map<string, RunRecord>();
      const run0 = (id: string) => records.get(id);
      for (let d = 0; d <= days + 1; d++) {
        const night = new Date(start!.getTime() + d * 86_400_000).toISOString().slice(0, 10);
        const run = await runStore.get(`nightly-${night}`);
        if (!run) continue;
        records.set(run.runId, run);
        runs.push({
          runId: run.runId,
          asOf: run.asOf,
          status: run.status,
          modelVersion: run.fit?.modelVersion ?? null,
          published: run.status === 'published',
          gateReasons: run.fit && !run.fit.gate.passed ? run.fit.gate.reasons : [],
          population: run.fit?.population ?? null,
          kScores: [],
          k: run.fit?.k ?? null,
          continuity: run.fit?.continuity ?? null,
          drift: run.fit?.drift ?? null,
        });
      }
      const profiles = new DynamoProfileStore(doc, stack.dynamo.tableName, stack.settings.retention.historyDays);
      const persona = new Map(
        [...store.truth].filter(([, t]) => t.kind === 'customer').map(([id, t]) => [id, t.switchedTo ?? t.persona]),
      );
      const model = await stack.modelStore.getActive();
      const assigned: { customerId: string; segmentId: string | null }[] = [];
      const vectors: number[][] = [];
      const labels: string[] = [];
      for await (const p of profiles.scanShard(0, 1)) {
        assigned.push({ customerId: p.customerId, segmentId: p.assignment?.segmentId ?? null });
        const planted = persona.get(p.customerId);
        if (model && planted !== undefined && (eventCounts.get(p.customerId) ?? 0) >= 10) {
          vectors.push(Array.from(buildVector(behaviourRow(p.features), p.features.interest, model)));
          labels.push(planted);
        }
      }
      const bound = supervisedAriBound(vectors, labels);
      if (bound) {
        console.log(
          `supervised ARI bound on ${labels.length} customers with ≥ 10 events: k-NN ${bound.knn.toFixed(4)}, nearest class mean ${bound.nearestMean.toFixed(4)}`,
        );
      }
      metrics = consumerMetrics({
        segmentChanged: stack.bus.eventsOf<SegmentChanged>('segment.changed').map((e) => e.detail),
        modelPublished: stack.bus.eventsOf<ModelPublished>('segmentation.model.published').map((e) => e.detail),
        driftDetected: stack.bus.eventsOf<DriftDetected>('segmentation.drift.detected').map((e) => e.detail),
        runs,
        customers: assigned.length,
        start: start!,
        switchedAt: new Map([...store.truth].map(([id, t]) => [id, t.switchedAt])),
        ari: plantedAri(assigned, persona, eventCounts),
        ariBound: bound?.bound ?? null,
      });
      for (const e of stack.bus.eventsOf<DriftDetected>('segmentation.drift.detected')) {
        const d = e.detail;
        console.log(
          `drift ${d.runId}: ${d.reasons.join(',')} ${d.features.map((f) => `${f.feature} ${f.psi.toFixed(2)}`).join(', ')}`,
        );
      }
      for (const r of runs) {
        const c = r.continuity;
        console.log(
          `${r.runId} ${r.status} v${r.modelVersion ?? '-'} k=${r.k ?? '-'} ${c ? `${c.chosen}/${c.reason} gain=${c.gain?.toFixed(3) ?? '-'} broken=${(run0(r.runId)?.fit?.continuity?.brokenSegments ?? []).join(',')}` : ''} ${r.drift ? `drift=${r.drift.detected} psi=${r.drift.maxFeaturePsi.toFixed(3)} share=${r.drift.sharePsi.toFixed(3)} dist=${r.drift.distanceInflation.toFixed(2)}` : ''} ${r.gateReasons.join('; ')}`,
        );
      }
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  const m = metrics!;
  mkdirSync(values.out!, { recursive: true });
  writeFileSync(join(values.out!, 'consumer-metrics.json'), `${JSON.stringify({ ...m, seconds }, null, 2)}\n`);
  console.log(
    `\n${summary.source}: ${seconds.toFixed(1)} s, nightly runs ${summary.timings.reclusterSeconds.toFixed(1)} s`,
  );
  for (const n of m.nights) {
    console.log(
      `${n.day}  moves ${n.moves} (${Object.entries(n.byReason)
        .filter(([, v]) => v > 0)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}) of ${n.customers} customers = ${(100 * n.movesPerCustomer).toFixed(2)} %`,
    );
  }
  console.log(`moves per customer-night (all reasons): ${m.movesPerCustomerNight.toFixed(4)}`);
  console.log(
    `distinct segment ids ${m.distinctSegmentIds}, final k ${m.finalK ?? '-'}, drift events ${m.driftEvents}`,
  );
  for (const line of formatTargets(m.targets)) console.log(line);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
