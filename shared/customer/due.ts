import type { Settings } from '../config/settings';
import type { LifecycleStage } from '../contracts/outbound';
import { assignWithHysteresis, reclusterMarginOf, softAssign } from '../domain/assign';
import type { CustomerFeatures } from '../domain/features';
import { stageOf } from '../domain/traits';
import { behaviourRow, buildVector } from '../domain/vector';
import type { SegmentationModel } from '../segmentation/model';
import { DEFAULT_LIFECYCLE_THRESHOLDS } from '../value/lifecycle';
import type { Assignment, NightlyMarks } from './profile';
import { hasEvidence } from './evaluate';

const DAY_MS = 86_400_000;

/** Days ahead at which the nightly decision is probed (dense first: a change found late is found again sooner). */
export const DUE_PROBE_DAYS = [1, 2, 3, 5, 8, 13, 21, 34] as const;
/** Nobody goes longer than this without a nightly evaluation (days): traits stay fresh, and a missed change is caught. */
export const DUE_CAP_DAYS = 35;
/** Margin before a probe instant (ms): a night scheduled a little before the probe's instant still takes it. */
export const DUE_EARLY_MS = 3_600_000;

/** What a night decides for a customer, as far as consumers see it: its segment and its lifecycle stage. */
export interface NightDecision {
  segmentId: string | null;
  stage: LifecycleStage;
  /** How far every centroid may move (vector space units) before the segment could change (∞: no model). */
  segmentSlack: number;
  /** How far P(alive) may move (a refitted value model) before the stage could change (∞: a prospect). */
  valueSlack: number;
}

/**
 * The night's decision for a customer at one instant with a fixed model, the way AssignShard decides it
 * (`evaluateCustomer` with reason 'recluster': a later night's model is another version, so the aligned id decides
 * with the re-cluster margin), plus its slack against a model change:
 * - segment: with s = √(1 − m) (m: the re-cluster margin), the customer stays in segment a while d_c ≥ s·d_a for every other c. If every
 *   centroid moves by at most δ, d_c falls by at most δ and d_a grows by at most δ (triangle inequality), so it stays
 *   while δ ≤ min_c (d_c − s·d_a)/(1 + s);
 * - stage: it depends on the model only through P(alive), so it stays while P(alive) moves less than its distance to
 *   the nearest stage threshold (lapsed 0.3, at risk 0.6).
 * Pure.
 */
export function nightDecision(input: {
  features: CustomerFeatures;
  assignment: Assignment | null;
  stage: LifecycleStage | null;
  model: SegmentationModel | null;
  at: Date;
  settings: Pick<Settings, 'hysteresis' | 'value'> & Partial<Pick<Settings, 'placement'>>;
}): NightDecision {
  const { features, model, settings } = input;
  const traits = stageOf(features, model?.value ?? null, input.stage);
  let valueSlack = Number.POSITIVE_INFINITY;
  if (features.orders > 0) {
    const th = DEFAULT_LIFECYCLE_THRESHOLDS;
    valueSlack = Math.min(Math.abs(traits.pAlive - th.lapsedPAlive), Math.abs(traits.pAlive - th.atRiskPAlive));
  }
  let segmentSlack = Number.POSITIVE_INFINITY;
  let segmentId = input.assignment?.segmentId ?? null;
  // Before the placement gate a customer has no segment: the probes find the night it passes (its tenure grows).
  if (model && (input.assignment || hasEvidence(features, settings.placement))) {
    const soft = softAssign(buildVector(behaviourRow(features), features.interest, model), model);
    const decision = assignWithHysteresis({
      current: input.assignment,
      soft,
      // A later night places the customer with another version of this model.
      model: { ...model, version: model.version + 1 },
      now: input.at,
      settings: settings.hysteresis,
      newModelDecides: true,
    });
    segmentId = decision.segmentId;
    const a = model.segmentIds.indexOf(segmentId);
    const s = Math.sqrt(Math.max(0, 1 - reclusterMarginOf(settings.hysteresis)));
    const da = Math.sqrt(soft.d2[a] ?? 0);
    for (let c = 0; c < model.k; c++) {
      if (c === a) continue;
      segmentSlack = Math.min(segmentSlack, (Math.sqrt(soft.d2[c]!) - s * da) / (1 + s));
    }
  }
  return { segmentId, stage: traits.stage, segmentSlack: Math.max(0, segmentSlack), valueSlack };
}

