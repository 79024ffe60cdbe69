import { renderCatalogueCard, renderCatalogueSection } from '../../../shared/catalogue/card-html';
import { narrateCatalogue } from '../../../shared/catalogue/narrate';
import { addCampaigns, type CampaignAggregate } from '../../../shared/catalogue/tallies';
import { buildCatalogueStats } from '../../../shared/catalogue/build';
import { noLogs, TallyMetrics } from '../../../shared/ports/telemetry';
import { population, row } from './fixtures';

async function entry(category: string) {
  const rows = Array.from({ length: 6 }, () =>
    row({ orders: 5, revenue: 250, days: 12, tenure: 400, categories: [category], terms: ['sturdy'] }),
  );
  const agg: CampaignAggregate = {};
  for (let i = 0; i < 6; i++)
    addCampaigns(agg, [
      {
        campaignId: 'spring',
        segmentId: 'seg-001',
        delivered: true,
        opened: i < 3,
        clicked: false,
        converted: i < 1,
        firstAt: '',
      },
    ]);
  const stats = buildCatalogueStats(rows, new Int32Array(6), ['seg-001'], agg);
  const { entries } = await narrateCatalogue({
    stats,
    population,
    previous: null,
    narrator: null,
    metrics: new TallyMetrics(),
    log: noLogs,
  });
  return entries[0]!;
}

describe('catalogue card', () => {
  it('shows every part of the entry', async () => {
    const html = renderCatalogueCard(await entry('kitchen'));
    for (const heading of ['Persona', 'Strategy: grow', 'Profile', 'Recommendations', 'Campaign results', 'Feedback'])
      expect(html).toContain(`<h3>${heading}`);
    expect(html).toContain('<tr><th>Revenue</th><td>250.00</td><td>250.00</td></tr>');
    expect(html).toContain('<td><code>spring</code></td><td>6</td><td>3</td><td>1</td><td>1</td>');
    expect(html).toContain('Top categories by share: <span class="tag">kitchen 100 %</span>');
    expect(html).toContain('<span class="tag">sturdy</span>');
  });

  it('says where the narration came from without claiming more than it knows', async () => {
    const rules = await entry('kitchen');
    expect(renderCatalogueCard(rules)).toContain('narration written by rules');
    // An endpoint's narration: a deployed stage's LLM, or the local template stand-in (whose text says so).
    const endpoint = { ...rules, provenance: { ...rules.provenance, source: 'llm' as const } };
    expect(renderCatalogueCard(endpoint)).toContain('narration written by the narration endpoint');
    expect(renderCatalogueCard(endpoint)).not.toContain('hosted LLM');
  });

  it('escapes storefront strings', async () => {
    const html = renderCatalogueCard(await entry('<script>alert(1)</script>'));
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('no catalogue, no section', () => {
    expect(renderCatalogueSection([])).toBe('');
  });
});
