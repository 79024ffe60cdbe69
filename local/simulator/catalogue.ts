/**
 * The simulated storefront's catalogue: ~10 categories × 30 products, titles composed from per-category
 * adjective + material + noun word lists, prices drawn per category. Each category also carries the search terms
 * and review phrases its shoppers use, so a persona's interest texts are distinct from another's.
 */
import { createRng, type Rng } from '../../shared/util/rng';

export const CATEGORY_NAMES = [
  'garden',
  'baby',
  'kitchen',
  'electronics',
  'fashion',
  'books',
  'pets',
  'sports',
  'beauty',
  'toys',
] as const;
export type CategoryName = (typeof CATEGORY_NAMES)[number];

export interface CategorySpec {
  name: CategoryName;
  /** SKU prefix, e.g. `GAR`. */
  code: string;
  adjectives: readonly string[];
  materials: readonly string[];
  nouns: readonly string[];
  /** Price range in GBP; prices are log-uniform within it and end in .99 or .49. */
  price: readonly [number, number];
  /** What shoppers of this category type into the search box. */
  searchTerms: readonly string[];
  /** Category-specific review phrases. */
  reviewPhrases: readonly string[];
}

export interface Product {
  sku: string;
  title: string;
  category: CategoryName;
  price: number;
}

export interface Catalogue {
  categories: readonly CategorySpec[];
  products: readonly Product[];
  /** Products of each category, sorted by ascending price (persona price bias picks from either end). */
  byCategory: ReadonlyMap<CategoryName, readonly Product[]>;
  bySku: ReadonlyMap<string, Product>;
}

