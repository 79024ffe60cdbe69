import { namingView } from '../../../shared/catalogue/rules';
import { settingsSchema } from '../../../shared/config/settings';
import type { InboundEvent } from '../../../shared/contracts/inbound';
import { validateInbound } from '../../../shared/contracts/validate';
import { foldEvents } from '../../../shared/domain/features';
import { noLogs, TallyMetrics } from '../../../shared/ports/telemetry';
import { withCatalogue } from '../../../shared/recluster/catalogue';
import { scanRowOf, valueRowOf, withTraits } from '../../../shared/recluster/rows';
import { fitSegmentation } from '../../../shared/segmentation/fit';
import {
  displayedTopCategories,
  interestOfName,
  nameDisagreements,
  namingPopulation,
  valueWord,
} from '../../../shared/segmentation/naming';
import { fitValueModel } from '../../../shared/value';
import { stageConfig } from '../../../infra/config/stages';
import { simulateStore } from '../../../local/simulator';
import { withLocalEmbeddings } from '../../support/model';

/**
 * The default simulation (`npm start`: 300 customers, 14 days, seed 7, the local settings), folded and fitted with
 * the pure nightly steps (no embedded stack): every segment's rule name must agree with the numbers its card shows.
 */
const dev = stageConfig('dev').settings;
const settings = settingsSchema.parse({
  ...dev,
  recluster: { ...dev.recluster, shardCount: 2, nInit: 2, silhouetteSubsample: 1_500 },
});

async function defaultSimulationModel() {
  const store = simulateStore({ customers: 300, days: 14, seed: 7 });
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
  const rows = [...byCustomer.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([id, events]) =>
      scanRowOf(
        id,
        foldEvents(withLocalEmbeddings([...events.values()], settings.embedding.dimension), asOf, settings.features),
      ),
    );
  const value = fitValueModel(rows.map(valueRowOf), {
    minCustomers: settings.value.minCustomers,
    minRepeatCustomers: settings.value.minRepeatCustomers,
  });
  const sample = withTraits(rows, value, settings.value);
  const fit = fitSegmentation({
    sample,
    previous: null,
    settings: settings.recluster,
    weights: { behaviour: settings.vector.behaviourWeight, interest: settings.vector.interestWeight },
    embeddingDim: settings.embedding.dimension,
    version: 1,
    runId: 'consistency',
    createdAt: asOf.toISOString(),
    value,
  });
  const model = await withCatalogue({
    model: fit.model,
    rows: sample,
    labels: fit.labels,
    campaigns: {},
    previous: null,
    gatePassed: true,
    deps: { narrator: null, metrics: new TallyMetrics(), log: noLogs },
  });
  return { model, population: namingPopulation(sample) };
}

let result: Awaited<ReturnType<typeof defaultSimulationModel>>;
beforeAll(async () => {
  result = await defaultSimulationModel();
});

describe('rule names agree with the catalogue on the default simulation', () => {
  it('has several segments, each with a catalogue entry and a unique name of at most 40 characters', () => {
    const { model } = result;
    expect(model.k).toBeGreaterThanOrEqual(4);
    expect(model.catalogue).toHaveLength(model.k);
    expect(new Set(model.names).size).toBe(model.k);
    for (const name of model.names) expect(name.length).toBeLessThanOrEqual(40);
  });

  it('every interest word is among the segment’s three top categories by share', () => {
    for (const entry of result.model.catalogue!) {
      const interest = interestOfName(entry.name);
      if (interest === null) continue;
      const top3 = entry.profile.topCategoriesByShare.slice(0, 3).map((c) => c.category);
      expect({ segment: entry.segmentId, interest, top3, ok: top3.includes(interest) }).toMatchObject({ ok: true });
      expect(displayedTopCategories(namingView(entry.segmentId, entry.profile))).toEqual(top3);
    }
  });

  it('every value word agrees with the median orders and revenue; no "browsers" among segments that ordered', () => {
    for (const entry of result.model.catalogue!) {
      const view = namingView(entry.segmentId, entry.profile);
      const expected = valueWord(view, result.population);
      const medianOrders = entry.profile.stats.orders?.median ?? 0;
      expect({ segment: entry.segmentId, name: entry.name, has: entry.name.includes(` ${expected}`) }).toMatchObject({
        has: true,
      });
      if (medianOrders >= 1) expect(entry.name).not.toMatch(/browsers/);
      else expect(entry.name).toMatch(/browsers/);
      expect(nameDisagreements(entry.name, view, result.population)).toEqual([]);
    }
  });

  it('the published profiles carry the same names', () => {
    expect(result.model.profiles.map((p) => p.name)).toEqual(result.model.catalogue!.map((e) => e.name));
  });
});
