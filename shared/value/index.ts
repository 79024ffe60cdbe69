/** Customer value models: BG/NBD, Gamma-Gamma, CLV, lifecycle stage, and calibration summaries. */
export {
  type BgNbdParams,
  type RfmRow,
  type BgNbdFit,
  type BgNbdFitOptions,
  type CompressedRfm,
  assertBgNbdParams,
  assertRfmRow,
  bgnbdLogLikelihood,
  bgnbdLogLikelihoodOne,
  bgnbdLogLikelihoodGradient,
  compressRfm,
  fitBgNbd,
  bgnbdPAlive,
  bgnbdExpectedPurchases,
  bgnbdExpectedPurchasesIfAlive,
  bgnbdConditionalExpectedPurchases,
  CDNOW_BGNBD_PARAMS,
} from './bgnbd';
export {
  type GammaGammaParams,
  type SpendRow,
  type GammaGammaFit,
  assertGammaGammaParams,
  isSpendRow,
  gammaGammaLogLikelihood,
  gammaGammaLogLikelihoodOne,
  gammaGammaLogLikelihoodGradient,
  fitGammaGamma,
  gammaGammaExpectedSpend,
  gammaGammaPopulationMean,
  CDNOW_GAMMA_GAMMA_PARAMS,
} from './gamma-gamma';
export {
  type ModelSource,
  type ValueModel,
  type ValueRow,
  type FitValueModelOptions,
  type CustomerValueOptions,
  type CustomerValue,
  DEFAULT_FIT_THRESHOLDS,
  NINETY_DAYS_IN_WEEKS,
  fitValueModel,
  customerValue,
  createValuePredictor,
  discountedOrdersIfAlive,
} from './clv';
export {
  type LifecycleStage,
  type LifecycleThresholds,
  type LifecycleInput,
  LIFECYCLE_STAGES,
  DEFAULT_LIFECYCLE_THRESHOLDS,
  lifecycleStage,
} from './lifecycle';
export {
  type Transaction,
  type CustomerSummary,
  dayNumber,
  compareIds,
  summarizeTransactions,
  parseCdnowTransactions,
  parseTransactionsCsv,
  parseSummaryCsv,
  formatFixed,
  formatSummaryCsv,
} from './summary';
export { hyp2f1, gammaln, digamma, lbeta, tanhSinh, type SeriesResult } from './special';
export {
  nelderMead,
  minimizeMultiStart,
  bfgs,
  type MinimizeResult,
  type MultiStartResult,
  type NelderMeadOptions,
} from './optimize';
export { simulateBgNbd, sampleGamma, type SimulatedCustomer, type SimulateOptions } from './simulate';
