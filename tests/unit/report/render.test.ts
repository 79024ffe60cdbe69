import {
  CHART_IDS,
  flattenSummary,
  formatValue,
  humanise,
  jsonForScript,
  MAX_PROJECTION_POINTS,
  renderReport,
  type ReportData,
} from '../../../local/report';

const EVIL = '</script><script>window.__pwned=1</script><img src=x onerror="alert(1)">';

function minimal(overrides: Partial<ReportData> = {}): ReportData {
  return {
    title: 'Shoal local run — test',
    generatedAt: '2026-03-01T00:00:00Z',
    summary: { eventsIngested: 1200, modelVersion: 'm1', timings: { ingestMs: 12.5 } },
    segments: [
      {
        id: 's1',
        name: 'Loyal',
        size: 60,
        share: 0.6,
        meanOrders: 4,
        meanRevenue: 100,
        meanClv: 250,
        meanChurnRisk: 0.1,
        topCategories: ['books'],
      },
      {
        id: 's2',
        name: 'New',
        size: 40,
        share: 0.4,
        meanOrders: 1,
        meanRevenue: 20,
        meanClv: null,
        meanChurnRisk: null,
        topCategories: [],
      },
    ],
    sizesOverTime: [],
    transitions: [],
    projection: [],
    qualityOverRuns: [],
    clvBySegment: [],
    ...overrides,
  };
}

interface Payload {
  charts: { id: string; spec: Record<string, unknown>; datasets: Record<string, Record<string, unknown>[]> }[];
}

/** The document without the inlined library code (which has its own unrelated markup strings). */
function withoutLibraries(html: string): string {
  return html.replace(/<script data-lib="[^"]+">[\s\S]*?<\/script>/g, '');
}

function payloadOf(html: string): Payload {
  const match = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  if (!match?.[1]) throw new Error('no data block');
  return JSON.parse(match[1]) as Payload;
}

describe('renderReport', () => {
  test('is one self-contained document: libraries inlined, nothing fetched', () => {
    const html = renderReport(minimal());
    expect(html.startsWith('<!doctype html>')).toBe(true);
    for (const lib of ['vega', 'vega-lite', 'vega-embed']) expect(html).toContain(`<script data-lib="${lib}">`);
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+href=/i);
    expect(html).not.toContain('sourceMappingURL');
    expect(html).toContain('<pre id="render-errors" hidden></pre>');
    expect(html.length).toBeGreaterThan(500_000);
  });

  test('escapes hostile text in HTML and in the JSON block', () => {
    const html = renderReport(
      minimal({
        title: EVIL,
        summary: { [EVIL]: EVIL },
        segments: [
          {
            id: EVIL,
            name: EVIL,
            size: 1,
            share: 1,
            meanOrders: 1,
            meanRevenue: 1,
            meanClv: 1,
            meanChurnRisk: 0,
            topCategories: [EVIL],
          },
        ],
        projection: [{ x: 1, y: 2, segmentId: EVIL, name: EVIL }],
        transitions: [{ from: 'none', to: EVIL, count: 3 }],
      }),
    );
    const own = withoutLibraries(html);
    expect(own.length).toBeLessThan(50_000);
    expect(html).not.toContain(EVIL);
    expect(own).not.toContain('<img');
    expect(html).not.toContain('window.__pwned=1</script>');
    expect(html).toContain('&lt;/script&gt;&lt;script&gt;');
    const payload = payloadOf(html);
    const projection = payload.charts.find((c) => c.id === 'chart-projection');
    expect(projection?.datasets.projection?.[0]?.segment).toBe(EVIL);
  });

  test('empty inputs give notes instead of charts', () => {
    const html = renderReport(minimal());
    expect(payloadOf(html).charts).toEqual([]);
    for (const id of CHART_IDS)
      expect(html).toMatch(new RegExp(`<div class="chart empty" id="${id}"><p class="note">`));
    expect(html).toContain('No transitions yet');

    const none = renderReport(minimal({ segments: [], summary: {} }));
    expect(none).toContain('No segments yet.');
  });

  test('builds a full transition matrix and thins large projections', () => {
    const projection = Array.from({ length: 7000 }, (_, i) => ({
      x: i,
      y: -i,
      segmentId: i % 2 ? 's1' : 's2',
      name: i % 2 ? 'Loyal' : 'New',
    }));
    const payload = payloadOf(
      renderReport(
        minimal({
          projection,
          transitions: [
            { from: 's1', to: 's1', count: 10 },
            { from: 'Loyal', to: 's2', count: 2 }, // names resolve like ids
            { from: 'none', to: 's2', count: 5 },
          ],
        }),
      ),
    );
    const transitions = payload.charts.find((c) => c.id === 'chart-transitions')?.datasets.transitions ?? [];
    expect(transitions).toHaveLength(2 * 2); // (new), Loyal × Loyal, New
    expect(transitions).toContainEqual({ from: 'Loyal', to: 'New', count: 2, share: 2 / 12 });
    expect(transitions).toContainEqual({ from: '(new)', to: 'Loyal', count: 0, share: 0 });
    expect(payload.charts.find((c) => c.id === 'chart-projection')?.datasets.projection).toHaveLength(
      MAX_PROJECTION_POINTS,
    );
  });

  test('segments sharing a name get distinct labels', () => {
    const payload = payloadOf(
      renderReport(
        minimal({
          segments: [
            {
              id: 'a',
              name: 'Twins',
              size: 1,
              share: 0.5,
              meanOrders: 1,
              meanRevenue: 1,
              meanClv: null,
              meanChurnRisk: null,
              topCategories: [],
            },
            {
              id: 'b',
              name: 'Twins',
              size: 1,
              share: 0.5,
              meanOrders: 1,
              meanRevenue: 1,
              meanClv: null,
              meanChurnRisk: null,
              topCategories: [],
            },
          ],
          clvBySegment: [
            { segmentId: 'a', name: 'Twins', clv: 10 },
            { segmentId: 'b', name: 'Twins', clv: 20 },
          ],
        }),
      ),
    );
    const rows = payload.charts.find((c) => c.id === 'chart-clv')?.datasets.clv ?? [];
    expect(rows.map((r) => r.segment)).toEqual(['Twins (a)', 'Twins (b)']);
  });
});

