import fc from 'fast-check';
import { mergeReservoirs, Reservoir, sampleIndices, type ShardSample } from '../../../shared/segmentation/sample';
import { createRng } from '../../../shared/util/rng';

function fill(capacity: number, n: number, seed: number, offset = 0): Reservoir<number> {
  const r = new Reservoir<number>(capacity, createRng(seed));
  for (let i = 0; i < n; i++) r.add(offset + i);
  return r;
}

describe('Reservoir', () => {
  const cases = [
    { name: 'fewer items than capacity: keeps them all', capacity: 10, n: 4, expectedSize: 4 },
    { name: 'exactly capacity', capacity: 5, n: 5, expectedSize: 5 },
    { name: 'more items than capacity: holds capacity', capacity: 5, n: 1_000, expectedSize: 5 },
    { name: 'capacity 0 only counts', capacity: 0, n: 50, expectedSize: 0 },
  ];
  test.each(cases)('$name', ({ capacity, n, expectedSize }) => {
    const r = fill(capacity, n, 3);
    expect(r.items).toHaveLength(expectedSize);
    expect(r.seen).toBe(n);
    expect(new Set(r.items).size).toBe(expectedSize);
    expect(r.toShardSample()).toEqual({ items: [...r.items], population: n });
  });

  test('is deterministic for a seed', () => {
    expect(fill(7, 500, 11).items).toEqual(fill(7, 500, 11).items);
    expect(fill(7, 500, 11).items).not.toEqual(fill(7, 500, 12).items);
  });

  test('every item is kept with probability capacity / n', () => {
    const n = 40;
    const capacity = 8;
    const trials = 4_000;
    const hits = new Array<number>(n).fill(0);
    for (let t = 0; t < trials; t++) for (const x of fill(capacity, n, 1_000 + t).items) hits[x]! += 1;
    const expected = (trials * capacity) / n; // 800
    // Binomial sd ≈ 25; allow 5 sd per item.
    expect(Math.max(...hits.map((h) => Math.abs(h - expected)))).toBeLessThan(125);
    // Early and late items are treated alike (Algorithm L skips must not bias towards either end).
    const firstHalf = hits.slice(0, n / 2).reduce((a, b) => a + b, 0);
    const secondHalf = hits.slice(n / 2).reduce((a, b) => a + b, 0);
    expect(Math.abs(firstHalf - secondHalf) / (firstHalf + secondHalf)).toBeLessThan(0.03);
  });

  test('rejects a negative capacity', () => {
    expect(() => new Reservoir<number>(-1, createRng(1))).toThrow(RangeError);
  });
});

describe('mergeReservoirs', () => {
  test('draws from each shard in proportion to its population, uniformly over all items', () => {
    const m = 40;
    const trials = 1_000;
    const populations = [100, 300];
    let fromFirst = 0;
    const hits = new Array<number>(400).fill(0);
    for (let t = 0; t < trials; t++) {
      const shards = [fill(m, 100, 10 * t + 1, 0).toShardSample(), fill(m, 300, 10 * t + 2, 100).toShardSample()];
      const merged = mergeReservoirs(shards, m, createRng(t + 7));
      if (merged.length !== m) throw new Error(`trial ${t}: ${merged.length} items`);
      for (const x of merged) {
        hits[x]! += 1;
        if (x < 100) fromFirst += 1;
      }
    }
    // Expected share of the first shard: 100 / 400.
    expect(Math.abs(fromFirst / (trials * m) - populations[0]! / 400)).toBeLessThan(0.01);
    // Each item: p = 40/400 = 0.1 per trial → mean 100 hits, sd ≈ 9.5; allow 5 sd.
    expect(Math.max(...hits.map((h) => Math.abs(h - 100)))).toBeLessThan(48);
  });

  const cases: { name: string; shards: ShardSample<string>[]; m: number; expectedSize: number }[] = [
    { name: 'no shards', shards: [], m: 10, expectedSize: 0 },
    {
      name: 'm larger than everything: returns all',
      shards: [
        { items: ['a', 'b'], population: 2 },
        { items: ['c'], population: 1 },
      ],
      m: 10,
      expectedSize: 3,
    },
    {
      name: 'empty shard is skipped',
      shards: [
        { items: [], population: 0 },
        { items: ['c', 'd', 'e'], population: 3 },
      ],
      m: 2,
      expectedSize: 2,
    },
    { name: 'm = 0', shards: [{ items: ['a'], population: 1 }], m: 0, expectedSize: 0 },
    {
      name: 'an undersized reservoir is exhausted and the rest comes from the others',
      shards: [
        { items: ['a'], population: 1_000 },
        { items: ['b', 'c', 'd', 'e'], population: 4 },
      ],
      m: 4,
      expectedSize: 4,
    },
  ];
  test.each(cases)('$name', ({ shards, m, expectedSize }) => {
    const merged = mergeReservoirs(shards, m, createRng(5));
    expect(merged).toHaveLength(expectedSize);
    expect(new Set(merged).size).toBe(merged.length);
  });

  test('property: a merge is a subset of distinct shard items of size min(m, available)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ population: fc.integer({ min: 0, max: 60 }), capacity: fc.integer({ min: 0, max: 20 }) }),
          { maxLength: 6 },
        ),
        fc.integer({ min: 0, max: 50 }),
        fc.integer(),
        (specs, m, seed) => {
          let offset = 0;
          const shards = specs.map((s, i) => {
            const r = fill(s.capacity, s.population, seed + i, offset);
            offset += s.population;
            return r.toShardSample();
          });
          const all = new Set(shards.flatMap((s) => s.items));
          const merged = mergeReservoirs(shards, m, createRng(seed));
          expect(merged).toHaveLength(Math.min(m, all.size));
          expect(new Set(merged).size).toBe(merged.length);
          expect(merged.every((x) => all.has(x))).toBe(true);
        },
      ),
    );
  });
});

describe('sampleIndices', () => {
  test('property: distinct indices in range', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 0, max: 250 }),
        fc.integer(),
        (n, count, seed) => {
          const idx = sampleIndices(n, count, createRng(seed));
          expect(idx).toHaveLength(Math.min(n, count));
          expect(new Set(idx).size).toBe(idx.length);
          expect(idx.every((i) => i >= 0 && i < n)).toBe(true);
        },
      ),
    );
  });
});
