/**
 * One HTML card per catalogue entry: profile (medians and means side by side), persona, strategy, recommendations,
 * campaign results and feedback. Pure string rendering; every text from the data is escaped, so a category named
 * `<script>…` stays text. Used by the local report (local/report/cards.ts) and the stored run report.
 */
import type { CatalogueEntry, CatalogueStat, Rate } from '../contracts/catalogue';

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
const pct = (x: number | null | undefined, digits = 0): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(digits)} %`;
const fmt = (x: number | null | undefined, digits = 2): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);
const rate = (r: Rate | null): string =>
  r ? `${pct(r.rate, 1)} <small>(${pct(r.low, 1)}–${pct(r.high, 1)})</small>` : '–';

const STAT_LABELS: Record<CatalogueStat, { label: string; unit: (x: number) => string }> = {
  orders: { label: 'Orders', unit: (x) => fmt(x, 1) },
  revenue: { label: 'Revenue', unit: (x) => fmt(x) },
  avgOrderValue: { label: 'Average order value', unit: (x) => fmt(x) },
  daysSinceLastOrder: { label: 'Days since last order', unit: (x) => fmt(x, 0) },
  tenureDays: { label: 'Tenure (days)', unit: (x) => fmt(x, 0) },
  discountShare: { label: 'Discount share', unit: (x) => pct(x) },
  refundRate: { label: 'Refund rate', unit: (x) => pct(x) },
};

const tags = (items: string[]): string =>
  items.length ? items.map((t) => `<span class="tag">${t}</span>`).join(' ') : '<span class="muted">none yet</span>';

export function renderCatalogueCard(e: CatalogueEntry): string {
  const p = e.profile;
  const statRows = (Object.keys(STAT_LABELS) as CatalogueStat[])
    .flatMap((k) => {
      const s = p.stats[k];
      const { label, unit } = STAT_LABELS[k];
      return s ? [`<tr><th>${label}</th><td>${unit(s.median)}</td><td>${unit(s.mean)}</td></tr>`] : [];
    })
    .join('');
  const lifecycle = Object.entries(p.lifecycleMix)
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
    .map(([k, v]) => `${esc(k)} ${pct(v)}`);
  const channels = Object.entries(p.channelMix)
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${esc(k)} ${pct(v)}`);
  const s = e.narration.strategy;
  const campaigns = e.campaigns.length
    ? `<table class="campaigns"><thead><tr><th>Campaign</th><th>Delivered</th><th>Opened</th><th>Clicked</th><th>Converted</th><th>Open rate (95 %)</th><th>Click rate (95 %)</th><th>Conversion (95 %)</th></tr></thead><tbody>${e.campaigns
        .map(
          (c) =>
            `<tr><td><code>${esc(c.campaignId)}</code></td><td>${c.delivered}</td><td>${c.opened}</td><td>${c.clicked}</td><td>${c.converted}</td><td>${rate(c.openRate)}</td><td>${rate(c.clickRate)}</td><td>${rate(c.conversionRate)}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '<p class="muted">No campaign delivered to this segment yet.</p>';
  const f = e.feedback;
  const source =
    e.provenance.source === 'llm'
      ? 'written by the narration endpoint'
      : e.provenance.fallbackReason
        ? `written by rules (LLM unavailable: ${esc(e.provenance.fallbackReason)})`
        : 'written by rules';
  return `<article class="card segment-card" id="card-${esc(e.segmentId)}" data-segment="${esc(e.segmentId)}">
  <h2>${esc(e.name)} <code>${esc(e.segmentId)}</code></h2>
  <p class="sub">${pct(p.share, 1)} of customers · ${p.size} in the sample · narration ${source}${e.provenance.cached ? ', unchanged since the last model' : ''}</p>
  <h3>Persona</h3><p class="persona">${esc(e.narration.persona)}</p>
  <h3>Strategy: ${esc(s.objective.replace('_', ' '))}</h3>
  <ul class="actions">${s.actions.map((a) => `<li><b>${esc(a.channel)}</b>: ${esc(a.action)}</li>`).join('')}</ul>
  <p>Offer: ${esc(s.offerType)} · Cadence: ${esc(s.cadence)}</p>
  <p>KPIs: ${tags(s.kpis.map(esc))}</p>
  ${s.cautions.length ? `<p class="cautions">Cautions: ${s.cautions.map(esc).join('; ')}</p>` : ''}
  <h3>Profile</h3>
  <table class="stats"><thead><tr><th></th><th>Median</th><th>Mean</th></tr></thead><tbody>${statRows}</tbody></table>
  <p>Lifecycle: ${tags(lifecycle)}</p>
  <p>Buyers ${pct(p.buyers.share)}: mean churn risk ${pct(p.buyers.meanChurnRisk)}, CLV median ${fmt(p.buyers.medianClv)} / mean ${fmt(p.buyers.meanClv)}</p>
  <p>Channels: ${tags(channels)}</p>
  <p>Top categories by share: ${tags(p.topCategoriesByShare.map((c) => `${esc(c.category)} ${pct(c.share)}`))}</p>
  <p>Top categories by lift: ${tags(p.topCategoriesByLift.map((c) => `${esc(c.category)} ×${fmt(c.lift, 1)}`))}</p>
  <h3>Recommendations</h3>
  <p>Products by lift: ${tags(e.recommendations.productsByLift.map((x) => `<code>${esc(x.sku)}</code> ×${fmt(x.lift, 1)}`))}</p>
  <p>Products by volume: ${tags(e.recommendations.productsByVolume.map((x) => `<code>${esc(x.sku)}</code>`))}</p>
  <p>Categories by lift: ${tags(e.recommendations.categoriesByLift.map((x) => `${esc(x.category)} ×${fmt(x.lift, 1)}`))}</p>
  <h3>Campaign results</h3>
  ${campaigns}
  <h3>Feedback</h3>
  <p>${f.ratingCount} rating(s): ${f.ratings.map((n, i) => `${i + 1}★ ${n}`).join(' · ')} · share ≤ 2★ ${pct(f.lowRatingShare)}</p>
  <p>Distinctive review terms (≥ 5 customers each): ${tags(f.terms.map((t) => esc(t.term)))}</p>
</article>`;
}

/** The cards of a model's catalogue, in a section; empty string when there is none. */
export function renderCatalogueSection(entries: readonly CatalogueEntry[]): string {
  if (entries.length === 0) return '';
  return `<section class="catalogue" id="catalogue">
<h2>Segment catalogue</h2>
<div class="cards">
${entries.map(renderCatalogueCard).join('\n')}
</div>
</section>`;
}

/** Card styling, for pages that embed the section. */
export const CATALOGUE_CSS =
  '.catalogue .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:14px}' +
  '.segment-card h3{font-size:13px;margin:10px 0 4px}.segment-card table{border-collapse:collapse;font-size:12px}' +
  '.segment-card td,.segment-card th{padding:2px 6px;text-align:left}.segment-card .muted{color:#888}' +
  '.segment-card .tag{display:inline-block;margin:1px 2px;padding:0 6px;border-radius:8px;background:#eef2f7}' +
  '.segment-card .cautions{color:#8a4b00}';
