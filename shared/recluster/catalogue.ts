import { buildCatalogueStats, type CatalogueRow } from '../catalogue/build';
import { narrateCatalogue } from '../catalogue/narrate';
import type { CampaignAggregate } from '../catalogue/tallies';
import type { SegmentationModel } from '../segmentation/model';
import { namingPopulation } from '../segmentation/naming';
import type { ReclusterDeps } from './deps';

/**
 * FitModel's catalogue step: the statistics of every segment from the merged sample (rows in the fit's order,
 * `labels` from the fit) and the exact campaign aggregate, then the narration (`deps.narrator` when the model passed
 * the gate, else rules only: a rejected model is never published, so it does not pay for LLM calls). Returns the
 * model with its catalogue, renames, and the catalogue's names in `names` and `profiles[].name`.
 */
export async function withCatalogue(input: {
  model: SegmentationModel;
  rows: readonly CatalogueRow[];
  labels: ArrayLike<number>;
  campaigns: CampaignAggregate;
  previous: SegmentationModel | null;
  gatePassed: boolean;
  deps: Pick<ReclusterDeps, 'narrator' | 'metrics' | 'log'> & {
    settings?: Pick<ReclusterDeps['settings'], 'narration'>;
  };
}): Promise<SegmentationModel> {
  const { model, rows, labels, campaigns, previous, deps } = input;
  if (model.k === 0) return { ...model, catalogue: [], renamedSegments: [] };
  const stats = buildCatalogueStats(rows, labels, model.segmentIds, campaigns);
  const { entries, renamed } = await narrateCatalogue({
    stats,
    population: namingPopulation(rows.map((r) => ({ ...r, traits: null }))),
    previous: previous
      ? {
          segmentIds: previous.segmentIds,
          names: previous.names,
          ...(previous.catalogue && { catalogue: previous.catalogue }),
        }
      : null,
    narrator: input.gatePassed ? (deps.narrator ?? null) : null,
    metrics: deps.metrics,
    log: deps.log,
    ...(deps.settings?.narration && { budgetMs: deps.settings.narration.budgetMs }),
  });
  const names = entries.map((e) => e.name);
  return {
    ...model,
    names,
    profiles: model.profiles.map((p, i) => ({ ...p, name: names[i] ?? p.name })),
    catalogue: entries,
    renamedSegments: renamed,
  };
}
