/** A 32-bit seed from any parts (FNV-1a over their text): the same run and shard always draw the same sample. */
export function seedFor(...parts: (string | number)[]): number {
  let h = 0x811c9dc5;
  const text = parts.join('\u0000');
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Reservoir capacity of one shard. `mergeReservoirs` is exact when every shard holds min(m, population) of its
 * customers; with table segments of near-equal size a shard's share of the m draws is about m/S ± √(m/S), so
 * 1.25·m/S + 64 covers it with a wide margin while keeping 256 shards × a 200k sample at ~1k rows each instead of
 * 200k. A shard that is drawn more often than it holds gives its remaining draws to the others.
 */
export function shardReservoirCapacity(sampleSize: number, totalShards: number): number {
  if (totalShards <= 1) return sampleSize;
  return Math.min(sampleSize, Math.ceil((1.25 * sampleSize) / totalShards) + 64);
}
