/**
 * Issue #9 case B7 / issue #10: stages and traits are refreshed every night whether or not a model is published.
 * A 12-customer store whose every model the quality gate refuses, end to end on the embedded stack: events through
 * the real ingest path, the synthesized state machine under aws-local-stepfunctions, dynalite, the local bus.
 */
import { synthTemplate } from '../../infra/app';
import { LocalObjectStore } from '../../local/object-store';
import { startEmbeddedStack, type EmbeddedStack } from '../../local/stack';
import { buildReclusterHandlers, reclusterDepsForStack, runReclusterLocally } from '../../local/stepfunctions';
import type { InboundEvent } from '../../shared/contracts/inbound';
import type { LifecycleChanged, RunFailed, SegmentChanged } from '../../shared/contracts/outbound';
import { processBatch } from '../../shared/ingest/process-batch';
import { envelope, makeEvent } from '../support/factories';
import { testSettings } from '../support/settings';

const DAY_MS = 86_400_000;
const INGESTED_AT = new Date('2026-11-10T12:00:00Z');
// Every model fails the gate: no silhouette reaches 1.
const base = testSettings();
const settings = testSettings({
  recluster: { ...base.recluster, quality: { ...base.recluster.quality, minSilhouette: 1 } },
});
const QUIET = 'c-quiet';

/** Eleven customers who keep ordering, and one steady buyer whose last order was 60 days before ingestion. */
function storeEvents(): InboundEvent[] {
  const events: InboundEvent[] = [];
  const order = (customerId: string, i: number, daysAgo: number) =>
    makeEvent('order.placed', {
      customerId,
      eventId: `${customerId}-o${i}`,
      orderId: `${customerId}-ord${i}`,
      occurredAt: new Date(INGESTED_AT.getTime() - daysAgo * DAY_MS).toISOString(),
      channel: 'web',
      total: 40 + i,
      discount: 0,
      items: [{ sku: `sku-${i}`, title: 'Ceramic plant pot', category: 'garden', price: 40 + i, quantity: 1 }],
    });
  for (let c = 0; c < 11; c++) {
    for (let i = 0; i < 6; i++) events.push(order(`c-regular-${String(c).padStart(2, '0')}`, i, 2 + 25 * i + c));
  }
  // A steady buyer every ~2 months for two years, last order 60 days ago: active at ingestion.
  for (let i = 0; i < 12; i++) events.push(order(QUIET, i, 60 + 60 * i));
  return events;
}

let stack: EmbeddedStack;
let clock = INGESTED_AT;
const objects = new LocalObjectStore();

beforeAll(async () => {
  stack = await startEmbeddedStack({ settings, clock: () => clock });
  const events = storeEvents();
  const outcome = await processBatch(
    events.map((e, i) => ({ messageId: `m-${i}`, body: envelope(e.type, e.detail) })),
    stack.ingestDeps(),
  );
  expect(outcome.failedMessageIds).toEqual([]);
}, 60_000);
afterAll(() => stack?.close());

test('a 12-customer store where the gate refuses every night: a customer with no order for 114 days leaves active, and a lifecycle.changed is sent', async () => {
  const template = synthTemplate('dev');
  const quietProfile = async () => (await stack.ingestDeps().profiles.get(QUIET))!;
  expect((await quietProfile()).lifecycleStage).toBe('active');

  // Nights at 1, 20, 40 and 54 days after ingestion: the last one is 114 days after the quiet customer's last order.
  for (const day of [1, 20, 40, 54]) {
    clock = new Date(INGESTED_AT.getTime() + day * DAY_MS);
    const asOf = clock.toISOString();
    const runId = `night-${day}`;
    const deps = reclusterDepsForStack(stack, { objects, clock: () => clock });
    const result = await runReclusterLocally({
      template,
      handlers: buildReclusterHandlers(deps),
      input: { runId, asOf },
      executionName: `exec-${runId}`,
    });
    expect(result.status).toBe('FAILED');
    expect(result.visited).toContain('RefreshTraits');
    expect(result.visited).not.toContain('AssignShards');
  }

  expect(await stack.modelStore.getActive()).toBeNull();
  const quiet = await quietProfile();
  expect(quiet.lifecycleStage).toBe('at_risk');
  expect(quiet.assignment).toBeNull(); // nothing about segments changed
  const changes = stack.bus.eventsOf<LifecycleChanged>('lifecycle.changed').map((e) => e.detail);
  expect(changes.filter((c) => c.customerId === QUIET && c.from === 'active')).toEqual([
    expect.objectContaining({ customerId: QUIET, from: 'active', to: 'at_risk' }),
  ]);
  expect(stack.bus.eventsOf<SegmentChanged>('segment.changed')).toEqual([]);
  const refused = stack.bus.eventsOf<RunFailed>('segmentation.run.failed').map((e) => e.detail);
  expect(refused.map((r) => [r.runId, r.state, r.error])).toEqual([
    ['night-1', 'QualityGate', 'QualityGateRejected'],
    ['night-20', 'QualityGate', 'QualityGateRejected'],
    ['night-40', 'QualityGate', 'QualityGateRejected'],
    ['night-54', 'QualityGate', 'QualityGateRejected'],
  ]);
});
