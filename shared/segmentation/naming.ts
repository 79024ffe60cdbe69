/**
 * Rule-based segment names, RFM style: "<recency> <value> · <interest>", e.g. "Lapsed high spenders · garden",
 * "New browsers · baby", "Loyal regulars · kitchen". Value is relative to the population (the segment's median
 * revenue against the buyers' revenue terciles); recency uses fixed day thresholds; the interest is the
 * segment's most over-represented top category.
 */
import type { SegmentProfile } from '../contracts/outbound';
import type { ProfileRow } from './profiles';
import { quantileSorted, sortedFinite } from './scaler';

/** Recency thresholds, in days since the last order (segment median). */
export const RECENCY_DAYS = { active: 45, cooling: 120, atRisk: 240 } as const;
/** A segment whose median tenure is at most this many days, with at most one order, is "New". */
export const NEW_TENURE_DAYS = 45;
/** Median orders at or above which a recent segment is "Loyal" rather than "Active". */
export const LOYAL_MIN_ORDERS = 3;
/** Median discount share at or above which a non-premium segment is "deal seekers". */
export const DEAL_SEEKER_DISCOUNT_SHARE = 0.25;
/** A category must be among the top categories of at least this share of members to name the segment. */
export const MIN_INTEREST_SHARE = 0.2;

export type RecencyWord = 'New' | 'Loyal' | 'Active' | 'Cooling' | 'At-risk' | 'Lapsed' | 'Long-time';
export type ValueWord = 'browsers' | 'high spenders' | 'regulars' | 'light buyers' | 'deal seekers';

export interface SegmentDescriptor {
  recency: RecencyWord;
  value: ValueWord;
  interest: string | null;
}

/** What names are relative to, computed once per model from the whole sample. */
export interface NamingPopulation {
  /** Revenue terciles among customers with at least one order. */
  revenueLow: number;
  revenueHigh: number;
  /** Share of customers listing each category among their top categories. */
  categoryShare: Record<string, number>;
}

export function namingPopulation(rows: readonly ProfileRow[]): NamingPopulation {
  const buyers = sortedFinite(
    rows.filter((r) => (r.natural.orders ?? 0) > 0).map((r) => r.natural.revenue ?? Number.NaN),
  );
  const counts = new Map<string, number>();
  for (const r of rows) for (const c of new Set(r.topCategories)) counts.set(c, (counts.get(c) ?? 0) + 1);
  const categoryShare: Record<string, number> = {};
  for (const [c, n] of counts) categoryShare[c] = n / rows.length;
  return {
    revenueLow: buyers.length ? quantileSorted(buyers, 1 / 3) : 0,
    revenueHigh: buyers.length ? quantileSorted(buyers, 2 / 3) : 0,
    categoryShare,
  };
}

function median(profile: SegmentProfile, feature: string): number | null {
  return profile.features[feature]?.p50 ?? null;
}

/** Recency word from the profile alone (absolute day thresholds, no population needed). */
export function recencyWord(profile: SegmentProfile): RecencyWord {
  const orders = median(profile, 'orders') ?? 0;
  const tenure = median(profile, 'tenureDays');
  if (orders < 1) return tenure !== null && tenure <= NEW_TENURE_DAYS ? 'New' : 'Long-time';
  if (tenure !== null && tenure <= NEW_TENURE_DAYS && orders <= 1) return 'New';
  const days = median(profile, 'daysSinceLastOrder');
  if (days === null) return 'Lapsed';
  if (days <= RECENCY_DAYS.active) return orders >= LOYAL_MIN_ORDERS ? 'Loyal' : 'Active';
  if (days <= RECENCY_DAYS.cooling) return 'Cooling';
  if (days <= RECENCY_DAYS.atRisk) return 'At-risk';
  return 'Lapsed';
}

export function valueWord(profile: SegmentProfile, population: NamingPopulation): ValueWord {
  const orders = median(profile, 'orders') ?? 0;
  if (orders < 1) return 'browsers';
  const revenue = median(profile, 'revenue') ?? 0;
  if (revenue >= population.revenueHigh && revenue > 0) return 'high spenders';
  if ((median(profile, 'discountShare') ?? 0) >= DEAL_SEEKER_DISCOUNT_SHARE) return 'deal seekers';
  return revenue <= population.revenueLow ? 'light buyers' : 'regulars';
}

/** The interest word is picked among this many top categories by share (the ones a segment card displays). */
export const INTEREST_AMONG_TOP = 3;

/** The segment's top categories by share, most first (ties by name), at most INTEREST_AMONG_TOP. */
export function displayedTopCategories(profile: Pick<SegmentProfile, 'topCategories'>): string[] {
  return [...profile.topCategories]
    .sort((a, b) => b.share - a.share || (a.category < b.category ? -1 : a.category > b.category ? 1 : 0))
    .slice(0, INTEREST_AMONG_TOP)
    .map((c) => c.category);
}

/**
 * The dominant interest: among the segment's three top categories by share (what its card displays) held by at
 * least MIN_INTEREST_SHARE of its members, the one most over-represented against the population (highest lift),
 * ties by share then name. Null when none of them is that common. Picking the lift winner among all listed
 * categories named segments after a 4th or 5th category the card does not show (issue #12).
 */
export function dominantInterest(profile: SegmentProfile, population: NamingPopulation): string | null {
  const shown = new Set(displayedTopCategories(profile));
  const candidates = profile.topCategories.filter((c) => shown.has(c.category) && c.share >= MIN_INTEREST_SHARE);
  if (candidates.length === 0) return null;
  const lift = (c: { category: string; share: number }) =>
    c.share / Math.max(population.categoryShare[c.category] ?? 0, 1e-9);
  const best = [...candidates].sort(
    (a, b) =>
      lift(b) - lift(a) || b.share - a.share || (a.category < b.category ? -1 : a.category > b.category ? 1 : 0),
  )[0];
  return best?.category ?? null;
}

