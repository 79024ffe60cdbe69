/**
 * Narration without an LLM: the rule name (shared/segmentation/naming.ts), a persona sentence built from the
 * card's numbers, and a strategy from two documented tables (README, "Segment catalogue"): the objective, cadence
 * and channel actions are keyed by the segment's lifecycle, the offer and cautions by its value word.
 */
import { MAX_SEGMENT_NAME_LENGTH, type CatalogueProfile, type Narration } from '../contracts/catalogue';
import type { SegmentProfile } from '../contracts/outbound';
import {
  describeSegment,
  ruleName,
  type NamingPopulation,
  type RecencyWord,
  type SegmentDescriptor,
  type ValueWord,
} from '../segmentation/naming';

export const STRATEGY_LIFECYCLES = ['prospect', 'new', 'active', 'at_risk', 'lapsed'] as const;
export type StrategyLifecycle = (typeof STRATEGY_LIFECYCLES)[number];

/** The lifecycle a strategy is keyed by, from the name's words: never-ordered segments are prospects. */
export function strategyLifecycle(d: Pick<SegmentDescriptor, 'recency' | 'value'>): StrategyLifecycle {
  if (d.value === 'browsers') return 'prospect';
  const byRecency: Record<RecencyWord, StrategyLifecycle> = {
    New: 'new',
    Loyal: 'active',
    Active: 'active',
    Cooling: 'at_risk',
    'At-risk': 'at_risk',
    Lapsed: 'lapsed',
    'Long-time': 'prospect',
  };
  return byRecency[d.recency];
}

type Strategy = Narration['strategy'];

/** Objective, cadence, actions and KPIs by lifecycle. */
export const LIFECYCLE_STRATEGY: Record<StrategyLifecycle, Omit<Strategy, 'offerType' | 'cautions'>> = {
  prospect: {
    objective: 'convert',
    actions: [
      { channel: 'web', action: 'Show best sellers of their top categories on return visits' },
      { channel: 'email', action: 'Welcome series with a first-order incentive' },
    ],
    cadence: 'Weekly while browsing is recent',
    kpis: ['first-order conversion rate', 'view-to-cart rate'],
  },
  new: {
    objective: 'grow',
    actions: [
      { channel: 'email', action: 'Onboarding series with complementary products' },
      { channel: 'app', action: 'Invite to install the app and save favourites' },
    ],
    cadence: 'Every 2 weeks during the first 90 days',
    kpis: ['second-order rate within 60 days', 'average order value'],
  },
  active: {
    objective: 'grow',
    actions: [
      { channel: 'email', action: 'Personalised recommendations from the segment picks' },
      { channel: 'app', action: 'Early access to new arrivals in their categories' },
    ],
    cadence: 'Every 2 weeks',
    kpis: ['order frequency', 'revenue per customer', 'category breadth'],
  },
  at_risk: {
    objective: 'retain',
    actions: [
      { channel: 'email', action: 'We-miss-you message with their favourite categories' },
      { channel: 'ads', action: 'Retargeting on the products they viewed' },
    ],
    cadence: 'Weekly for 4 weeks, then monthly',
    kpis: ['reorder rate within 30 days', 'churn risk'],
  },
  lapsed: {
    objective: 'win_back',
    actions: [
      { channel: 'email', action: 'Win-back offer, then a last-chance reminder' },
      { channel: 'ads', action: 'Suppress from full-price ads until they reorder' },
    ],
    cadence: 'Two messages 10 days apart, then quarterly',
    kpis: ['reactivation rate', 'cost per reactivated customer'],
  },
};

/** Offer type and cautions by value word. */
export const VALUE_STRATEGY: Record<ValueWord, Pick<Strategy, 'offerType' | 'cautions'>> = {
  browsers: {
    offerType: 'Free shipping on the first order',
    cautions: ['Do not send more than one incentive before the first order'],
  },
  'light buyers': {
    offerType: 'Bundle or threshold offer to lift basket size',
    cautions: ['Keep discounts small: margins on small baskets are thin'],
  },
  regulars: {
    offerType: 'Loyalty points and cross-category suggestions',
    cautions: ['Avoid blanket discounts: they buy at full price'],
  },
  'deal seekers': {
    offerType: 'Time-limited promotions on their categories',
    cautions: ['Cap discount depth; watch margin per order and refund rate'],
  },
  'high spenders': {
    offerType: 'Service perks (early access, free returns), not price cuts',
    cautions: ['Do not discount high-value customers who are not deal seekers', 'Limit message frequency'],
  },
};

