/**
 * The numbers of the catalogue entry (profile, recommendations, campaign results, feedback), per segment. Pure:
 * sample rows with their segment labels in, one `CatalogueStats` per segment out. Shares, medians and lifts are
 * estimated on FitModel's uniform sample; campaign counts are exact (summed over every customer by ScanShard).
 */
import {
  CATALOGUE_STATS,
  type CampaignResult,
  type CatalogueProfile,
  type Feedback,
  type HoldoutComparison,
  type MedianMean,
  type Recommendations,
} from '../contracts/catalogue';
import { quantileSorted, sortedFinite } from '../segmentation/scaler';
import { newcombeDifference } from './newcombe';
import type { ArmCounts, CampaignAggregate, RowCatalogue } from './tallies';
import { wilsonInterval } from './wilson';

/** What the catalogue needs of each sampled customer (FitModel's SampleRow plus the row's catalogue tallies). */
export interface CatalogueRow {
  /** Natural-unit features (orders, revenue, avgOrderValue, daysSinceLastOrder, tenureDays, shares). */
  natural: Readonly<Record<string, number>>;
  /** Top categories, most first. */
  topCategories: readonly string[];
  channelShares: Readonly<Record<string, number>>;
  /** CLV in base currency, churn risk in [0, 1]; either may be null (prospects). */
  traits: { clv: number | null; churnRisk: number | null } | null;
  catalogue?: RowCatalogue | undefined;
}

export interface CatalogueOptions {
  /** Minimum distinct members behind a review term, a lift or a product pick (k-anonymity). Default 5. */
  minCustomers: number;
  /** Length of each list (categories, products, terms). Default 5. */
  listLength: number;
}

export const DEFAULT_CATALOGUE_OPTIONS: CatalogueOptions = { minCustomers: 5, listLength: 5 };

export interface CatalogueStats {
  segmentId: string;
  profile: CatalogueProfile;
  recommendations: Recommendations;
  campaigns: CampaignResult[];
  feedback: Feedback;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function medianMean(values: readonly number[]): MedianMean | null {
  const sorted = sortedFinite(values);
  if (sorted.length === 0) return null;
  let sum = 0;
  for (const v of sorted) sum += v;
  return { median: quantileSorted(sorted, 0.5), mean: sum / sorted.length, n: sorted.length };
}

const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));

/** Distinct-member reach of keys (a Map key → members touching it), for a group of rows. */
function reach<T>(rows: readonly T[], keys: (row: T) => Iterable<string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const row of rows) for (const k of new Set(keys(row))) out.set(k, (out.get(k) ?? 0) + 1);
  return out;
}

/** Store-wide reach shares that lifts divide by. */
interface StoreBaseline {
  size: number;
  categoryReach: Map<string, number>;
  weightedCategoryReach: Map<string, number>;
  productReach: Map<string, number>;
  termReach: Map<string, number>;
}

function baseline(rows: readonly CatalogueRow[]): StoreBaseline {
  return {
    size: rows.length,
    categoryReach: reach(rows, (r) => r.topCategories),
    weightedCategoryReach: reach(rows, (r) => Object.keys(r.catalogue?.categoryWeights ?? {})),
    productReach: reach(rows, (r) => (r.catalogue?.products ?? []).map((p) => p.sku)),
    termReach: reach(rows, (r) => r.catalogue?.reviewTerms ?? []),
  };
}

function lift(segmentReach: number, segmentSize: number, storeReach: number, storeSize: number): number {
  if (segmentSize === 0 || storeReach === 0 || storeSize === 0) return 0;
  return segmentReach / segmentSize / (storeReach / storeSize);
}

/**
 * One CatalogueStats per segment index (0..segmentIds.length−1) from each row's label; rows labelled outside the
 * range are ignored. `campaigns` is keyed by the segment id the campaign was delivered to (see CampaignAggregate),
 * so a customer who moved since still counts for the segment that received the campaign.
 */
export function buildCatalogueStats(
  rows: readonly CatalogueRow[],
  labels: ArrayLike<number>,
  segmentIds: readonly string[],
  campaigns: CampaignAggregate,
  options: Partial<CatalogueOptions> = {},
): CatalogueStats[] {
  const opts = { ...DEFAULT_CATALOGUE_OPTIONS, ...options };
  const k = segmentIds.length;
  const members: CatalogueRow[][] = Array.from({ length: k }, () => []);
  const labelled: CatalogueRow[] = [];
  rows.forEach((row, i) => {
    const c = labels[i];
    if (c !== undefined && c >= 0 && c < k) {
      members[c]!.push(row);
      labelled.push(row);
    }
  });
  const store = baseline(labelled);
  const channels = [...new Set(labelled.flatMap((r) => Object.keys(r.channelShares)))].sort(byName);
  return members.map((group, c) => {
    const segmentId = segmentIds[c]!;
    return {
      segmentId,
      profile: profileOf(group, store, channels, opts),
      recommendations: recommendationsOf(group, store, opts),
      campaigns: campaignResults(campaigns[segmentId] ?? {}),
      feedback: feedbackOf(group, store, opts),
    };
  });
}

