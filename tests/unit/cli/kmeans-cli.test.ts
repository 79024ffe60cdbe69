import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../support/cli';
import { registerKmeansCommand } from '../../../cli/kmeans';

const run = (args: string[]) => runCli(registerKmeansCommand, args);

describe('shoal kmeans with fewer distinct rows than k (issue #9 D13)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'shoal-kmeans-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('12 rows, 5 distinct, --k 8: warns, and identical rows get identical labels', async () => {
    const rows = [0, 0, 0, 0, 0, 0, 5, 5, 5, 5, 10, 0, 10, 0, 10, 0, 0, 10, 0, 10, 3, 7, 3, 7];
    const input = path.join(dir, 'dup.f32');
    const labelsFile = path.join(dir, 'labels.i32');
    writeFileSync(input, Buffer.from(Float32Array.from(rows).buffer));
    const { out, err } = await run(['kmeans', '--input', input, '--d', '2', '--k', '8', '--labels', labelsFile]);
    expect(err).toBe('warning: only 5 distinct row(s) for --k 8: at most 5 clusters will be non-empty\n');
    expect(JSON.parse(out)).toMatchObject({ n: 12, d: 2, k: 8, inertia: 0 });
    const buf = readFileSync(labelsFile);
    const labels = Array.from(new Int32Array(buf.buffer, buf.byteOffset, 12));
    const groups = [
      [0, 1, 2],
      [3, 4],
      [5, 6, 7],
      [8, 9],
      [10, 11],
    ];
    for (const g of groups) expect(new Set(g.map((i) => labels[i])).size).toBe(1);
    expect(new Set(labels).size).toBe(5);
  });

  test('no warning when every row is distinct', async () => {
    const input = path.join(dir, 'distinct.f32');
    writeFileSync(input, Buffer.from(Float32Array.from([0, 1, 2, 3, 4, 5]).buffer));
    const { err } = await run(['kmeans', '--input', input, '--d', '1', '--k', '3']);
    expect(err).toBe('');
  });
});
