import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { startLocalLlmServer, type LocalLlmServer } from '../../../local/llm-server';
import { writeSegmentsJson } from '../../../local/catalogue';
import type { CampaignTally } from '../../../shared/catalogue/tallies';
import { narrationSettingsSchema } from '../../../shared/config/settings';
import type { InboundEvent } from '../../../shared/contracts/inbound';
import { modelPublishedSchema, type ModelPublished } from '../../../shared/contracts/outbound';
import { getJson, runObjectKeys } from '../../../shared/recluster/artifacts';
import { assignShard } from '../../../shared/recluster/assign';
import { fitModel } from '../../../shared/recluster/fit-model';
import { planShards } from '../../../shared/recluster/plan';
import { publishModel } from '../../../shared/recluster/publish';
import type { RunReport } from '../../../shared/recluster/report';
import { narratorFor } from '../../../shared/recluster/wiring';
import { scanShard } from '../../../shared/recluster/scan';
import { makeEvent } from '../../support/factories';
import { withLocalEmbeddings } from '../../support/model';
import { profileFromLog } from '../../support/memory-customer';
import { memoryDeps } from './memory-ports';

/**
 * The catalogue through the nightly services over in-memory ports: ScanShard's exact campaign aggregate, FitModel's
 * catalogue and narration (the real SageMaker adapter on the local LLM stand-in), Publish's event and report.
 */
const GROUPS = [
  { category: 'garden', channel: 'web', orders: 3 },
  { category: 'baby', channel: 'app', orders: 1 },
  { category: 'electronics', channel: 'marketplace', orders: 2 },
  { category: 'books', channel: 'web', orders: 0 },
] as const;
const INGESTED = new Date('2026-11-10T12:00:00Z');
const AS_OF = '2026-11-11T03:00:00.000Z';

function events(customerId: string, g: (typeof GROUPS)[number], i: number): InboundEvent[] {
  const day = (d: number) => new Date(INGESTED.getTime() - d * 86_400_000).toISOString();
  const out: InboundEvent[] = [];
  for (let o = 0; o < g.orders; o++)
    out.push(
      makeEvent('order.placed', {
        customerId,
        eventId: `${customerId}-o${o}`,
        orderId: `${customerId}-ord${o}`,
        channel: g.channel,
        total: 40 + i,
        occurredAt: day(3 + o * 17 + (i % 5)),
        items: [
          { sku: `${g.category}-sku`, title: `${g.category} item`, category: g.category, price: 40 + i, quantity: 1 },
        ],
      }),
    );
  out.push(
    makeEvent('product.viewed', {
      customerId,
      eventId: `${customerId}-v`,
      sku: `${g.category}-sku`,
      title: `${g.category} item`,
      category: g.category,
      channel: g.channel,
      occurredAt: day(2 + (i % 7)),
    }),
  );
  return out;
}

/** The scripted campaign tallies: 12 garden customers got "autumn" in seg-001; 5 opened, 2 converted. */
function campaignsOf(gi: number, i: number): CampaignTally[] {
  if (gi !== 0 || i >= 12) return [];
  return [
    {
      campaignId: 'autumn',
      segmentId: 'seg-001',
      delivered: true,
      opened: i < 5,
      clicked: i < 3,
      converted: i < 2,
      firstAt: '2026-11-01T10:00:00Z',
    },
  ];
}

function seed(deps: ReturnType<typeof memoryDeps>): void {
  GROUPS.forEach((g, gi) => {
    for (let i = 0; i < 15; i++) {
      const customerId = `${g.category}-${String(i).padStart(2, '0')}`;
      // The catalogue's tallies come from real events through the customer state: campaign responses, a review.
      const tallies: InboundEvent[] = campaignsOf(gi, i).flatMap((c) =>
        (['delivered', 'opened', 'clicked', 'converted'] as const)
          .filter((r) => c[r])
          .map((response, k) =>
            makeEvent('campaign.responded', {
              customerId,
              eventId: `${customerId}-${c.campaignId}-${response}`,
              campaignId: c.campaignId,
              segmentId: c.segmentId,
              response,
              occurredAt: new Date(Date.parse(c.firstAt) + k * 60_000).toISOString(),
            }),
          ),
      );
      tallies.push(
        makeEvent('review.submitted', {
          customerId,
          eventId: `${customerId}-r`,
          sku: `${g.category}-sku`,
          rating: gi === 2 ? 1 : 5,
          text: gi === 2 ? 'broken' : 'lovely',
          occurredAt: new Date(INGESTED.getTime() - 86_400_000).toISOString(),
        }),
      );
      const profile = profileFromLog(
        customerId,
        withLocalEmbeddings([...events(customerId, g, i), ...tallies], deps.settings.embedding.dimension),
        INGESTED,
        deps.settings,
      );
      deps.profiles.items.set(customerId, profile);
    }
  });
}

