import { CATALOGUE_CSS, renderCatalogueSection } from '../catalogue/card-html';
import type { ModelPublished } from '../contracts/outbound';
import type { AssignOutput } from '../contracts/recluster';
import type { RunRecord } from '../ports/stores';
import type { SegmentationModel } from '../segmentation/model';

/** The JSON run report Publish writes to `reports/<runId>/report.json`. */
export interface RunReport {
  runId: string;
  asOf: string | null;
  modelVersion: number;
  previousVersion: number | null;
  publishedAt: string;
  k: number;
  quality: SegmentationModel['quality'];
  gate: { passed: boolean; reasons: string[] } | null;
  sample: { size: number; population: number } | null;
  segments: ModelPublished['segments'];
  /** The segment catalogue (empty for models stored before it). */
  catalogue: ModelPublished['catalogue'];
  retiredSegmentIds: string[];
  /** Ids kept from the previous model whose name changed. */
  renamedSegments: { segmentId: string; oldName: string; newName: string }[];
  /** Which candidate won (warm start or fresh fit), why, and by how much (silhouette gain of the fresh fit). */
  continuity: NonNullable<RunRecord['fit']>['continuity'] | null;
  /** Drift of tonight's sample against the previous model's training sample. */
  drift: NonNullable<RunRecord['fit']>['drift'] | null;
  customers: { assigned: number; moved: number; lifecycleChanged: number };
  shards: AssignOutput[];
  valueModel: { bgnbd: Record<string, unknown>; gammaGamma: Record<string, unknown> };
}

export function buildRunReport(input: {
  run: RunRecord;
  model: SegmentationModel;
  assignments: readonly AssignOutput[];
  publishedAt: string;
}): RunReport {
  const { run, model, assignments, publishedAt } = input;
  const sum = (f: (a: AssignOutput) => number) => assignments.reduce((s, a) => s + f(a), 0);
  return {
    runId: run.runId,
    asOf: run.asOf,
    modelVersion: model.version,
    previousVersion: run.fit?.previousVersion ?? null,
    publishedAt,
    k: model.k,
    quality: model.quality,
    gate: run.fit?.gate ?? null,
    sample: run.fit ? { size: run.fit.sampleSize, population: run.fit.population } : null,
    segments: model.profiles,
    catalogue: model.catalogue ?? [],
    retiredSegmentIds: model.retiredSegmentIds,
    renamedSegments: model.renamedSegments ?? [],
    continuity: run.fit?.continuity ?? null,
    drift: run.fit?.drift ?? null,
    customers: {
      assigned: sum((a) => a.assigned),
      moved: sum((a) => a.moved),
      lifecycleChanged: sum((a) => a.lifecycleChanged),
    },
    shards: [...assignments].sort((a, b) => a.shard - b.shard),
    valueModel: { bgnbd: { ...model.value.bgnbd }, gammaGamma: { ...model.value.gammaGamma } },
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function num(x: number | null | undefined, digits = 2): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);
}

/** A minimal, self-contained HTML page of the report (no scripts): the header figures and the segment table. */
export function renderRunReportHtml(report: RunReport): string {
  const rows = report.segments
    .map((s) => {
      const f = (name: string) => s.features[name]?.p50;
      const cats = s.topCategories.map((c) => `${escapeHtml(c.category)} ${(c.share * 100).toFixed(0)}%`).join(', ');
      return `<tr><td>${escapeHtml(s.segmentId)}</td><td>${escapeHtml(s.name)}</td><td>${s.size}</td><td>${(s.share * 100).toFixed(1)}%</td><td>${num(f('orders'), 1)}</td><td>${num(f('revenue'))}</td><td>${num(f('daysSinceLastOrder'), 0)}</td><td>${num(s.meanClv)}</td><td>${num(s.meanChurnRisk)}</td><td>${cats}</td></tr>`;
    })
    .join('\n');
  const q = report.quality;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shoal run ${escapeHtml(report.runId)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}th{background:#f3f3f3}${CATALOGUE_CSS}</style>
</head><body>
<h1>Shoal recluster run ${escapeHtml(report.runId)}</h1>
<p>Model version <b>${report.modelVersion}</b> (previous ${report.previousVersion ?? 'none'}), k = ${report.k}, as of ${escapeHtml(report.asOf ?? '–')}, published ${escapeHtml(report.publishedAt)}.</p>
<p>Silhouette ${num(q.silhouette, 3)} · Davies–Bouldin ${num(q.daviesBouldin, 3)} · stability (ARI) ${num(q.stability, 3)} · sample ${report.sample?.size ?? '–'} of ${report.sample?.population ?? '–'} customers.</p>
<p>${escapeHtml(describeContinuity(report.continuity))} ${escapeHtml(describeDrift(report.drift))}</p>
<p>Renamed: ${report.renamedSegments.map((r) => `${escapeHtml(r.segmentId)} "${escapeHtml(r.oldName)}" → "${escapeHtml(r.newName)}"`).join('; ') || 'none'}.</p>
<p>Customers assigned ${report.customers.assigned}, moved ${report.customers.moved}, lifecycle changed ${report.customers.lifecycleChanged}. Retired segments: ${report.retiredSegmentIds.map(escapeHtml).join(', ') || 'none'}.</p>
<table><thead><tr><th>Segment</th><th>Name</th><th>Size (sample)</th><th>Share</th><th>Median orders</th><th>Median revenue</th><th>Median days since order</th><th>Mean CLV</th><th>Mean churn risk</th><th>Top categories</th></tr></thead>
<tbody>
${rows}
</tbody></table>
${renderCatalogueSection(report.catalogue)}
</body></html>
`;
}

/** "Warm start kept (fresh fit silhouette gain −0.012).", "active model kept, nothing fitted (…)" and the like. */
export function describeContinuity(c: RunReport['continuity']): string {
  if (!c) return 'Continuity: not recorded.';
  if (c.chosen === 'kept') return `Continuity: active model kept, nothing fitted (${c.reason}).`;
  const gain = c.gain === null ? '' : ` (fresh fit silhouette gain ${c.gain >= 0 ? '+' : ''}${c.gain.toFixed(3)})`;
  const why: Record<string, string> = {
    no_previous: 'fresh fit: no active model',
    incomparable: 'fresh fit: the active model is in another vector space',
    warm_kept: 'warm start from the active model kept',
    silhouette_gain: 'fresh fit adopted: clearly better',
    segment_broke: 'fresh fit adopted: a segment no longer held together',
    drift: 'fresh fit adopted: drift',
  };
  const dropped = c.droppedSegments?.length
    ? `; dropped ${c.droppedSegments.join(', ')} (no longer held together)`
    : '';
  return `Continuity: ${why[c.reason] ?? c.reason}${gain}${dropped}.`;
}

/** "Drift: none (max feature PSI 0.04, share PSI 0.01, distance ×1.02)." and the like. */
export function describeDrift(d: RunReport['drift']): string {
  if (!d) return 'Drift: not measured (no comparable active model).';
  const figures = `max feature PSI ${d.maxFeaturePsi.toFixed(3)}, share PSI ${d.sharePsi.toFixed(3)}, distance ×${d.distanceInflation.toFixed(2)}`;
  return d.detected ? `Drift detected (${d.reasons.join(', ')}): ${figures}.` : `Drift: none (${figures}).`;
}
