import { namingView } from '../../../shared/catalogue/rules';
import { settingsSchema } from '../../../shared/config/settings';
import { noLogs, TallyMetrics } from '../../../shared/ports/telemetry';
import { withCatalogue } from '../../../shared/recluster/catalogue';
import {
  displayedTopCategories,
  interestOfName,
  nameDisagreements,
  namingPopulation,
  valueWord,
} from '../../../shared/segmentation/naming';
import { stageConfig } from '../../../infra/config/stages';
import { fitSimulatedStore } from '../../../local/simulated-fit';

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
  const { sample, fit } = fitSimulatedStore({ customers: 300, days: 14, seed: 7 }, settings);
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
