import { newcombeDifference } from '../../../shared/catalogue/newcombe';

describe("Newcombe's hybrid score interval (1998, method 10): the paper's worked examples", () => {
  test.each([
    // Newcombe 1998, Table II, method 10.
    ['(a) 56/70 − 48/80', [56, 70, 48, 80], 0.2, 0.0524, 0.3339],
    ['(b) 9/10 − 3/10', [9, 10, 3, 10], 0.6, 0.1705, 0.809],
  ] as const)('%s', (_name, [x1, n1, x2, n2], estimate, low, high) => {
    const d = newcombeDifference(x1, n1, x2, n2)!;
    expect(d.estimate).toBeCloseTo(estimate, 10);
    expect(d.low).toBeCloseTo(low, 4);
    expect(d.high).toBeCloseTo(high, 4);
  });

  test('an empty group gives no difference (null)', () => {
    expect(newcombeDifference(1, 10, 0, 0)).toBeNull();
  });

  test('equal rates: the interval is centred on 0 and excludes nothing', () => {
    const d = newcombeDifference(20, 100, 20, 100)!;
    expect(d.estimate).toBe(0);
    expect(d.low).toBeCloseTo(-d.high, 12);
    expect(d.low).toBeLessThan(0);
  });
});
