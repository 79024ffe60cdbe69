/**
 * Latent personas of the simulated storefront. Each is a behaviour profile (Poisson rates per day, category and
 * channel preferences, basket shape, price bias, discount and refund propensity) plus the words its members search
 * for, so the planted structure is recoverable from behaviour and interest texts alike.
 */
import type { CHANNELS } from '../../shared/contracts/inbound';
import type { CategoryName } from './catalogue';

export type Channel = (typeof CHANNELS)[number];
export type CustomerKind = 'customer' | 'bot' | 'wholesaler';

export interface PersonaRates {
  orders: number;
  views: number;
  searches: number;
  cartAdds: number;
  reviews: number;
  campaignResponses: number;
}

export interface PersonaDefinition {
  name: string;
  description: string;
  kind: CustomerKind;
  /** Relative size among `kind: 'customer'` personas (0 for bots and wholesalers, which are counted separately). */
  weight: number;
  /** Expected events per active day before seasonality and the customer's own activity multiplier. */
  rates: PersonaRates;
  categories: Partial<Record<CategoryName, number>>;
  channels: Partial<Record<Channel, number>>;
  /** Mean number of distinct items per order (≥ 1). */
  itemsPerOrder: number;
  /** Mean quantity per item (≥ 1). */
  quantityPerItem: number;
  /** −1 always picks the cheapest products of a category, +1 the dearest, 0 uniformly. */
  priceBias: number;
  /** Probability that an order carries a discount, and the discount as a share of the subtotal. */
  discountPropensity: number;
  discountDepth: readonly [number, number];
  refundRate: number;
  /**
   * Modifiers applied to category search terms with probability `modifierRate`: a plain word is prefixed
   * ("cheap compost"); `{}` marks where the term goes ("{} review" → "usb-c charger review").
   */
  queryModifiers: readonly string[];
  modifierRate: number;
  ratingMean: number;
  /** 0..1: how far down the funnel (opened, clicked, converted) campaign responses go. */
  campaignEngagement: number;
  /** Whether events happen in one evening-weighted session (people) or around the clock (bots). */
  roundTheClock?: boolean;
  /** Lapsing personas go quiet: after the lapse day every rate is multiplied by `factor`. */
  lapse?: { between: readonly [number, number]; factor: number };
}

/** A persona as used in one simulation run: its definition plus its index and the number of customers drawn. */
export interface PersonaSpec extends PersonaDefinition {
  index: number;
  /** Customers who start the run in this persona (before drift). */
  size: number;
}

