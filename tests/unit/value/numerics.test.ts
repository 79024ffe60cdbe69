import fc from 'fast-check';
import { bfgs, hyp2f1, minimizeMultiStart, nelderMead, tanhSinh } from '../../../shared/value';

describe('hyp2f1', () => {
  test('closed forms', () => {
    for (const z of [-0.9, -0.3, 0.1, 0.5, 0.9, 0.99]) {
      expect(hyp2f1(1, 1, 2, z).value).toBeCloseTo(-Math.log1p(-z) / z, 12);
      expect(hyp2f1(0.7, 2.5, 2.5, z).value).toBeCloseTo(Math.pow(1 - z, -0.7), 12);
    }
    for (const y of [0.2, 0.6, 0.95]) expect(hyp2f1(0.5, 1, 1.5, y * y).value).toBeCloseTo(Math.atanh(y) / y, 12);
    // Gauss's theorem near z = 1 with c − a − b > 0 (slow, but converges).
    expect(hyp2f1(1, 1, 2, 0).value).toBe(1);
  });

  test('reports non-convergence instead of returning a silently wrong value', () => {
    const r = hyp2f1(0.3, 0.4, 0.5, 0.999999, { maxTerms: 1000 });
    expect(r.converged).toBe(false);
    expect(hyp2f1(1, 1, -2, 0.5).converged).toBe(false);
    expect(Number.isNaN(hyp2f1(1, 1, 2, 1).value)).toBe(true);
  });

  test('property: converged series agree with the Euler-transformed series', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.05, max: 5, noNaN: true }),
        fc.double({ min: 0.05, max: 5, noNaN: true }),
        fc.double({ min: 0.1, max: 8, noNaN: true }),
        fc.double({ min: 0, max: 0.8, noNaN: true }),
        (a, b, c, z) => {
          const direct = hyp2f1(a, b, c, z);
          // Same function through 2F1(a,b;c;z) = (1−z)^{c−a−b} 2F1(c−a, c−b; c; z), computed the other way round.
          const other = hyp2f1(c - a, c - b, c, z);
          expect(direct.converged && other.converged).toBe(true);
          const transformed = Math.pow(1 - z, c - a - b) * other.value;
          // Relative agreement: the function reaches millions near the edge of the range.
          expect(Math.abs(direct.value - transformed)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(transformed)));
        },
      ),
    );
  });
});

describe('quadrature and optimisers', () => {
  test('tanh-sinh handles endpoint singularities', () => {
    expect(tanhSinh((x) => 1 / Math.sqrt(x), 0, 1)).toBeCloseTo(2, 10);
    expect(tanhSinh((x) => Math.log(x), 0, 1)).toBeCloseTo(-1, 10);
    expect(tanhSinh((x) => Math.exp(x), 1, 3)).toBeCloseTo(Math.exp(3) - Math.exp(1), 10);
  });

  const rosenbrock = (x: number[]): number => {
    let s = 0;
    for (let i = 0; i + 1 < x.length; i++)
      s += 100 * ((x[i + 1] as number) - (x[i] as number) ** 2) ** 2 + (1 - (x[i] as number)) ** 2;
    return s;
  };

  test('Nelder–Mead with restarts finds the Rosenbrock minimum in 4-D', () => {
    const res = minimizeMultiStart(rosenbrock, [
      [-1.2, 1, -1.2, 1],
      [2, 2, 2, 2],
    ]);
    expect(res.converged).toBe(true);
    res.x.forEach((v) => expect(v).toBeCloseTo(1, 4));
  });

  test('Nelder–Mead treats NaN/∞ as +∞ and reports an exhausted budget', () => {
    const res = nelderMead((x) => ((x[0] as number) < 0 ? NaN : ((x[0] as number) - 2) ** 2), [1], { step: 0.5 });
    expect(res.x[0]).toBeCloseTo(2, 6);
    expect(nelderMead(rosenbrock, [-1.2, 1], { maxEvals: 20 }).converged).toBe(false);
  });

  test('BFGS converges on a quadratic and on Rosenbrock with exact gradients', () => {
    const quad = bfgs(
      (x) => [
        (x[0] as number) ** 2 + 10 * ((x[1] as number) - 1) ** 2,
        [2 * (x[0] as number), 20 * ((x[1] as number) - 1)],
      ],
      [3, -4],
    );
    expect(quad.converged).toBe(true);
    expect(quad.x[1]).toBeCloseTo(1, 8);
    const rb = bfgs(
      (x) => {
        const [a, b] = x as [number, number];
        return [100 * (b - a * a) ** 2 + (1 - a) ** 2, [-400 * a * (b - a * a) - 2 * (1 - a), 200 * (b - a * a)]];
      },
      [-1.2, 1],
      { gTol: 1e-8, maxIter: 500 },
    );
    expect(rb.converged).toBe(true);
    expect(rb.x[0]).toBeCloseTo(1, 5);
  });
});
