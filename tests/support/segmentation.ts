import type { Settings } from '../../shared/config/settings';
import type { StoredValueModel } from '../../shared/segmentation/model';

/** The nightly fit's settings for the segmentation unit tests: a small store (kMin 3), one shard; `over` changes any. */
export function reclusterSettings(over: Partial<Settings['recluster']> = {}): Settings['recluster'] {
  return {
    shardCount: 1,
    sampleSize: 2_000,
    kMin: 3,
    kMax: 8,
    nInit: 2,
    silhouetteSubsample: 500,
    minSegmentShare: 0.02,
    alignmentDistanceCap: 1,
    quality: { minSilhouette: 0.05, maxDaviesBouldin: 3, minStability: 0.5 },
    seed: 7,
    fullNights: false,
    refitEveryNights: 7,
    keepMaxCentroidShift: 0.05,
    ...over,
  };
}

/** The value model's literature priors (BG/NBD: Fader, Hardie & Lee 2005 CDNOW; Gamma-Gamma: Fader & Hardie 2013). */
export const PRIOR_VALUE: StoredValueModel = {
  bgnbd: { r: 0.24, alpha: 4.41, a: 0.79, b: 2.43, source: 'prior' },
  gammaGamma: { p: 6.25, q: 3.74, v: 15.44, source: 'prior' },
  timeUnit: 'weeks',
};
