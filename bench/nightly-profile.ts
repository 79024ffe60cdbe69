/**
 * Profiles one nightly run: simulates a store (`runLocal`, the `npm start` path), then runs one more night on the
 * embedded stack with every task handler timed (Map tasks summed over shards), and prints where the time goes, the
 * DynamoDB requests each task made (by operation) and the profiles it read and wrote. The reference, measured in the
 * same process, is the next night run with `recluster.fullNights` (every customer read and re-placed, as before the
 * nightly change index).
 *
 *   npx tsx bench/nightly-profile.ts [--customers 300] [--days 14] [--seed 7] [--quiet-nights 3]
 *   npx tsx bench/nightly-profile.ts --replay ../shared/data/online_retail.csv.gz --format online-retail \
 *     [--recluster-every 30]
 *
 * `--quiet-nights N`: N nights without events run first (the store ages; the change index settles), as in a store
 * where most customers did nothing since yesterday.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { synthTemplate } from '../infra/app';
import { LocalObjectStore } from '../local/object-store';
import { runLocal } from '../local/run';
import { buildReclusterHandlers, reclusterDepsForStack, runReclusterLocally } from '../local/stepfunctions';
import type { ReclusterTask } from '../shared/contracts/recluster';
import type { ReplayFormat } from '../local/replay';
import type { EmbeddedStack } from '../local/stack';

const { values } = parseArgs({
  options: {
    customers: { type: 'string', default: '300' },
    days: { type: 'string', default: '14' },
    seed: { type: 'string', default: '7' },
    'quiet-nights': { type: 'string', default: '3' },
    replay: { type: 'string' },
    format: { type: 'string' },
    'recluster-every': { type: 'string', default: '30' },
  },
});

const DAY_MS = 86_400_000;
type Spent = { ms: number; calls: number; requests: Record<string, number>; read: number; written: number };

/** Counts every DynamoDB request the stack's client sends, by operation. */
function countRequests(stack: EmbeddedStack): Record<string, number> {
  const counts: Record<string, number> = {};
  stack.dynamo.client.middlewareStack.add(
    (next, context) => async (args) => {
      const op = context.commandName?.replace(/Command$/, '') ?? 'unknown';
      counts[op] = (counts[op] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'benchRequestCounter' },
  );
  return counts;
}

async function night(
  stack: EmbeddedStack,
  objects: LocalObjectStore,
  requests: Record<string, number>,
  at: Date,
  runId: string,
  opts: { fullNights: boolean; print: boolean },
): Promise<void> {
  const template = synthTemplate('dev');
  const settings = { ...stack.settings, recluster: { ...stack.settings.recluster, fullNights: opts.fullNights } };
  const deps = reclusterDepsForStack(stack, { objects, clock: () => at, settings });
  const handlers = buildReclusterHandlers(deps);
  const spent: Partial<Record<ReclusterTask, Spent>> = {};
  const firstStart: Partial<
    Record<ReclusterTask, { requests: Record<string, number>; counts: Record<string, number> }>
  > = {};
  for (const task of Object.keys(handlers) as ReclusterTask[]) {
    const real = handlers[task];
    handlers[task] = async (input) => {
      // Tasks of different kinds never overlap (the Map states run one after another): a task's requests are the
      // counter's growth from its first call's start to its last call's end.
      firstStart[task] ??= { requests: { ...requests }, counts: { ...stack.metrics.counts } };
      const t0 = performance.now();
      try {
        return await real(input);
      } finally {
        const s = (spent[task] ??= { ms: 0, calls: 0, requests: {}, read: 0, written: 0 });
        s.ms += performance.now() - t0;
        s.calls += 1;
        const base = firstStart[task]!;
        for (const [op, n] of Object.entries(requests)) s.requests[op] = n - (base.requests[op] ?? 0);
        const d = (name: string) => (stack.metrics.counts[name] ?? 0) - (base.counts[name] ?? 0);
        s.read = d('ReclusterProfilesRead');
        s.written = d('ReclusterProfilesWritten') + d('ReclusterProfilesRefreshed');
      }
    };
  }
  const t0 = performance.now();
  const result = await runReclusterLocally({
    template,
    handlers,
    input: { runId, asOf: at.toISOString() },
    executionName: runId,
  });
  const total = performance.now() - t0;
  if (!opts.print) return;
  const run = await deps.runs.get(runId);
  const label = opts.fullNights
    ? 'reference: every customer read and re-placed (recluster.fullNights)'
    : 'with the nightly change index';
  console.log(`\none nightly run, ${label} (${result.status}) in ${total.toFixed(0)} ms, as of ${at.toISOString()}`);
  let allRequests = 0;
  for (const [task, s] of Object.entries(spent)) {
    const reqs = Object.entries(s.requests).filter(([, n]) => n > 0);
    const n = reqs.reduce((a, [, c]) => a + c, 0);
    allRequests += n;
    console.log(
      `  ${task.padEnd(12)} ${s.ms.toFixed(0).padStart(6)} ms (${s.calls} call${s.calls === 1 ? '' : 's'})  profiles read ${String(s.read).padStart(5)}, written ${String(s.written).padStart(5)}; DynamoDB requests ${String(n).padStart(5)}${n ? ` (${reqs.map(([op, c]) => `${op} ${c}`).join(', ')})` : ''}`,
    );
  }
  const w = run?.nightly;
  console.log(
    `  in all: ${allRequests} DynamoDB requests; profiles read ${(w?.scanRead ?? 0) + (w?.assignRead ?? 0)}, evaluated ${w?.evaluated ?? '-'}, written ${w?.written ?? '-'}; full: ${w?.fullReason ?? 'no'}`,
  );
  const placement = run?.fit ? (await stack.modelStore.getVersion(run.fit.modelVersion))?.placement : undefined;
  if (placement)
    console.log(
      `  model clock ${placement.clock.toFixed(4)}: largest centroid shift ${placement.centroidShift?.toFixed(4) ?? '-'}, largest P(alive) shift ${placement.pAliveShift?.toFixed(4) ?? '-'}`,
    );
  const c = run?.fit?.continuity;
  console.log(
    `  fit: ${c ? `${c.chosen} (${c.reason}), fresh fit made: ${c.searched}` : 'n/a'}; drift: ${run?.fit?.drift?.detected ?? 'n/a'}`,
  );
}

async function main(): Promise<void> {
  console.log(`cores: ${availableParallelism()}`);
  await runLocal({
    source: values.replay
      ? { kind: 'replay', path: values.replay, ...(values.format ? { format: values.format as ReplayFormat } : {}) }
      : { kind: 'simulate', customers: Number(values.customers), days: Number(values.days), seed: Number(values.seed) },
    ...(values.replay ? { reclusterEvery: Number(values['recluster-every']) } : {}),
    outDir: '/tmp/shoal-nightly-profile',
    beforeClose: async (stack, summary, asOf) => {
      console.log(`simulated store: ${summary.customers} customers, ${summary.events.ingested} events`);
      const requests = countRequests(stack);
      // The last simulated night's run left its population files in the run's objects: carry them on.
      const objects = new LocalObjectStore();
      let t = Math.floor(asOf.getTime() / DAY_MS) * DAY_MS;
      // A first night on a fresh object store has nothing to carry forward: it reads everyone (a full night).
      for (let i = 0; i <= Number(values['quiet-nights']); i++) {
        t += DAY_MS;
        await night(stack, objects, requests, new Date(t), `quiet-${i}`, { fullNights: false, print: false });
      }
      t += DAY_MS;
      await night(stack, objects, requests, new Date(t), 'profile-night', { fullNights: false, print: true });
      t += DAY_MS;
      await night(stack, objects, requests, new Date(t), 'profile-night-full', { fullNights: true, print: true });
    },
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
