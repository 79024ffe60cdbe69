import type { CatalogueEntry } from '../../shared/contracts/catalogue';

/** Input of the self-contained HTML run report (see `renderReport`). */
export interface ReportSegment {
  id: string;
  name: string;
  size: number;
  share: number;
  meanOrders: number;
  meanRevenue: number;
  /** Medians: what the segment's name describes (a few big spenders move the means, not the name). */
  medianOrders?: number;
  medianRevenue?: number;
  meanClv: number | null;
  meanChurnRisk: number | null;
  topCategories: string[];
}

export interface ReportData {
  /** e.g. "Shoal local run — simulator, seed 7" */
  title: string;
  generatedAt: string;
  /** Key figures shown in the header (events ingested/rejected, customers, model version, k, quality, changes, timings). One level of nesting is flattened. */
  summary: Record<string, unknown>;
  segments: ReportSegment[];
  /** Segment sizes after each nightly run. */
  sizesOverTime: { day: string; segmentId: string; name: string; size: number }[];
  /** Between the last two models; `from`/`to` are segment names or ids, 'none' for new/left customers. */
  transitions: { from: string; to: string; count: number }[];
  /** 2-D projection of customers (sampled; more than MAX_PROJECTION_POINTS are thinned deterministically). */
  projection: { x: number; y: number; segmentId: string; name: string }[];
  qualityOverRuns: {
    run: number;
    day: string;
    silhouette: number;
    daviesBouldin: number;
    stability: number | null;
    k: number;
  }[];
  /** Per-customer CLV samples, drawn as a boxplot per segment. */
  clvBySegment: { segmentId: string; name: string; clv: number }[];
  /** The active model's segment catalogue: one card per segment (issue #12). */
  catalogue?: CatalogueEntry[];
  /** Per-segment profile heatmap (standardised means). */
  profiles?: { segmentId: string; name: string; feature: string; value: number }[];
  /** Segment moves per night by reason (event, recluster, retired, drift, erasure); see local/summary-metrics.ts. */
  movesByNight?: { day: string; reason: string; count: number }[];
  /** Nights whose model the quality gate refused, with its reasons joined. */
  refusedRuns?: { day: string; reasons: string }[];
  /** Nights that kept the active model (nothing fitted), with the reason ("no drift, refit in 3 nights"). */
  keptRuns?: { day: string; reason: string }[];
  /** Silhouette of each candidate k on the runs that searched k; `chosen` marks the k the run picked. */
  kScores?: { run: number; day: string; k: number; silhouette: number; chosen: boolean }[];
  /** The published model's value backtest (predicted vs actual holdout purchase days per calibration frequency). */
  backtest?: {
    holdoutWeeks: number;
    meanAbsoluteError: number;
    correlation: number | null;
    bins: { frequency: string; customers: number; predicted: number; actual: number }[];
  } | null;
}
