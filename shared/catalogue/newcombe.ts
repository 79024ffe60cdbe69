/**
 * Newcombe's hybrid score interval for a difference of two independent proportions, p1 − p2 (R. G. Newcombe,
 * "Interval estimation for the difference between independent proportions: comparison of eleven methods",
 * Statistics in Medicine 17, 873–890, 1998: method 10). With (l_i, u_i) the Wilson score interval of p_i:
 *   lower = (p1 − p2) − √((p1 − l1)² + (u2 − p2)²),  upper = (p1 − p2) + √((u1 − p1)² + (p2 − l2)²).
 * Unlike the Wald interval it stays within [−1, 1] and keeps its coverage near 0 and 1 and for small groups.
 */
import { wilsonInterval, Z_95 } from './wilson';

export interface Difference {
  /** p1 − p2. */
  estimate: number;
  low: number;
  high: number;
}

/** The difference x1/n1 − x2/n2 with its 95 % hybrid score interval, or null when either group is empty. */
export function newcombeDifference(x1: number, n1: number, x2: number, n2: number, z = Z_95): Difference | null {
  const a = wilsonInterval(x1, n1, z);
  const b = wilsonInterval(x2, n2, z);
  if (!a || !b) return null;
  const d = a.rate - b.rate;
  return {
    estimate: d,
    low: Math.max(-1, d - Math.sqrt((a.rate - a.low) ** 2 + (b.high - b.rate) ** 2)),
    high: Math.min(1, d + Math.sqrt((a.high - a.rate) ** 2 + (b.rate - b.low) ** 2)),
  };
}
