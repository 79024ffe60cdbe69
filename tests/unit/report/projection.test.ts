import { projectTo2d } from '../../../local/report';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(Math.max(random(), 1e-12))) * Math.cos(2 * Math.PI * random());
}

function variance(v: Float64Array): number {
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  return v.reduce((s, x) => s + (x - mean) ** 2, 0) / (v.length - 1);
}

function correlation(a: Float64Array, b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, x) => s + x, 0) / n;
  const mb = b.reduce((s, x) => s + x, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = (a[i] as number) - ma;
    const db = (b[i] as number) - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Orthonormal u1, u2 in `dim` dimensions (Gram–Schmidt on random vectors). */
function directions(dim: number, random: () => number): [number[], number[]] {
  const norm = (v: number[]) => {
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };
  const u1 = norm(Array.from({ length: dim }, () => gaussian(random)));
  const r = Array.from({ length: dim }, () => gaussian(random));
  const dot = r.reduce((s, x, j) => s + x * (u1[j] as number), 0);
  const u2 = norm(r.map((x, j) => x - dot * (u1[j] as number)));
  return [u1, u2];
}

/** Rows = 5·a·u1 + 2·b·u2 + small noise + offset, with a, b ~ N(0, 1). */
function planted(n: number, dim: number, seed: number) {
  const random = rng(seed);
  const [u1, u2] = directions(dim, random);
  const a: number[] = [];
  const b: number[] = [];
  const vectors = new Float64Array(n * dim);
  for (let i = 0; i < n; i++) {
    const ai = gaussian(random);
    const bi = gaussian(random);
    a.push(ai);
    b.push(bi);
    for (let j = 0; j < dim; j++) {
      vectors[i * dim + j] = 5 * ai * (u1[j] as number) + 2 * bi * (u2[j] as number) + 0.05 * gaussian(random) + 10 + j;
    }
  }
  return { vectors, a, b };
}

describe('projectTo2d', () => {
  test('recovers two planted directions in order of variance', () => {
    const n = 2000;
    const dim = 12;
    const { vectors, a, b } = planted(n, dim, 42);
    const { x, y } = projectTo2d(vectors, n, dim, 1);

    expect(x).toHaveLength(n);
    expect(y).toHaveLength(n);
    // Variances ≈ 25 and 4 (times the sample variance of a and b).
    expect(variance(x)).toBeGreaterThan(variance(y) * 4);
    expect(variance(x)).toBeCloseTo(25 * variance(Float64Array.from(a)), 0);
    expect(variance(y)).toBeCloseTo(4 * variance(Float64Array.from(b)), 0);
    expect(Math.abs(correlation(x, a))).toBeGreaterThan(0.999);
    expect(Math.abs(correlation(y, b))).toBeGreaterThan(0.99);
    // Components are uncorrelated and centred.
    expect(Math.abs(correlation(x, Array.from(y)))).toBeLessThan(0.02);
    expect(Math.abs(x.reduce((s, v) => s + v, 0) / n)).toBeLessThan(1e-9);
  });

  test('is deterministic, and the sign convention makes it independent of the seed', () => {
    const { vectors } = planted(500, 6, 3);
    const first = projectTo2d(vectors, 500, 6, 7);
    const again = projectTo2d(vectors, 500, 6, 7);
    expect(Array.from(again.x)).toEqual(Array.from(first.x));
    expect(Array.from(again.y)).toEqual(Array.from(first.y));

    const otherSeed = projectTo2d(vectors, 500, 6, 12345);
    for (let i = 0; i < 500; i++) {
      expect(otherSeed.x[i]).toBeCloseTo(first.x[i] as number, 4);
      expect(otherSeed.y[i]).toBeCloseTo(first.y[i] as number, 4);
    }
  });

  test('does not modify its input', () => {
    const { vectors } = planted(50, 4, 9);
    const copy = Float64Array.from(vectors);
    projectTo2d(vectors, 50, 4, 1);
    expect(vectors).toEqual(copy);
  });

  test('gives finite zeros for degenerate input', () => {
    const equal = new Float64Array(100 * 5).fill(3.25);
    const flat = projectTo2d(equal, 100, 5, 1);
    expect(Array.from(flat.x).every((v) => v === 0)).toBe(true);
    expect(Array.from(flat.y).every((v) => v === 0)).toBe(true);

    // Variance along one direction only: x carries it, y is zero.
    const line = new Float64Array(40 * 3);
    for (let i = 0; i < 40; i++) line.set([i, 2 * i, -i], i * 3);
    const one = projectTo2d(line, 40, 3, 1);
    expect(Array.from(one.x).every(Number.isFinite)).toBe(true);
    expect(variance(one.x)).toBeGreaterThan(0);
    expect(Math.max(...Array.from(one.y).map(Math.abs))).toBeLessThan(1e-9);

    const single = projectTo2d(new Float64Array([1, 2, 3]), 1, 3, 1);
    expect(Array.from(single.x)).toEqual([0]);
    expect(Array.from(single.y)).toEqual([0]);

    const oneDim = projectTo2d(new Float64Array([1, 2, 3, 4]), 4, 1, 1);
    expect(Array.from(oneDim.x).every(Number.isFinite)).toBe(true);
    expect(Array.from(oneDim.y)).toEqual([0, 0, 0, 0]);

    expect(projectTo2d(new Float64Array(0), 0, 8, 1).x).toHaveLength(0);
  });

  test('treats non-finite entries as the column mean', () => {
    const v = new Float64Array([0, 0, 1, 1, NaN, Infinity, 3, 3]);
    const { x, y } = projectTo2d(v, 4, 2, 1);
    expect([...x, ...y].every(Number.isFinite)).toBe(true);
  });

  test('rejects inconsistent shapes', () => {
    expect(() => projectTo2d(new Float64Array(5), 2, 3, 1)).toThrow(RangeError);
    expect(() => projectTo2d(new Float64Array(6), -1, 3, 1)).toThrow(RangeError);
    expect(() => projectTo2d(new Float64Array(6), 2.5, 3, 1)).toThrow(RangeError);
  });
});
