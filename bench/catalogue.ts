/**
 * Segment catalogue benchmark on the default simulation (300 customers, 14 days, seed 7; override with
 * BENCH_CUSTOMERS / BENCH_DAYS / BENCH_SEED): fit with the pure nightly steps, then build the catalogue and narrate it
 * with the rules, and with the real SageMaker adapter against the local LLM stand-in for each contract.
 * Prints the timings, the entry sizes (bytes of JSON, as they travel in the model item and the published event) and
 * how many names disagree with their card's numbers (must be 0).
 *
 *   npx tsx bench/catalogue.ts
 */
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { stageConfig } from '../infra/config/stages';
import { startLocalLlmServer } from '../local/llm-server';
import { fitSimulatedStore } from '../local/simulated-fit';
import { buildCatalogueStats } from '../shared/catalogue/build';
import { narrateCatalogue } from '../shared/catalogue/narrate';
import { namingView } from '../shared/catalogue/rules';
import { narrationSettingsSchema, settingsSchema } from '../shared/config/settings';
import { noLogs, TallyMetrics } from '../shared/ports/telemetry';
import { narratorFor } from '../shared/recluster/wiring';
import { nameDisagreements, namingPopulation } from '../shared/segmentation/naming';

async function main(): Promise<void> {
  const customers = Number(process.env.BENCH_CUSTOMERS ?? 300);
  const days = Number(process.env.BENCH_DAYS ?? 14);
  const seed = Number(process.env.BENCH_SEED ?? 7);
  const dev = stageConfig('dev').settings;
  const settings = settingsSchema.parse({
    ...dev,
    recluster: { ...dev.recluster, shardCount: 2, nInit: 2, silhouetteSubsample: 1_500 },
  });

  let t = performance.now();
  const { sample, fit } = fitSimulatedStore({ customers, days, seed }, settings);
  const fitMs = performance.now() - t;
  const population = namingPopulation(sample);

  t = performance.now();
  const stats = buildCatalogueStats(sample, fit.labels, fit.model.segmentIds, {});
  const statsMs = performance.now() - t;

  const narrate = async (narrator: Parameters<typeof narrateCatalogue>[0]['narrator']) => {
    const metrics = new TallyMetrics();
    const started = performance.now();
    const out = await narrateCatalogue({ stats, population, previous: null, narrator, metrics, log: noLogs });
    return { ...out, ms: performance.now() - started, metrics: metrics.counts };
  };
  const rules = await narrate(null);

  const server = await startLocalLlmServer();
  const client = new SageMakerRuntimeClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const llm: Record<string, Awaited<ReturnType<typeof narrate>>> = {};
  for (const contract of ['tgi', 'chat'] as const) {
    llm[contract] = await narrate(
      narratorFor(narrationSettingsSchema.parse({ endpointName: 'bench-narrator', contract }), client),
    );
  }
  client.destroy();
  await server.close();

  const sizes = rules.entries.map((e) => Buffer.byteLength(JSON.stringify(e)));
  const disagreements = rules.entries.filter(
    (e) => nameDisagreements(e.name, namingView(e.segmentId, e.profile), population).length > 0,
  ).length;
  const row = (label: string, r: Awaited<ReturnType<typeof narrate>>) =>
    `${label.padEnd(28)} ${r.ms.toFixed(1).padStart(8)} ms  ${(r.ms / stats.length).toFixed(2).padStart(7)} ms/segment  ${JSON.stringify(r.metrics)}`;
  console.log(
    `simulation: ${customers} customers, ${days} days, seed ${seed}; sample ${sample.length}, k = ${fit.model.k}`,
  );
  console.log(`fit (pure nightly steps)     ${fitMs.toFixed(0).padStart(8)} ms`);
  console.log(`catalogue statistics         ${statsMs.toFixed(1).padStart(8)} ms`);
  console.log(row('narration: rules', rules));
  console.log(row('narration: LLM stand-in tgi', llm['tgi']!));
  console.log(row('narration: LLM stand-in chat', llm['chat']!));
  console.log(
    `entry size: mean ${Math.round(sizes.reduce((s, x) => s + x, 0) / sizes.length)} B, max ${Math.max(...sizes)} B; catalogue ${sizes.reduce((s, x) => s + x, 0)} B`,
  );
  console.log(`names disagreeing with their card: ${disagreements} of ${rules.entries.length}`);
  for (const e of rules.entries) console.log(`  ${e.segmentId}  ${e.name}`);
}

void main();
