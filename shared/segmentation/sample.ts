import type { Rng } from '../util/rng';

/**
 * Uniform reservoir sampling (Vitter's Algorithm R with Li's Algorithm L skips): after `add` has been
 * called N times, `items` is a uniform sample without replacement of min(N, capacity) of the N items.
 * Algorithm L draws O(capacity · log(N / capacity)) random numbers instead of one per item.
 */
export class Reservoir<T> {
  private readonly buffer: T[] = [];
  private count = 0;
  /** Algorithm L state: the running maximum of the capacity uniform keys, and the index of the next item to take. */
  private w = 1;
  private nextIndex = 0;

  constructor(
    readonly capacity: number,
    private readonly rng: Rng,
  ) {
    if (!Number.isInteger(capacity) || capacity < 0)
      throw new RangeError(`reservoir capacity must be a non-negative integer, got ${capacity}`);
  }

  /** How many items were offered so far (the shard's population count). */
  get seen(): number {
    return this.count;
  }

  /** The current sample, in slot order (not arrival order). */
  get items(): readonly T[] {
    return this.buffer;
  }

  add(item: T): void {
    const index = this.count;
    this.count += 1;
    if (this.capacity === 0) return;
    if (index < this.capacity) {
      this.buffer.push(item);
      if (index === this.capacity - 1) {
        this.w = Math.exp(Math.log(this.uniform()) / this.capacity);
        this.skip(index);
      }
      return;
    }
    if (index !== this.nextIndex) return;
    this.buffer[this.rng.int(this.capacity)] = item;
    this.w *= Math.exp(Math.log(this.uniform()) / this.capacity);
    this.skip(index);
  }

  /** Plain data for the Step Functions map output: the sample and the population it was drawn from. */
  toShardSample(): ShardSample<T> {
    return { items: [...this.buffer], population: this.count };
  }

  /** Uniform in (0, 1]: never 0, so log() stays finite. */
  private uniform(): number {
    return 1 - this.rng.next();
  }

  private skip(from: number): void {
    // Geometric gap: floor(log(u) / log(1 - w)). w can round to 1 for huge capacities, where every item is taken.
    const denom = Math.log1p(-this.w);
    const gap = Number.isFinite(denom) && denom < 0 ? Math.floor(Math.log(this.uniform()) / denom) : 0;
    this.nextIndex = from + 1 + (Number.isFinite(gap) ? gap : Number.MAX_SAFE_INTEGER);
  }
}

/** One shard's reservoir: a uniform sample of `items.length` of its `population` items. */
export interface ShardSample<T> {
  items: readonly T[];
  population: number;
}

/**
 * Combines per-shard uniform samples into one uniform sample of size m (without replacement) of the union.
 *
 * How many items come from each shard follows the multivariate hypergeometric law: m sequential draws,
 * each picking a shard with probability proportional to its population not yet drawn. Each shard then
 * contributes a uniform subset of its reservoir. This is exact as long as every shard's reservoir holds
 * at least min(m, population) items (give each shard a reservoir of capacity m). A shard whose reservoir
 * is smaller than its draw count is exhausted and the remaining draws go to the other shards.
 * The result is shuffled, so any prefix is itself a uniform sample.
 */
export function mergeReservoirs<T>(shards: readonly ShardSample<T>[], m: number, rng: Rng): T[] {
  const s = shards.length;
  const available = shards.map((sh) => Math.min(sh.items.length, Math.max(0, Math.floor(sh.population))));
  const totalAvailable = available.reduce((a, b) => a + b, 0);
  const target = Math.max(0, Math.min(Math.floor(m), totalAvailable));
  const weights = new Fenwick(s);
  shards.forEach((sh, i) => weights.add(i, available[i]! > 0 ? Math.max(0, Math.floor(sh.population)) : 0));
  const taken = new Array<number>(s).fill(0);

  for (let draw = 0; draw < target; draw++) {
    const total = weights.total();
    if (total <= 0) break;
    const i = weights.find(Math.floor(rng.next() * total));
    taken[i]! += 1;
    if (taken[i]! >= available[i]!) weights.add(i, -weights.get(i));
    else weights.add(i, -1);
  }

  const out: T[] = [];
  for (let i = 0; i < s; i++) {
    const items = shards[i]!.items;
    const c = taken[i]!;
    if (c === 0) continue;
    const idx = Array.from({ length: items.length }, (_, j) => j);
    partialShuffle(idx, c, rng);
    for (let j = 0; j < c; j++) out.push(items[idx[j]!]!);
  }
  partialShuffle(out, out.length, rng);
  return out;
}

/** Fisher–Yates on the first `count` slots: afterwards arr[0..count) is a uniform random subset in random order. */
export function partialShuffle<T>(arr: T[], count: number, rng: Rng): void {
  const n = arr.length;
  for (let i = 0; i < Math.min(count, n - 1); i++) {
    const j = i + rng.int(n - i);
    const tmp = arr[i]!;
    arr[i] = arr[j]!;
    arr[j] = tmp;
  }
}

/** Uniform sample of `count` distinct indices in [0, n), in random order. */
export function sampleIndices(n: number, count: number, rng: Rng): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  const c = Math.max(0, Math.min(n, Math.floor(count)));
  partialShuffle(idx, c, rng);
  return idx.slice(0, c);
}

/** Fenwick tree over non-negative integer weights: point update, prefix search. */
class Fenwick {
  private readonly tree: Float64Array;
  private readonly values: Float64Array;

  constructor(private readonly n: number) {
    this.tree = new Float64Array(n + 1);
    this.values = new Float64Array(n);
  }

  add(i: number, delta: number): void {
    this.values[i]! += delta;
    for (let x = i + 1; x <= this.n; x += x & -x) this.tree[x]! += delta;
  }

  get(i: number): number {
    return this.values[i]!;
  }

  total(): number {
    let s = 0;
    for (let x = this.n; x > 0; x -= x & -x) s += this.tree[x]!;
    return s;
  }

  /** The index i whose cumulative range [sum(0..i-1), sum(0..i)) contains target (0 ≤ target < total). */
  find(target: number): number {
    let pos = 0;
    let rem = target;
    let step = 1;
    while (step * 2 <= this.n) step *= 2;
    for (; step > 0; step >>= 1) {
      const next = pos + step;
      if (next <= this.n && this.tree[next]! <= rem) {
        pos = next;
        rem -= this.tree[next]!;
      }
    }
    return Math.min(pos, this.n - 1);
  }
}
