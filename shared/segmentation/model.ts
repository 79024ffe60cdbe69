import type { CatalogueEntry, RenamedSegment } from '../contracts/catalogue';
import type { ValueModel } from '../value/clv';
import type { RfmBreakpoints } from '../value/rfm';
import type { ModelQuality, SegmentProfile } from '../contracts/outbound';
import type { DriftReference } from './drift';

/** Parameters of the customer-value models stored with each segmentation model version (weeks). */
export type StoredValueModel = ValueModel;

/** A robust scaler: (x - center) / scale, clipped to ±clip. Fitted nightly on the sample. */
export interface RobustScaler {
  center: number[];
  scale: number[];
  clip: number;
}

/**
 * One version of the segmentation model. Stored as MODEL / V#<n>; MODEL / ACTIVE points at the live one.
 * Centroids live in the weighted vector space built by `buildVector` (behaviour block, then interest block).
 */
export interface SegmentationModel {
  version: number;
  runId: string;
  createdAt: string;
  featureNames: string[];
  scaler: RobustScaler;
  weights: { behaviour: number; interest: number };
  embeddingDim: number;
  /** Full vector dimension: featureNames.length + embeddingDim. */
  dim: number;
  k: number;
  /** Row-major k × dim. */
  centroids: number[];
  segmentIds: string[];
  names: string[];
  /** Temperature of the soft assignment softmax(-d²/τ). */
  tau: number;
  profiles: SegmentProfile[];
  quality: ModelQuality;
  retiredSegmentIds: string[];
  /** Next number for a brand-new segment id (ids are never reused). */
  nextSegmentNumber: number;
  value: StoredValueModel;
  /** One catalogue entry per segment, in segmentIds order (absent on models stored before the catalogue). */
  catalogue?: CatalogueEntry[];
  /**
   * Squared distance (in this model's vector space) to the nearest centroid beyond which an assignment is "far from
   * every centroid": the `drift.farQuantile` quantile (0.99 by default) of the training sample. The real-time path
   * counts assignments with d²(nearest) > farDistance2 as an early drift signal. Absent on models fitted before it.
   */
  farDistance2?: number;
  /** What drift is measured against on the following nights (absent on older models: no drift is measured). */
  driftReference?: DriftReference;
  /** Segments that kept their id but changed name in this version (the id's previous name in the previous model). */
  renamedSegments?: RenamedSegment[];
  /** RFM quintile breakpoints over the sample's buyers (null: too few buyers; absent on older models). */
  rfm?: RfmBreakpoints | null;
  /**
   * How the night places customers with this version (shared/recluster/placement.ts): `clock`, the model clock (a
   * monotone sum over versions of how far the model moved), and `full`, why every customer must be re-placed (null:
   * only those due by time or whose breakAt the clock passed). Absent on models fitted before the change index.
   */
  placement?: ModelPlacement;
}

export interface ModelPlacement {
  /** Centroid clock: Σ over versions of the largest centroid shift (vector space units). */
  clock: number;
  /** Value clock: Σ over versions of the largest P(alive) change a refitted value model made over the sample. */
  valueClock: number;
  full: string | null;
  /** Largest distance any centroid moved from the previous version (vector space units; null on a full night). */
  centroidShift: number | null;
  /** Largest P(alive) change the new value model makes over the sample (null on a full night). */
  pAliveShift: number | null;
}

export function segmentIdFor(n: number): string {
  return `seg-${String(n).padStart(3, '0')}`;
}
