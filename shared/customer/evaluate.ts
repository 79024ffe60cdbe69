import { createHash } from 'node:crypto';
import type { Settings } from '../config/settings';
import type { ChangeReason, LifecycleStage, Traits } from '../contracts/outbound';
import { assignWithHysteresis, softAssign, topProbabilities } from '../domain/assign';
import type { CustomerFeatures } from '../domain/features';
import { isHeldOut } from '../domain/holdout';
import { computeTraits } from '../domain/traits';
import { scoreRfm } from '../value/rfm';
import { behaviourRow, buildVector } from '../domain/vector';
import type { SegmentationModel } from '../segmentation/model';
import { HISTORY_LENGTH, type Assignment, type CustomerProfile, type OutboxEntry, type Transition } from './profile';
import type { CustomerState } from './state';

/** A short, stable dedupe key: the same change always gets the same key, whoever publishes it and how often. */
export function dedupeKey(...parts: (string | number)[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 22);
}

export interface Evaluation {
  profile: CustomerProfile;
  /** The changes this evaluation queued (after coalescing with unpublished ones). */
  changes: OutboxEntry[];
  segmentChanged: boolean;
  lifecycleChanged: boolean;
  /** The customer is farther from every centroid than the model's training sample mostly was (an early drift sign). */
  farFromCentroids: boolean;
}

/**
 * The placement gate: whether a customer has been seen long enough (days since its first event) and often enough
 * (events) to be placed in a first segment (`settings.placement`; absent: no gate). A placed customer stays placed.
 */
export function hasEvidence(
  features: Pick<CustomerFeatures, 'tenureDays' | 'eventCount'>,
  placement: Settings['placement'] | undefined,
): boolean {
  if (!placement) return true;
  return features.tenureDays >= placement.minTenureDays && features.eventCount >= placement.minEvents;
}

/** Unpublished entries are bounded: beyond this, the oldest unclaimed ones coalesce first (never more than this). */
export const OUTBOX_LIMIT = 16;

/**
 * Places a customer given its new state: features as of `now`, traits, lifecycle stage, segment (with hysteresis
 * within a model version, the aligned id across versions), and the change events to publish. Pure.
 *
 * The result is the next revision of the profile: rev + 1, the same epoch (the caller starts a new one after an
 * erasure), the previous outbox with the new changes coalesced into it, and the history extended. Dedupe keys are
 * derived from (customer, epoch, detail-type, rev), so a key never repeats for a different change.
 * `claim`: the writer will publish right after its write, so the new entries carry `claimedAt = now`.
 */
export function evaluateCustomer(input: {
  customerId: string;
  state: CustomerState;
  features: CustomerFeatures;
  previous: CustomerProfile | null;
  epoch: number;
  erasedAt: string | null;
  model: SegmentationModel | null;
  now: Date;
  settings: Pick<Settings, 'hysteresis' | 'value'> & Partial<Pick<Settings, 'holdout' | 'placement'>>;
  reason: ChangeReason;
  claim: boolean;
  /** Refresh traits and the lifecycle stage with `model`'s value parameters, keep the segment as it is. */
  traitsOnly?: boolean;
  /** What moved the customer, for the history: an event id, or a nightly run id. */
  cause?: string;
}): Evaluation {
  const { customerId, features, previous, model, now, settings, reason, epoch } = input;
  const rev = (previous?.rev ?? 0) + 1;
  const nowIso = now.toISOString();
  const live = previous && previous.epoch === epoch ? previous : null; // a new epoch starts from nothing
  const traits: Traits = {
    ...computeTraits(features, model?.value ?? null, live?.lifecycleStage ?? null, settings.value),
    rfm: scoreRfm(features, model?.rfm),
  };
  const changes: OutboxEntry[] = [];
  const claimedAt = input.claim ? nowIso : null;
  const claimRev = input.claim ? rev : null;

  let assignment: Assignment | null = live?.assignment ?? null;
  let segmentChanged = false;
  let farFromCentroids = false;
  if (model && !input.traitsOnly && (live?.assignment || hasEvidence(features, settings.placement))) {
    const vector = buildVector(behaviourRow(features), features.interest, model);
    const soft = softAssign(vector, model);
    const decision = assignWithHysteresis({
      current: live?.assignment ?? null,
      soft,
      model,
      now,
      settings: settings.hysteresis,
      newModelDecides: reason === 'recluster',
    });
    const index = model.segmentIds.indexOf(decision.segmentId);
    farFromCentroids = model.farDistance2 !== undefined && Math.min(...soft.d2) > model.farDistance2;
    const top = topProbabilities(soft, model.segmentIds);
    const toName = nameOf(decision.segmentId, model) ?? decision.segmentId;
    assignment = {
      segmentId: decision.segmentId,
      name: decision.move ? toName : (live?.assignment?.name ?? toName),
      modelVersion: model.version,
      since: decision.move ? nowIso : (live?.assignment?.since ?? nowIso),
      distance: Math.sqrt(soft.d2[index] ?? 0),
      confidence: soft.probabilities[index] ?? 0,
      topProbabilities: top,
    };
    if (decision.move) {
      segmentChanged = true;
      const key = dedupeKey(customerId, epoch, 'segment.changed', rev);
      // The name the customer was told it entered under, not the old id's name in the new model.
      const fromName = decision.from ? (live?.assignment?.name ?? nameOf(decision.from, model) ?? decision.from) : null;
      changes.push({
        dedupeKey: key,
        claimedAt,
        claimRev,
        modelVersion: model.version,
        event: {
          detailType: 'segment.changed',
          detail: {
            customerId,
            from: decision.from ? { segmentId: decision.from, name: fromName ?? decision.from } : null,
            to: { segmentId: decision.segmentId, name: toName },
            modelVersion: model.version,
            confidence: assignment.confidence,
            topProbabilities: top,
            reason: decision.why === 'new_model' || decision.why === 'retired' ? 'recluster' : reason,
            traits,
            holdout: isHeldOut(customerId, decision.segmentId, settings.holdout),
            changedAt: nowIso,
            dedupeKey: key,
          },
        },
      });
    }
  }

  const stage: LifecycleStage = traits.lifecycleStage;
  const lifecycleChanged = stage !== (live?.lifecycleStage ?? null);
  if (lifecycleChanged) {
    const key = dedupeKey(customerId, epoch, 'lifecycle.changed', rev);
    changes.push({
      dedupeKey: key,
      claimedAt,
      claimRev,
      event: {
        detailType: 'lifecycle.changed',
        detail: {
          customerId,
          from: live?.lifecycleStage ?? null,
          to: stage,
          pAlive: traits.pAlive,
          changedAt: nowIso,
          dedupeKey: key,
        },
      },
    });
  }

  const outbox = coalesce(previous?.outbox ?? [], changes, now, previous?.epoch === epoch);
  return {
    profile: {
      customerId,
      rev,
      epoch,
      updatedAt: nowIso,
      erasedAt: input.erasedAt,
      state: input.state,
      features,
      assignment,
      traits,
      lifecycleStage: stage,
      outbox,
      history: [...(live?.history ?? []), ...changes.map((c) => transitionOf(c, input.cause))].slice(-HISTORY_LENGTH),
      unlogged: previous?.unlogged ?? [],
      ...(live?.mergedFrom ? { mergedFrom: live.mergedFrom } : {}),
      ...(previous?.touchedAt !== undefined ? { touchedAt: previous.touchedAt } : {}),
    },
    changes: outbox.filter((e) => changes.some((c) => c.dedupeKey === e.dedupeKey)),
    segmentChanged,
    lifecycleChanged,
    farFromCentroids,
  };
}