export function describeSegment(profile: SegmentProfile, population: NamingPopulation): SegmentDescriptor {
  return {
    recency: recencyWord(profile),
    value: valueWord(profile, population),
    interest: dominantInterest(profile, population),
  };
}

export function ruleName(d: SegmentDescriptor): string {
  const head = `${d.recency} ${d.value}`;
  return d.interest ? `${head} · ${d.interest}` : head;
}

/**
 * Unique names for the profiles (by index). Duplicates are told apart deterministically: the largest
 * segment (then lowest segment id) keeps the plain name, the others get " (2)", " (3)", … Names in
 * `reserved` (e.g. names kept from the previous model) are never handed out again.
 */
export function nameSegments(
  profiles: readonly SegmentProfile[],
  population: NamingPopulation,
  reserved: Iterable<string> = [],
): string[] {
  return uniqueNames(
    profiles.map((p) => ({ name: ruleName(describeSegment(p, population)), size: p.size, segmentId: p.segmentId })),
    reserved,
  );
}

/** Makes candidate names unique (see nameSegments), preserving index order. */
export function uniqueNames(
  candidates: readonly { name: string; size: number; segmentId: string }[],
  reserved: Iterable<string> = [],
): string[] {
  const taken = new Set(reserved);
  const order = candidates
    .map((c, i) => ({ ...c, i }))
    .sort(
      (a, b) => b.size - a.size || (a.segmentId < b.segmentId ? -1 : a.segmentId > b.segmentId ? 1 : 0) || a.i - b.i,
    );
  const out = new Array<string>(candidates.length).fill('');
  for (const c of order) {
    let name = c.name;
    for (let n = 2; taken.has(name); n++) name = `${c.name} (${n})`;
    taken.add(name);
    out[c.i] = name;
  }
  return out;
}

/** The interest word of a rule name ("Loyal regulars · kitchen (2)" → "kitchen"), or null. */
export function interestOfName(name: string): string | null {
  const at = name.lastIndexOf(' · ');
  if (at < 0) return null;
  return name.slice(at + 3).replace(/ \(\d+\)$/, '') || null;
}

/** Relative tolerance on the median revenue and orders for a segment to count as unchanged. */
export const STABLE_RELATIVE_CHANGE = 0.25;

/**
 * True when the segment barely changed, so it keeps its previous name even if the population-relative
 * rules would now name it differently (naming hysteresis): the recency word is the same, median orders
 * and revenue moved by at most 25% (revenue by at most 5 currency units when tiny), and the interest
 * in the previous name is still held by at least MIN_INTEREST_SHARE of the members and at least 3/4 of
 * the share it had, and is still among the three top categories by share. A "browsers" name is never kept once
 * the median member has ordered.
 */
export function keepNameIfStable(
  previousName: string,
  previousProfile: SegmentProfile,
  newProfile: SegmentProfile,
): boolean {
  if (previousName.trim() === '') return false;
  if (recencyWord(previousProfile) !== recencyWord(newProfile)) return false;
  if (!close(median(previousProfile, 'orders'), median(newProfile, 'orders'), 0.5)) return false;
  if (!close(median(previousProfile, 'revenue'), median(newProfile, 'revenue'), 5)) return false;
  const interest = interestOfName(previousName);
  if (interest !== null) {
    const before = previousProfile.topCategories.find((c) => c.category === interest)?.share ?? 0;
    const now = newProfile.topCategories.find((c) => c.category === interest)?.share ?? 0;
    if (now < MIN_INTEREST_SHARE || now < 0.75 * before) return false;
    if (!displayedTopCategories(newProfile).includes(interest)) return false;
  }
  if ((median(newProfile, 'orders') ?? 0) >= 1 && /\bbrowsers\b/.test(previousName)) return false;
  return true;
}

function close(a: number | null, b: number | null, absoluteFloor: number): boolean {
  if (a === null || b === null) return a === b;
  const diff = Math.abs(a - b);
  return diff <= absoluteFloor || diff <= STABLE_RELATIVE_CHANGE * Math.max(Math.abs(a), Math.abs(b));
}

/** Why a name disagrees with a segment's statistics (empty when it agrees). */
export type NameDisagreement = 'interest_not_displayed' | 'browsers_but_ordered' | 'value_word_mismatch';

/**
 * Checks a rule-style name ("<recency> <value> · <interest>") against the statistics its card shows: the interest
 * word must be among the three top categories by share, "browsers" only for a segment whose median customer has
 * not ordered, and the value word must be the one `valueWord` gives for the median orders and revenue. A name
 * without a recognisable value word (an LLM's) is only checked for "browsers" and the interest.
 */
export function nameDisagreements(
  name: string,
  profile: SegmentProfile,
  population: NamingPopulation,
): NameDisagreement[] {
  const out: NameDisagreement[] = [];
  const interest = interestOfName(name);
  if (interest !== null && !displayedTopCategories(profile).includes(interest)) out.push('interest_not_displayed');
  const head = name.toLowerCase();
  const ordered = (median(profile, 'orders') ?? 0) >= 1;
  if (ordered && /\bbrowsers?\b/.test(head)) out.push('browsers_but_ordered');
  const words: ValueWord[] = ['browsers', 'high spenders', 'regulars', 'light buyers', 'deal seekers'];
  const stated = words.find((w) => head.includes(` ${w}`) || head.startsWith(w));
  if (stated !== undefined && stated !== valueWord(profile, population)) out.push('value_word_mismatch');
  return out;
}