/**
 * Where a customer just evaluated by the night goes in the nightly change index: the earliest instant its segment or
 * stage could change with no new event and no model change (`dueAt`), and the clocks past which a model change could
 * change it: moved centroids (`breakAt`, on the centroid clock) or a refitted value model (`valueBreakAt`, on the
 * value clock; see `placementOf`).
 *
 * Features are time-dependent (recency grows, decayed counts shrink, P(alive) falls), so the same decision is
 * evaluated forward at the probe instants `at` + DUE_PROBE_DAYS, with `featuresAt` (the customer's features at an
 * instant: the as-of functions of its state). `dueAt` is the last probe before the first probe whose segment or stage
 * differs from tonight's (tomorrow when the first one differs), or `at` + DUE_CAP_DAYS, minus DUE_EARLY_MS. Each
 * break mark is its clock + the smallest slack over tonight and the probes up to `dueAt` (null when infinite: no
 * model, or a prospect). A night that refreshed traits only (its model was refused) passes the ACTIVE model: its
 * slack still bounds tomorrow's. Pure: the real-time path marks every customer it writes as of its event time
 * (`betweenNights`, with the model that placed it), and the night calls this for the customers it evaluates.
 */
export function nightlyMarks(input: {
  featuresAt: (at: Date) => CustomerFeatures;
  /** The profile as the night leaves it: its segment and stage are tonight's decision. */
  assignment: Assignment | null;
  stage: LifecycleStage | null;
  model: SegmentationModel | null;
  at: Date;
  /** The clocks of `model` (SegmentationModel.placement; 0 without one). */
  clock: number;
  valueClock: number;
  settings: Pick<Settings, 'hysteresis' | 'value'> & Partial<Pick<Settings, 'placement'>>;
  /**
   * Marks written by a real-time write, between two nights: a decision that differs tonight or at the first probe
   * makes the customer due at the next night (`at`), which may come before `at` + 1 day.
   */
  betweenNights?: boolean;
}): NightlyMarks {
  const at = input.at.getTime();
  const soon = input.betweenNights ? at : at + DUE_PROBE_DAYS[0] * DAY_MS;
  const decide = (t: number) =>
    nightDecision({
      features: input.featuresAt(new Date(t)),
      assignment: input.assignment,
      stage: input.stage,
      model: input.model,
      at: new Date(t),
      settings: input.settings,
    });
  const segmentId = input.assignment?.segmentId ?? null;
  const tonight = decide(at);
  let segmentSlack = tonight.segmentSlack;
  let valueSlack = tonight.valueSlack;
  let due = at + DUE_CAP_DAYS * DAY_MS;
  let lastSame = at;
  // A decision that already differs tonight (a night that kept traits only, or a move held back): tomorrow.
  if (tonight.segmentId !== segmentId || tonight.stage !== input.stage) due = soon;
  else
    for (const days of DUE_PROBE_DAYS) {
      const t = at + days * DAY_MS;
      const d = decide(t);
      if (d.segmentId !== segmentId || d.stage !== input.stage) {
        // Narrowed down day by day from the last probe that did not differ: the night after the last same day is
        // then the first that can see the change. Without it the customer was re-evaluated at each probe of a
        // shrinking bracket: three or four evaluations, each a read and a write, for one lifecycle change.
        for (let u = lastSame + DAY_MS; u < t; u += DAY_MS) {
          const du = decide(u);
          if (du.segmentId !== segmentId || du.stage !== input.stage) break;
          segmentSlack = Math.min(segmentSlack, du.segmentSlack);
          valueSlack = Math.min(valueSlack, du.valueSlack);
          lastSame = u;
        }
        due = lastSame === at ? soon : lastSame;
        break;
      }
      segmentSlack = Math.min(segmentSlack, d.segmentSlack);
      valueSlack = Math.min(valueSlack, d.valueSlack);
      lastSame = t;
    }
  const hasSegment = input.model !== null && input.assignment !== null;
  return {
    dueAt: due - DUE_EARLY_MS,
    breakAt: hasSegment && Number.isFinite(segmentSlack) ? input.clock + segmentSlack : null,
    valueBreakAt: Number.isFinite(valueSlack) ? input.valueClock + valueSlack : null,
  };
}
