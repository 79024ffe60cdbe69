/**
 * A small stored world for the query API tests: an active model with a profile and a catalogue entry for seg-001,
 * customers written through the real DynamoDB adapters (dynalite), one erased.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { catalogueEntrySchema, type CatalogueEntry } from '../../shared/contracts/catalogue';
import type { SegmentProfile } from '../../shared/contracts/outbound';
import { emptyState, featuresOf } from '../../shared/customer/state';
import { featureSettingsOf } from '../../shared/customer/update';
import type { Settings } from '../../shared/config/settings';
import { queryAdapters } from '../../shared/runtime/wiring';
import type { SegmentationModel } from '../../shared/segmentation/model';
import { makeEvent } from './factories';
import { profileFromLog } from './memory-customer';
import { modelFromPrototypes, withLocalEmbeddings } from './model';

export const NOW = new Date('2026-11-10T12:00:00Z');
const day = (d: number) => new Date(NOW.getTime() - d * 86_400_000).toISOString();

/** seg-001's profile: orders median 2 (IQR 1..3), revenue median 100 (IQR 60..140), recency median 30 days (10..60). */
export const SEG1_PROFILE: SegmentProfile = {
  segmentId: 'seg-001',
  name: 'Garden buyers',
  size: 40,
  share: 0.8,
  features: {
    orders: { mean: 2.2, p25: 1, p50: 2, p75: 3 },
    revenue: { mean: 110, p25: 60, p50: 100, p75: 140 },
    daysSinceLastOrder: { mean: 35, p25: 10, p50: 30, p75: 60 },
    tenureDays: { mean: 200, p25: 50, p50: 200, p75: 400 },
  },
  topCategories: [{ category: 'garden', share: 0.9 }],
  channelMix: { web: 1 },
  meanClv: 120,
  meanChurnRisk: 0.3,
};

export const SEG1_CATALOGUE: CatalogueEntry = catalogueEntrySchema.parse({
  segmentId: 'seg-001',
  name: 'Garden buyers',
  narration: {
    name: 'Garden buyers',
    persona: 'Buyers of garden tools and pots, ordering a few times a year.',
    strategy: {
      objective: 'grow',
      actions: [{ channel: 'email', action: 'Seasonal planting guide' }],
      offerType: 'bundle',
      cadence: 'monthly',
      kpis: ['repeat rate'],
      cautions: [],
    },
  },
  provenance: { source: 'rules', fingerprint: 'f', cached: false, fallbackReason: null },
  profile: {
    size: 40,
    share: 0.8,
    stats: {},
    lifecycleMix: {},
    buyers: { count: 40, share: 1, meanChurnRisk: 0.3, medianClv: 100, meanClv: 120 },
    channelMix: { web: 1 },
    topCategoriesByShare: [],
    topCategoriesByLift: [],
  },
  recommendations: {
    productsByVolume: [{ sku: 'SKU-1', customers: 30, score: 90, ordered: 30, lift: 1 }],
    productsByLift: [
      { sku: 'SKU-9', customers: 10, score: 30, ordered: 8, lift: 3 },
      { sku: 'SKU-2', customers: 12, score: 20, ordered: 2, lift: 2 },
    ],
    categoriesByVolume: [],
    categoriesByLift: [],
  },
  campaigns: [],
  feedback: { ratings: [0, 0, 0, 0, 0], ratingCount: 0, lowRatingShare: null, terms: [] },
});

/** The customers: `big` has 6 orders of 59.90 (SKU-1), `erased` is a tombstone, `c-0`.. `c-{n-1}` one order each. */
export async function seedQueryWorld(
  client: DynamoDBClient,
  tableName: string,
  settings: Settings,
  members = 5,
): Promise<{ model: SegmentationModel }> {
  const stores = queryAdapters(client, tableName, settings);
  const buyerEvents = [makeEvent('order.placed', { customerId: 'proto', occurredAt: day(20) })];
  const base = modelFromPrototypes(
    [
      { segmentId: 'seg-001', name: 'Garden buyers', events: buyerEvents },
      { segmentId: 'seg-002', name: 'Browsers', events: [makeEvent('product.viewed', { customerId: 'proto2' })] },
    ],
    settings,
    NOW,
    1,
  );
  const model: SegmentationModel = {
    ...base,
    profiles: [SEG1_PROFILE, { ...SEG1_PROFILE, segmentId: 'seg-002', name: 'Browsers', size: 10, share: 0.2 }],
    catalogue: [SEG1_CATALOGUE],
  };
  await stores.models.putVersion(model);
  await stores.models.activate(1, null);

  const dim = settings.embedding.dimension;
  const big = withLocalEmbeddings(
    Array.from({ length: 6 }, (_, i) =>
      makeEvent('order.placed', { customerId: 'big', occurredAt: day(100 - i * 15) }),
    ),
    dim,
  );
  const profiles = [
    profileFromLog('big', big, NOW, settings, model),
    ...Array.from({ length: members }, (_, i) =>
      profileFromLog(
        `c-${i}`,
        withLocalEmbeddings([makeEvent('order.placed', { customerId: `c-${i}`, occurredAt: day(20) })], dim),
        NOW,
        settings,
        model,
      ),
    ),
  ];
  const erased = profileFromLog(
    'erased',
    withLocalEmbeddings([makeEvent('order.placed', { customerId: 'erased', occurredAt: day(5) })], dim),
    NOW,
    settings,
    model,
  );
  profiles.push({
    ...erased,
    erasedAt: NOW.toISOString(),
    state: emptyState(),
    features: featuresOf(emptyState(), NOW, featureSettingsOf(settings)),
    assignment: null,
    traits: null,
    lifecycleStage: null,
    history: [],
  });
  for (const p of profiles) {
    const outcome = await stores.profiles.put(p, null);
    if (outcome !== 'written') throw new Error(`seed: ${p.customerId} ${outcome}`);
  }
  return { model };
}
