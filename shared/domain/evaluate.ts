import { createHash } from 'node:crypto';
import type { ChangeReason, LifecycleStage, Traits } from '../contracts/outbound';
import type { Settings } from '../config/settings';
import type { Assignment, CustomerProfile, OutboxEntry } from '../ports/stores';
import type { SegmentationModel } from '../segmentation/model';
import { assignWithHysteresis, softAssign, topProbabilities } from './assign';
import type { CustomerFeatures } from './features';
import { computeTraits } from './traits';
import { behaviourRow, buildVector } from './vector';

/** A short, stable dedupe key: the same change always gets the same key, whoever publishes it and how often. */
export function dedupeKey(...parts: (string | number)[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 22);
}

export interface Evaluation {
  profile: CustomerProfile;
  changes: OutboxEntry[];
  segmentChanged: boolean;
  lifecycleChanged: boolean;
}

/**
 * Places a customer given fresh features: traits, lifecycle stage, segment (with hysteresis within a
 * model version, the aligned id across versions), and the change events to publish. Pure.
 * `previous` is the stored profile; the result carries rev = previous.rev + 1 and the previous outbox
 * plus any new changes.
 */
export function evaluateCustomer(input: {
  customerId: string;
  features: CustomerFeatures;
  previous: CustomerProfile | null;
  model: SegmentationModel | null;
  now: Date;
  settings: Pick<Settings, 'hysteresis' | 'value'>;
  reason: ChangeReason;
}): Evaluation {
  const { customerId, features, previous, model, now, settings, reason } = input;
  const rev = (previous?.rev ?? 0) + 1;
  const nowIso = now.toISOString();
  const traits: Traits = computeTraits(
    features,
    model?.value ?? null,
    previous?.lifecycleStage ?? null,
    settings.value,
  );
  const changes: OutboxEntry[] = [];

  let assignment: Assignment | null = previous?.assignment ?? null;
  let segmentChanged = false;
  if (model) {
    const vector = buildVector(behaviourRow(features), features.interest, model);
    const soft = softAssign(vector, model);
    const decision = assignWithHysteresis({
      current: previous?.assignment ?? null,
      soft,
      model,
      now,
      settings: settings.hysteresis,
      newModelDecides: reason === 'recluster',
    });
    const index = model.segmentIds.indexOf(decision.segmentId);
    const top = topProbabilities(soft, model.segmentIds);
    assignment = {
      segmentId: decision.segmentId,
      modelVersion: model.version,
      since: decision.move ? nowIso : (previous?.assignment?.since ?? nowIso),
      distance: Math.sqrt(soft.d2[index] ?? 0),
      confidence: soft.probabilities[index] ?? 0,
      topProbabilities: top,
    };
    if (decision.move) {
      segmentChanged = true;
      const key = dedupeKey(customerId, 'segment.changed', rev);
      const fromName = decision.from ? (previous?.assignment ? nameOf(decision.from, model) : null) : null;
      changes.push({
        dedupeKey: key,
        event: {
          detailType: 'segment.changed',
          detail: {
            customerId,
            from: decision.from ? { segmentId: decision.from, name: fromName ?? decision.from } : null,
            to: { segmentId: decision.segmentId, name: nameOf(decision.segmentId, model) ?? decision.segmentId },
            modelVersion: model.version,
            confidence: assignment.confidence,
            topProbabilities: top,
            reason: decision.why === 'new_model' || decision.why === 'retired' ? 'recluster' : reason,
            traits,
            changedAt: nowIso,
            dedupeKey: key,
          },
        },
      });
    }
  }

  const stage: LifecycleStage = traits.lifecycleStage;
  const lifecycleChanged = stage !== (previous?.lifecycleStage ?? null);
  if (lifecycleChanged) {
    const key = dedupeKey(customerId, 'lifecycle.changed', rev);
    changes.push({
      dedupeKey: key,
      event: {
        detailType: 'lifecycle.changed',
        detail: {
          customerId,
          from: previous?.lifecycleStage ?? null,
          to: stage,
          pAlive: traits.pAlive,
          changedAt: nowIso,
          dedupeKey: key,
        },
      },
    });
  }

  return {
    profile: {
      customerId,
      rev,
      updatedAt: nowIso,
      features,
      assignment,
      traits,
      lifecycleStage: stage,
      outbox: [...(previous?.outbox ?? []), ...changes],
    },
    changes,
    segmentChanged,
    lifecycleChanged,
  };
}

function nameOf(segmentId: string, model: SegmentationModel): string | null {
  const i = model.segmentIds.indexOf(segmentId);
  if (i >= 0) return model.names[i] ?? null;
  return null;
}
