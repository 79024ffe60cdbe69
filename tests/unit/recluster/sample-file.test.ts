import { LocalObjectStore } from '../../../local/object-store';
import {
  putJson,
  readShardSample,
  SAMPLE_FORMAT,
  writeShardSample,
  type ShardSampleFile,
} from '../../../shared/recluster/artifacts';
import type { ScanRow } from '../../../shared/recluster/rows';

const row = (id: string, interest: number[] | null): ScanRow => ({
  customerId: id,
  placeable: true,
  behaviour: [0.1 + 1e-17, -2 / 3, Math.PI, 1e300, -0, 5e-324],
  interest,
  natural: { orders: 2 },
  topCategories: ['garden'],
  channelShares: { web: 1, app: 0, store: 0, marketplace: 0 },
  orders: 2,
  purchase: { x: 1, tx: 2 / 7, T: 3 / 7, meanRepeatSpend: 12.5 },
});
const file = (rows: ScanRow[]): ShardSampleFile => ({
  format: SAMPLE_FORMAT,
  runId: 'r1',
  shard: 0,
  totalShards: 1,
  asOf: '2026-06-01T00:00:00.000Z',
  population: rows.length,
  rows,
  firstPurchaseDay: 20_000,
});

describe('shard sample files', () => {
  test('vectors are written as exact float64s and read back bit for bit', async () => {
    const store = new LocalObjectStore();
    const rows = [
      row(
        'a',
        Array.from({ length: 64 }, (_, i) => Math.sin(i) / 7),
      ),
      row('b', null),
    ];
    await writeShardSample(store, 'k', file(rows));
    const text = new TextDecoder().decode((await store.get('k'))!);
    expect(text).not.toContain('3.141592653589793'); // not formatted as numbers
    const back = await readShardSample(store, 'k');
    expect(back.rows).toEqual(rows);
    expect(Object.is(back.rows[0]!.behaviour[4], -0)).toBe(true);
  });

  test('a sample written by the previous format (plain arrays) is still read, and a foreign file is refused', async () => {
    const store = new LocalObjectStore();
    const rows = [row('a', [0.5, 0.25])];
    await putJson(store, 'old', { ...file(rows), format: 'shoal-shard-sample/1' });
    expect((await readShardSample(store, 'old')).rows).toEqual(JSON.parse(JSON.stringify(rows)));
    await putJson(store, 'foreign', { ...file(rows), format: 'something-else/1' });
    await expect(readShardSample(store, 'foreign')).rejects.toThrow(/is not a shoal-shard-sample\/2 file/);
    await expect(readShardSample(store, 'missing')).rejects.toThrow(/is missing/);
  });
});
