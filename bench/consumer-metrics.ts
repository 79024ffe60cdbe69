/**
 * What consumers feel, measured on a simulated store run end to end (`runLocal`, the same path as `npm start`):
 * moves per night by reason, moves per customer-night, the issue #10 targets (local/summary-metrics.ts).
 *
 *   npx tsx bench/consumer-metrics.ts [--customers 300] [--days 21] [--seed 7] [--out out/consumer-metrics]
 *
 * Prints the targets and writes consumer-metrics.json next to the run's summary.json. Until local/run.ts calls
 * local/summary-metrics.ts itself, this is how the targets are measured.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalObjectStore } from '../local/object-store';
import { runLocal } from '../local/run';
import { simulateStore } from '../local/simulator';
import { consumerMetricsForStack, type ConsumerMetrics } from '../local/summary-metrics';
import type { DriftDetected } from '../shared/contracts/outbound';

const { values } = parseArgs({
  options: {
    customers: { type: 'string', default: '300' },
    days: { type: 'string', default: '21' },
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
  let metrics: ConsumerMetrics | null = null;
  let lines: string[] = [];
  const t0 = performance.now();
  const summary = await runLocal({
    source: { kind: 'simulate', customers, days, seed },
    outDir: values.out!,
    beforeClose: async (stack) => {
      const runIds = Array.from(
        { length: days + 2 },
        (_, d) => `nightly-${new Date(start!.getTime() + d * 86_400_000).toISOString().slice(0, 10)}`,
      );
      // runLocal keeps its object store to itself: kScores are not read here (the report gets them from run.ts).
      const result = await consumerMetricsForStack(stack, {
        objects: new LocalObjectStore(),
        runIds,
        start: start!,
        truth: store.truth,
        eventCounts,
      });
      metrics = result.metrics;
      lines = result.lines;
      for (const e of stack.bus.eventsOf<DriftDetected>('segmentation.drift.detected')) {
        const d = e.detail;
        console.log(
          `drift ${d.runId}: ${d.reasons.join(',')} ${d.features.map((f) => `${f.feature} ${f.psi.toFixed(2)}`).join(', ')}`,
        );
      }
      for (const r of result.runs) {
        const c = r.continuity;
        console.log(
          `${r.runId} ${r.status} v${r.modelVersion ?? '-'} k=${r.k ?? '-'} ${c ? `${c.chosen}/${c.reason} gain=${c.gain?.toFixed(3) ?? '-'}` : ''} ${r.drift ? `drift=${r.drift.detected} psi=${r.drift.maxFeaturePsi.toFixed(3)} share=${r.drift.sharePsi.toFixed(3)} dist=${r.drift.distanceInflation.toFixed(2)}` : ''} ${r.gateReasons.join('; ')}`,
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
  for (const line of lines) console.log(line);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
