/**
 * RFM: recency, frequency and monetary quintile scores (1–5) and the classic named groups, as traits beside the
 * clusters. Pure.
 *
 * Breakpoints come from the population: the nightly fit takes the 20th, 40th, 60th and 80th percentiles of each
 * measure over the buyers of its sample (`fitRfmBreakpoints`, stored on the model as `rfm`), and every evaluation
 * scores a customer against the active model's breakpoints (`scoreRfm`). Measures, in natural units:
 * - R: days since the last order (fewer days, higher score);
 * - F: orders (count);
 * - M: revenue (the `revenue` feature), base currency.
 * F and M score 1 + the number of breakpoints the value is strictly above; R scores 5 − the number of breakpoints
 * the days since the last order are strictly above. A value equal to a breakpoint is scored on the lower side for F
 * and M and on the more recent side for R, so a heavily tied measure (most buyers with one order) gives the tied
 * customers one score instead of spreading them at random.
 *
 * Groups: the R×F grid of the 11 classic RFM segments (Champions … Lost; the segment names and their R/F ranges as
 * popularised by Putler's "RFM analysis" guide, https://www.putler.com/rfm-analysis/, in the usual 5×5 grid form of
 * that table; M refines the score but not the group, as in that grid's common implementations):
 *
 *        F=1               F=2                 F=3                 F=4               F=5
 *   R=5  New customers     Potential loyalists Potential loyalists Champions         Champions
 *   R=4  Promising         Potential loyalists Potential loyalists Loyal             Loyal
 *   R=3  About to sleep    About to sleep      Need attention      Loyal             Loyal
 *   R=2  Hibernating       Hibernating         At risk             At risk           Can't lose them
 *   R=1  Lost              Hibernating         At risk             At risk           Can't lose them
 */
import type { Rfm, RfmGroup } from '../contracts/outbound';
import { quantileSorted, sortedFinite } from '../segmentation/scaler';

/** Quintile breakpoints (the 20th, 40th, 60th and 80th percentiles) of each measure over the sample's buyers. */
export interface RfmBreakpoints {
  /** Days since the last order. */
  recencyDays: [number, number, number, number];
  /** Orders. */
  frequency: [number, number, number, number];
  /** Revenue, base currency. */
  monetary: [number, number, number, number];
  /** Buyers the breakpoints were taken over. */
  buyers: number;
}

/** The measures of one customer, natural units; `orders` 0 (a prospect) has no RFM score. */
export interface RfmInput {
  orders: number;
  revenue: number;
  daysSinceLastOrder: number | null;
}

const QUINTILES = [0.2, 0.4, 0.6, 0.8] as const;

/** Fewest buyers to take breakpoints over: below it the fit stores none and customers get no RFM score. */
export const RFM_MIN_BUYERS = 20;

function quintiles(values: Iterable<number>): [number, number, number, number] {
  const sorted = sortedFinite(values);
  return QUINTILES.map((q) => quantileSorted(sorted, q)) as [number, number, number, number];
}

/** Breakpoints over the buyers (orders > 0 and a recency) of `rows`, or null with fewer than RFM_MIN_BUYERS. */
export function fitRfmBreakpoints(rows: Iterable<Partial<RfmInput>>): RfmBreakpoints | null {
  const buyers = [...rows].filter(
    (r): r is RfmInput & { daysSinceLastOrder: number } =>
      (r.orders ?? 0) > 0 && typeof r.daysSinceLastOrder === 'number' && typeof r.revenue === 'number',
  );
  if (buyers.length < RFM_MIN_BUYERS) return null;
  return {
    recencyDays: quintiles(buyers.map((b) => b.daysSinceLastOrder)),
    frequency: quintiles(buyers.map((b) => b.orders)),
    monetary: quintiles(buyers.map((b) => b.revenue)),
    buyers: buyers.length,
  };
}

const GRID: readonly (readonly RfmGroup[])[] = [
  // R=1 .. R=5, each F=1 .. F=5
  ['Lost', 'Hibernating', 'At risk', 'At risk', "Can't lose them"],
  ['Hibernating', 'Hibernating', 'At risk', 'At risk', "Can't lose them"],
  ['About to sleep', 'About to sleep', 'Need attention', 'Loyal', 'Loyal'],
  ['Promising', 'Potential loyalists', 'Potential loyalists', 'Loyal', 'Loyal'],
  ['New customers', 'Potential loyalists', 'Potential loyalists', 'Champions', 'Champions'],
];

/** The named group of R and F scores (1–5), from the grid above. */
export function rfmGroup(r: number, f: number): RfmGroup {
  return GRID[r - 1]![f - 1]!;
}

/** RFM scores and group of one customer; null for a prospect (no order) or without breakpoints. */
export function scoreRfm(input: RfmInput, breakpoints: RfmBreakpoints | null | undefined): Rfm | null {
  if (!breakpoints || input.orders <= 0 || input.daysSinceLastOrder === null) return null;
  const days = input.daysSinceLastOrder;
  const r = 5 - breakpoints.recencyDays.filter((b) => days > b).length;
  const f = 1 + breakpoints.frequency.filter((b) => input.orders > b).length;
  const m = 1 + breakpoints.monetary.filter((b) => input.revenue > b).length;
  return { r, f, m, group: rfmGroup(r, f) };
}
