import type { Settings } from '../config/settings';
import type { ChangeReason } from '../contracts/outbound';
import { refreshFeatures, type FeatureSettings, type LoggedEvent } from '../domain/features';
import type { ModelCache } from '../ports/models';
import type { SegmentationModel } from '../segmentation/model';
import { nightlyMarks } from './due';
import { evaluateCustomer, type Evaluation } from './evaluate';
import { foldState } from './fold';
import type { Written } from './outbox';
import type { CustomerProfile } from './profile';
import {
  FEATURE_VERSION,
  addInterest,
  applyEvent,
  cloneState,
  emptyState,
  featuresOf,
  type CustomerState,
} from './state';
import { toBase } from './money-time';
import { eventKey, type EventLog, type ProfileStore } from './store';

export const MAX_WRITE_ATTEMPTS = 6;

/**
 * The one optimistic write of the customer aggregate, used by ingest, the nightly assign and erasure: read (or take
 * the prefetched profile), decide, write conditionally on the revision read; on a conflict read again and decide
 * again. `decide` returns null when nothing needs writing. Throws after MAX_WRITE_ATTEMPTS conflicts.
 */
export async function writeOptimistically<T extends { profile: CustomerProfile }>(
  customerId: string,
  profiles: ProfileStore,
  prefetched: CustomerProfile | null | undefined,
  decide: (current: CustomerProfile | null, attempt: number) => Promise<T | null>,
): Promise<{ result: T | null; current: CustomerProfile | null; conflicts: number }> {
  let current = prefetched;
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    if (current === undefined || attempt > 0) current = await profiles.get(customerId);
    const result = await decide(current, attempt);
    if (!result) return { result: null, current, conflicts: attempt };
    if ((await profiles.put(result.profile, current?.rev ?? null)) === 'written') {
      return { result, current, conflicts: attempt };
    }
  }
  throw new Error(`customer ${customerId}: profile write kept conflicting`);
}

export interface ApplyDeps {
  profiles: ProfileStore;
  eventLog: EventLog;
  models: ModelCache;
  settings: Settings;
}

/** Feature settings for tools that read profiles without a stage's settings (ids and segments only). */
export const DEFAULT_FEATURE_SETTINGS: FeatureSettings = { activityHalfLifeDays: 3, interestHalfLifeDays: 3 };

/** Feature settings of a stage: half-lives, the time zone of purchase days and the currency. */
export function featureSettingsOf(settings: Settings): FeatureSettings {
  return { ...settings.features, currency: settings.currency };
}

export interface ApplyOutcome {
  /** The profile as written (null when nothing needed writing), with the ids to confirm as logged. */
  written: Written | null;
  /** Events to append to the log: the new ones, and ones applied earlier whose log write had not landed. */
  toLog: LoggedEvent[];
  /** The new events this write applied to the state. */
  fresh: LoggedEvent[];
  /** New order and refund events whose currency has no rate: in the log, out of money features. */
  unpriced: number;
  /** Events dated at or before the customer's erasure: dropped; those found in the log must be deleted. */
  droppedErased: LoggedEvent[];
  duplicates: number;
  evaluation: Evaluation | null;
  conflicts: number;
}

/**
 * Merges a batch's events for one customer into its state: drops events dated at or before an erasure, finds
 * duplicates without reading the history (the batch's own ids looked up in the log, plus the ids on the profile that
 * were applied but not yet logged), applies only the new ones, merges texts that could not be embedded before
 * (`embedded` holds what the batch's one embedding call returned for them), evaluates and writes conditionally.
 * Reads and writes do not depend on how many events the customer has. A state of an older feature version is rebuilt
 * from the log first (a one-time refold).
 */
