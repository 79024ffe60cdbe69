/**
 * `npm start`: the whole system on this machine. Simulates a store by default; `--replay FILE` feeds real history.
 */
import { Command, Option } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { resolve } from 'node:path';
import { settingsSchema } from '../shared/config/settings';
import { localSettings, runLocal, type Progress, type RunSummary } from './run';
import { fileFlag, intFlag, replayVerdict, timeZoneFlag } from './flags';
import { DynamoSegmentMembers } from '../shared/adapters/dynamo/segment-members';
import { documentClient } from '../shared/adapters/dynamo';
import { noLogs, noMetrics } from '../shared/ports/telemetry';
import { startLocalQueryServer } from './query-server';
import type { EmbeddedStack } from './stack';
import { segmentTableText, transitionLines } from './summary-table';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
// cdk-nag reads a deprecated property while the local run synthesizes the app; the warning says nothing to a user.
process.env.JSII_DEPRECATED ??= 'quiet';

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
    `events: ${s.events.delivered} delivered, ${s.events.ingested} ingested, ${s.events.duplicates} duplicates` +
      (s.events.erasedDropped ? `, ${s.events.erasedDropped} dropped (dated before an erasure)` : '') +
      (s.events.unpricedMoney ? `, ${s.events.unpricedMoney} in a currency without a rate` : ''),
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
    }), ${s.changes.lifecycle} lifecycle; ${s.consumer.movesPerCustomerNight.toFixed(4)} moves per customer-night (all reasons)`,
  );
  if (s.transitions.length) {
    console.log('transitions in the last re-cluster:');
    for (const line of transitionLines(s.transitions)) console.log(line);
  }
  if (s.truth)
    console.log(
      `planted personas, every customer: ARI ${s.truth.ari.toFixed(3)}; ${pct(s.truth.switchedMovedShare)} of the ${s.truth.switchedCustomers} customers who switched persona moved segment by the end of the run`,
    );
  const w = s.nightlyRuns.work;
  const reasons = Object.entries(w.fullReasons)
    .map(([r, n]) => `${r} ×${n}`)
    .join(', ');
  console.log(
    `nightly work per night: ${w.meanRead.toFixed(0)} profiles read (${w.readPerCustomerNight.toFixed(2)} per customer; a full night reads each twice), ${w.meanEvaluated.toFixed(0)} evaluated, ${w.meanWritten.toFixed(0)} written; ${w.fullNights} of ${w.nights.length} nights re-placed everyone${reasons ? ` (${reasons})` : ''}`,
  );
  for (const line of s.consumerLines) console.log(line);
  // Refused nights with the gate's reason (a new store's first week: nobody is past the placement gate yet).
  const refused = s.consumer.refusedRuns ?? [];
  if (refused.length) {
    const first = refused[0]!;
    console.log(
      `refused nights: ${refused.length}, from ${first.day ?? first.runId}: ${first.reasons.join('; ')}${refused.length > 1 ? ' …' : ''}`,
    );
  } else for (const r of s.nightlyRuns.reasons.slice(0, 3)) console.log(`  failed: ${r}`);
  console.log(
    `${s.timings.seconds.toFixed(1)} s (${s.timings.reclusterSeconds.toFixed(1)} s in nightly runs), ${Math.round(s.timings.eventsPerSecond)} events/s`,
  );
  console.log(`wrote ${s.files.join(', ')}`);
}

/** Serves the query API over the embedded stack until SIGINT or SIGTERM; prints the URL and a sample curl. */
async function serveUntilInterrupted(stack: EmbeddedStack, asOf: Date, port: number): Promise<void> {
  const server = await startLocalQueryServer(
    {
      profiles: stack.table.profiles,
      models: stack.table.models,
      members: new DynamoSegmentMembers(documentClient(stack.dynamo.client), stack.dynamo.tableName),
      settings: stack.settings,
      // Features as of the end of the run (the simulated or replayed clock), like out/profiles.ndjson.
      clock: () => asOf,
      metrics: noMetrics,
      log: noLogs,
    },
    port,
  );
  const model = await stack.table.models.getActive();
  const segment = model?.segmentIds[0] ?? 'seg-001';
  let customer: string | null = null;
  for await (const id of stack.table.profiles.audience(segment)) {
    customer = id;
    break;
  }
  // Without a model nobody is in a segment yet: any customer will do.
  for await (const p of customer === null ? stack.table.profiles.scanShard(0, 1) : []) {
    customer = p.customerId;
    break;
  }
  customer ??= 'CUSTOMER_ID';
  console.log(`\nquery API: ${server.url} (Ctrl-C to stop)`);
  console.log(`  curl -s ${server.url}/customers/${encodeURIComponent(customer)}`);
  console.log(`  curl -s '${server.url}/segments/${segment}/members?limit=5&format=csv'`);
  console.log(`  npx shoal customer --id ${customer} --endpoint ${server.url}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
}

