/**
 * The nightly change index against the reference it replaces: the same simulated store run twice through `runLocal`
 * (what `npm start` runs), once re-placing every customer every night (`recluster.fullNights`) and once reading only
 * the customers the index says changed. The nights must make the same moves and leave everyone in the same segment
 * and stage, while reading fewer profiles. Kept nights (the active model kept as a new version with the same
 * centroids and value parameters) are among them: a kept night's moves equal a full evaluation with the active model.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localSettings, runLocal, type RunSummary } from '../../local/run';

jest.setTimeout(180_000);

const SIM = { kind: 'simulate', customers: 120, days: 14, seed: 3 } as const;

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shoal-nightly-index-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function run(fullNights: boolean): Promise<{ summary: RunSummary; placed: Map<string, string> }> {
  const base = localSettings();
  const outDir = join(dir, fullNights ? 'full' : 'index');
  const summary = await runLocal({
    source: SIM,
    outDir,
    minCustomersToCluster: 50,
    // A short placement gate: most nights have an active model, so most nights go through the index. A young simulated
    // store's centroids move too much a night to keep the model with the default keepMaxCentroidShift; allowing any
    // shift makes this store keep some nights, so the kept path is compared too.
    settings: {
      ...base,
      placement: { minTenureDays: 2, minEvents: 3 },
      recluster: { ...base.recluster, fullNights, keepMaxCentroidShift: 10 },
    },
  });
  const placed = new Map<string, string>();
  for (const line of readFileSync(join(outDir, 'profiles.ndjson'), 'utf8').trim().split('\n')) {
    const p = JSON.parse(line) as {
      customerId: string;
      segmentId: string | null;
      traits: { lifecycleStage: string } | null;
    };
    placed.set(p.customerId, `${p.segmentId} / ${p.traits?.lifecycleStage ?? '-'}`);
  }
  return { summary, placed };
}

test('nights with the change index make the same moves as full nights and read fewer profiles, kept nights included', async () => {
  const full = await run(true);
  const index = await run(false);

  expect(index.placed.size).toBe(full.placed.size);
  expect(index.placed.size).toBeGreaterThan(100);
  const differing = [...full.placed].filter(([id, v]) => index.placed.get(id) !== v);
  expect(differing).toEqual([]);
  expect(index.summary.changes).toEqual(full.summary.changes);
  expect(index.summary.consumer.nights.map((n) => n.moves)).toEqual(full.summary.consumer.nights.map((n) => n.moves));

  const f = full.summary.nightlyRuns.work;
  const i = index.summary.nightlyRuns.work;
  expect(f.fullNights).toBe(f.nights.length);
  expect(i.fullNights).toBeLessThan(i.nights.length);
  expect(i.meanRead).toBeLessThan(f.meanRead);
  // Full nights read everyone twice (ScanShard and AssignShard).
  expect(f.nights[f.nights.length - 1]!.read).toBe(2 * full.placed.size);
  // Some of those nights kept the active model (no drift, a refit not yet due): on them the index evaluated only the
  // customers due by time, and the full night, which re-placed everyone with the same kept model, agreed.
  const kept = (r: RunSummary) => r.consumer.keptRuns.map((k) => k.day);
  expect(kept(index.summary).length).toBeGreaterThan(0);
  expect(kept(index.summary)).toEqual(kept(full.summary));
  console.info(
    `kept nights: ${kept(index.summary).join(', ')}; profiles read per night: full ${f.meanRead.toFixed(1)}, index ${i.meanRead.toFixed(1)} (${i.fullNights} of ${i.nights.length} nights full: ${JSON.stringify(i.fullReasons)})`,
  );
});
