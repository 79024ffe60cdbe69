/**
 * The bounded per-customer tallies the catalogue reads, and the one mergeable aggregate ScanShard adds (campaign
 * responses by the segment the campaign was delivered to). The customer state (issue #8) keeps the tallies on
 * `CustomerFeatures`; profiles folded before it did simply lack them, so every field here is optional.
 */

import { isHeldOut, type HoldoutSettings } from '../domain/holdout';

/** One product in a customer's top-20 tally (by 3·ordered + 2·carted + viewed). */
export interface ProductTally {
  sku: string;
  ordered: number;
  carted: number;
  viewed: number;
}

/** One campaign in a customer's 20 most recent, with the responses seen; segmentId is the segment delivered to. */
export interface CampaignTally {
  campaignId: string;
  segmentId: string;
  delivered: boolean;
  opened: boolean;
  clicked: boolean;
  converted: boolean;
  firstAt: string;
}

/** The catalogue fields of CustomerFeatures, all optional (absent on profiles folded before they existed). */
export interface CatalogueFeatures {
  /** Top 10 categories (NFKC-normalised, case-folded) with interaction weights (order item 3·qty, cart 2, view 1). */
  categoryWeights?: Record<string, number>;
  products?: readonly ProductTally[];
  campaigns?: readonly CampaignTally[];
  /** Counts of ratings 1..5. */
  ratings?: readonly number[];
  /** Up to 30 stop-worded, lower-cased review terms with counts. */
  reviewTerms?: Record<string, number>;
}

/** What a sample row carries for the catalogue (campaigns are aggregated exactly instead, see CampaignAggregate). */
export interface RowCatalogue {
  categoryWeights: Record<string, number>;
  products: ProductTally[];
  ratings: [number, number, number, number, number];
  reviewTerms: string[];
  /** Lifecycle stage of the stored traits ('prospect' … 'reactivated'), null without traits. */
  lifecycleStage: string | null;
}

const MAX_CATEGORIES = 10;
const MAX_PRODUCTS = 20;
const MAX_TERMS = 30;

function finiteNonNegative(x: unknown): number {
  return typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : 0;
}

/**
 * The bounded, sanitised catalogue part of a sample row. Non-finite or negative numbers count as 0; oversized
 * tallies are cut to their documented bounds (10 categories, 20 products, 30 terms), so a malformed profile can
 * neither crash the scan nor weigh more than another customer.
 */
export function rowCatalogueOf(f: CatalogueFeatures, lifecycleStage: string | null): RowCatalogue {
  const categoryWeights: Record<string, number> = {};
  for (const [c, w] of Object.entries(f.categoryWeights ?? {})
    .map(([c, w]) => [c, finiteNonNegative(w)] as const)
    .filter(([, w]) => w > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, MAX_CATEGORIES))
    categoryWeights[c] = w;
  const products = (Array.isArray(f.products) ? f.products : [])
    .filter((p) => typeof p?.sku === 'string' && p.sku.length > 0)
    .slice(0, MAX_PRODUCTS)
    .map((p) => ({
      sku: p.sku,
      ordered: finiteNonNegative(p.ordered),
      carted: finiteNonNegative(p.carted),
      viewed: finiteNonNegative(p.viewed),
    }));
  const r = Array.isArray(f.ratings) ? f.ratings : [];
  const ratings: RowCatalogue['ratings'] = [0, 1, 2, 3, 4].map((i) => Math.floor(finiteNonNegative(r[i]))) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const reviewTerms = Object.entries(f.reviewTerms ?? {})
    .filter(([t, n]) => t.length > 0 && finiteNonNegative(n) > 0)
    .map(([t]) => t)
    .sort()
    .slice(0, MAX_TERMS);
  return { categoryWeights, products, ratings, reviewTerms, lifecycleStage };
}