describe('report helpers', () => {
  test('jsonForScript never emits < or >', () => {
    const text = jsonForScript({ a: '</script><!-- \u2028 & >' });
    expect(text).not.toMatch(/[<>\u2028]/);
    expect(JSON.parse(text)).toEqual({ a: '</script><!-- \u2028 & >' });
  });

  test('summary figures are flattened and formatted', () => {
    expect(
      flattenSummary({ eventsIngested: 182340, k: 5, quality: { silhouette: 0.43125 }, modelVersion: null }),
    ).toEqual([
      ['Events ingested', '182,340'],
      ['k', '5'],
      ['Quality · Silhouette', '0.431'],
      ['Model version', '—'],
    ]);
    expect(humanise('meanCLV_ms')).toBe('Mean CLV ms');
    expect(formatValue([1, 'a', true])).toBe('1, a, yes');
    expect(formatValue({ nested: { deep: 1 } })).toBe('{"nested":{"deep":1}}');
    expect(formatValue(1234.567)).toBe('1,234.6');
  });
});

describe('issue #10 charts', () => {
  test('a renamed segment stays one series, keyed by id, under its current name', () => {
    const payload = payloadOf(
      renderReport(
        minimal({
          sizesOverTime: [
            { day: '2026-01-01', segmentId: 's1', name: 'Old loyal name', size: 50 },
            { day: '2026-01-02', segmentId: 's1', name: 'Loyal', size: 55 },
            { day: '2026-01-02', segmentId: 's2', name: 'New', size: 45 },
          ],
        }),
      ),
    );
    const rows = payload.charts.find((c) => c.id === 'chart-sizes')?.datasets.sizes ?? [];
    expect([...new Set(rows.map((r) => r.segment))].sort()).toEqual(['Loyal', 'New']);
    expect(rows).toContainEqual(expect.objectContaining({ day: '2026-01-01', segment: 'Loyal', size: 50 }));
  });

  test('moves by reason per night, refused runs marked with the gate reason, silhouette against k', () => {
    const payload = payloadOf(
      renderReport(
        minimal({
          movesByNight: [
            { day: '2026-01-02', reason: 'event', count: 3 },
            { day: '2026-01-02', reason: 'retired', count: 7 },
          ],
          refusedRuns: [{ day: '2026-01-03', reasons: 'silhouette 0.01 < 0.05' }],
          kScores: [
            { run: 1, day: '2026-01-01', k: 4, silhouette: 0.2, chosen: false },
            { run: 1, day: '2026-01-01', k: 5, silhouette: 0.3, chosen: true },
          ],
        }),
      ),
    );
    const moves = payload.charts.find((c) => c.id === 'chart-moves')!;
    expect(moves.datasets.moves).toContainEqual({ day: '2026-01-02', reason: 'retired', count: 7 });
    expect(moves.datasets.refused).toEqual([{ day: '2026-01-03', reasons: 'silhouette 0.01 < 0.05' }]);
    const k = payload.charts.find((c) => c.id === 'chart-k')!;
    expect(k.datasets.kscores?.filter((r) => r.chosen === 1)).toEqual([
      { run: 1, day: '2026-01-01', k: 5, silhouette: 0.3, chosen: 1 },
    ]);
  });
});
