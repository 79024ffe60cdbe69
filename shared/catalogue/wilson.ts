/**
 * Wilson score interval for a binomial proportion (E. B. Wilson, "Probable inference, the law of succession, and
 * statistical inference", JASA 22, 1927; recommended over the Wald interval by Agresti & Coull, 1998, and Brown,
 * Cai & DasGupta, 2001). For x successes in n trials, p = x/n, z the normal quantile:
 *   centre = (p + z²/2n) / (1 + z²/n),  half-width = z/(1 + z²/n) · √(p(1−p)/n + z²/4n²).
 */
import type { Rate } from '../contracts/catalogue';

/** Two-sided 95 %: Φ⁻¹(0.975). */
export const Z_95 = 1.959963984540054;

/** The rate x/n with its Wilson interval, or null when n is 0. Throws RangeError unless 0 ≤ x ≤ n are integers. */
export function wilsonInterval(x: number, n: number, z = Z_95): Rate | null {
  if (!Number.isInteger(x) || !Number.isInteger(n) || x < 0 || n < 0 || x > n) {
    throw new RangeError(`need integers 0 <= x <= n, got x=${x}, n=${n}`);
  }
  if (n === 0) return null;
  const p = x / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { rate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}
