/**
 * Profiles one nightly run: simulates a store (`runLocal`, the `npm start` path), then runs one more night on the
 * embedded stack with every task handler timed (Map tasks summed over shards), and prints where the time goes and what
 * the night wrote.
 *
 *   npx tsx bench/nightly-profile.ts [--customers 300] [--days 14] [--seed 7]
 */
import { parseArgs } from 'node:util';
import { synthTemplate } from '../infra/app';
import { LocalObjectStore } from '../local/object-store';
import { runLocal } from '../local/run';
import { buildReclusterHandlers, reclusterDepsForStack, runReclusterLocally } from '../local/stepfunctions';
import type { ReclusterTask } from '../shared/contracts/recluster';

const { values } = parseArgs({
  options: {
    customers: { type: 'string', default: '300' },
    days: { type: 'string', default: '14' },
    seed: { type: 'string', default: '7' },
  },
});

async function main(): Promise<void> {
  await runLocal({
    source: {
      kind: 'simulate',
      customers: Number(values.customers),
      days: Number(values.days),
      seed: Number(values.seed),
    },
    outDir: '/tmp/shoal-nightly-profile',
    beforeClose: async (stack) => {
      const template = synthTemplate('dev');
      const active = await stack.modelStore.getActive();
      const night = new Date(Date.parse(active?.createdAt ?? new Date().toISOString()) + 86_400_000);
      const deps = reclusterDepsForStack(stack, { objects: new LocalObjectStore(), clock: () => night });
      const handlers = buildReclusterHandlers(deps);
      const spent: Partial<Record<ReclusterTask, { ms: number; calls: number }>> = {};
      for (const task of Object.keys(handlers) as ReclusterTask[]) {
        const real = handlers[task];
        handlers[task] = async (input) => {
          const t0 = performance.now();
          try {
            return await real(input);
          } finally {
            const s = (spent[task] ??= { ms: 0, calls: 0 });
            s.ms += performance.now() - t0;
            s.calls += 1;
          }
        };
      }
      const before = { ...stack.metrics.counts };
      const t0 = performance.now();
      const result = await runReclusterLocally({
        template,
        handlers,
        input: { runId: 'profile-night', asOf: night.toISOString() },
        executionName: 'profile-night',
      });
      const total = performance.now() - t0;
      const run = await deps.runs.get('profile-night');
      const delta = (name: string) => (stack.metrics.counts[name] ?? 0) - (before[name] ?? 0);
      console.log(`\none nightly run (${result.status}) in ${total.toFixed(0)} ms, as of ${night.toISOString()}`);
      for (const [task, s] of Object.entries(spent)) {
        console.log(
          `  ${task.padEnd(12)} ${s.ms.toFixed(0).padStart(6)} ms  (${s.calls} call${s.calls === 1 ? '' : 's'})`,
        );
      }
      const summed = Object.values(spent).reduce((a, s) => a + s.ms, 0);
      console.log(
        summed <= total
          ? `  state machine overhead ${(total - summed).toFixed(0)} ms`
          : `  (task times are summed over shards, which run concurrently: ${summed.toFixed(0)} ms in all)`,
      );
      console.log(
        `customers scanned ${delta('ReclusterCustomersScanned')}, assigned ${delta('ReclusterCustomersAssigned')}, moved ${delta('ReclusterCustomersMoved')}, profiles written ${delta('ReclusterProfilesWritten')}`,
      );
      const c = run?.fit?.continuity;
      console.log(
        `fit: ${c ? `${c.chosen} (${c.reason}), fresh fit made: ${c.searched}` : 'n/a'}; drift: ${run?.fit?.drift?.detected ?? 'n/a'}`,
      );
    },
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
