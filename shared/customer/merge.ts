/**
 * The identity merge (`customer.merged`): two ids of one person, typically the anonymous id of a visitor who then
 * signed in (`fromCustomerId`) and the account's id (`toCustomerId`, the survivor).
 *
 * Without transactions (DynamoDB's single-item conditional writes only, as everywhere in the aggregate):
 * 1. The from-id's profile becomes an alias (`aliasOf` = the survivor), written conditionally on the revision read.
 *    Its state is frozen from then on: every writer that read it before fails its conditional write and, re-reading,
 *    finds the alias and hands its records back to the queue (`AliasedMeanwhile`); the ingest path routes every later
 *    event for the from-id to the survivor (`resolveAliases`). The alias drops its assignment (it leaves the audience
 *    export) and its outbox entries that nobody is publishing (the survivor's evaluation speaks for the person); an
 *    entry a writer claimed before the merge is left to that writer.
 * 2. The survivor absorbs the alias's frozen state exactly once: `mergeStates`, then one evaluation, so at most one
 *    `segment.changed` and one `lifecycle.changed`, for the survivor. The absorbed ids are recorded in `mergedFrom`
 *    (with the ids the alias had absorbed itself), which makes a redelivered merge a no-op.
 * 3. The alias's state is emptied: the survivor holds it now, and the alias keeps only the link.
 * A crash between 1 and 2 is repaired by the redelivery (step 1 finds the alias, step 2 absorbs it); one between 2 and
 * 3 leaves a copy on the alias that no feature reads (erasure of the group removes it). The survivor of a
 * chain (a → b, then b → c) is the end of the chain: a merge always absorbs into the current survivor of `to`.
 * The from-id's logged events stay under its id (the record); erasure and refold follow `mergedFrom`.
 */
import type { Settings } from '../config/settings';
import type { CustomerMerged } from '../contracts/inbound';
import type { ModelCache } from '../ports/models';
import { resolveAliases } from './alias';
import { claimIsFresh, evaluateCustomer } from './evaluate';
import { eraseCustomer } from './erase';
import type { Written } from './outbox';
import { MAX_MERGED_IDS, type CustomerProfile } from './profile';
import { emptyState, featuresOf, mergeStates } from './state';
import { eventKey, type EventLog, type ProfileStore } from './store';
import { featureSettingsOf, writeOptimistically } from './update';

export interface MergeDeps {
  profiles: ProfileStore;
  eventLog: EventLog;
  models: ModelCache;
  settings: Settings;
  quarantine?: { eraseCustomer?(customerId: string): Promise<number> };
}

/**
 * What a merge did: `merged` (absorbed now), `already` (a redelivery: nothing to do), or refused: `conflict` (the
 * from-id is already an alias of another survivor: the first merge wins), `cycle` (the target is itself an alias of
 * the from-id), `too_many` (the survivor already records MAX_MERGED_IDS ids), `erased` (the survivor was erased at or
 * after the merge: the from-id is erased too).
 */
export type MergeResult = 'merged' | 'already' | 'conflict' | 'cycle' | 'too_many' | 'erased' | 'unresolved';

export interface MergeOutcome {
  result: MergeResult;
  survivor: string | null;
  /** Profiles written with entries to publish (the survivor's changes; an erasure confirmation). */
  written: Written[];
}

