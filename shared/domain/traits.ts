import type { LifecycleStage, Traits } from '../contracts/outbound';
import type { Settings } from '../config/settings';
import type { StoredValueModel } from '../segmentation/model';
import { customerValue, fitValueModel, lifecycleStage } from '../value';
import type { CustomerFeatures } from './features';

/**
 * Value traits of one customer from the stored BG/NBD and Gamma-Gamma parameters (weeks). Before the first
 * nightly fit, the documented priors are used. P(alive) depends on T, so these move with time alone.
 */
export function computeTraits(
  features: CustomerFeatures,
  value: StoredValueModel | null,
  previousStage: LifecycleStage | null,
  settings: Settings['value'],
): Traits {
  const model = value ?? priorModel();
  const { x, tx, T, meanRepeatSpend } = features.purchase;
  const v = customerValue(
    model,
    { x, tx, T, meanSpend: x > 0 ? meanRepeatSpend : 0 },
    { horizonWeeks: settings.horizonWeeks, discountRatePerWeek: settings.discountRatePerWeek },
  );
  const pAlive = features.orders === 0 ? 0 : v.pAlive;
  const stage = lifecycleStage({
    tenureDays: features.tenureDays,
    pAlive,
    ordersTotal: features.orders,
    daysSinceLastOrder: features.daysSinceLastOrder,
    previousStage,
  });
  return {
    pAlive,
    churnRisk: 1 - pAlive,
    expectedOrders90d: Math.max(0, v.expectedOrders90d),
    expectedSpend: Math.max(0, v.expectedSpend),
    clv: Math.max(0, v.clv),
    lifecycleStage: stage,
  };
}

let prior: StoredValueModel | null = null;
/** With no data, the value fit falls back to its documented priors (the published CDNOW estimates). */
function priorModel(): StoredValueModel {
  prior ??= fitValueModel([]);
  return prior;
}
