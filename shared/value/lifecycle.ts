/**
 * Lifecycle stage of a customer — a pure function of tenure, P(alive), order count, recency and the
 * previous stage.
 *
 * Rules, applied in this order (the first that matches wins; thresholds are parameters):
 *  0. prospect    — no order yet (`ordersTotal` 0), whatever the tenure: a browser is not a lapsed buyer, and
 *                   the value model (P(alive), CLV) does not describe them.
 *  1. new         — tenure < `newMaxTenureDays` (30) and at most `newMaxOrders` (1) orders.
 *  2. reactivated — the previous stage was `lapsed` or `at_risk` and the last order is at most
 *                   `reactivatedWithinDays` (30) days old: a fresh order after a lapse outranks a
 *                   still-low model P(alive), which lags behind it.
 *  3. lapsed      — P(alive) < `lapsedPAlive` (0.3), or no order for at least `lapsedDays` (180) days.
 *  4. at_risk     — P(alive) < `atRiskPAlive` (0.6), or no order for at least `atRiskDays` (90) days.
 *  5. active      — otherwise (including a customer reactivated earlier who has stayed healthy).
 */

export const LIFECYCLE_STAGES = ['prospect', 'new', 'active', 'at_risk', 'lapsed', 'reactivated'] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

export interface LifecycleThresholds {
  newMaxTenureDays: number;
  newMaxOrders: number;
  lapsedPAlive: number;
  lapsedDays: number;
  atRiskPAlive: number;
  atRiskDays: number;
  reactivatedWithinDays: number;
}

export const DEFAULT_LIFECYCLE_THRESHOLDS: Readonly<LifecycleThresholds> = Object.freeze({
  newMaxTenureDays: 30,
  newMaxOrders: 1,
  lapsedPAlive: 0.3,
  lapsedDays: 180,
  atRiskPAlive: 0.6,
  atRiskDays: 90,
  reactivatedWithinDays: 30,
});

export interface LifecycleInput {
  /** Days since the customer's first order (or sign-up). */
  tenureDays: number;
  /** P(alive) from the BG/NBD, in [0, 1]. */
  pAlive: number;
  /** Orders in total, including the first. */
  ordersTotal: number;
  /** Days since the last order; null/undefined when the customer never ordered. */
  daysSinceLastOrder?: number | null;
  /** Stage at the previous evaluation, if any. */
  previousStage?: LifecycleStage | null;
}

export function lifecycleStage(input: LifecycleInput, thresholds: Partial<LifecycleThresholds> = {}): LifecycleStage {
  const th = { ...DEFAULT_LIFECYCLE_THRESHOLDS, ...thresholds };
  const { tenureDays, pAlive, ordersTotal, previousStage } = input;
  if (!(Number.isFinite(tenureDays) && tenureDays >= 0))
    throw new RangeError(`tenureDays must be finite and >= 0, got ${tenureDays}`);
  if (!(pAlive >= 0 && pAlive <= 1)) throw new RangeError(`pAlive must be in [0, 1], got ${pAlive}`);
  if (!(Number.isInteger(ordersTotal) && ordersTotal >= 0))
    throw new RangeError(`ordersTotal must be a non-negative integer, got ${ordersTotal}`);
  const recency = input.daysSinceLastOrder ?? tenureDays;
  if (!(recency >= 0)) throw new RangeError(`daysSinceLastOrder must be >= 0, got ${input.daysSinceLastOrder}`);

  if (ordersTotal === 0) return 'prospect';
  if (tenureDays < th.newMaxTenureDays && ordersTotal <= th.newMaxOrders) return 'new';
  const hasRecentOrder = ordersTotal > 0 && input.daysSinceLastOrder != null && recency <= th.reactivatedWithinDays;
  if ((previousStage === 'lapsed' || previousStage === 'at_risk') && hasRecentOrder) return 'reactivated';
  if (pAlive < th.lapsedPAlive || recency >= th.lapsedDays) return 'lapsed';
  if (pAlive < th.atRiskPAlive || recency >= th.atRiskDays) return 'at_risk';
  return 'active';
}
