import type { CustomerErased } from '../contracts/inbound';
import type { FeatureSettings } from '../domain/features';
import { resolveAliases } from './alias';
import { claimIsFresh, dedupeKey } from './evaluate';
import type { Written } from './outbox';
import type { CustomerProfile } from './profile';
import { emptyState, featuresOf } from './state';
import type { EventLog, ProfileStore } from './store';
import { writeOptimistically } from './update';

export interface EraseDeps {
  profiles: ProfileStore;
  eventLog: EventLog;
  /** Rejected records kept for the customer (optional: a store without per-customer quarantine erases none). */
  quarantine?: { eraseCustomer?(customerId: string): Promise<number> };
}

export interface EraseOutcome {
  /** The tombstone with `customer.erasure.completed` in its outbox (null: a repeated request, nothing to do). */
  written: Written | null;
  deletedByStore: Record<string, number>;
}

/**
 * Erases a customer and makes it hold:
 * 1. The profile becomes a tombstone (conditional on the revision read): every in-flight writer's conditional write
 *    fails, and events dated at or before the erasure instant are dropped whenever they arrive. The instant is the
 *    latest of the request's time and of every event held, so that nothing held survives. The next events start a
 *    new epoch.
 * 2. Every other item held for the customer goes: the event log and any history items (`table`), and the
 *    quarantined records naming it (`quarantine`).
 * 3. `customer.erasure.completed` goes into the tombstone's outbox, with the count per store, only after every store
 *    is done. If another writer still held a fresh claim on the profile's outbox (it may be publishing a change made
 *    before the erasure), the confirmation waits for that claim's lease and goes out through the sweeper, after it.
 * A redelivered request (the customer was erased at or after the request's time) changes nothing.
 */
export async function eraseCustomer(
  request: CustomerErased,
  prefetched: CustomerProfile | null | undefined,
  now: Date,
  deps: EraseDeps,
  settings: FeatureSettings,
): Promise<EraseOutcome> {
  const { customerId } = request;
  const requestT = Date.parse(request.occurredAt);
  const deletedByStore: Record<string, number> = { table: 0, quarantine: 0 };
  let heldClaim: string | null = null;
  const fence = await writeOptimistically(customerId, deps.profiles, prefetched, async (current) => {
    if (current?.erasedAt && Date.parse(current.erasedAt) >= requestT) return null;
    const lastT = current?.state.lastT ?? -Infinity;
    const erasedT = Math.max(requestT, lastT, current?.erasedAt ? Date.parse(current.erasedAt) : -Infinity);
    const fresh = (current?.outbox ?? []).filter((e) => claimIsFresh(e, now)).map((e) => e.claimedAt!);
    heldClaim = fresh.sort().at(-1) ?? null;
    return { profile: tombstone(customerId, current, new Date(erasedT), now, settings) };
  });
  if (!fence.result) return { written: null, deletedByStore };
  const fenced = fence.result.profile;

  deletedByStore.table = await deps.eventLog.eraseCustomer(customerId);
  deletedByStore.quarantine = (await deps.quarantine?.eraseCustomer?.(customerId)) ?? 0;

  const key = dedupeKey(customerId, 'customer.erasure.completed', request.eventId);
  const nowIso = now.toISOString();
  const itemsDeleted = Object.values(deletedByStore).reduce((a, b) => a + b, 0);
  const confirm = await writeOptimistically(customerId, deps.profiles, fenced, async (current) => {
    if (!current || current.epoch !== fenced.epoch) return null;
    return {
      profile: {
        ...current,
        rev: current.rev + 1,
        updatedAt: nowIso,
        outbox: [
          ...current.outbox,
          {
            dedupeKey: key,
            // Ours to publish now, or, while another writer may still be publishing, the sweeper's after its lease.
            claimedAt: heldClaim ?? nowIso,
            claimRev: heldClaim ? null : current.rev + 1,
            event: {
              detailType: 'customer.erasure.completed' as const,
              detail: {
                customerId,
                itemsDeleted,
                deletedByStore,
                erasedAt: fenced.erasedAt!,
                completedAt: nowIso,
                dedupeKey: key,
              },
            },
          },
        ],
      },
    };
  });
  const profile = confirm.result?.profile ?? null;
  return {
    written: profile && heldClaim === null ? { profile, logged: [], ours: true } : null,
    deletedByStore,
  };
}

function tombstone(
  customerId: string,
  current: CustomerProfile | null,
  erasedAt: Date,
  now: Date,
  settings: FeatureSettings,
): CustomerProfile {
  const state = emptyState();
  return {
    customerId,
    rev: (current?.rev ?? 0) + 1,
    epoch: (current?.epoch ?? 0) + 1,
    updatedAt: now.toISOString(),
    erasedAt: erasedAt.toISOString(),
    state,
    features: featuresOf(state, now, settings),
    assignment: null,
    traits: null,
    lifecycleStage: null,
    outbox: [],
    history: [],
    unlogged: [],
    // Kept (ids only) so that a redelivered erasure of the group still finds every merged id.
    ...(current?.mergedFrom ? { mergedFrom: current.mergedFrom } : {}),
  };
}

/**
 * Erasure of either id of a merged customer erases both (and every id of a chain of merges): the survivor (found by
 * following `aliasOf`) first, its tombstone keeping the list of merged ids, then every id it absorbed and every alias
 * on the way, each with its log, its quarantined records and its own `customer.erasure.completed`. An erased alias is
 * no alias any more: later events for its id start a new customer. A redelivered request completes what a crash left.
 */
export async function eraseMergedCustomer(
  request: CustomerErased,
  now: Date,
  deps: EraseDeps,
  settings: FeatureSettings,
): Promise<{ erased: string[]; outcomes: EraseOutcome[] }> {
  const resolved = await resolveAliases([request.customerId], deps.profiles);
  const survivor = resolved.survivor.get(request.customerId) ?? request.customerId;
  const root = resolved.profiles.get(survivor) ?? null;
  const group = [
    ...new Set([
      survivor,
      ...(root?.mergedFrom ?? []),
      ...[...resolved.profiles.values()].filter((p) => p.aliasOf !== undefined).map((p) => p.customerId),
      request.customerId,
    ]),
  ];
  const outcomes: EraseOutcome[] = [];
  for (const customerId of group) {
    const prefetched = resolved.profiles.get(customerId);
    outcomes.push(await eraseCustomer({ ...request, customerId }, prefetched, now, deps, settings));
  }
  return { erased: group, outcomes };
}