export type ResponseCounts = {
  delivered: number;
  opened: number;
  clicked: number;
  converted: number;
  /**
   * The campaign's audience split by the holdout (settings.holdout; segment id = the campaign's): customers with a
   * response record, and those who converted. Present once any customer of the campaign was held out.
   */
  arms?: { heldOut: ArmCounts; treated: ArmCounts };
};

/** One arm of a holdout comparison: customers of the campaign's audience in the arm, and how many converted. */
export type ArmCounts = { customers: number; converted: number };

/**
 * Campaign responses by segment delivered to and campaign: customer counts. Mergeable (a commutative, associative
 * sum), so each ScanShard adds its customers and FitModel merges the shards. Keys are `segmentId` then `campaignId`.
 */
export type CampaignAggregate = Record<string, Record<string, ResponseCounts>>;

/**
 * Adds one customer's campaigns. A response further down the funnel implies the earlier ones (a click implies an
 * open and a delivery), so a lost delivery receipt does not push a rate above 1. A campaign listed twice for the
 * same customer and segment counts once.
 *
 * With `holdout` (the customer's id and the stage's holdout settings), each campaign is also counted in its arm: a
 * customer held out of the campaign's segment (the same hash as `segment.changed`'s `holdout`) is in `heldOut`, and
 * is left out of the delivered/opened/clicked/converted counts (it was not contacted; a conversion the campaign tool
 * reports for it is the control group's); everyone else is in `treated`.
 */
export function addCampaigns(
  into: CampaignAggregate,
  campaigns: readonly CampaignTally[] | undefined,
  holdout?: { customerId: string; settings: HoldoutSettings | undefined },
): void {
  if (!Array.isArray(campaigns)) return;
  const seen = new Set<string>();
  for (const c of campaigns) {
    if (typeof c?.campaignId !== 'string' || typeof c.segmentId !== 'string') continue;
    if (!c.campaignId || !c.segmentId) continue;
    const key = JSON.stringify([c.segmentId, c.campaignId]);
    if (seen.has(key)) continue;
    seen.add(key);
    const converted = c.converted === true;
    const clicked = converted || c.clicked === true;
    const opened = clicked || c.opened === true;
    const delivered = opened || c.delivered === true;
    const bySegment = (into[c.segmentId] ??= {});
    const counts = (bySegment[c.campaignId] ??= { delivered: 0, opened: 0, clicked: 0, converted: 0 });
    if (holdout && holdout.settings && holdout.settings.share > 0) {
      const heldOut = isHeldOut(holdout.customerId, c.segmentId, holdout.settings);
      counts.arms ??= { heldOut: { customers: 0, converted: 0 }, treated: { customers: 0, converted: 0 } };
      const arm = heldOut ? counts.arms.heldOut : counts.arms.treated;
      arm.customers += 1;
      arm.converted += converted ? 1 : 0;
      if (heldOut) continue;
    }
    counts.delivered += delivered ? 1 : 0;
    counts.opened += opened ? 1 : 0;
    counts.clicked += clicked ? 1 : 0;
    counts.converted += converted ? 1 : 0;
  }
}

/** Sums aggregates (shards) into a new one. */
export function mergeCampaignAggregates(parts: readonly (CampaignAggregate | undefined)[]): CampaignAggregate {
  const out: CampaignAggregate = {};
  for (const part of parts) {
    for (const [segmentId, byCampaign] of Object.entries(part ?? {})) {
      for (const [campaignId, c] of Object.entries(byCampaign)) {
        const t = ((out[segmentId] ??= {})[campaignId] ??= { delivered: 0, opened: 0, clicked: 0, converted: 0 });
        t.delivered += c.delivered;
        t.opened += c.opened;
        t.clicked += c.clicked;
        t.converted += c.converted;
        if (c.arms) {
          t.arms ??= { heldOut: { customers: 0, converted: 0 }, treated: { customers: 0, converted: 0 } };
          for (const arm of ['heldOut', 'treated'] as const) {
            t.arms[arm].customers += c.arms[arm].customers;
            t.arms[arm].converted += c.arms[arm].converted;
          }
        }
      }
    }
  }
  return out;
}
