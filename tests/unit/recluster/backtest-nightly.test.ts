/**
 * Issue #9 E16: the nightly run backtests the value model on the store's own history once enough of it exists, and
 * the published model carries the error. Over in-memory ports, with customers whose purchase days are known.
 */
import type { InboundEvent } from '../../../shared/contracts/inbound';
import { getJson, runObjectKeys } from '../../../shared/recluster/artifacts';
import { fitModel, type ModelArtifact } from '../../../shared/recluster/fit-model';
import { planShards } from '../../../shared/recluster/plan';
import { scanShard } from '../../../shared/recluster/scan';
import { makeEvent } from '../../support/factories';
import { profileFromLog } from '../../support/memory-customer';
import { withLocalEmbeddings } from '../../support/model';
import { memoryDeps } from './memory-ports';

const AS_OF = new Date('2026-11-11T03:00:00.000Z');
const DAY = 86_400_000;

/** Customer i orders every (10 + i % 20) days, over `spanDays` before AS_OF. */
function history(customerId: string, i: number, spanDays: number): InboundEvent[] {
  const every = 10 + (i % 20);
  const out: InboundEvent[] = [];
  for (let d = spanDays; d >= 1; d -= every) {
    out.push(
      makeEvent('order.placed', {
        customerId,
        eventId: `${customerId}-${d}`,
        orderId: `${customerId}-${d}`,
        total: 20 + (i % 7),
        occurredAt: new Date(AS_OF.getTime() - d * DAY + 3_600_000 * 10).toISOString(),
      }),
    );
  }
  return out;
}

async function run(spanDays: number) {
  const deps = memoryDeps(AS_OF);
  deps.settings.recluster = { ...deps.settings.recluster, kMin: 2, kMax: 4, silhouetteSubsample: 100 };
  deps.settings.value = { ...deps.settings.value, minCustomers: 30, minRepeatCustomers: 10 };
  let holdoutDays = 0;
  for (let i = 0; i < 80; i++) {
    const id = `c-${String(i).padStart(2, '0')}`;
    const events = history(id, i, spanDays);
    holdoutDays += events.filter((e) => Date.parse(e.detail.occurredAt) >= AS_OF.getTime() - 91 * DAY).length;
    deps.profiles.items.set(id, profileFromLog(id, withLocalEmbeddings(events, 32), AS_OF, deps.settings));
  }
  const plan = await planShards({ runId: 'bt', asOf: AS_OF.toISOString() }, deps);
  const scans = await Promise.all(plan.shards.map((s) => scanShard(s, deps)));
  await fitModel({ runId: 'bt', asOf: plan.asOf, scans }, deps);
  const artifact = await getJson<ModelArtifact>(deps.objects, runObjectKeys.model('bt'));
  return { backtest: artifact!.model.value.backtest, holdoutDays };
}

describe('the nightly value backtest', () => {
  test('E16: with a year of history the published model carries predicted vs actual for the last quarter', async () => {
    const { backtest, holdoutDays } = await run(400);
    expect(backtest).toBeDefined();
    expect(backtest!.holdoutWeeks).toBe(13);
    expect(backtest!.customers).toBe(80);
    // every holdout purchase day of the sample is counted, and the model's prediction is in the right range
    expect(backtest!.actual).toBe(holdoutDays);
    expect(Math.abs(backtest!.predicted - backtest!.actual) / backtest!.actual).toBeLessThan(0.5);
    expect(backtest!.bins.reduce((n, b) => n + b.customers, 0)).toBe(80);
    expect(backtest!.meanAbsoluteError).toBeGreaterThanOrEqual(0);
  });

  test('E16: a store with four months of history is not backtested yet (the calibration must span two holdouts)', async () => {
    const { backtest } = await run(120);
    expect(backtest).toBeUndefined();
  });
});