export const PERSONA_DEFINITIONS: readonly PersonaDefinition[] = [
  {
    name: 'bargain_hunter',
    description: 'Hunts discounts and cheap items across many categories; searches a lot; marketplace',
    kind: 'customer',
    weight: 21,
    rates: { orders: 0.14, views: 0.6, searches: 0.6, cartAdds: 0.25, reviews: 0.02, campaignResponses: 0.12 },
    categories: { fashion: 3, beauty: 2.5, kitchen: 2, toys: 2, pets: 1.5, sports: 1, electronics: 0.5 },
    channels: { marketplace: 0.6, web: 0.25, app: 0.15 },
    itemsPerOrder: 1.6,
    quantityPerItem: 1.4,
    priceBias: -0.85,
    discountPropensity: 0.75,
    discountDepth: [0.1, 0.35],
    refundRate: 0.12,
    queryModifiers: [
      'cheap',
      '{} sale',
      'discount',
      '{} clearance',
      '{} deals',
      'half price',
      '{} voucher code',
      '{} multipack',
    ],
    modifierRate: 0.8,
    ratingMean: 3.1,
    campaignEngagement: 0.7,
  },
  {
    name: 'loyal_high_spender',
    description: 'Frequent, large orders of premium products, mostly in the app; rarely discounted',
    kind: 'customer',
    weight: 7,
    rates: { orders: 0.3, views: 0.5, searches: 0.2, cartAdds: 0.3, reviews: 0.06, campaignResponses: 0.1 },
    categories: { fashion: 3, beauty: 2.5, electronics: 1.5, kitchen: 1.5 },
    channels: { app: 0.8, web: 0.15, store: 0.05 },
    itemsPerOrder: 3,
    quantityPerItem: 1.3,
    priceBias: 0.85,
    discountPropensity: 0.05,
    discountDepth: [0.05, 0.1],
    refundRate: 0.04,
    queryModifiers: ['premium', 'luxury', 'designer', 'gift set', 'new season'],
    modifierRate: 0.6,
    ratingMean: 4.5,
    campaignEngagement: 0.85,
  },
  {
    name: 'window_shopper',
    description: 'Browses a great deal on the web, searches for inspiration, almost never orders',
    kind: 'customer',
    weight: 22,
    rates: { orders: 0.006, views: 1.6, searches: 0.3, cartAdds: 0.2, reviews: 0.002, campaignResponses: 0.05 },
    categories: { fashion: 2.5, electronics: 2, sports: 1.5, beauty: 1.5, kitchen: 1 },
    channels: { web: 0.85, app: 0.15 },
    itemsPerOrder: 1.1,
    quantityPerItem: 1,
    priceBias: 0.2,
    discountPropensity: 0.2,
    discountDepth: [0.05, 0.2],
    refundRate: 0.05,
    queryModifiers: ['{} ideas', '{} inspiration', 'trending', '{} reviews', 'best', '{} lookbook'],
    modifierRate: 0.5,
    ratingMean: 3.6,
    campaignEngagement: 0.15,
  },
  {
    name: 'lapsing',
    description: 'Ordered steadily at the start, then went quiet part-way through the run',
    kind: 'customer',
    weight: 12,
    rates: { orders: 0.16, views: 0.4, searches: 0.15, cartAdds: 0.12, reviews: 0.02, campaignResponses: 0.06 },
    categories: { kitchen: 2.5, pets: 2, sports: 1, books: 0.5 },
    channels: { web: 0.5, store: 0.4, app: 0.1 },
    itemsPerOrder: 1.8,
    quantityPerItem: 1.2,
    priceBias: 0,
    discountPropensity: 0.25,
    discountDepth: [0.05, 0.2],
    refundRate: 0.08,
    queryModifiers: ['replacement', 'refill', 'spare'],
    modifierRate: 0.3,
    ratingMean: 3.8,
    campaignEngagement: 0.2,
    lapse: { between: [0.15, 0.45], factor: 0.03 },
  },
  {
    name: 'new_parent',
    description: 'New parents: baby essentials and toys, app and web, evening sessions',
    kind: 'customer',
    weight: 10,
    rates: { orders: 0.12, views: 0.6, searches: 0.35, cartAdds: 0.25, reviews: 0.04, campaignResponses: 0.08 },
    categories: { baby: 7, toys: 2.5, beauty: 0.5 },
    channels: { app: 0.55, web: 0.45 },
    itemsPerOrder: 2.4,
    quantityPerItem: 1.6,
    priceBias: 0.1,
    discountPropensity: 0.3,
    discountDepth: [0.05, 0.2],
    refundRate: 0.06,
    queryModifiers: ['newborn', 'toddler', 'gentle', 'safe'],
    modifierRate: 0.35,
    ratingMean: 4.2,
    campaignEngagement: 0.45,
  },
  {
    name: 'keen_gardener',
    description: 'Garden tools, planters and seeds; web and in store; pets on the side',
    kind: 'customer',
    weight: 9,
    rates: { orders: 0.09, views: 0.5, searches: 0.3, cartAdds: 0.15, reviews: 0.05, campaignResponses: 0.06 },
    categories: { garden: 8, pets: 1, kitchen: 0.5 },
    channels: { web: 0.55, store: 0.4, app: 0.05 },
    itemsPerOrder: 2.2,
    quantityPerItem: 1.8,
    priceBias: 0,
    discountPropensity: 0.2,
    discountDepth: [0.05, 0.15],
    refundRate: 0.04,
    queryModifiers: ['organic', 'perennial', 'allotment', 'peat free'],
    modifierRate: 0.35,
    ratingMean: 4.3,
    campaignEngagement: 0.35,
  },
  {
    name: 'gadget_fan',
    description: 'Electronics enthusiasts: many views and comparison searches, few pricey orders, reviews',
    kind: 'customer',
    weight: 11,
    rates: { orders: 0.05, views: 1.1, searches: 0.55, cartAdds: 0.25, reviews: 0.06, campaignResponses: 0.05 },
    categories: { electronics: 8, sports: 1 },
    channels: { app: 0.5, web: 0.45, marketplace: 0.05 },
    itemsPerOrder: 1.2,
    quantityPerItem: 1,
    priceBias: 0.6,
    discountPropensity: 0.15,
    discountDepth: [0.05, 0.15],
    refundRate: 0.1,
    queryModifiers: ['best', '{} review', '{} 2026', '{} vs', '{} specs', '{} benchmark'],
    modifierRate: 0.55,
    ratingMean: 3.9,
    campaignEngagement: 0.3,
  },
  {
    name: 'bookworm',
    description: 'Books, steadily: small cheap orders on the web and many reviews',
    kind: 'customer',
    weight: 8,
    rates: { orders: 0.12, views: 0.4, searches: 0.3, cartAdds: 0.15, reviews: 0.09, campaignResponses: 0.04 },
    categories: { books: 9, kitchen: 0.5 },
    channels: { web: 0.8, app: 0.2 },
    itemsPerOrder: 1.5,
    quantityPerItem: 1,
    priceBias: -0.2,
    discountPropensity: 0.15,
    discountDepth: [0.05, 0.15],
    refundRate: 0.02,
    queryModifiers: ['new', '{} author', '{} series', '{} paperback'],
    modifierRate: 0.35,
    ratingMean: 4.1,
    campaignEngagement: 0.25,
  },
  {
    name: 'bot',
    description: 'Scrapers: huge numbers of views and searches around the clock, never order',
    kind: 'bot',
    weight: 0,
    rates: { orders: 0, views: 80, searches: 10, cartAdds: 0, reviews: 0, campaignResponses: 0 },
    categories: {
      garden: 1,
      baby: 1,
      kitchen: 1,
      electronics: 1,
      fashion: 1,
      books: 1,
      pets: 1,
      sports: 1,
      beauty: 1,
      toys: 1,
    },
    channels: { web: 1 },
    itemsPerOrder: 1,
    quantityPerItem: 1,
    priceBias: 0,
    discountPropensity: 0,
    discountDepth: [0, 0],
    refundRate: 0,
    queryModifiers: [],
    modifierRate: 0,
    ratingMean: 3,
    campaignEngagement: 0,
    roundTheClock: true,
  },
  {
    name: 'wholesaler',
    description: 'Trade buyers: huge orders of cheap homeware and toys at trade discount',
    kind: 'wholesaler',
    weight: 0,
    rates: { orders: 0.35, views: 0.8, searches: 0.3, cartAdds: 0.6, reviews: 0, campaignResponses: 0.02 },
    categories: { kitchen: 3, toys: 2, garden: 1.5, pets: 1, beauty: 1 },
    channels: { web: 0.7, store: 0.3 },
    itemsPerOrder: 25,
    quantityPerItem: 48,
    priceBias: -0.7,
    discountPropensity: 0.9,
    discountDepth: [0.1, 0.2],
    refundRate: 0.05,
    queryModifiers: ['bulk', 'wholesale', 'trade pack', 'case of 12'],
    modifierRate: 0.8,
    ratingMean: 3.5,
    campaignEngagement: 0.1,
  },
];