export const CATEGORY_SPECS: readonly CategorySpec[] = [
  {
    name: 'garden',
    code: 'GAR',
    adjectives: ['Weatherproof', 'Heavy-Duty', 'Rustic', 'Self-Watering', 'Folding', 'Compact', 'Hanging', 'Raised'],
    materials: ['Galvanised Steel', 'Cedar', 'Terracotta', 'Recycled Plastic', 'Bamboo', 'Wrought Iron'],
    nouns: [
      'Planter',
      'Hose Reel',
      'Raised Bed',
      'Bird Feeder',
      'Trowel Set',
      'Watering Can',
      'Compost Bin',
      'Greenhouse Shelf',
      'Seed Tray',
      'Secateurs',
    ],
    price: [4, 140],
    searchTerms: [
      'compost',
      'raised bed',
      'secateurs',
      'seed trays',
      'tomato feed',
      'hose reel',
      'bird feeder',
      'greenhouse',
      'lawn seed',
      'planters',
      'slug pellets',
      'garden kneeler',
    ],
    reviewPhrases: [
      'looks great on the patio',
      'my seedlings are thriving',
      'survived the winter outside',
      'sturdy enough for the allotment',
    ],
  },
  {
    name: 'baby',
    code: 'BAB',
    adjectives: [
      'Organic',
      'Soft-Touch',
      'Anti-Colic',
      'Foldable',
      'Hypoallergenic',
      'Night-Light',
      'Travel',
      'Newborn',
    ],
    materials: ['Cotton', 'Muslin', 'BPA-Free Silicone', 'Bamboo Fibre', 'Merino', 'Beechwood'],
    nouns: [
      'Sleepsuit',
      'Baby Bottle',
      'Swaddle Blanket',
      'Teether',
      'Changing Mat',
      'Baby Monitor',
      'Pram Organiser',
      'Bath Support',
      'Bib Set',
      'Cot Mobile',
    ],
    price: [3, 160],
    searchTerms: [
      'nappies',
      'baby monitor',
      'pram',
      'muslin squares',
      'sleepsuits 0-3 months',
      'teething ring',
      'baby bottles',
      'changing bag',
      'cot mattress',
      'baby wipes',
      'moses basket',
      'steriliser',
    ],
    reviewPhrases: [
      'perfect for our little one',
      'the baby sleeps much better',
      'gentle on sensitive skin',
      'easy to clean between feeds',
    ],
  },
  {
    name: 'kitchen',
    code: 'KIT',
    adjectives: ['Non-Stick', 'Professional', 'Stackable', 'Enamelled', 'Airtight', 'Cast', 'Vintage', 'Everyday'],
    materials: ['Stainless Steel', 'Cast Iron', 'Stoneware', 'Borosilicate Glass', 'Oak', 'Copper'],
    nouns: [
      'Frying Pan',
      'Casserole Dish',
      'Knife Block',
      'Mixing Bowl',
      'Storage Jar',
      'Teapot',
      'Chopping Board',
      'Cafetiere',
      'Baking Tray',
      'Mug Set',
    ],
    price: [3, 120],
    searchTerms: [
      'frying pan',
      'knife set',
      'casserole dish',
      'storage jars',
      'cafetiere',
      'baking tray',
      'mug set',
      'chopping board',
      'air fryer liners',
      'tea towels',
      'measuring jug',
      'cake tin',
    ],
    reviewPhrases: [
      'heats evenly on the hob',
      'use it every day in the kitchen',
      'goes straight in the dishwasher',
      'makes baking a joy',
    ],
  },
  {
    name: 'electronics',
    code: 'ELE',
    adjectives: ['Wireless', 'Smart', 'Portable', 'Noise-Cancelling', '4K', 'Fast-Charging', 'Ergonomic', 'Mechanical'],
    materials: ['Aluminium', 'Matte Black', 'Carbon Fibre', 'Braided', 'Graphite', 'Titanium'],
    nouns: [
      'Earbuds',
      'Bluetooth Speaker',
      'Monitor',
      'USB-C Charger',
      'Keyboard',
      'Webcam',
      'Power Bank',
      'Smartwatch',
      'Router',
      'Gaming Mouse',
    ],
    price: [12, 650],
    searchTerms: [
      'wireless earbuds',
      'usb-c charger',
      'mechanical keyboard',
      '4k monitor',
      'power bank',
      'smartwatch',
      'mesh wifi',
      'gaming mouse',
      'bluetooth speaker',
      'hdmi cable',
      'ssd 1tb',
      'noise cancelling headphones',
    ],
    reviewPhrases: [
      'battery life is excellent',
      'paired instantly with my phone',
      'firmware update fixed the lag',
      'build quality feels premium',
    ],
  },
  {
    name: 'fashion',
    code: 'FAS',
    adjectives: ['Slim-Fit', 'Oversized', 'Classic', 'Cropped', 'Tailored', 'Relaxed', 'Waterproof', 'Quilted'],
    materials: ['Linen', 'Denim', 'Cashmere', 'Leather', 'Organic Cotton', 'Wool Blend'],
    nouns: [
      'Trench Coat',
      'Chinos',
      'Knit Jumper',
      'Ankle Boots',
      'Midi Dress',
      'Blazer',
      'Tote Bag',
      'Scarf',
      'Trainers',
      'Shirt',
    ],
    price: [8, 260],
    searchTerms: [
      'midi dress',
      'white trainers',
      'trench coat',
      'wool jumper',
      'ankle boots',
      'linen shirt',
      'leather tote',
      'skinny jeans',
      'party dress',
      'winter coat',
      'cashmere scarf',
      'blazer',
    ],
    reviewPhrases: [
      'fits true to size',
      'the fabric feels lovely',
      'got so many compliments',
      'washes well without shrinking',
    ],
  },
  {
    name: 'books',
    code: 'BOO',
    adjectives: [
      'Illustrated',
      'Collected',
      'Annotated',
      'Bestselling',
      'Award-Winning',
      'Pocket',
      'Signed',
      'Complete',
    ],
    materials: ['Hardback', 'Paperback', 'Clothbound', 'Large Print', 'Box Set', 'Special Edition'],
    nouns: [
      'Crime Novel',
      'Cookbook',
      'History of Britain',
      'Poetry Anthology',
      'Fantasy Saga',
      'Biography',
      'Travel Guide',
      'Science Primer',
      'Short Stories',
      'Book Club Pick',
    ],
    price: [4, 45],
    searchTerms: [
      'crime thriller',
      'booker prize',
      'fantasy series',
      'cookbook',
      'biography',
      'poetry',
      'historical fiction',
      'book club',
      'audiobook',
      'graphic novel',
      'kindle',
      'signed edition',
    ],
    reviewPhrases: [
      'could not put it down',
      'beautifully written',
      'perfect for my book club',
      'the ending surprised me',
    ],
  },
  {
    name: 'pets',
    code: 'PET',
    adjectives: [
      'Orthopaedic',
      'Chew-Proof',
      'Reflective',
      'Grain-Free',
      'Washable',
      'Interactive',
      'Self-Cleaning',
      'Calming',
    ],
    materials: ['Rope', 'Faux Fur', 'Nylon', 'Natural Rubber', 'Sisal', 'Ceramic'],
    nouns: [
      'Dog Bed',
      'Cat Scratcher',
      'Lead',
      'Feeding Bowl',
      'Treat Pouch',
      'Litter Tray',
      'Puzzle Feeder',
      'Harness',
      'Ball Launcher',
      'Grooming Brush',
    ],
    price: [3, 90],
    searchTerms: [
      'dog bed',
      'cat litter',
      'puppy treats',
      'cat scratcher',
      'dog harness',
      'flea treatment',
      'dog food grain free',
      'cat toys',
      'lead',
      'grooming brush',
      'bird seed',
      'hamster cage',
    ],
    reviewPhrases: [
      'the dog loves it',
      'our cat will not leave it alone',
      'survived a very determined puppy',
      'easy to wash after walks',
    ],
  },
  {
    name: 'sports',
    code: 'SPO',
    adjectives: ['Lightweight', 'Breathable', 'Adjustable', 'Non-Slip', 'Insulated', 'Compression', 'Trail', 'Pro'],
    materials: ['Neoprene', 'Carbon', 'Mesh', 'EVA Foam', 'Merino', 'Steel'],
    nouns: [
      'Yoga Mat',
      'Running Shoes',
      'Dumbbell Set',
      'Cycling Helmet',
      'Water Bottle',
      'Resistance Bands',
      'Tennis Racket',
      'Rucksack',
      'Gym Gloves',
      'Football',
    ],
    price: [6, 220],
    searchTerms: [
      'running shoes',
      'yoga mat',
      'dumbbells',
      'cycling helmet',
      'resistance bands',
      'hiking boots',
      'gym bag',
      'protein shaker',
      'tennis racket',
      'football boots',
      'swim goggles',
      'kettlebell',
    ],
    reviewPhrases: [
      'great for my morning run',
      'stays put during workouts',
      'comfortable on long hikes',
      'survived a muddy season',
    ],
  },
  {
    name: 'beauty',
    code: 'BEA',
    adjectives: [
      'Hydrating',
      'Vegan',
      'Fragrance-Free',
      'Brightening',
      'Overnight',
      'Mineral',
      'Travel-Size',
      'Luxury',
    ],
    materials: ['Hyaluronic', 'Shea Butter', 'Vitamin C', 'Argan Oil', 'Rosehip', 'Charcoal'],
    nouns: [
      'Face Serum',
      'Moisturiser',
      'Lip Balm',
      'Eye Cream',
      'Hair Mask',
      'Cleanser',
      'Body Lotion',
      'Sheet Mask Set',
      'Nail Kit',
      'Perfume',
    ],
    price: [4, 95],
    searchTerms: [
      'vitamin c serum',
      'moisturiser',
      'retinol',
      'spf 50',
      'dry shampoo',
      'perfume gift set',
      'hair mask',
      'eye cream',
      'nail polish',
      'cleanser',
      'lip balm',
      'make up brushes',
    ],
    reviewPhrases: ['my skin feels so soft', 'a little goes a long way', 'no irritation at all', 'smells divine'],
  },
  {
    name: 'toys',
    code: 'TOY',
    adjectives: [
      'Wooden',
      'Educational',
      'Remote-Control',
      'Magnetic',
      'Glow-in-the-Dark',
      'Collectible',
      'Build-Your-Own',
      'Giant',
    ],
    materials: ['Beechwood', 'Plush', 'Die-Cast', 'Recycled Plastic', 'Felt', 'Cardboard'],
    nouns: [
      'Train Set',
      'Jigsaw Puzzle',
      'Teddy Bear',
      'Building Blocks',
      'Racing Car',
      'Dolls House',
      'Board Game',
      'Science Kit',
      'Kite',
      'Play Kitchen',
    ],
    price: [4, 110],
    searchTerms: [
      'lego',
      'jigsaw 1000 pieces',
      'board games',
      'teddy bear',
      'remote control car',
      'dolls house',
      'science kit',
      'stocking fillers',
      'wooden train',
      'play kitchen',
      'card games',
      'outdoor toys',
    ],
    reviewPhrases: [
      'the kids play with it for hours',
      'a hit at the birthday party',
      'sturdy and well made',
      'keeps them busy on rainy days',
    ],
  },
];

