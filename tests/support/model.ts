import type { Settings } from '../../shared/config/settings';
import { foldEvents } from '../../shared/customer/fold';
import { type LoggedEvent } from '../../shared/domain/features';
import { BEHAVIOUR_FEATURES, behaviourRow, buildVector } from '../../shared/domain/vector';
import { encodeText } from '../../shared/embedding/hashing-encoder';
import { eventText } from '../../shared/domain/features';
import type { InboundEvent } from '../../shared/contracts/inbound';
import type { SegmentationModel } from '../../shared/segmentation/model';

/** Embeds like the local server does, so test fixtures land where the real path puts them. */
export function withLocalEmbeddings(events: InboundEvent[], dimension: number): LoggedEvent[] {
  return events.map((event) => {
    const text = eventText(event);
    return { event, embedding: text === null ? null : encodeText(text, dimension) };
  });
}

/**
 * A hand-built model whose centroids are the vectors of prototype customers: enough to exercise the
 * real-time path without running the nightly fit.
 */
export function modelFromPrototypes(
  prototypes: { segmentId: string; name: string; events: InboundEvent[] }[],
  settings: Settings,
  asOf: Date,
  version = 1,
): SegmentationModel {
  const dim = settings.embedding.dimension;
  const scaler = { center: BEHAVIOUR_FEATURES.map(() => 0), scale: BEHAVIOUR_FEATURES.map(() => 1), clip: 5 };
  const weights = { behaviour: settings.vector.behaviourWeight, interest: settings.vector.interestWeight };
  const base = { scaler, weights, embeddingDim: dim };
  const centroids = prototypes.flatMap((p) => {
    const f = foldEvents(withLocalEmbeddings(p.events, dim), asOf, settings.features);
    return Array.from(buildVector(behaviourRow(f), f.interest, base));
  });
  return {
    version,
    runId: `test-${version}`,
    createdAt: asOf.toISOString(),
    featureNames: [...BEHAVIOUR_FEATURES],
    ...base,
    dim: BEHAVIOUR_FEATURES.length + dim,
    k: prototypes.length,
    centroids,
    segmentIds: prototypes.map((p) => p.segmentId),
    names: prototypes.map((p) => p.name),
    tau: 1,
    profiles: [],
    quality: { silhouette: 0.5, daviesBouldin: 1, stability: null },
    retiredSegmentIds: [],
    nextSegmentNumber: prototypes.length + 1,
    value: {
      bgnbd: { r: 0.2426, alpha: 4.4135, a: 0.7929, b: 2.4258, source: 'prior' },
      gammaGamma: { p: 6.25, q: 3.74, v: 15.45, source: 'prior' },
      timeUnit: 'weeks',
    },
  };
}
