/**
 * `npm start`: the whole system on this machine. Simulates a store by default; `--replay FILE` feeds real history.
 */
import { Command, Option } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { resolve } from 'node:path';
import { fileFlag, intFlag, replayVerdict } from './flags';
import { runLocal, type Progress, type RunSummary } from './run';
import { segmentTableText, transitionLines } from './summary-table';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';

function terminalProgress(): Progress {
  let bar: SingleBar | null = null;
  let total = 0;
  let label = '';
  let lastLine = 0;
  const tty = Boolean(process.stdout.isTTY);
  return {
    start(phase, n) {
      label = phase;
      total = n;
      if (tty) {
        bar = new SingleBar(
          {
            format: `${phase.padEnd(16)} [{bar}] {value}/{total} | {events} events, {rate}/s | {runs} nightly runs, model v{model} | {duration}s`,
            hideCursor: true,
          },
          Presets.shades_classic,
        );
        bar.start(Math.max(n, 1), 0, { events: 0, rate: 0, runs: 0, model: '-' });
      } else {
        console.log(`${phase}: starting (${n || 'streaming'})`);
      }
    },
    update(done, info = {}) {
      if (bar) {
        if (total === 0) bar.setTotal(done);
        bar.update(done, info);
      } else if (Date.now() - lastLine > 2_000) {
        lastLine = Date.now();
        console.log(
          `${label}: ${done}${total ? `/${total}` : ''} ${Object.entries(info)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`,
        );
      }
    },
    stop() {
      bar?.stop();
      bar = null;
    },
    line: (text) => console.log(text),
  };
}

function printSummary(s: RunSummary): void {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  console.log(`\n${s.source}`);
  console.log(
    `events: ${s.events.delivered} delivered, ${s.events.ingested} ingested, ${s.events.duplicates} duplicates`,
  );
  const rejected = Object.entries(s.events.rejected);
  console.log(`rejected: ${rejected.length ? rejected.map(([r, n]) => `${r} ${n}`).join(', ') : 'none'}`);
  console.log(
    `customers: ${s.customers}; nightly runs: ${s.nightlyRuns.succeeded} published, ${s.nightlyRuns.failed} refused or failed; ${s.nightlyRuns.profilesWritten} of ${s.nightlyRuns.customersAssigned} nightly placements written`,
  );
  if (s.model) {
    const q = s.model.quality;
    console.log(
      `model v${s.model.version}: k=${s.model.k}, silhouette ${q.silhouette.toFixed(3)}, Davies–Bouldin ${q.daviesBouldin.toFixed(3)}, stability ${q.stability === null ? '-' : q.stability.toFixed(3)}`,
    );
    console.log(segmentTableText(s.segments));
  } else {
    console.log('no model published (too few customers or every run refused)');
  }
  console.log(
    `changes: ${s.changes.segment} segment (${
      Object.entries(s.changes.segmentByReason)
        .map(([r, n]) => `${r} ${n}`)
        .join(', ') || 'none'
    }), ${s.changes.lifecycle} lifecycle; flapping rate ${s.flappingRate.toFixed(4)} per active customer-day`,
  );
  if (s.transitions.length) {
    console.log('transitions in the last re-cluster:');
    for (const line of transitionLines(s.transitions)) console.log(line);
  }
  if (s.truth)
    console.log(
      `planted personas: ARI ${s.truth.ari.toFixed(3)}; ${pct(s.truth.switchedMovedShare)} of the ${s.truth.switchedCustomers} customers who switched persona moved segment`,
    );
  for (const r of s.nightlyRuns.reasons.slice(0, 3)) console.log(`  refused: ${r}`);
  console.log(
    `${s.timings.seconds.toFixed(1)} s (${s.timings.reclusterSeconds.toFixed(1)} s in nightly runs), ${Math.round(s.timings.eventsPerSecond)} events/s`,
  );
  console.log(`wrote ${s.files.join(', ')}`);
}

const program = new Command('npm start')
  .description('Run Shoal locally on embedded AWS stand-ins')
  .option('--customers <n>', 'simulated customers (1 to 1,000,000)', intFlag(1, 1_000_000), 300)
  .option('--days <n>', 'simulated days (1 to 3,650)', intFlag(1, 3_650), 14)
  .option('--seed <n>', 'simulation seed', intFlag(0), 7)
  .option('--out <dir>', 'output folder', 'out')
  .option('--record <file>', 'write the delivered inbound stream as NDJSON (replayable)')
  .option('--replay <file>', 'feed history from a file instead of simulating', fileFlag)
  .addOption(new Option('--format <format>', 'replay format').choices(['ndjson', 'online-retail']))
  .option('--recluster-every <nights>', 're-cluster every N nights (1 to 365)', intFlag(1, 365), 1)
  .action(
    async (o: {
      customers: number;
      days: number;
      seed: number;
      out: string;
      record?: string;
      replay?: string;
      format?: 'ndjson' | 'online-retail';
      reclusterEvery: number;
    }) => {
      const summary = await runLocal({
        source: o.replay
          ? { kind: 'replay', path: resolve(o.replay), format: o.format }
          : { kind: 'simulate', customers: o.customers, days: o.days, seed: o.seed },
        outDir: resolve(o.out),
        record: o.record ? resolve(o.record) : undefined,
        reclusterEvery: o.reclusterEvery,
        progress: terminalProgress(),
      });
      printSummary(summary);
      if (o.replay) {
        const rejected = Object.values(summary.events.rejected).reduce((a, b) => a + b, 0);
        const verdict = replayVerdict(summary.events.delivered + (summary.events.unreadable ?? 0), rejected);
        if (verdict.level === 'fail') {
          console.error(verdict.message);
          process.exitCode = 2;
        } else if (verdict.level === 'warn') console.error(verdict.message);
      }
    },
  );

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