/** How long a writer's claim on an outbox entry holds before the sweeper may publish it (ms). */
export const CLAIM_LEASE_MS = 60_000;

export function claimIsFresh(entry: OutboxEntry, now: Date): boolean {
  return !!entry.claimedAt && now.getTime() - Date.parse(entry.claimedAt) < CLAIM_LEASE_MS;
}

/**
 * Adds new changes to an outbox. An unpublished change that nobody is publishing right now (no fresh claim) and that
 * a new change of the same kind supersedes is coalesced: one entry from the first unpublished `from` to the latest
 * `to`, under the new entry's key; a round trip (A → B → A) cancels out. So while publishing is down, a customer's
 * outbox holds at most one segment change and one lifecycle change it has not claimed, and never freezes it.
 */
function coalesce(previous: OutboxEntry[], changes: OutboxEntry[], now: Date, sameEpoch: boolean): OutboxEntry[] {
  let out = [...previous];
  for (const change of changes) {
    const idx = sameEpoch
      ? out.findIndex((e) => e.event.detailType === change.event.detailType && !claimIsFresh(e, now))
      : -1;
    if (idx < 0) {
      out.push(change);
      continue;
    }
    const old = out[idx]!;
    out = out.filter((_, i) => i !== idx);
    const merged = mergeChange(old, change);
    if (merged) out.push(merged);
  }
  return out.slice(-OUTBOX_LIMIT);
}

function mergeChange(old: OutboxEntry, next: OutboxEntry): OutboxEntry | null {
  if (old.event.detailType === 'segment.changed' && next.event.detailType === 'segment.changed') {
    const from = old.event.detail.from;
    if (from && from.segmentId === next.event.detail.to.segmentId) return null;
    return { ...next, event: { ...next.event, detail: { ...next.event.detail, from } } };
  }
  if (old.event.detailType === 'lifecycle.changed' && next.event.detailType === 'lifecycle.changed') {
    const from = old.event.detail.from;
    if (from === next.event.detail.to) return null;
    return { ...next, event: { ...next.event, detail: { ...next.event.detail, from } } };
  }
  return next;
}

function transitionOf(entry: OutboxEntry, cause: string | undefined): Transition {
  return { ...transitionFields(entry), ...(cause === undefined ? {} : { cause }) };
}

function transitionFields(entry: OutboxEntry): Transition {
  const e = entry.event;
  if (e.detailType === 'segment.changed') {
    return {
      at: e.detail.changedAt,
      detailType: e.detailType,
      from: e.detail.from?.segmentId ?? null,
      to: e.detail.to.segmentId,
      reason: e.detail.reason,
      dedupeKey: entry.dedupeKey,
      modelVersion: e.detail.modelVersion,
    };
  }
  if (e.detailType === 'lifecycle.changed') {
    return {
      at: e.detail.changedAt,
      detailType: e.detailType,
      from: e.detail.from,
      to: e.detail.to,
      reason: 'value',
      dedupeKey: entry.dedupeKey,
    };
  }
  throw new Error(`not a customer change: ${e.detailType}`);
}

function nameOf(segmentId: string, model: SegmentationModel): string | null {
  const i = model.segmentIds.indexOf(segmentId);
  if (i >= 0) return model.names[i] ?? null;
  return null;
}