async function run(deps: ReturnType<typeof memoryDeps>, runId: string) {
  const plan = await planShards({ runId, asOf: AS_OF }, deps);
  const scans = await Promise.all(plan.shards.map((s) => scanShard(s, deps)));
  const fit = await fitModel({ runId, asOf: plan.asOf, scans }, deps);
  const assignments = await Promise.all(
    plan.shards.map((s) => assignShard({ ...s, modelVersion: fit.modelVersion }, deps)),
  );
  await publishModel({ runId, modelVersion: fit.modelVersion, assignments }, deps);
  const [detail] = deps.publisher.of('segmentation.model.published') as ModelPublished[];
  return { fit, detail: detail! };
}

let server: LocalLlmServer;
let client: SageMakerRuntimeClient;
beforeAll(async () => {
  server = await startLocalLlmServer();
  client = new SageMakerRuntimeClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client.destroy();
  await server.close();
});

function depsWith(narrate: boolean) {
  const deps = memoryDeps();
  deps.settings.recluster = { ...deps.settings.recluster, kMin: 4, kMax: 6, silhouetteSubsample: 100 };
  const settings = narrationSettingsSchema.parse({ endpointName: 'local-narrator', contract: 'chat' });
  return { ...deps, narrator: narrate ? narratorFor(settings, client) : null };
}

describe('the catalogue in the nightly path', () => {
  it('the published event carries one valid entry per segment, with the exact campaign counts of seg-001', async () => {
    const deps = depsWith(false);
    seed(deps);
    const { fit, detail } = await run(deps, 'cat-1');
    expect(fit.gate.passed).toBe(true);
    expect(modelPublishedSchema.parse(detail)).toBeTruthy();
    expect(detail.catalogue.map((e) => e.segmentId)).toEqual(detail.segments.map((s) => s.segmentId));
    expect(detail.catalogue.map((e) => e.name)).toEqual(detail.segments.map((s) => s.name));
    const seg1 = detail.catalogue.find((e) => e.segmentId === 'seg-001')!;
    expect(seg1.campaigns).toHaveLength(1);
    expect(seg1.campaigns[0]).toMatchObject({
      campaignId: 'autumn',
      delivered: 12,
      opened: 5,
      clicked: 3,
      converted: 2,
    });
    expect(seg1.campaigns[0]!.conversionRate!.rate).toBeCloseTo(2 / 12, 10);
    for (const e of detail.catalogue.filter((x) => x.segmentId !== 'seg-001')) expect(e.campaigns).toEqual([]);
    expect(detail.catalogue.every((e) => e.provenance.source === 'rules')).toBe(true);
    expect(detail.renamedSegments).toEqual([]);
  });

  it('feedback and recommendations come from the rows’ tallies', async () => {
    const deps = depsWith(false);
    seed(deps);
    const { detail } = await run(deps, 'cat-2');
    const electronics = detail.catalogue.find((e) =>
      e.profile.topCategoriesByShare.some((c) => c.category === 'electronics' && c.share === 1),
    )!;
    expect(electronics.feedback).toMatchObject({ ratings: [15, 0, 0, 0, 0], ratingCount: 15, lowRatingShare: 1 });
    expect(electronics.feedback.terms.map((t) => t.term)).toEqual(['broken']);
    expect(electronics.recommendations.productsByVolume[0]).toMatchObject({ sku: 'electronics-sku', customers: 15 });
  });

  it('with the LLM configured: narrated through the real adapter on the stand-in, then cached the next night', async () => {
    const deps = depsWith(true);
    seed(deps);
    const before = server.stats.chat;
    const first = await run(deps, 'cat-3');
    expect(server.stats.chat - before).toBe(first.detail.k);
    expect(first.detail.catalogue.every((e) => e.provenance.source === 'llm' && !e.provenance.cached)).toBe(true);
    expect(first.detail.catalogue[0]!.narration.persona).toMatch(/^Template narration/);

    deps.publisher.sent.length = 0;
    const second = await run({ ...deps, clock: () => new Date('2026-11-11T03:10:00Z') }, 'cat-4');
    expect(server.stats.chat - before).toBe(first.detail.k);
    expect(second.detail.catalogue.every((e) => e.provenance.cached)).toBe(true);
    expect(second.detail.catalogue.map((e) => e.name)).toEqual(first.detail.catalogue.map((e) => e.name));
    expect(second.detail.renamedSegments).toEqual([]);
  });

  it('the report has one card per segment and out/segments.json holds the same entries', async () => {
    const deps = depsWith(false);
    seed(deps);
    const { detail } = await run(deps, 'cat-5');
    const html = new TextDecoder().decode((await deps.objects.get(runObjectKeys.reportHtml('cat-5')))!);
    expect(html.match(/class="card segment-card"/g)).toHaveLength(detail.k);
    const report = (await getJson<RunReport>(deps.objects, runObjectKeys.reportJson('cat-5')))!;
    expect(report.catalogue).toEqual(detail.catalogue);
    const model = (await deps.models.getActive())!;
    const file = writeSegmentsJson(mkdtempSync(join(tmpdir(), 'shoal-seg-')), model);
    const written = JSON.parse(readFileSync(file, 'utf8')) as { segments: unknown[]; modelVersion: number };
    expect(written.modelVersion).toBe(detail.modelVersion);
    expect(written.segments).toEqual(detail.catalogue);
  });
});
