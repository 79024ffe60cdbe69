import type { Publisher } from '../ports/stores';
import type { LogSink, MetricsSink } from '../ports/telemetry';
import { mapLimit } from '../util/concurrency';
import { CLAIM_LEASE_MS, claimIsFresh } from './evaluate';
import type { CustomerProfile, OutboxEntry } from './profile';
import type { ProfileStore, SettleOutcome } from './store';

export interface OutboxDeps {
  profiles: ProfileStore;
  publisher: Publisher;
  metrics: MetricsSink;
  log: LogSink;
}

/** A writer publishes what it claimed only while its claim is this young; later, the sweeper takes over. */
const WRITER_DEADLINE_MS = CLAIM_LEASE_MS / 2;

/**
 * Whether an entry may go out now: a segment change decided with a model version that is not active yet is held
 * (`activeVersion` null: no model is active, so held too); every other entry may.
 */
export function releasable(entry: OutboxEntry, activeVersion: number | null): boolean {
  return entry.modelVersion === undefined || (activeVersion !== null && entry.modelVersion <= activeVersion);
}

export interface Written {
  profile: CustomerProfile;
  /** Event ids this write applied or re-logged, now in the event log (dropped from `unlogged` on settle). */
  logged: string[];
  /** Whether this writer wrote the profile (and so holds its claims), or only confirms logged ids on it. */
  ours: boolean;
}

/**
 * Publishes what freshly written profiles claimed (PutEvents takes 10 entries per call, across customers), then
 * settles each profile that published something: one conditional update drops the published entries and logged ids
 * and moves the revision. A profile with nothing published is not written again (its logged ids leave `unlogged` on
 * its next write); it is returned in `unsettled`, for the caller's batched check that the customer was not erased
 * meanwhile. Entries claimed by someone else, held for an inactive model version, or past the writer's deadline are
 * left to the sweeper. Returns how many entries were deferred, and the customers found erased meanwhile (`gone`):
 * their writer must delete what it appended.
 */
export async function publishWritten(
  written: readonly Written[],
  deps: OutboxDeps,
  opts: { now: () => Date; activeVersion: number | null; concurrency?: number },
): Promise<{ deferred: number; gone: Set<string>; unsettled: Written[] }> {
  const now = opts.now();
  const mine = ({ profile: p, ours }: Written) =>
    (ours ? p.outbox : []).filter(
      (e) =>
        e.claimRev === p.rev &&
        now.getTime() - Date.parse(p.updatedAt) < WRITER_DEADLINE_MS &&
        releasable(e, opts.activeVersion),
    );
  const toSend = written.flatMap((w) => mine(w));
  const failed = await publishEntries(toSend, deps);
  const gone = new Set<string>();
  const unsettled: Written[] = [];
  await mapLimit(written, opts.concurrency ?? 8, async (w) => {
    const published = mine(w)
      .filter((e) => !failed.has(e.dedupeKey))
      .map((e) => e.dedupeKey);
    if (published.length === 0) {
      unsettled.push(w);
      return;
    }
    const outcome = await settleQuietly(w.profile, published, w.logged, deps);
    if (outcome === 'gone') gone.add(w.profile.customerId);
  });
  const deferred = written.reduce((n, w) => n + w.profile.outbox.length, 0) - (toSend.length - failed.size);
  return { deferred, gone, unsettled };
}

/**
 * The sweeper: profiles whose outbox holds entries nobody is publishing (no claim, or a claim past its lease) and
 * that are releasable. Returns how many entries went out.
 */
export async function sweepOutboxes(
  deps: OutboxDeps,
  opts: { now: () => Date; activeVersion: number | null; limit: number; concurrency?: number },
): Promise<{ profiles: number; published: number }> {
  return claimAndPublish(await deps.profiles.pendingOutbox(opts.limit), deps, opts);
}

/**
 * Publishes the releasable entries of stored profiles that nobody is publishing. It claims them first (a conditional
 * write that also moves the revision), so that a concurrent writer cannot publish them too, then publishes and
 * settles. Used by the sweeper and by the nightly assign (whose own segment changes stay held: their model version
 * is not active yet).
 */
export async function claimAndPublish(
  profiles: readonly CustomerProfile[],
  deps: OutboxDeps,
  opts: { now: () => Date; activeVersion: number | null; concurrency?: number },
): Promise<{ profiles: number; published: number }> {
  const claimed: Written[] = [];
  await mapLimit(profiles, opts.concurrency ?? 8, async (p) => {
    const now = opts.now();
    const nowIso = now.toISOString();
    const take = new Set(
      p.outbox.filter((e) => !claimIsFresh(e, now) && releasable(e, opts.activeVersion)).map((e) => e.dedupeKey),
    );
    if (take.size === 0) return;
    const next: CustomerProfile = {
      ...p,
      rev: p.rev + 1,
      updatedAt: nowIso,
      outbox: p.outbox.map((e) => (take.has(e.dedupeKey) ? { ...e, claimedAt: nowIso, claimRev: p.rev + 1 } : e)),
    };
    if ((await deps.profiles.put(next, p.rev)) === 'written') claimed.push({ profile: next, logged: [], ours: true });
  });
  const { deferred } = await publishWritten(claimed, deps, opts);
  const sent = claimed.reduce((n, w) => n + w.profile.outbox.length, 0) - deferred;
  return { profiles: claimed.length, published: sent };
}

/** PutEvents of the entries; returns the dedupe keys that did not go out. */
async function publishEntries(entries: readonly OutboxEntry[], deps: OutboxDeps): Promise<Set<string>> {
  if (entries.length === 0) return new Set();
  try {
    const result = await deps.publisher.publish(entries);
    const failed = new Set(result.failed.map((f) => f.dedupeKey));
    if (failed.size) deps.metrics.count('PublishDeferred', failed.size);
    return failed;
  } catch (err) {
    deps.log.warn('publish failed; outboxes kept for the sweeper', { error: (err as Error).name });
    deps.metrics.count('PublishDeferred', entries.length);
    return new Set(entries.map((e) => e.dedupeKey));
  }
}

async function settleQuietly(
  p: CustomerProfile,
  published: readonly string[],
  logged: readonly string[],
  deps: OutboxDeps,
): Promise<SettleOutcome | 'failed'> {
  try {
    return await deps.profiles.settle(
      p.customerId,
      { rev: p.rev, epoch: p.epoch, outboxSize: p.outbox.length },
      published,
      logged,
    );
  } catch (err) {
    // Published but still listed: its claim expires and the sweeper republishes it under the same dedupe key.
    deps.log.warn('outbox not settled', { customerId: p.customerId, error: (err as Error).name });
    return 'failed';
  }
}
