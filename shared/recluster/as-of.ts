import type { Settings } from '../config/settings';
import type { CustomerProfile } from '../customer/profile';
import { featuresOf } from '../customer/state';
import { featureSettingsOf } from '../customer/update';
import { refreshFeatures, type CustomerFeatures } from '../domain/features';

/**
 * The instant a stored profile is evaluated at in a run as of `asOf`: never before the profile's own `updatedAt`.
 * A profile written by the real-time path after `asOf` already knows events later than `asOf`; its features cannot
 * be taken back in time without re-folding the log, so it is evaluated at its own time instead.
 */
export function evaluationTime(asOf: Date, updatedAt: string): Date {
  const updated = Date.parse(updatedAt);
  return Number.isFinite(updated) && updated > asOf.getTime() ? new Date(updated) : asOf;
}

/**
 * A stored profile's features as of the run's `asOf` (never before the profile's own `updatedAt`): exact, from the
 * mergeable state. A profile written before the state existed (state version 0) has only its stored features, which
 * `refreshFeatures` brings forward in time.
 */
export function featuresAsOf(profile: CustomerProfile, asOf: Date, settings: Settings): CustomerFeatures {
  const at = evaluationTime(asOf, profile.updatedAt);
  if (profile.state.v === 0)
    return refreshFeatures(profile.features, new Date(profile.updatedAt), at, settings.features);
  return featuresOf(profile.state, at, featureSettingsOf(settings));
}