const PRODUCTS_PER_CATEGORY = 30;

function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[rng.int(items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

function price(rng: Rng, [lo, hi]: readonly [number, number]): number {
  const raw = Math.exp(Math.log(lo) + rng.next() * (Math.log(hi) - Math.log(lo)));
  const pounds = Math.max(1, Math.floor(raw));
  return pounds + (rng.next() < 0.7 ? 0.99 : 0.49);
}

/** Builds the catalogue deterministically from `seed`. */
export function buildCatalogue(seed: number): Catalogue {
  const rng = createRng((seed ^ 0x5eed_ca7a) >>> 0);
  const products: Product[] = [];
  const byCategory = new Map<CategoryName, Product[]>();
  for (const spec of CATEGORY_SPECS) {
    const titles = new Set<string>();
    const list: Product[] = [];
    let guard = 0;
    while (list.length < PRODUCTS_PER_CATEGORY && guard++ < 10_000) {
      const title = `${pick(rng, spec.adjectives)} ${pick(rng, spec.materials)} ${pick(rng, spec.nouns)}`;
      if (titles.has(title)) continue;
      titles.add(title);
      list.push({ sku: '', title, category: spec.name, price: price(rng, spec.price) });
    }
    list.sort((a, b) => a.price - b.price || (a.title < b.title ? -1 : 1));
    list.forEach((p, i) => {
      p.sku = `${spec.code}-${String(i + 1).padStart(3, '0')}`;
    });
    byCategory.set(spec.name, list);
    products.push(...list);
  }
  return {
    categories: CATEGORY_SPECS,
    products,
    byCategory,
    bySku: new Map(products.map((p) => [p.sku, p])),
  };
}

export function categorySpec(name: CategoryName): CategorySpec {
  const spec = CATEGORY_SPECS.find((c) => c.name === name);
  if (!spec) throw new Error(`unknown category ${name}`);
  return spec;
}