function profileOf(
  group: readonly CatalogueRow[],
  store: StoreBaseline,
  channels: readonly string[],
  opts: CatalogueOptions,
): CatalogueProfile {
  const size = group.length;
  const stats: CatalogueProfile['stats'] = {};
  for (const name of CATALOGUE_STATS) {
    const s = medianMean(group.map((r) => r.natural[name] ?? Number.NaN));
    if (s) stats[name] = s;
  }
  const lifecycleMix: CatalogueProfile['lifecycleMix'] = {};
  for (const [stage, n] of reach(group, (r) => [r.catalogue?.lifecycleStage ?? 'unknown'])) {
    (lifecycleMix as Record<string, number>)[stage] = n / size;
  }
  const buyers = group.filter((r) => (r.natural['orders'] ?? 0) > 0);
  const churn = buyers.flatMap((r) =>
    r.traits?.churnRisk !== null && r.traits?.churnRisk !== undefined && Number.isFinite(r.traits.churnRisk)
      ? [r.traits.churnRisk]
      : [],
  );
  const clv = medianMean(buyers.map((r) => r.traits?.clv ?? Number.NaN));
  const channelMix: Record<string, number> = {};
  for (const ch of channels) {
    let sum = 0;
    for (const r of group) {
      const v = r.channelShares[ch];
      if (v !== undefined && Number.isFinite(v)) sum += v;
    }
    channelMix[ch] = size ? clamp01(sum / size) : 0;
  }
  const categoryReach = reach(group, (r) => r.topCategories);
  const byShare = [...categoryReach.entries()].sort((a, b) => b[1] - a[1] || byName(a[0], b[0]));
  const topCategoriesByShare = byShare
    .slice(0, opts.listLength)
    .map(([category, n]) => ({ category, share: clamp01(n / size) }));
  const topCategoriesByLift = byShare
    .filter(([, n]) => n >= opts.minCustomers)
    .map(([category, n]) => {
      const storeReach = store.categoryReach.get(category) ?? 0;
      return {
        category,
        share: clamp01(n / size),
        storeShare: clamp01(storeReach / store.size),
        lift: lift(n, size, storeReach, store.size),
      };
    })
    .sort((a, b) => b.lift - a.lift || b.share - a.share || byName(a.category, b.category))
    .slice(0, opts.listLength);
  return {
    size,
    share: store.size ? clamp01(size / store.size) : 0,
    stats,
    lifecycleMix,
    buyers: {
      count: buyers.length,
      share: size ? buyers.length / size : 0,
      meanChurnRisk: churn.length ? clamp01(churn.reduce((s, x) => s + x, 0) / churn.length) : null,
      medianClv: clv?.median ?? null,
      meanClv: clv?.mean ?? null,
    },
    channelMix,
    topCategoriesByShare,
    topCategoriesByLift,
  };
}

function recommendationsOf(
  group: readonly CatalogueRow[],
  store: StoreBaseline,
  opts: CatalogueOptions,
): Recommendations {
  const size = group.length;
  const products = new Map<string, { customers: number; score: number; ordered: number }>();
  const categories = new Map<string, { customers: number; weight: number }>();
  for (const row of group) {
    const seen = new Set<string>();
    for (const p of row.catalogue?.products ?? []) {
      const t = products.get(p.sku) ?? { customers: 0, score: 0, ordered: 0 };
      if (!seen.has(p.sku)) t.customers += 1;
      seen.add(p.sku);
      t.score += 3 * p.ordered + 2 * p.carted + p.viewed;
      t.ordered += Math.round(p.ordered);
      products.set(p.sku, t);
    }
    for (const [category, w] of Object.entries(row.catalogue?.categoryWeights ?? {})) {
      const t = categories.get(category) ?? { customers: 0, weight: 0 };
      t.customers += 1;
      t.weight += w;
      categories.set(category, t);
    }
  }
  const productPicks = [...products.entries()].map(([sku, t]) => ({
    sku,
    ...t,
    lift: lift(t.customers, size, store.productReach.get(sku) ?? 0, store.size),
  }));
  const categoryPicks = [...categories.entries()].map(([category, t]) => ({
    category,
    ...t,
    lift: lift(t.customers, size, store.weightedCategoryReach.get(category) ?? 0, store.size),
  }));
  const n = opts.listLength;
  return {
    productsByVolume: [...productPicks].sort((a, b) => b.score - a.score || byName(a.sku, b.sku)).slice(0, n),
    productsByLift: productPicks
      .filter((p) => p.customers >= opts.minCustomers)
      .sort((a, b) => b.lift - a.lift || b.score - a.score || byName(a.sku, b.sku))
      .slice(0, n),
    categoriesByVolume: [...categoryPicks]
      .sort((a, b) => b.weight - a.weight || byName(a.category, b.category))
      .slice(0, n),
    categoriesByLift: categoryPicks
      .filter((c) => c.customers >= opts.minCustomers)
      .sort((a, b) => b.lift - a.lift || b.weight - a.weight || byName(a.category, b.category))
      .slice(0, n),
  };
}

