import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import {
  createNdjsonRecorder,
  simulateStore,
  toNdjsonLine,
  writeNdjson,
  type Delivery,
} from '../../../local/simulator';
import { detectFormat, readNdjson, readReplay, type ReplayItem } from '../../../local/replay';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'shoal-replay-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(items: AsyncIterable<ReplayItem>): Promise<ReplayItem[]> {
  const out: ReplayItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function simulated(): Delivery[] {
  const days = [...simulateStore({ customers: 120, days: 4, seed: 21 }).days()];
  return days.flatMap((d) => d.deliveries);
}

const strip = (d: Delivery) => ({ detailType: d.detailType, detail: d.detail });
const events = (items: ReplayItem[]): Delivery[] => items.flatMap((i) => (i.kind === 'event' ? [i.delivery] : []));

describe('NDJSON recording and replay', () => {
  const deliveries = simulated();

  test('writeNdjson writes one {"detail-type","detail"} object per line in arrival order', async () => {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    const n = await writeNdjson(deliveries.slice(0, 3), stream);
    stream.end();
    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    expect(n).toBe(3);
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe('');
    const first = deliveries[0] as Delivery;
    expect(lines[0]).toBe(JSON.stringify({ 'detail-type': first.detailType, detail: first.detail }));
    expect(toNdjsonLine(first, { arrivalTime: true })).toBe(
      JSON.stringify({ 'detail-type': first.detailType, detail: first.detail, time: first.arrivalAt.toISOString() }),
    );
  });

  test('round trip: simulate → record → read back the same deliveries (plain and gzip)', async () => {
    expect(deliveries.length).toBeGreaterThan(500);
    for (const name of ['run.ndjson', 'run.ndjson.gz']) {
      const file = path.join(dir, name);
      const recorder = createNdjsonRecorder(file);
      // Recorded day by day, as `npm start -- --record` would.
      await recorder.write(deliveries.slice(0, 100));
      await recorder.write(deliveries.slice(100));
      await recorder.close();
      expect(recorder.lines).toBe(deliveries.length);
      if (name.endsWith('.gz'))
        expect(
          gunzipSync(await readFile(file))
            .toString('utf8')
            .split('\n'),
        ).toHaveLength(deliveries.length + 1);

      const items = await collect(readNdjson(file));
      expect(items.every((i) => i.kind === 'event')).toBe(true);
      const back = events(items);
      expect(back.map(strip)).toEqual(deliveries.map(strip));
      // Without recorded arrival times an event arrives at its occurredAt.
      let previous = new Date(0);
      const expected = deliveries.map((d) => {
        const occurred = Date.parse(String((d.detail as Record<string, unknown>).occurredAt));
        previous = Number.isFinite(occurred) ? new Date(occurred) : previous;
        return previous.getTime();
      });
      expect(back.map((d) => d.arrivalAt.getTime())).toEqual(expected);
    }
  });

  test('with arrivalTime: true the replay reproduces arrival times exactly', async () => {
    const file = path.join(dir, 'timed.jsonl');
    const recorder = createNdjsonRecorder(file, { arrivalTime: true });
    await recorder.write(deliveries);
    await recorder.close();
    const back = events(await collect(readReplay(file)));
    expect(back.map((d) => ({ ...strip(d), arrivalAt: d.arrivalAt }))).toEqual(
      deliveries.map((d) => ({ ...strip(d), arrivalAt: d.arrivalAt })),
    );
  });

  test('bad lines are rejected with their reason and line; blank lines skipped; arrival falls back', async () => {
    const file = path.join(dir, 'bad.ndjson');
    const good = (occurredAt: unknown) =>
      JSON.stringify({ 'detail-type': 'product.viewed', detail: { eventId: 'e', occurredAt } });
    await writeFile(
      file,
      [
        good('not a date'), // 1: first event without a time → epoch
        good('2026-01-05T10:00:00Z'), // 2
        '', // 3: blank
        '{"detail-type": "order.placed", "detail": ', // 4: invalid json
        '[1,2,3]', // 5: not an event
        '{"detail": {}}', // 6: no detail-type
        '{"detail-type": "x"}', // 7: no detail
        '   ', // 8: blank
        good(12), // 9: unparseable → previous time
        '{"detail-type": 5, "detail": {}}', // 10: detail-type not a string
        '"just a string"', // 11
        '{"detail-type":"search.performed","detail":{"occurredAt":"2026-01-06T00:00:00Z"}}\r', // 12: CRLF tolerated
      ].join('\n'),
    );
    const items = await collect(readNdjson(file));
    const rejected = items.flatMap((i) => (i.kind === 'rejected' ? [[i.reason, i.line]] : []));
    expect(rejected).toEqual([
      ['invalid_json', 4],
      ['not_an_event', 5],
      ['not_an_event', 6],
      ['not_an_event', 7],
      ['not_an_event', 10],
      ['not_an_event', 11],
    ]);
    const times = events(items).map((d) => d.arrivalAt.toISOString());
    expect(times).toEqual([
      new Date(0).toISOString(),
      '2026-01-05T10:00:00.000Z',
      '2026-01-05T10:00:00.000Z',
      '2026-01-06T00:00:00.000Z',
    ]);
  });

  test('a missing file rejects the stream', async () => {
    await expect(collect(readNdjson(path.join(dir, 'nope.ndjson')))).rejects.toThrow(/ENOENT/);
    await expect(collect(readNdjson(path.join(dir, 'nope.ndjson.gz')))).rejects.toThrow(/ENOENT/);
  });

  test('detectFormat', () => {
    expect(detectFormat('a/b.ndjson')).toBe('ndjson');
    expect(detectFormat('b.NDJSON.gz')).toBe('ndjson');
    expect(detectFormat('b.jsonl')).toBe('ndjson');
    expect(detectFormat('b.csv')).toBe('online-retail');
    expect(detectFormat('online_retail.csv.gz')).toBe('online-retail');
    expect(detectFormat('whatever.txt', 'online-retail')).toBe('online-retail');
    expect(detectFormat('b.csv', 'ndjson')).toBe('ndjson');
    expect(() => detectFormat('b.txt')).toThrow(/format/);
  });
});
