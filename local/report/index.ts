/**
 * Self-contained HTML run report with charts (Vega-Lite, inlined) for local and
 * simulator runs. `renderReport` returns the whole document; `writeReport` saves it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { renderReport, type RenderOptions } from './html';
import type { ReportData } from './types';

export {
  escapeHtml,
  flattenSummary,
  formatNumber,
  formatValue,
  humanise,
  jsonForScript,
  renderReport,
  type RenderOptions,
} from './html';
export { projectTo2d, type Projection2d } from './projection';
export { CHART_IDS, MAX_PROJECTION_POINTS, PALETTE, type ChartId } from './specs';
export type { ReportData, ReportSegment } from './types';

/** Renders the report and writes it to `file` (creating its directory). Returns the number of bytes written. */
export function writeReport(file: string, data: ReportData, options?: RenderOptions): number {
  const html = renderReport(data, options);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, html, 'utf8');
  return Buffer.byteLength(html);
}
