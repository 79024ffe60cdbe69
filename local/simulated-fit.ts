import { encodeText } from '../shared/embedding/hashing-encoder';
import type { Settings } from '../shared/config/settings';
import type { InboundEvent } from '../shared/contracts/inbound';
import { validateInbound } from '../shared/contracts/validate';
import { foldEvents } from '../shared/customer/fold';
import { featureSettingsOf } from '../shared/customer/update';
import { eventText } from '../shared/domain/features';
import { scanRowOf, segmentationRows, valueRowOf, withTraits } from '../shared/recluster/rows';
import { fitSegmentation, type FitResult, type SampleRow } from '../shared/segmentation/fit';
import { fitValueModel } from '../shared/value';
import { simulateStore } from './simulator';

/**
 * A simulated store fitted with the pure nightly steps, without the embedded stack: every valid delivery
 * (deduplicated by event id) folded per customer as of one hour after the last delivery, embedded with the local
 * encoder, then value model → sample rows with traits (customers past the placement gate) → segmentation. For tests
 * and benchmarks that need the segments of a simulated store in seconds.
 */
export function fitSimulatedStore(
  options: { customers: number; days: number; seed: number },
  settings: Settings,
): { sample: SampleRow[]; fit: FitResult; asOf: Date } {
  const store = simulateStore(options);
  const byCustomer = new Map<string, Map<string, InboundEvent>>();
  let last = new Date(0);
  for (const day of store.days()) {
    for (const d of day.deliveries) {
      last = d.arrivalAt;
      const v = validateInbound({ 'detail-type': d.detailType, detail: d.detail }, d.arrivalAt);
      if (!v.ok) continue;
      const events = byCustomer.get(v.event.detail.customerId) ?? new Map<string, InboundEvent>();
      events.set(v.event.detail.eventId, v.event);
      byCustomer.set(v.event.detail.customerId, events);
    }
  }
  const asOf = new Date(last.getTime() + 3_600_000);
  const dim = settings.embedding.dimension;
  const rows = [...byCustomer.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([id, events]) => {
      const logged = [...events.values()].map((event) => {
        const text = eventText(event);
        return { event, embedding: text === null ? null : encodeText(text, dim) };
      });
      return scanRowOf(id, foldEvents(logged, asOf, featureSettingsOf(settings)), null, settings.placement);
    });
  const value = fitValueModel(rows.map(valueRowOf), {
    minCustomers: settings.value.minCustomers,
    minRepeatCustomers: settings.value.minRepeatCustomers,
  });
  const sample = withTraits(segmentationRows(rows), value, settings.value);
  const fit = fitSegmentation({
    sample,
    previous: null,
    settings: settings.recluster,
    weights: { behaviour: settings.vector.behaviourWeight, interest: settings.vector.interestWeight },
    embeddingDim: dim,
    version: 1,
    runId: `simulated-${options.seed}`,
    createdAt: asOf.toISOString(),
    value,
  });
  return { sample, fit, asOf };
}
