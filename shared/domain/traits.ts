import type { LifecycleStage, Traits } from '../contracts/outbound';
import type { Settings } from '../config/settings';
import type { StoredValueModel } from '../segmentation/model';
import {
  bgnbdPAlive,
  clampValueRow,
  createValuePredictor,
  fitValueModel,
  lifecycleStage,
  type CustomerValue,
  type ValueRow,
} from '../value';
import type { CustomerFeatures } from './features';

/**
 * Value traits of one customer from the stored BG/NBD and Gamma-Gamma parameters (weeks). Before the first
 * nightly fit, the documented priors are used. P(alive) depends on T, so these move with time alone.
 *
 * - A customer with no order is a `prospect`: P(alive) 0 and null churn risk, expected orders, spend and CLV
 *   (the value model describes buyers; a buyer's prediction for a browser is the issue #9 B8 contradiction).
 * - The inputs are clamped (clampValueRow: T ≥ 0, t_x ≤ T) as the nightly path does (valueRowOf), so an order
 *   dated ahead of the clock within the accepted skew never throws (issue #9 B5).
 */
export function computeTraits(
  features: CustomerFeatures,
  value: StoredValueModel | null,
  previousStage: LifecycleStage | null,
  settings: Settings['value'],
): Traits {
  if (features.orders === 0) {
    return {
      pAlive: 0,
      churnRisk: null,
      expectedOrders90d: null,
      expectedSpend: null,
      clv: null,
      lifecycleStage: 'prospect',
    };
  }
  const model = value ?? priorModel();
  const { x, tx, T, meanRepeatSpend } = features.purchase;
  const v = predictorFor(model, settings)(clampValueRow({ x, tx, T, meanSpend: x > 0 ? meanRepeatSpend : 0 }));
  const pAlive = v.pAlive;
  const stage = stageFor(features, pAlive, previousStage);
  return {
    pAlive,
    churnRisk: 1 - pAlive,
    expectedOrders90d: Math.max(0, v.expectedOrders90d),
    expectedSpend: Math.max(0, v.expectedSpend),
    clv: Math.max(0, v.clv),
    lifecycleStage: stage,
  };
}

/** How many value models' predictors `predictorFor` keeps (tonight's and the active one, with room to spare). */
const PREDICTORS = 4;
/** Entries of each predictor's (x, T) memo: T is whole days in weeks, so a store's customers share few of them. */
const PREDICTOR_CACHE = 20_000;
const predictors = new Map<string, (c: ValueRow) => CustomerValue>();

/**
 * The memoising predictor (createValuePredictor: exactly customerValue) of a value model under these options, kept
 * across calls: the discounted CLV sums 52 weekly BG/NBD expectations, each a hypergeometric series, and was the
 * largest cost of evaluating a customer (28 s of the Online Retail replay's nightly runs). Keyed by the parameters,
 * not the object, so a model read again from the table reuses it.
 */
function predictorFor(model: StoredValueModel, settings: Settings['value']): (c: ValueRow) => CustomerValue {
  const { bgnbd: b, gammaGamma: g } = model;
  const key = `${b.r},${b.alpha},${b.a},${b.b},${g.p},${g.q},${g.v},${settings.horizonWeeks},${settings.discountRatePerWeek}`;
  let predict = predictors.get(key);
  if (!predict) {
    predict = createValuePredictor(
      model,
      { horizonWeeks: settings.horizonWeeks, discountRatePerWeek: settings.discountRatePerWeek },
      PREDICTOR_CACHE,
    );
    if (predictors.size >= PREDICTORS) predictors.delete(predictors.keys().next().value!);
    predictors.set(key, predict);
  }
  return predict;
}

/**
 * P(alive) and the lifecycle stage alone, exactly as `computeTraits` derives them (the same clamped row, the same
 * BG/NBD P(alive), the same stage rule), without the expected orders, spend and CLV: what the nightly change index
 * probes many times per customer (shared/customer/due.ts).
 */
export function stageOf(
  features: CustomerFeatures,
  value: StoredValueModel | null,
  previousStage: LifecycleStage | null,
): { pAlive: number; stage: LifecycleStage } {
  if (features.orders === 0) return { pAlive: 0, stage: 'prospect' };
  const model = value ?? priorModel();
  const { x, tx, T, meanRepeatSpend } = features.purchase;
  const row = clampValueRow({ x, tx, T, meanSpend: x > 0 ? meanRepeatSpend : 0 });
  const pAlive = bgnbdPAlive(model.bgnbd, row.x, row.tx, row.T);
  return { pAlive, stage: stageFor(features, pAlive, previousStage) };
}

/** The lifecycle stage of a buyer with this P(alive) (the one rule both `computeTraits` and `stageOf` apply). */
function stageFor(features: CustomerFeatures, pAlive: number, previousStage: LifecycleStage | null): LifecycleStage {
  return lifecycleStage({
    tenureDays: features.tenureDays,
    pAlive,
    ordersTotal: features.orders,
    daysSinceLastOrder: features.daysSinceLastOrder,
    previousStage,
  });
}

let prior: StoredValueModel | null = null;
/** With no data, the value fit falls back to its documented priors (the published CDNOW estimates). */
function priorModel(): StoredValueModel {
  prior ??= fitValueModel([]);
  return prior;
}