export async function mergeCustomers(request: CustomerMerged, now: Date, deps: MergeDeps): Promise<MergeOutcome> {
  const from = request.fromCustomerId;
  const settings = featureSettingsOf(deps.settings);
  const resolved = await resolveAliases([from, request.toCustomerId], deps.profiles);
  const survivor = resolved.survivor.get(request.toCustomerId);
  if (survivor === undefined) return { result: 'unresolved', survivor: null, written: [] };
  if (survivor === from) return { result: 'cycle', survivor, written: [] };
  const fromRoot = resolved.survivor.get(from);
  const fromProfile = resolved.profiles.get(from) ?? null;
  if (fromProfile?.aliasOf !== undefined && fromRoot !== survivor) return { result: 'conflict', survivor, written: [] };
  const target = resolved.profiles.get(survivor) ?? null;
  if (target?.mergedFrom?.includes(from)) return { result: 'already', survivor, written: [] };
  if ((target?.mergedFrom?.length ?? 0) + (fromProfile?.mergedFrom?.length ?? 0) + 1 > MAX_MERGED_IDS) {
    return { result: 'too_many', survivor, written: [] };
  }
  if (target?.erasedAt && Date.parse(target.erasedAt) >= Date.parse(request.occurredAt)) {
    // The person asked to be forgotten after (or as) the ids were joined: the from-id goes too.
    const erased = await eraseCustomer(
      { ...request, customerId: from, occurredAt: target.erasedAt },
      undefined,
      now,
      deps,
      settings,
    );
    return { result: 'erased', survivor, written: erased.written ? [erased.written] : [] };
  }

  // 1. The from-id becomes an alias (its state frozen as it is now).
  const nowIso = now.toISOString();
  const alias = await writeOptimistically(from, deps.profiles, fromProfile, async (current) => {
    if (current?.aliasOf !== undefined) return null;
    const base: CustomerProfile = current ?? {
      customerId: from,
      rev: 0,
      epoch: 0,
      updatedAt: nowIso,
      erasedAt: null,
      state: emptyState(),
      features: featuresOf(emptyState(), now, settings),
      assignment: null,
      traits: null,
      lifecycleStage: null,
      outbox: [],
      history: [],
      unlogged: [],
    };
    return {
      profile: {
        ...base,
        rev: base.rev + 1,
        updatedAt: nowIso,
        aliasOf: survivor,
        assignment: null,
        traits: null,
        lifecycleStage: null,
        outbox: base.outbox.filter((e) => claimIsFresh(e, now)),
      },
    };
  });
  const frozen = alias.result?.profile ?? alias.current;
  if (!frozen || frozen.aliasOf !== survivor) return { result: 'conflict', survivor, written: [] };

  // Ids the alias applied but had not confirmed in its log, and that its log still lacks: the survivor keeps them, so
  // that a redelivery (now routed to the survivor) is found to be applied already and is logged, not applied again.
  const inLog = await deps.eventLog.loggedIds(frozen.unlogged.map((eventId) => ({ customerId: from, eventId })));
  const unloggedByAlias = frozen.unlogged.filter((id) => !inLog.has(eventKey(from, id)));

  // 2. The survivor absorbs the alias's state, once.
  let changed = false;
  const absorbed = await writeOptimistically(survivor, deps.profiles, target, async (current) => {
    if (current?.mergedFrom?.includes(from)) return null;
    if (current?.aliasOf !== undefined) throw new Error(`survivor ${survivor} became an alias meanwhile`);
    const state = mergeStates(current?.state ?? emptyState(), frozen.state, settings);
    const model = await deps.models.forProfile(current?.assignment?.modelVersion);
    const evaluation = evaluateCustomer({
      customerId: survivor,
      state,
      features: featuresOf(state, now, settings),
      previous: current,
      epoch: current?.epoch ?? 0,
      erasedAt: current?.erasedAt ?? null,
      model,
      now,
      settings: deps.settings,
      reason: 'event',
      claim: true,
    });
    changed = true;
    evaluation.profile.mergedFrom = [...new Set([...(current?.mergedFrom ?? []), ...(frozen.mergedFrom ?? []), from])];
    evaluation.profile.unlogged = [...new Set([...evaluation.profile.unlogged, ...unloggedByAlias])].sort();
    return evaluation;
  });
  if (!changed || !absorbed.result) return { result: 'already', survivor, written: [] };

  // 3. The survivor holds the alias's state now: the alias keeps only the link (no second copy of the person's data).
  await writeOptimistically(from, deps.profiles, frozen, async (current) => {
    if (current?.aliasOf !== survivor || current.state.events === 0) return null;
    const state = emptyState();
    return {
      profile: {
        ...current,
        rev: current.rev + 1,
        updatedAt: nowIso,
        state,
        features: featuresOf(state, now, settings),
        // Due at the next night, which drops the alias from the population (and then from the index).
        nightly: undefined,
      },
    };
  });
  return { result: 'merged', survivor, written: [{ profile: absorbed.result.profile, logged: [], ours: true }] };
}