/** A strategy from the tables above. */
export function ruleStrategy(d: Pick<SegmentDescriptor, 'recency' | 'value'>): Strategy {
  const base = LIFECYCLE_STRATEGY[strategyLifecycle(d)];
  const value = VALUE_STRATEGY[d.value];
  return {
    ...base,
    actions: base.actions.map((a) => ({ ...a })),
    kpis: [...base.kpis],
    offerType: value.offerType,
    cautions: [...value.cautions],
  };
}

const money = (x: number | undefined): string => (x === undefined ? 'n/a' : x.toFixed(2));
const pct = (x: number): string => `${Math.round(x * 100)} %`;

/** A persona paragraph that states only the card's numbers. */
export function rulePersona(profile: CatalogueProfile): string {
  const s = profile.stats;
  const parts = [
    `${pct(profile.share)} of customers (${profile.size} in the sample).`,
    s.orders ? `The median member has placed ${s.orders.median} order(s) (mean ${s.orders.mean.toFixed(1)})` : '',
    s.revenue ? `worth ${money(s.revenue.median)} in total (mean ${money(s.revenue.mean)}),` : '',
    s.daysSinceLastOrder ? `last ordered ${Math.round(s.daysSinceLastOrder.median)} days ago,` : '',
    s.tenureDays ? `and has been known for ${Math.round(s.tenureDays.median)} days.` : '',
  ];
  const top = profile.topCategoriesByShare.slice(0, 3).map((c) => `${c.category} (${pct(c.share)})`);
  if (top.length) parts.push(`Top categories: ${top.join(', ')}.`);
  const channel = Object.entries(profile.channelMix).sort((a, b) => b[1] - a[1])[0];
  if (channel && channel[1] > 0) parts.push(`Main channel: ${channel[0]} (${pct(channel[1])}).`);
  if (profile.buyers.meanChurnRisk !== null)
    parts.push(`Buyers' mean churn risk is ${pct(profile.buyers.meanChurnRisk)}.`);
  return parts
    .filter((p) => p !== '')
    .join(' ')
    .replace(/\s+/g, ' ')
    .slice(0, 800);
}

/** The view of a catalogue profile that naming.ts reads (medians as p50, top categories by share). */
export function namingView(segmentId: string, profile: CatalogueProfile): SegmentProfile {
  const features: SegmentProfile['features'] = {};
  for (const [name, s] of Object.entries(profile.stats)) {
    if (s) features[name] = { mean: s.mean, p25: s.median, p50: s.median, p75: s.median };
  }
  return {
    segmentId,
    name: '',
    size: profile.size,
    share: profile.share,
    features,
    topCategories: profile.topCategoriesByShare.map((c) => ({ ...c })),
    channelMix: { ...profile.channelMix },
    meanClv: profile.buyers.meanClv,
    meanChurnRisk: profile.buyers.meanChurnRisk,
  };
}

/** The whole rule-based narration of a segment. */
export function ruleNarration(segmentId: string, profile: CatalogueProfile, population: NamingPopulation): Narration {
  const d = describeSegment(namingView(segmentId, profile), population);
  // A long category would overflow the 40-character limit: then the name drops the interest rather than cut it.
  const full = ruleName(d);
  const name = full.length <= MAX_SEGMENT_NAME_LENGTH ? full : ruleName({ ...d, interest: null });
  const strategy = ruleStrategy(d);
  const skew = heavyTailCaution(profile, population);
  if (skew) strategy.cautions.push(skew);
  return { name, persona: rulePersona(profile), strategy };
}

/** Mean revenue at least this many times the median (and at least the buyers' top tercile) is a heavy tail. */
export const HEAVY_TAIL_RATIO = 3;

/**
 * The name follows the median member; when a few big spenders pull the mean far above it (mean ≥ 3 × median and
 * ≥ the buyers' top revenue tercile), the strategy says so instead of letting "browsers" hide them.
 */
export function heavyTailCaution(profile: CatalogueProfile, population: NamingPopulation): string | null {
  const revenue = profile.stats.revenue;
  if (!revenue) return null;
  const heavy =
    revenue.mean >= HEAVY_TAIL_RATIO * Math.max(revenue.median, 1) && revenue.mean >= population.revenueHigh;
  return heavy
    ? `A few heavy buyers lift mean revenue to ${revenue.mean.toFixed(2)} (median ${revenue.median.toFixed(2)}): treat them apart`
    : null;
}