export async function applyEvents(
  input: {
    customerId: string;
    events: readonly LoggedEvent[];
    prefetched: CustomerProfile | null | undefined;
    /** The log lookup of the batch's event ids and of the profile's `unlogged` ids (keys: `eventKey`). */
    logged: ReadonlySet<string>;
    embedded: ReadonlyMap<string, Float32Array | null>;
    now: Date;
    reason?: ChangeReason;
    /** Rebuild the state from the whole log first, whatever its feature version (`npx shoal refold`). */
    refold?: boolean;
  },
  deps: ApplyDeps,
): Promise<ApplyOutcome> {
  const { customerId, now } = input;
  const featureSettings = featureSettingsOf(deps.settings);
  let logged = input.logged;
  let outcome: Omit<ApplyOutcome, 'written' | 'evaluation' | 'conflicts'> = {
    toLog: [],
    fresh: [],
    unpriced: 0,
    droppedErased: [],
    duplicates: 0,
  };
  let evaluation: Evaluation | null = null;
  const { result, current, conflicts } = await writeOptimistically(
    customerId,
    deps.profiles,
    input.prefetched,
    async (current, attempt) => {
      if (attempt > 0) {
        logged = await deps.eventLog.loggedIds([
          ...input.events.flatMap((e) => idsOf(customerId, e)),
          ...(current?.unlogged ?? []).map((eventId) => ({ customerId, eventId })),
        ]);
      }
      // Merged into another customer meanwhile: the records go back to the queue and are routed to the survivor.
      if (current?.aliasOf !== undefined) throw new AliasedMeanwhile(customerId, current.aliasOf);
      const erasedT = current?.erasedAt ? Date.parse(current.erasedAt) : -Infinity;
      const unlogged = new Set(current?.unlogged ?? []);
      const seen = new Set<string>();
      const fresh: LoggedEvent[] = [];
      const relog: LoggedEvent[] = [];
      const droppedErased: LoggedEvent[] = [];
      let duplicates = 0;
      for (const e of input.events) {
        const id = e.event.detail.eventId;
        if (Date.parse(e.event.detail.occurredAt) <= erasedT) {
          droppedErased.push(e);
          continue;
        }
        if (seen.has(id)) {
          duplicates += 1;
          continue;
        }
        seen.add(id);
        if (idsOf(customerId, e).some((k) => logged.has(eventKey(k.customerId, k.eventId)))) duplicates += 1;
        else if (unlogged.has(id)) {
          duplicates += 1;
          relog.push(e);
        } else fresh.push(e);
      }
      outcome = {
        toLog: [...fresh, ...relog],
        fresh,
        unpriced: fresh.filter((e) => isUnpriced(e, featureSettings)).length,
        droppedErased,
        duplicates,
      };

      // Ids left in `unlogged` by a write whose settle failed: those the log holds now are done with.
      // Ids of earlier writes that the log holds now (the caller looked them up with the batch's own): done with.
      const batchIds = new Set(input.events.map((e) => e.event.detail.eventId));
      for (const id of [...unlogged])
        if (!batchIds.has(id) && logged.has(eventKey(customerId, id))) unlogged.delete(id);

      const stale = current !== null && (input.refold === true || current.state.v < FEATURE_VERSION);
      let state: CustomerState;
      if (!current) state = emptyState();
      else if (stale) state = await rebuildState(customerId, current, deps.eventLog, featureSettings);
      else state = cloneState(current.state);
      const merged = mergePending(state, input.embedded, featureSettings);
      if (fresh.length === 0 && !stale && !merged) return null;
      for (const e of fresh) applyEvent(state, e.event, e.embedding, featureSettings);

      const model: SegmentationModel | null = await deps.models.forProfile(current?.assignment?.modelVersion);
      const features = featuresOf(state, now, featureSettings);
      evaluation = evaluateCustomer({
        customerId,
        state,
        features,
        previous: current,
        epoch: current?.epoch ?? 0,
        erasedAt: current?.erasedAt ?? null,
        model,
        now,
        settings: deps.settings,
        reason: input.reason ?? 'event',
        claim: true,
        ...(fresh.length ? { cause: latestEventId(fresh) } : {}),
      });
      evaluation.profile.unlogged = [...new Set([...unlogged, ...fresh.map((e) => e.event.detail.eventId)])].sort();
      // The write marks its customer in the nightly change index itself, as of now, with the model that placed it:
      // the night re-reads it (touched: its sample row changed) but evaluates it only when these marks come due, or
      // when tonight's model moved further than its slack. The probes bring the features forward in time without
      // re-deriving them from the state (5 µs against 170 µs a probe).
      evaluation.profile.nightly = nightlyMarks({
        featuresAt: (t) => refreshFeatures(features, now, t, featureSettings),
        assignment: evaluation.profile.assignment,
        stage: evaluation.profile.lifecycleStage,
        model,
        at: now,
        clock: model?.placement?.clock ?? 0,
        valueClock: model?.placement?.valueClock ?? 0,
        settings: deps.settings,
        betweenNights: true,
      });
      evaluation.profile.touchedAt = now.getTime();
      return evaluation;
    },
  );
  const loggedIds = outcome.toLog.map((e) => e.event.detail.eventId);
  let written: Written | null = null;
  if (result) written = { profile: result.profile, logged: loggedIds, ours: true };
  else if (current && loggedIds.length) written = { profile: current, logged: loggedIds, ours: false };
  return { ...outcome, written, evaluation: result ? evaluation : null, conflicts };
}

