/**
 * The HTML run report, opened in a real headless Chromium (Debian's, driven by
 * playwright-core) with the network switched off: every chart must draw, with no
 * console errors, and a broken chart must turn the page's status to 'error'.
 *
 * Needs /usr/bin/chromium (or CHROMIUM_PATH); `.ci/install-browser.sh` installs it.
 * Without it the suite is skipped locally, and fails under CI.
 * `SHOAL_SCREENSHOT=1` also saves out/report-screenshot.png (for the README).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHART_IDS, projectTo2d, renderReport, type ReportData, type RenderOptions } from '../../local/report';

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const RENDER_TIMEOUT_MS = 30_000;
const SCREENSHOT_PATH = resolve(__dirname, '../../out/report-screenshot.png');
const EXAMPLE_PATH = resolve(__dirname, '../../out/report-example.html');

const haveChromium = existsSync(CHROMIUM_PATH);
const inCi = Boolean(process.env.CI);

if (!haveChromium && !inCi) {
  console.warn(
    `[report.test] SKIPPED: Chromium not found at ${CHROMIUM_PATH}. ` +
      'Install it with .ci/install-browser.sh (or set CHROMIUM_PATH) to run the headless-browser report test.',
  );
}

// ---------------------------------------------------------------------------
// Deterministic fixture: 5 segments, 10 nightly runs, 1,000 projected customers.

const SEGMENTS = [
  {
    id: 'seg-a',
    name: 'Loyal big spenders',
    orders: 14,
    revenue: 1840,
    clv: 2600,
    churn: 0.08,
    cats: ['electronics', 'home'],
  },
  { id: 'seg-b', name: 'Bargain hunters', orders: 6, revenue: 310, clv: 420, churn: 0.31, cats: ['outlet', 'fashion'] },
  {
    id: 'seg-c',
    name: 'New & curious <first 30 days>',
    orders: 1.4,
    revenue: 85,
    clv: 190,
    churn: 0.46,
    cats: ['beauty'],
  },
  { id: 'seg-d', name: 'Lapsed', orders: 3.1, revenue: 240, clv: 60, churn: 0.82, cats: ['books', 'toys', 'garden'] },
  {
    id: 'seg-e',
    name: 'Weekend browsers',
    orders: 2.2,
    revenue: 150,
    clv: 230,
    churn: 0.38,
    cats: ['sports', 'outdoor'],
  },
] as const;
const FEATURES = ['recency', 'frequency', 'monetary', 'basketSize', 'discountShare', 'categoryBreadth'];
const RUNS = 10;
const POINTS = 1000;
const DIM = 8;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

function day(i: number): string {
  return new Date(Date.UTC(2026, 2, 1 + i)).toISOString().slice(0, 10);
}

function fixture(seed = 7): ReportData {
  const random = rng(seed);
  const weights = [0.18, 0.27, 0.2, 0.15, 0.2];

  // Customers: planted cluster centres in DIM dimensions, projected with the real projectTo2d.
  const centres = SEGMENTS.map(() => Array.from({ length: DIM }, () => gaussian(random) * 3));
  const vectors = new Float64Array(POINTS * DIM);
  const membership: number[] = [];
  for (let i = 0; i < POINTS; i++) {
    let r = random();
    let s = 0;
    while (s < weights.length - 1 && r > (weights[s] as number)) r -= weights[s++] as number;
    membership.push(s);
    const centre = centres[s] as number[];
    for (let j = 0; j < DIM; j++) vectors[i * DIM + j] = (centre[j] as number) + gaussian(random);
  }
  const { x, y } = projectTo2d(vectors, POINTS, DIM, seed);
  const projection = membership.map((s, i) => {
    const seg = SEGMENTS[s] as (typeof SEGMENTS)[number];
    return { x: x[i] as number, y: y[i] as number, segmentId: seg.id, name: seg.name };
  });

  const customers = 5000;
  const sizesOverTime = Array.from({ length: RUNS }, (_, run) =>
    SEGMENTS.map((seg, s) => {
      const drift = 1 + 0.04 * run * (s % 2 === 0 ? 1 : -0.6) + 0.03 * gaussian(random);
      return {
        day: day(run),
        segmentId: seg.id,
        name: seg.name,
        size: Math.round(customers * (0.6 + run * 0.05) * (weights[s] as number) * drift),
      };
    }),
  ).flat();

  const transitions: ReportData['transitions'] = [];
  for (const from of [...SEGMENTS.map((s) => s.id), 'none']) {
    for (const to of SEGMENTS) {
      const stay = from === to.id;
      transitions.push({ from, to: to.id, count: stay ? 600 + Math.round(random() * 400) : Math.round(random() * 60) });
    }
  }

  const qualityOverRuns = Array.from({ length: RUNS }, (_, run) => ({
    run: run + 1,
    day: day(run),
    silhouette: 0.42 + 0.02 * Math.sin(run) + 0.01 * random(),
    daviesBouldin: 0.95 - 0.03 * Math.cos(run) + 0.02 * random(),
    stability: run === 0 ? null : 0.78 + 0.15 * random(),
    k: run < 3 ? 4 : 5,
  }));

  const clvBySegment = SEGMENTS.flatMap((seg) =>
    Array.from({ length: 120 }, () => ({
      segmentId: seg.id,
      name: seg.name,
      clv: Math.round(seg.clv * Math.exp(0.6 * gaussian(random)) * 100) / 100,
    })),
  );

  const profiles = SEGMENTS.flatMap((seg) =>
    FEATURES.map((feature) => ({ segmentId: seg.id, name: seg.name, feature, value: gaussian(random) * 1.1 })),
  );

  const sizes = SEGMENTS.map((_, s) => sizesOverTime[(RUNS - 1) * SEGMENTS.length + s]?.size ?? 0);
  const total = sizes.reduce((a, b) => a + b, 0);
  return {
    title: `Shoal local run — simulator, seed ${seed}`,
    generatedAt: '2026-03-10T06:00:00.000Z',
    summary: {
      eventsIngested: 182_340,
      eventsRejected: 112,
      customers: total,
      modelVersion: 'm-2026-03-10-0600',
      k: 5,
      silhouette: 0.4312,
      segmentChanges: 431,
      timings: { ingestMs: 8412, reclusterMs: 2210.5, reportMs: 95 },
    },
    segments: SEGMENTS.map((seg, s) => ({
      id: seg.id,
      name: seg.name,
      size: sizes[s] ?? 0,
      share: (sizes[s] ?? 0) / total,
      meanOrders: seg.orders,
      meanRevenue: seg.revenue,
      meanClv: s === 3 ? null : seg.clv,
      meanChurnRisk: seg.churn,
      topCategories: [...seg.cats],
    })),
    sizesOverTime,
    transitions,
    projection,
    qualityOverRuns,
    clvBySegment,
    profiles,
    movesByNight: [
      { day: '2026-03-08', reason: 'event', count: 12 },
      { day: '2026-03-08', reason: 'recluster', count: 4 },
      { day: '2026-03-09', reason: 'retired', count: 9 },
    ],
    refusedRuns: [{ day: '2026-03-07', reasons: 'silhouette 0.01 < 0.05' }],
    keptRuns: [{ day: '2026-03-05', reason: 'no drift, refit in 3 nights' }],
    kScores: [
      { run: 1, day: '2026-03-08', k: 4, silhouette: 0.31, chosen: false },
      { run: 1, day: '2026-03-08', k: 5, silhouette: 0.43, chosen: true },
      { run: 1, day: '2026-03-08', k: 6, silhouette: 0.39, chosen: false },
    ],
    backtest: {
      holdoutWeeks: 13,
      meanAbsoluteError: 0.79,
      correlation: 0.63,
      bins: [
        { frequency: '0', customers: 1411, predicted: 346.2, actual: 290 },
        { frequency: '1', customers: 439, predicted: 341.9, actual: 374 },
        { frequency: '2+', customers: 507, predicted: 965.3, actual: 1218 },
      ],
    },
  };
}

// ---------------------------------------------------------------------------

interface Opened {
  page: Page;
  status: string | null;
  problems: string[];
  errorsText: string;
}

let browser: Browser | undefined;
let dir: string;

async function open(
  name: string,
  data: ReportData,
  options?: RenderOptions,
  viewport = { width: 1280, height: 900 },
): Promise<Opened> {
  if (!browser) throw new Error('browser not launched');
  const file = join(dir, `${name}.html`);
  const html = renderReport(data, options);
  writeFileSync(file, html, 'utf8');
  if (process.env.SHOAL_SCREENSHOT && name === 'report') {
    mkdirSync(resolve(EXAMPLE_PATH, '..'), { recursive: true });
    writeFileSync(EXAMPLE_PATH, html, 'utf8');
  }
  // Offline: the report must not need the network.
  const context = await browser.newContext({ offline: true, viewport });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) problems.push(`request: ${r.url()}`);
  });
  await page.goto(pathToFileURL(file).href);
  await page.waitForFunction('document.body && document.body.dataset.rendered !== undefined', undefined, {
    timeout: RENDER_TIMEOUT_MS,
  });
  const status = await page.locator('body').getAttribute('data-rendered');
  const errorsText = (await page.locator('#render-errors').textContent()) ?? '';
  return { page, status, problems, errorsText };
}

const marks = (page: Page, chart: string, mark: string) =>
  page.locator(`#${chart} svg .mark-${mark}.role-mark > path`).count();

const describeBrowser = haveChromium ? describe : describe.skip;

if (!haveChromium && inCi) {
  test('Chromium is installed (required under CI)', () => {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}; CI must run .ci/install-browser.sh before the tests.`);
  });
}

describeBrowser('HTML run report in headless Chromium', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shoal-report-'));
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: RENDER_TIMEOUT_MS });
  });

  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('draws every chart offline, with no console errors', async () => {
    const data = fixture();
    const { page, status, problems, errorsText } = await open('report', data);
    try {
      expect(errorsText).toBe('');
      expect(problems).toEqual([]);
      expect(status).toBe('ok');

      for (const id of CHART_IDS) {
        expect(await page.locator(`#${id} svg`).count()).toBe(1);
      }
      // Scatter: one symbol per projected customer.
      expect(await marks(page, 'chart-projection', 'symbol')).toBe(POINTS);
      // Transition heatmap: full from × to matrix (5 old segments + new) × 5 current segments.
      expect(await marks(page, 'chart-transitions', 'rect')).toBe(6 * 5);
      expect(await page.locator('#chart-transitions svg .mark-text.role-mark > text').count()).toBe(6 * 5);
      // Profile heatmap: segments × features.
      expect(await marks(page, 'chart-profiles', 'rect')).toBe(SEGMENTS.length * FEATURES.length);
      // Stacked areas: one per segment.
      expect(await marks(page, 'chart-sizes', 'area')).toBe(SEGMENTS.length);
      // Quality: a line per metric facet (silhouette, Davies–Bouldin, stability, k).
      expect(await marks(page, 'chart-quality', 'line')).toBe(4);
      // Boxplot: a box per segment.
      expect(await page.locator('#chart-clv svg .mark-rect.role-mark > path').count()).toBeGreaterThanOrEqual(
        SEGMENTS.length,
      );

      // Segment table, with names as text.
      expect(await page.locator('table.segments tbody tr').count()).toBe(SEGMENTS.length);
      expect(await page.locator('table.segments').textContent()).toContain('New & curious <first 30 days>');
      expect(await page.locator('.figures').textContent()).toContain('182,340');

      if (process.env.SHOAL_SCREENSHOT) {
        mkdirSync(resolve(SCREENSHOT_PATH, '..'), { recursive: true });
        await page.screenshot({ path: SCREENSHOT_PATH, fullPage: true });
        console.log(`[report.test] screenshot saved to ${SCREENSHOT_PATH}`);
      }
    } finally {
      await page.context().close();
    }
  });

  test('escapes hostile segment names and shows notes for empty inputs', async () => {
    const evil = '</script><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">';
    const data: ReportData = {
      title: `First run <b>${evil}</b>`,
      generatedAt: '2026-03-01T06:00:00Z',
      summary: {},
      segments: [
        {
          id: 's1',
          name: evil,
          size: 10,
          share: 1,
          meanOrders: 1,
          meanRevenue: 9.5,
          meanClv: null,
          meanChurnRisk: null,
          topCategories: [evil],
        },
      ],
      sizesOverTime: [{ day: '2026-03-01', segmentId: 's1', name: evil, size: 10 }],
      transitions: [],
      projection: [{ x: 0, y: 0, segmentId: 's1', name: evil }],
      qualityOverRuns: [],
      clvBySegment: [],
    };
    const { page, status, problems, errorsText } = await open('hostile', data);
    try {
      expect(errorsText).toBe('');
      expect(problems).toEqual([]);
      expect(status).toBe('ok');
      expect(await page.evaluate('window.__pwned')).toBeUndefined();
      expect(await page.locator('img').count()).toBe(0);
      expect(await page.locator('table.segments td.name').textContent()).toBe(evil);
      expect(await page.title()).toBe(`First run <b>${evil}</b>`);
      // Charts with data are drawn; the others show a note instead.
      expect(await marks(page, 'chart-projection', 'symbol')).toBe(1);
      for (const id of ['chart-transitions', 'chart-profiles', 'chart-quality', 'chart-clv']) {
        expect(await page.locator(`#${id} svg`).count()).toBe(0);
        expect(await page.locator(`#${id} .note`).count()).toBe(1);
      }
    } finally {
      await page.context().close();
    }
  });

  test('a chart that fails to compile sets rendered=error with its message', async () => {
    const broken = {
      data: { name: 'projection' },
      mark: 'point',
      encoding: { x: { field: 'x', type: 'not-a-type' } },
    };
    const { page, status, errorsText } = await open('broken', fixture(), {
      specOverrides: { 'chart-projection': broken },
    });
    try {
      expect(status).toBe('error');
      expect(errorsText).toMatch(/^chart-projection: .*field type/m);
      expect(await page.locator('#render-errors').isVisible()).toBe(true);
      // The other charts still draw.
      expect(await page.locator('#chart-transitions svg').count()).toBe(1);
    } finally {
      await page.context().close();
    }
  });
});
