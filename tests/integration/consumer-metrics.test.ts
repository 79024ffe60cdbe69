/**
 * Issue #10's targets on the default simulated store (300 customers × 21 days, seed 7), run end to end (`runLocal`,
 * the `npm start` path). Thresholds are the issue's targets where this size meets them (moves of non-switchers,
 * distinct ids, ARI), and the level reached where it does not (switchers). Before this issue the same path made 28 ids
 * for a final k of 8 and 0.32 moves per customer-night; before recent behaviour and the placement gate, 0.021
 * non-switcher moves per customer-night after the first week and ARI 0.857.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLocal } from '../../local/run';
import type { ConsumerMetrics } from '../../local/summary-metrics';

jest.setTimeout(180_000);

const SIM = { customers: 300, days: 21, seed: 7 } as const;
let dir = '';
let metrics: ConsumerMetrics;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shoal-consumer-metrics-'));
  // What `npm start` prints and writes to summary.json: the consumer metrics with the simulator's truth and ARI.
  ({ consumer: metrics } = await runLocal({ source: { kind: 'simulate', ...SIM }, outDir: dir }));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('distinct segment ids over the run stay within 2 × the final k', () => {
  expect(metrics.finalK).not.toBeNull();
  expect(metrics.distinctSegmentIds).toBeLessThanOrEqual(2 * metrics.finalK!);
  expect(metrics.targets.find((t) => t.name.startsWith('distinct'))!.met).toBe(true);
});

const target = (prefix: string) => metrics.targets.find((t) => t.name.startsWith(prefix))!;

test('after the first week, non-switchers move on at most 1 % of their nights in a segment (the target)', () => {
  expect(metrics.nonSwitcherMovesPerCustomerNightAfterFirstWeek).not.toBeNull();
  expect(metrics.nonSwitcherMovesPerCustomerNightAfterFirstWeek!).toBeLessThanOrEqual(0.01);
  expect(target('moves per customer-night after').met).toBe(true);
});

test('planted-persona ARI meets 0.9 or 95 % of the supervised bound (the target)', () => {
  expect(target('planted-persona ARI').met).toBe(true);
  expect(target('planted-persona ARI').value!).toBeGreaterThanOrEqual(0.87);
});

test('at least 40 % of switchers whose week is over move within it (target 95 %: not met, see README)', () => {
  expect(metrics.switchers!.count).toBeGreaterThanOrEqual(10);
  expect(metrics.switchers!.movedWithin7DaysShare).toBeGreaterThanOrEqual(0.4);
});

test('the run judges every switcher against the oracle bound, on the night its week ends; the bound stays below 0.95', () => {
  // The bound is what the persona means place in the new persona (switchOracleNight): 0.833 of 30 at this size. A
  // bound under the target is the evidence that the target is beyond these features (README, issue #10).
  expect(metrics.switchers!.bound!.judged).toBe(metrics.switchers!.count);
  expect(metrics.switchers!.bound!.share).toBeLessThan(0.95);
  expect(metrics.switchers!.bound!.share).toBeGreaterThanOrEqual(metrics.switchers!.movedWithin7DaysShare);
  expect(target('switchers moved within 7 days').threshold).toMatch(/^≥ 0\.95; oracle bound 0\.\d+/);
});

test('moves over all reasons stay under 0.02 per customer-night (0.32 before continuity)', () => {
  expect(metrics.movesPerCustomerNight).toBeLessThan(0.02);
  const total = metrics.nights.reduce((s, n) => s + n.moves, 0);
  const byReason = metrics.nights.reduce((s, n) => s + Object.values(n.byReason).reduce((a, b) => a + b, 0), 0);
  expect(byReason).toBe(total);
});

test('every nightly run is recorded; only the first week is refused, for want of placeable customers', () => {
  expect(metrics.refusedRuns.length).toBeLessThanOrEqual(7);
  for (const r of metrics.refusedRuns) {
    expect(r.day! < '2026-01-13').toBe(true);
    expect(r.reasons.join(' ')).toMatch(/placeable customers/);
  }
  expect(metrics.nights.length).toBeGreaterThanOrEqual(SIM.days - 3);
  expect(metrics.targets.map((t) => t.name)).toEqual([
    'moves per customer-night after the first week, non-switchers',
    'switchers moved within 7 days',
    'distinct segment ids / final k',
    'planted-persona ARI (customers with ≥ 10 events)',
  ]);
});
