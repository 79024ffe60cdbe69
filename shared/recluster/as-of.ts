import type { Settings } from '../config/settings';
import type { CustomerProfile } from '../customer/profile';
import { featuresOf } from '../customer/state';
import { featureSettingsOf } from '../customer/update';
import type { CustomerFeatures, FeatureSettings } from '../domain/features';

const DAY_MS = 86_400_000;
const WEEK_DAYS = 7;

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
 * Re-evaluates the time-dependent features of a stored profile (computed as of `from`) as of `at`, without reading
 * the event log. This is what ScanShard and AssignShard do for every customer each night; re-folding every log
 * would cost one Query per customer.
 *
 * It equals `foldEvents(log, at)` up to floating-point rounding whenever no event is later than `from` (always the
 * case for a profile folded at `from`):
 * - `daysSinceLastOrder` and `tenureDays` are recomputed from the stored `lastOrderAt` and `firstSeenAt`;
 * - the decayed view, search and cart-add counts, and the recent orders and spend, are sums of exp(-λ·age): every
 *   term shrinks by the same factor exp(-ln2·Δ/halfLife) when the clock moves by Δ, so the sum does too (the recent
 *   shares and entropy are ratios of such sums: they do not move);
 * - `purchase.T` (weeks) is recounted from the UTC day of the first order, the fold's convention; x, t_x and the
 *   mean repeat spend do not depend on the clock;
 * - the interest vector is a decayed *mean*, L2-normalised: the common factor cancels, so it does not move.
 * Everything else is a function of the event set alone. `at` not after `from` returns the features unchanged.
 */
export function refreshFeatures(
  features: CustomerFeatures,
  from: Date,
  at: Date,
  settings: FeatureSettings,
): CustomerFeatures {
  const deltaMs = at.getTime() - from.getTime();
  if (!(deltaMs > 0)) return features;
  const now = at.getTime();
  const activity = Math.exp((-Math.LN2 * deltaMs) / (settings.activityHalfLifeDays * DAY_MS));
  const firstOrderDay = features.firstOrderAt ? Math.floor(Date.parse(features.firstOrderAt) / DAY_MS) : null;
  const purchase =
    features.orders > 0 && firstOrderDay !== null && Number.isFinite(firstOrderDay)
      ? {
          ...features.purchase,
          T: Math.max(features.purchase.tx, Math.max(0, now / DAY_MS - firstOrderDay) / WEEK_DAYS),
        }
      : features.purchase;
  return {
    ...features,
    daysSinceLastOrder: features.lastOrderAt ? Math.max(0, (now - Date.parse(features.lastOrderAt)) / DAY_MS) : null,
    tenureDays: features.firstSeenAt
      ? Math.max(0, (now - Date.parse(features.firstSeenAt)) / DAY_MS)
      : features.tenureDays,
    decayedViews: features.decayedViews * activity,
    decayedSearches: features.decayedSearches * activity,
    decayedCartAdds: features.decayedCartAdds * activity,
    recent: features.recent
      ? {
          ...features.recent,
          orders: features.recent.orders * activity,
          spend: features.recent.spend * activity,
        }
      : features.recent,
    purchase,
  };
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
