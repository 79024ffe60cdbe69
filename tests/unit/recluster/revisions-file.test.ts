/**
 * AssignShard's agreement check reads each customer's revision and state hash from a shard's revisions file, written
 * beside the population file, instead of parsing every customer's features a second time.
 */
import { LocalObjectStore } from '../../../local/object-store';
import { putJson } from '../../../shared/recluster/artifacts';
import {
  POPULATION_FORMAT,
  populationKey,
  readRevisions,
  revisionsKey,
  writePopulation,
  type PopulationEntry,
  type PopulationFile,
} from '../../../shared/recluster/population';

const entry = (id: string, rev: number, stateHash: string): PopulationEntry => ({
  id,
  rev,
  updatedAt: '2026-06-01T00:00:00.000Z',
  stage: 'active',
  stateHash,
  at: '2026-06-01T00:00:00.000Z',
  features: {} as PopulationEntry['features'],
  purchaseDays: { compacted: null, live: [] },
});
const file: PopulationFile = {
  format: POPULATION_FORMAT,
  runId: 'r1',
  shard: 3,
  totalShards: 4,
  asOf: '2026-06-01T00:00:00.000Z',
  mode: 'index',
  reason: null,
  read: 1,
  customers: [entry('c-1', 4, 'h1'), entry('c-2', 9, 'h2')],
};

describe('a shard population revisions file', () => {
  test('writePopulation writes it beside the population; readRevisions gives each id its revision and hash', async () => {
    const store = new LocalObjectStore();
    await writePopulation(store, file);
    expect(await store.list()).toEqual(expect.arrayContaining([populationKey('r1', 3), revisionsKey('r1', 3)]));
    const r = (await readRevisions(store, 'r1', 3))!;
    expect(r.mode).toBe('index');
    expect(r.reason).toBeNull();
    expect([...r.byId]).toEqual([
      ['c-1', { rev: 4, stateHash: 'h1' }],
      ['c-2', { rev: 9, stateHash: 'h2' }],
    ]);
  });

  test('a run scanned before revisions files existed is read from its population file', async () => {
    const store = new LocalObjectStore();
    await putJson(store, populationKey('r1', 3), { ...file, mode: 'full', reason: 'no base population' });
    const r = (await readRevisions(store, 'r1', 3))!;
    expect(r.mode).toBe('full');
    expect(r.reason).toBe('no base population');
    expect(r.byId.get('c-2')).toEqual({ rev: 9, stateHash: 'h2' });
  });

  test('a malformed revisions file is not trusted: the population file answers', async () => {
    const store = new LocalObjectStore();
    await writePopulation(store, file);
    await putJson(store, revisionsKey('r1', 3), { format: 'shoal-population-revisions/1', ids: ['c-1'], revs: [] });
    expect((await readRevisions(store, 'r1', 3))!.byId.size).toBe(2);
  });

  test('neither file: null (AssignShard then re-places the whole shard)', async () => {
    expect(await readRevisions(new LocalObjectStore(), 'r1', 3)).toBeNull();
  });
});