const program = new Command('npm start')
  .description('Run Shoal locally on embedded AWS stand-ins')
  .option('--customers <n>', 'simulated customers (1 to 1,000,000)', intFlag(1, 1_000_000), 300)
  .option('--days <n>', 'simulated days (1 to 3,650)', intFlag(1, 3_650), 21)
  .option('--seed <n>', 'simulation seed', intFlag(0), 7)
  .option('--out <dir>', 'output folder', 'out')
  .option('--record <file>', 'write the delivered inbound stream as NDJSON (replayable)')
  .option('--replay <file>', 'feed history from a file instead of simulating', fileFlag)
  .addOption(new Option('--format <format>', 'replay format').choices(['ndjson', 'online-retail']))
  .option('--serve', 'after the run, keep the embedded stack up and serve the query API on 127.0.0.1')
  .option('--port <n>', 'port of the query API with --serve (0: any free port)', intFlag(0, 65_535), 0)
  .option('--recluster-every <nights>', 're-cluster every N nights (1 to 365)', intFlag(1, 365), 1)
  .option(
    '--half-life-days <days>',
    "half-life of recent behaviour and of the interest vector (1 to 365; default: the dev stage's, 3)",
    intFlag(1, 365),
  )
  .option(
    '--min-events <n>',
    "events before a customer's first segment, the placement gate (0 to 1,000; default: the dev stage's, 8)",
    intFlag(0, 1_000),
  )
  .option(
    '--refit-every <nights>',
    "refit the model at least every N nights; a quiet night in between keeps it (1 to 365; 1 refits every night; default: the dev stage's, 7)",
    intFlag(1, 365),
  )
  .option(
    '--time-zone <zone>',
    "IANA time zone whose calendar days are purchase days (default: the dev stage's)",
    timeZoneFlag,
    localSettings().features.timeZone,
  )
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
      timeZone: string;
      halfLifeDays?: number;
      minEvents?: number;
      refitEvery?: number;
      serve?: boolean;
      port: number;
    }) => {
      const defaults = localSettings();
      // A store whose customers come back monthly wants longer half-lives and a lower gate than the simulator's
      // daily shoppers (README: "Replaying real history").
      const halfLives =
        o.halfLifeDays === undefined
          ? {}
          : { activityHalfLifeDays: o.halfLifeDays, interestHalfLifeDays: o.halfLifeDays };
      const settings = settingsSchema.parse({
        ...defaults,
        features: { ...defaults.features, timeZone: o.timeZone, ...halfLives },
        placement: { ...defaults.placement, ...(o.minEvents === undefined ? {} : { minEvents: o.minEvents }) },
        recluster: {
          ...defaults.recluster,
          ...(o.refitEvery === undefined ? {} : { refitEveryNights: o.refitEvery }),
        },
      });
      const summary = await runLocal({
        source: o.replay
          ? { kind: 'replay', path: resolve(o.replay), format: o.format }
          : { kind: 'simulate', customers: o.customers, days: o.days, seed: o.seed },
        outDir: resolve(o.out),
        record: o.record ? resolve(o.record) : undefined,
        reclusterEvery: o.reclusterEvery,
        settings,
        progress: terminalProgress(),
        beforeClose: o.serve
          ? async (stack, summary, asOf) => {
              printSummary(summary);
              await serveUntilInterrupted(stack, asOf, o.port);
            }
          : undefined,
      });
      if (!o.serve) printSummary(summary);
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
