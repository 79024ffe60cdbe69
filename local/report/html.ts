/**
 * The run report: one self-contained HTML file (vega, vega-lite and vega-embed
 * inlined, data and specs as JSON) that opens offline. Text from the data is
 * escaped where it goes into HTML, and the JSON block escapes `<`, so a segment
 * named `</script><script>…` stays text.
 *
 * When the page has drawn every chart it sets `document.body.dataset.rendered` to
 * 'ok'; if any chart fails (or a script throws) it sets 'error' and lists the
 * messages in `<pre id="render-errors">`. The browser test waits for that flag.
 */
import { CATALOGUE_CSS, renderCatalogueSection } from './cards';
import { buildCharts, Labeller, type Chart, type ChartId } from './specs';
import type { ReportData, ReportSegment } from './types';
import { vendorScripts } from './vendor';

export interface RenderOptions {
  /**
   * Test-only hook: replaces the Vega-Lite spec of the given charts as-is (no
   * checks), e.g. to prove that a failing chart turns the page's status to 'error'.
   */
  specOverrides?: Partial<Record<ChartId, unknown>>;
}

export function renderReport(data: ReportData, options: RenderOptions = {}): string {
  const labeller = new Labeller(data);
  const charts = buildCharts(data, labeller);
  const overrides = options.specOverrides ?? {};

  const payload = {
    charts: charts
      .filter((c) => c.spec !== null || overrides[c.id] !== undefined)
      .map((c) => ({
        id: c.id,
        spec: overrides[c.id] ?? c.spec,
        datasets: c.datasets,
        fitColumns: c.fitColumns ?? null,
      })),
  };
  const scripts = vendorScripts();

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="shoal report; ${escapeHtml(scripts.map((s) => `${s.pkg} ${s.version}`).join(', '))}">
<title>${escapeHtml(data.title)}</title>
<style>${STYLE}${CATALOGUE_CSS}</style>
</head>
<body data-charts="${payload.charts.length}">
<script>${BOOT}</script>
<header class="top">
  <div class="wrap">
    <h1>${escapeHtml(data.title)}</h1>
    <p class="meta">Generated <time datetime="${escapeHtml(data.generatedAt)}">${escapeHtml(data.generatedAt)}</time> · ${fmtInt(data.segments.length)} segment${data.segments.length === 1 ? '' : 's'}</p>
    ${renderSummary(data.summary)}
  </div>
</header>
<main class="wrap">
  <pre id="render-errors" hidden></pre>
  <section class="card wide" id="segments">
    <h2>Segments</h2>
    ${renderSegmentTable(data.segments, labeller)}
  </section>
  ${renderCatalogueSection(data.catalogue ?? [])}
  <div class="grid">
${charts.map((c) => renderChartCard(c, overrides[c.id] !== undefined)).join('\n')}
  </div>
</main>
<footer class="wrap">Charts drawn with ${escapeHtml(scripts.map((s) => `${s.pkg} ${s.version}`).join(', '))}, inlined; this file needs no network.</footer>
<script type="application/json" id="report-data">${jsonForScript(payload)}</script>
${scripts.map((s) => `<script data-lib="${escapeHtml(s.pkg)}">${s.source}</script>`).join('\n')}
<script>${CLIENT}</script>
</body>
</html>
`;
}

/** Escapes text for HTML element content and (double- or single-quoted) attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** JSON that is safe inside `<script type="application/json">`: no `<` (so no `</script>` or `<!--`), no U+2028/9. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function renderChartCard(chart: Chart, overridden: boolean): string {
  const body =
    chart.spec !== null || overridden
      ? `<div class="chart" id="${chart.id}" role="img" aria-label="${escapeHtml(chart.title)}"></div>`
      : `<div class="chart empty" id="${chart.id}"><p class="note">${escapeHtml(chart.note)}</p></div>`;
  return `    <section class="card${chart.wide ? ' wide' : ''}">
      <h2>${escapeHtml(chart.title)}</h2>
      ${chart.subtitle ? `<p class="sub">${escapeHtml(chart.subtitle)}</p>` : ''}
      ${body}
    </section>`;
}

function renderSummary(summary: Record<string, unknown>): string {
  const items = flattenSummary(summary);
  if (items.length === 0) return '';
  return `<dl class="figures">${items
    .map(
      ([k, v]) =>
        `<div class="figure"><dt title="${escapeHtml(k)}">${escapeHtml(k)}</dt><dd${v.length > 14 ? ' class="long"' : ''}>${escapeHtml(v)}</dd></div>`,
    )
    .join('')}</dl>`;
}

/** One level of nesting becomes "Parent · child"; deeper values are shown as JSON. */
export function flattenSummary(summary: Record<string, unknown>): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, value] of Object.entries(summary)) {
    if (isPlainObject(value)) {
      for (const [sub, v] of Object.entries(value)) out.push([`${humanise(key)} · ${humanise(sub)}`, formatValue(v)]);
    } else {
      out.push([humanise(key), formatValue(value)]);
    }
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.getPrototypeOf(value) === Object.prototype
  );
}

/** "eventsIngested" / "events_ingested" → "Events ingested"; keeps acronyms like "CLV" and units like "ms". */
export function humanise(key: string): string {
  if (key.length <= 1) return key;
  const words = key
    .replace(/[_-]+/g, ' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .trim()
    .split(/\s+/)
    .map((w) => (/^[A-Z0-9]{2,}$/.test(w) ? w : w.toLowerCase()));
  const text = words.join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'bigint') return value.toLocaleString('en-US');
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string') return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '—' : value.toISOString();
  if (Array.isArray(value)) return value.map(formatValue).join(', ');
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? '—' : v > 0 ? '∞' : '−∞';
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  if (Math.abs(v) >= 100) return v.toLocaleString('en-US', { maximumFractionDigits: 1 });
  return v.toLocaleString('en-US', { maximumSignificantDigits: 3 });
}

function fmtInt(v: number): string {
  return Math.round(v).toLocaleString('en-US');
}

function renderSegmentTable(segments: ReportSegment[], labeller: Labeller): string {
  if (segments.length === 0) return '<p class="note">No segments yet.</p>';
  const maxShare = Math.max(...segments.map((s) => (Number.isFinite(s.share) ? s.share : 0)), 1e-9);
  const rows = segments.map((s) => {
    const label = labeller.label(s.id, s.name);
    const share = Number.isFinite(s.share) ? s.share : 0;
    const width = Math.max(0, Math.min(100, (share / maxShare) * 100)).toFixed(1);
    return `<tr>
      <td class="name"><span class="swatch" style="background:${labeller.colour(label)}"></span>${escapeHtml(s.name || s.id)}</td>
      <td class="id"><code>${escapeHtml(s.id)}</code></td>
      <td class="num">${fmtInt(s.size)}</td>
      <td class="num share"><span class="bar" style="width:${width}%"></span><span class="pct">${(share * 100).toFixed(1)}%</span></td>
      <td class="num">${formatNumber(s.medianOrders ?? s.meanOrders)}</td>
      <td class="num">${s.medianRevenue === undefined ? '—' : formatMoney(s.medianRevenue)}</td>
      <td class="num">${formatMoney(s.meanRevenue)}</td>
      <td class="num">${s.meanClv === null ? '—' : formatMoney(s.meanClv)}</td>
      <td class="num">${s.meanChurnRisk === null ? '—' : `${(s.meanChurnRisk * 100).toFixed(1)}%`}</td>
      <td class="cats">${s.topCategories.length === 0 ? '—' : s.topCategories.map((c) => `<span class="tag">${escapeHtml(c)}</span>`).join(' ')}</td>
    </tr>`;
  });
  return `<div class="table-scroll"><table class="segments">
    <thead><tr><th>Segment</th><th>ID</th><th class="num">Customers</th><th class="num">Share</th><th class="num">Median orders</th><th class="num">Median revenue</th><th class="num">Mean revenue</th><th class="num">Mean CLV (buyers)</th><th class="num">Churn risk</th><th>Top categories</th></tr></thead>
    <tbody>${rows.join('')}</tbody>
  </table></div>`;
}

function formatMoney(v: number): string {
  if (!Number.isFinite(v)) return '—';
  return v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

const STYLE = `
:root{--fg:#1d2330;--muted:#5f6b7a;--line:#e3e7ec;--bg:#f5f7fa;--card:#fff;--accent:#4c78a8;--bad:#b42318}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
.wrap{max-width:1240px;margin:0 auto;padding:0 20px}
header.top{background:#1f2a3a;color:#fff;padding:20px 0 18px;margin-bottom:20px}
header.top h1{margin:0 0 4px;font-size:22px;font-weight:600;letter-spacing:-.01em}
header.top .meta{margin:0 0 14px;color:#b9c4d3;font-size:13px}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px;margin:0}
.figure{background:rgba(255,255,255,.07);border:1px solid rgba(255,255,255,.12);border-radius:8px;padding:8px 10px;min-width:0}
.figure dt{font-size:11px;color:#b9c4d3;overflow-wrap:anywhere}
.figure dd{margin:2px 0 0;font-size:17px;font-weight:600;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
.figure dd.long{font-size:13px;line-height:1.3;padding-top:3px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,520px),1fr));gap:16px;margin-top:16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px 12px;min-width:0}
.card.wide{grid-column:1/-1}
.card h2{margin:0;font-size:15px;font-weight:600}
.card .sub{margin:2px 0 8px;color:var(--muted);font-size:12px}
.chart{width:100%;min-height:60px}
.chart .vega-embed{width:100%;display:block}
.chart.empty{display:flex;align-items:center;justify-content:center;min-height:120px;background:#fafbfc;border:1px dashed var(--line);border-radius:8px}
.note{color:var(--muted);margin:8px 0}
#render-errors{background:#fef3f2;color:var(--bad);border:1px solid #fecdca;border-radius:8px;padding:10px 12px;white-space:pre-wrap;margin:0 0 16px}
.table-scroll{overflow-x:auto;margin-top:8px}
table.segments{border-collapse:collapse;width:100%;font-size:13px;font-variant-numeric:tabular-nums}
table.segments th{font-weight:600;text-align:left;color:var(--muted);font-size:12px;border-bottom:1px solid var(--line);padding:6px 8px;white-space:nowrap}
table.segments td{border-bottom:1px solid #f0f2f5;padding:6px 8px;vertical-align:middle}
table.segments .num{text-align:right;white-space:nowrap}
table.segments td.name{font-weight:500;min-width:150px}
table.segments code{font-size:12px;color:var(--muted)}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:8px;vertical-align:-1px}
td.share{position:relative;min-width:110px}
td.share .bar{position:absolute;left:8px;top:50%;height:14px;margin-top:-7px;background:#dbe6f3;border-radius:3px;max-width:calc(100% - 16px)}
td.share .pct{position:relative}
.tag{display:inline-block;background:#eef2f7;border-radius:4px;padding:1px 6px;margin:1px 0;font-size:12px}
footer{color:var(--muted);font-size:12px;padding:18px 20px 28px}
@media (max-width:600px){.wrap{padding:0 10px}header.top h1{font-size:18px}}
`;

/**
 * Runs in the page. Plain ES2017 (no build step); must not contain a closing
 * script tag. Sets body[data-rendered] once every chart settled.
 */
const BOOT = `
(function () {
  'use strict';
  var errors = [];
  function show() {
    var pre = document.getElementById('render-errors');
    if (pre && errors.length > 0) { pre.textContent = errors.join('\\n'); pre.hidden = false; }
  }
  window.__shoalReportFail = function (message) {
    errors.push(String(message));
    show();
    document.body.dataset.rendered = 'error';
  };
  window.__shoalReportErrors = errors;
  window.__shoalReportShow = show;
  window.onerror = function (message, source, line, column, error) {
    window.__shoalReportFail('Script error: ' + (error && error.message ? error.message : message) + (line ? ' (line ' + line + ')' : ''));
  };
  window.addEventListener('unhandledrejection', function (event) {
    var r = event.reason;
    window.__shoalReportFail('Unhandled rejection: ' + (r && r.message ? r.message : r));
  });
})();
`;

const CLIENT = `
(function () {
  'use strict';
  var fail = window.__shoalReportFail;
  var errors = window.__shoalReportErrors;
  window.__shoalReportShow();
  try {
    if (typeof vegaEmbed !== 'function') throw new Error('vega-embed did not load');
    var payload = JSON.parse(document.getElementById('report-data').textContent);
    var jobs = payload.charts.map(function (chart) {
      var el = document.getElementById(chart.id);
      if (!el) return Promise.reject(new Error(chart.id + ': no element'));
      var spec = chart.spec;
      if (spec && typeof spec === 'object') {
        spec.datasets = Object.assign({}, spec.datasets || {}, chart.datasets);
        var width = el.clientWidth || 800;
        if (chart.fitColumns && Array.isArray(spec.concat)) {
          var columns = width < 560 ? 1 : chart.fitColumns;
          var cell = Math.max(120, Math.floor(width / columns) - 90);
          spec.columns = columns;
          spec.concat.forEach(function (view) { if (view && typeof view === 'object') view.width = cell; });
        }
        if (width < 480 && spec.config && typeof spec.config === 'object') {
          // Narrow screens: legends below the plot, not beside it.
          spec.config = Object.assign({}, spec.config, {
            legend: Object.assign({}, spec.config.legend || {}, { orient: 'bottom', direction: 'horizontal', columns: 2, gradientLength: 160 })
          });
        }
      }
      return vegaEmbed(el, spec, { actions: false, renderer: 'svg' }).catch(function (error) {
        throw new Error(chart.id + ': ' + (error && error.message ? error.message : error));
      });
    });
    Promise.allSettled(jobs).then(function (results) {
      results.forEach(function (r) { if (r.status === 'rejected') fail(r.reason && r.reason.message ? r.reason.message : r.reason); });
      if (errors.length === 0) document.body.dataset.rendered = 'ok';
    });
  } catch (e) {
    fail(e && e.message ? e.message : e);
  }
})();
`;
