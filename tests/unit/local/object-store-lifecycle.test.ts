import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalObjectStore } from '../../../local/object-store';
import { RUN_OBJECT_RETENTION } from '../../../shared/contracts/recluster';
import { runObjectKeys } from '../../../shared/recluster/artifacts';
import { populationKey } from '../../../shared/recluster/population';

const T0 = Date.parse('2026-11-10T03:00:00Z');
const HOUR = 3_600_000;
const rules = [
  RUN_OBJECT_RETENTION.artifacts,
  { prefix: RUN_OBJECT_RETENTION.reports.prefix, days: 30 }, // dev's reportRetentionDays
];

describe.each([
  { name: 'in memory', dir: undefined },
  { name: 'on disk', dir: () => mkdtempSync(join(tmpdir(), 'shoal-lifecycle-')) },
])('local bucket lifecycle ($name), as the recluster bucket rules', ({ dir }) => {
  const cases = [
    { name: '23 h after the run: everything still there', after: 23 * HOUR, left: ['population', 'report', 'sample'] },
    {
      name: '24 h after the run: shard samples and population files expired, report kept',
      after: 24 * HOUR,
      left: ['report'],
    },
    { name: '30 days after the run: the report expired too', after: 30 * 24 * HOUR, left: [] },
  ];
  it.each(cases)('$name', async ({ after, left }) => {
    let now = T0;
    const store = new LocalObjectStore({ ...(dir ? { dir: dir() } : {}), clock: () => now });
    const keys = {
      sample: runObjectKeys.sample('r1', 0),
      population: populationKey('r1', 0),
      report: runObjectKeys.reportJson('r1'),
    };
    for (const key of Object.values(keys)) await store.put(key, '{"customerId":"c-1"}');

    now = T0 + after;
    await store.expire(rules, now);

    const remaining = await store.list();
    expect(
      Object.entries(keys)
        .filter(([, k]) => remaining.includes(k))
        .map(([name]) => name)
        .sort(),
    ).toEqual(left);
  });
});
