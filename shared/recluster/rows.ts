import { rowCatalogueOf, type CatalogueFeatures, type RowCatalogue } from '../catalogue/tallies';
import type { Settings } from '../config/settings';
import type { CustomerFeatures } from '../domain/features';
import { behaviourRow } from '../domain/vector';
import { hasEvidence } from '../customer/evaluate';
import type { SampleRow } from '../segmentation/fit';
import type { ProfileFeature } from '../segmentation/profiles';
import { clampValueRow, createValuePredictor, type ValueModel, type ValueRow } from '../value';

/**
 * What ScanShard keeps of a customer: the fit's SampleRow without traits, plus the value-model inputs. Traits need
 * the value model, which FitModel fits on these same rows, so FitModel adds them (see `withTraits`): the profiles'
 * mean CLV and churn risk then describe the model being published, not the one before it.
 */
export interface ScanRow extends Omit<SampleRow, 'traits'> {
  orders: number;
  /** Past the placement gate (settings.placement): only such rows train the segmentation (see `segmentationRows`). */
  placeable?: boolean;
  /** BG/NBD and Gamma-Gamma inputs, in weeks (CustomerFeatures.purchase). */
  purchase: { x: number; tx: number; T: number; meanRepeatSpend: number };
  /** The bounded tallies the segment catalogue reads (categories, products, ratings, review terms, stage). */
  catalogue?: RowCatalogue;
  /** Value-model backtest input for the last BACKTEST_HOLDOUT_WEEKS (absent: not a buyer before the holdout). */
  backtest?: { x: number; tx: number; T: number; actual: number };
}

/** The natural-unit features of a segment profile (PROFILE_FEATURES); a customer who never ordered has no recency. */
export function naturalFeatures(f: CustomerFeatures): Record<string, number> {
  const natural: Partial<Record<ProfileFeature, number>> = {
    orders: f.orders,
    revenue: f.revenue,
    avgOrderValue: f.avgOrderValue,
    tenureDays: f.tenureDays,
    refundRate: f.refundRate,
    discountShare: f.discountShare,
    views: f.decayedViews,
    searches: f.decayedSearches,
    cartAdds: f.decayedCartAdds,
  };
  if (f.daysSinceLastOrder !== null) natural.daysSinceLastOrder = f.daysSinceLastOrder;
  return natural as Record<string, number>;
}

export function scanRowOf(
  customerId: string,
  f: CustomerFeatures,
  lifecycleStage: string | null = null,
  placement?: Settings['placement'],
): ScanRow {
  return {
    customerId,
    placeable: hasEvidence(f, placement),
    behaviour: behaviourRow(f),
    interest: f.interest,
    natural: naturalFeatures(f),
    topCategories: [...f.topCategories],
    channelShares: { ...f.channelShares },
    orders: f.orders,
    purchase: { ...f.purchase },
    catalogue: rowCatalogueOf(f as CustomerFeatures & CatalogueFeatures, lifecycleStage),
  };
}

/**
 * The value-model row of a customer, as `computeTraits` builds it (mean spend only for repeat buyers), clamped so
 * that t_x ≤ T and T ≥ 0 (clampValueRow).
 */
export function valueRowOf(row: Pick<ScanRow, 'purchase'>): ValueRow {
  const { x, tx, T, meanRepeatSpend } = row.purchase;
  return clampValueRow({ x, tx, T, meanSpend: x > 0 ? meanRepeatSpend : 0 });
}

/**
 * Sample rows with the traits profiles summarise (CLV and churn risk) under `value`. Mirrors `computeTraits`
 * (shared/domain/traits.ts): churn risk is 1 − P(alive); a prospect (no order) has no traits, so it is left out of
 * its segment's mean CLV and churn risk.
 */
export function withTraits(rows: readonly ScanRow[], value: ValueModel, settings: Settings['value']): SampleRow[] {
  const predict = createValuePredictor(value, {
    horizonWeeks: settings.horizonWeeks,
    discountRatePerWeek: settings.discountRatePerWeek,
  });
  return rows.map((row) => {
    const { orders: _orders, purchase: _purchase, ...sample } = row;
    if (row.orders === 0) return { ...sample, traits: null };
    const v = predict(valueRowOf(row));
    return { ...sample, traits: { clv: Math.max(0, v.clv), churnRisk: 1 - v.pAlive } };
  });
}

/**
 * The rows the segmentation learns from: customers past the placement gate (rows without the flag, from an older
 * scan, count as placeable). The value model still learns from every row: BG/NBD needs the new buyers too.
 */
export function segmentationRows<R extends { placeable?: boolean }>(rows: readonly R[]): R[] {
  return rows.filter((r) => r.placeable !== false);
}
