import type { AssignOutput, RefreshTask } from '../contracts/recluster';
import { dedupeKey } from '../domain/evaluate';
import { computeTraits } from '../domain/traits';
import { publishOutboxes } from '../ingest/process-batch';
import type { CustomerProfile, OutboxEntry } from '../ports/stores';
import type { StoredValueModel } from '../segmentation/model';
import { mapLimit } from '../util/concurrency';
import { evaluationTime, refreshFeatures } from './as-of';
import { needsWrite } from './assign';
import type { ReclusterDeps } from './deps';

const MAX_REFRESH_WRITE_ATTEMPTS = 6;
const CHUNK = 128;

/**
 * The profile with its time-dependent features, traits and lifecycle stage brought to `at`, its segment assignment
 * untouched, and a lifecycle.changed in its outbox when the stage changed. Pure. `value` is the active model's
 * customer-value parameters (null: the priors, as the real-time path uses before any model exists).
 */
export function refreshProfile(
  profile: CustomerProfile,
  value: StoredValueModel | null,
  at: Date,
  deps: Pick<ReclusterDeps, 'settings'>,
): { profile: CustomerProfile; lifecycleChanged: boolean } {
  const features = refreshFeatures(profile.features, new Date(profile.updatedAt), at, deps.settings.features);
  const traits = computeTraits(features, value, profile.lifecycleStage, deps.settings.value);
  const rev = profile.rev + 1;
  const atIso = at.toISOString();
  const changes: OutboxEntry[] = [];
  const lifecycleChanged = traits.lifecycleStage !== profile.lifecycleStage;
  if (lifecycleChanged) {
    const key = dedupeKey(profile.customerId, 'lifecycle.changed', rev);
    changes.push({
      dedupeKey: key,
      event: {
        detailType: 'lifecycle.changed',
        detail: {
          customerId: profile.customerId,
          from: profile.lifecycleStage,
          to: traits.lifecycleStage,
          pAlive: traits.pAlive,
          changedAt: atIso,
          dedupeKey: key,
        },
      },
    });
  }
  return {
    profile: {
      ...profile,
      rev,
      updatedAt: atIso,
      features,
      traits,
      lifecycleStage: traits.lifecycleStage,
      outbox: [...profile.outbox, ...changes],
    },
    lifecycleChanged,
  };
}

/**
 * RefreshShard: the nightly path when the quality gate refused tonight's model. Stages and traits are refreshed every
 * night whether or not a model is published (P(alive) falls while a customer is silent), with the ACTIVE model's
 * value parameters; nothing about segments changes (assignments are kept as they are, no segment.changed). Writes
 * only profiles whose stage or a material trait moved (`needsWrite`), conditionally on `rev` (a concurrent real-time
 * write wins and the profile is re-read), and publishes their lifecycle.changed events.
 * `assigned` counts the customers scanned, `moved` is always 0.
 */
export async function refreshShard(task: RefreshTask, deps: ReclusterDeps): Promise<AssignOutput> {
  const started = Date.now();
  const model = task.activeVersion === null ? null : await deps.models.getVersion(task.activeVersion);
  if (task.activeVersion !== null && !model)
    throw new Error(`active model version ${task.activeVersion} is not stored`);
  const value = model?.value ?? null;
  const asOf = new Date(task.asOf);
  let scanned = 0;
  let written = 0;
  let lifecycleChanged = 0;
  const refreshOne = async (initial: CustomerProfile): Promise<CustomerProfile | null> => {
    let profile: CustomerProfile | null = initial;
    for (let attempt = 0; attempt < MAX_REFRESH_WRITE_ATTEMPTS && profile; attempt++) {
      const at = evaluationTime(asOf, profile.updatedAt);
      const next = refreshProfile(profile, value, at, deps);
      if (!next.lifecycleChanged && !needsWrite(profile, next.profile)) {
        return profile.outbox.length ? profile : null;
      }
      if ((await deps.profiles.put(next.profile, profile.rev)) === 'written') {
        written += 1;
        if (next.lifecycleChanged) lifecycleChanged += 1;
        return next.profile;
      }
      profile = await deps.profiles.get(profile.customerId);
    }
    if (!profile) return null;
    throw new Error(`customer ${initial.customerId}: profile write kept conflicting`);
  };
  const run = async (chunk: CustomerProfile[]) => {
    const toPublish: CustomerProfile[] = [];
    await mapLimit(chunk, deps.concurrency ?? 16, async (p) => {
      const r = await refreshOne(p);
      if (r) toPublish.push(r);
    });
    await publishOutboxes(toPublish, deps, deps.concurrency ?? 16);
  };
  let chunk: CustomerProfile[] = [];
  for await (const profile of deps.profiles.scanShard(task.shard, task.totalShards)) {
    scanned += 1;
    chunk.push(profile);
    if (chunk.length >= CHUNK) {
      await run(chunk);
      chunk = [];
    }
  }
  if (chunk.length) await run(chunk);
  deps.metrics.count('ReclusterProfilesRefreshed', written);
  deps.log.info('shard refreshed', {
    runId: task.runId,
    shard: task.shard,
    activeVersion: task.activeVersion,
    scanned,
    written,
    lifecycleChanged,
    ms: Date.now() - started,
  });
  return { shard: task.shard, assigned: scanned, moved: 0, lifecycleChanged };
}
