import { buildCatalogueStats, type CatalogueRow, type CatalogueStats } from '../../../shared/catalogue/build';
import type { RowCatalogue } from '../../../shared/catalogue/tallies';
import type { NamingPopulation } from '../../../shared/segmentation/naming';

export interface RowSpec {
  orders: number;
  revenue: number;
  days?: number;
  tenure?: number;
  discount?: number;
  categories?: string[];
  channel?: string;
  clv?: number | null;
  churn?: number | null;
  stage?: string | null;
  products?: RowCatalogue['products'];
  ratings?: RowCatalogue['ratings'];
  terms?: string[];
}

/** A sample row from a compact spec (natural units: counts, base currency, days). */
export function row(s: RowSpec): CatalogueRow {
  const natural: Record<string, number> = {
    orders: s.orders,
    revenue: s.revenue,
    avgOrderValue: s.orders > 0 ? s.revenue / s.orders : 0,
    tenureDays: s.tenure ?? 200,
    discountShare: s.discount ?? 0,
    refundRate: 0,
  };
  if (s.days !== undefined) natural['daysSinceLastOrder'] = s.days;
  const categories = s.categories ?? ['garden'];
  return {
    natural,
    topCategories: categories,
    channelShares: { [s.channel ?? 'web']: 1 },
    traits: s.clv === undefined && s.churn === undefined ? null : { clv: s.clv ?? null, churnRisk: s.churn ?? null },
    catalogue: {
      categoryWeights: Object.fromEntries(categories.map((c, i) => [c, 10 - i])),
      products: s.products ?? [],
      ratings: s.ratings ?? [0, 0, 0, 0, 0],
      reviewTerms: s.terms ?? [],
      lifecycleStage: s.stage ?? null,
    },
  };
}

export const population: NamingPopulation = {
  revenueLow: 100,
  revenueHigh: 400,
  categoryShare: { garden: 0.5, kitchen: 0.3, baby: 0.1 },
};

/** Statistics of one segment made of `n` copies of each spec. */
export function statsOf(specs: { spec: RowSpec; n: number }[], segmentId = 'seg-001'): CatalogueStats {
  const rows = specs.flatMap(({ spec, n }) => Array.from({ length: n }, () => row(spec)));
  return buildCatalogueStats(rows, new Int32Array(rows.length), [segmentId], {})[0]!;
}