/** Campaigns listed per segment: the entry travels in the model item and the published event, both size-capped. */
export const MAX_CAMPAIGNS_PER_SEGMENT = 10;

/**
 * Per campaign: counts and open, click and conversion rates over delivered, with Wilson 95 % intervals. The
 * MAX_CAMPAIGNS_PER_SEGMENT campaigns delivered to the most customers (ties by id) are listed, in that order.
 */
export function campaignResults(byCampaign: CampaignAggregate[string]): CampaignResult[] {
  return Object.entries(byCampaign)
    .sort((a, b) => b[1].delivered - a[1].delivered || byName(a[0], b[0]))
    .slice(0, MAX_CAMPAIGNS_PER_SEGMENT)
    .map(([campaignId, { arms, ...c }]) => ({
      campaignId,
      ...c,
      openRate: wilsonInterval(c.opened, c.delivered),
      clickRate: wilsonInterval(c.clicked, c.delivered),
      conversionRate: wilsonInterval(c.converted, c.delivered),
      holdout: arms ? holdoutComparison(arms) : null,
    }));
}

/** Held-out against treated: each arm's conversion rate (Wilson) and the uplift treated − held out (Newcombe). */
export function holdoutComparison(arms: { heldOut: ArmCounts; treated: ArmCounts }): HoldoutComparison {
  const arm = (a: ArmCounts) => ({ ...a, conversionRate: wilsonInterval(a.converted, a.customers) });
  return {
    heldOut: arm(arms.heldOut),
    treated: arm(arms.treated),
    uplift: newcombeDifference(
      arms.treated.converted,
      arms.treated.customers,
      arms.heldOut.converted,
      arms.heldOut.customers,
    ),
  };
}

/** A term that looks like an id, a number, an address or a handle is never shown, whatever its support. */
const NOT_A_WORD = /[\d@/\\:_#]|^.{0,2}$|^.{31,}$/u;

function feedbackOf(group: readonly CatalogueRow[], store: StoreBaseline, opts: CatalogueOptions): Feedback {
  const ratings: Feedback['ratings'] = [0, 0, 0, 0, 0];
  for (const row of group) row.catalogue?.ratings.forEach((n, i) => (ratings[i] = (ratings[i] ?? 0) + n));
  const ratingCount = ratings.reduce((s, n) => s + n, 0);
  const terms = [...reach(group, (r) => r.catalogue?.reviewTerms ?? []).entries()]
    .filter(([term, n]) => n >= opts.minCustomers && !NOT_A_WORD.test(term))
    .map(([term, n]) => ({
      term,
      customers: n,
      lift: lift(n, group.length, store.termReach.get(term) ?? 0, store.size),
    }))
    .sort((a, b) => b.lift - a.lift || b.customers - a.customers || byName(a.term, b.term))
    .slice(0, opts.listLength);
  return {
    ratings,
    ratingCount,
    lowRatingShare: ratingCount ? (ratings[0] + ratings[1]) / ratingCount : null,
    terms,
  };
}

/**
 * For one customer, the segment's top products they have not ordered: the by-lift picks first, then by volume,
 * without repeats, at most `limit`. A product the customer only viewed or carted stays eligible (it is a nudge).
 */
export function productsNotBought(
  recommendations: Pick<Recommendations, 'productsByLift' | 'productsByVolume'>,
  customerProducts: readonly { sku: string; ordered: number }[],
  limit = 5,
): string[] {
  const bought = new Set(customerProducts.filter((p) => p.ordered > 0).map((p) => p.sku));
  const out: string[] = [];
  for (const p of [...recommendations.productsByLift, ...recommendations.productsByVolume]) {
    if (out.length >= limit) break;
    if (!bought.has(p.sku) && !out.includes(p.sku)) out.push(p.sku);
  }
  return out;
}