/** The customer became an alias while a batch for it was in flight (its records are retried under the survivor). */
export class AliasedMeanwhile extends Error {
  override readonly name = 'AliasedMeanwhile';
  constructor(customerId: string, survivor: string) {
    super(`customer ${customerId} was merged into ${survivor}`);
  }
}

/** The id of the latest event (by event time, then id): the one a transition names as its cause. */
function latestEventId(events: readonly LoggedEvent[]): string {
  let best = events[0]!;
  for (const e of events) {
    const t = Date.parse(e.event.detail.occurredAt);
    const b = Date.parse(best.event.detail.occurredAt);
    if (t > b || (t === b && e.event.detail.eventId > best.event.detail.eventId)) best = e;
  }
  return best.event.detail.eventId;
}

function isUnpriced({ event }: LoggedEvent, settings: FeatureSettings): boolean {
  if (event.type !== 'order.placed' && event.type !== 'order.refunded') return false;
  return toBase(1, event.detail.currency, settings) === null;
}

/** Where the log may hold the event: under this customer, and (an alias's event routed here) under the id it was sent for. */
function idsOf(customerId: string, e: LoggedEvent) {
  const { eventId, customerId: sentFor } = e.event.detail;
  return sentFor === customerId
    ? [{ customerId, eventId }]
    : [
        { customerId, eventId },
        { customerId: sentFor, eventId },
      ];
}

/**
 * Texts that could not be embedded earlier and now have an embedding (or were refused by the model on their own) are
 * merged into the interest sum. Returns whether anything changed.
 */
function mergePending(
  state: CustomerState,
  embedded: ReadonlyMap<string, Float32Array | null>,
  settings: FeatureSettings,
): boolean {
  if (state.pending.length === 0) return false;
  const left = [];
  for (const p of state.pending) {
    if (!embedded.has(p.text)) {
      left.push(p);
      continue;
    }
    const v = embedded.get(p.text);
    if (v) addInterest(state, v, p.w, p.t, settings);
    else state.notEmbeddable += 1;
  }
  const changed = left.length !== state.pending.length;
  state.pending = left;
  return changed;
}

/**
 * The state rebuilt from the whole log, for a profile written before the current feature definitions: the customer's
 * own log and the logs of the ids merged into it (an alias's events before its merge stay under its id).
 */
async function rebuildState(
  customerId: string,
  current: CustomerProfile,
  eventLog: EventLog,
  settings: FeatureSettings,
): Promise<CustomerState> {
  const erasedT = current.erasedAt ? Date.parse(current.erasedAt) : -Infinity;
  const logs = await Promise.all([customerId, ...(current.mergedFrom ?? [])].map((id) => eventLog.load(id)));
  const log = logs.flat().filter((e) => Date.parse(e.event.detail.occurredAt) > erasedT);
  return foldState(log, settings);
}

/**
 * Rebuilds every customer's state from its event log (after a feature definition changed) and re-evaluates it: the
 * one place where the cost is the history's. Customers are visited by a parallel scan of `totalShards` segments; the
 * write is the usual optimistic one, so the real-time path may run meanwhile. Returns how many were rebuilt, and how
 * many moved segment or stage (their changes are queued in the outbox as usual).
 */
export async function refoldAll(
  deps: ApplyDeps,
  opts: { now: () => Date; shard?: number; totalShards?: number; onProgress?: (done: number) => void },
): Promise<{ customers: number; segmentChanged: number; lifecycleChanged: number }> {
  const tally = { customers: 0, segmentChanged: 0, lifecycleChanged: 0 };
  for await (const profile of deps.profiles.scanShard(opts.shard ?? 0, opts.totalShards ?? 1)) {
    const outcome = await applyEvents(
      {
        customerId: profile.customerId,
        events: [],
        prefetched: profile,
        logged: new Set(),
        embedded: new Map(),
        now: opts.now(),
        refold: true,
      },
      deps,
    );
    tally.customers += 1;
    if (outcome.evaluation?.segmentChanged) tally.segmentChanged += 1;
    if (outcome.evaluation?.lifecycleChanged) tally.lifecycleChanged += 1;
    opts.onProgress?.(tally.customers);
  }
  return tally;
}
