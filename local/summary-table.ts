/** The tables `npm start` prints, drawn with cli-table3 (no index column, no quoted strings). */
import Table from 'cli-table3';
import type { RunSummary } from './run';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const money = (x: number | null) => (x === null ? '-' : x.toFixed(2));

/** The segment table: one row per segment of the final model. */
export function segmentTableText(segments: RunSummary['segments']): string {
  const table = new Table({
    head: [
      'id',
      'name',
      'size',
      'share',
      'median orders',
      'median revenue',
      'mean revenue',
      'mean CLV (buyers)',
      'top categories',
    ],
    colAligns: ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
    style: { head: [], border: [] },
    // One rule under the header, none between rows.
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const g of segments) {
    table.push([
      g.id,
      g.name,
      String(g.size),
      pct(g.share),
      (g.medianOrders ?? g.meanOrders).toFixed(1),
      money(g.medianRevenue ?? null),
      money(g.meanRevenue),
      money(g.meanClv),
      g.topCategories.join(', '),
    ]);
  }
  return table.toString();
}

/** One side of a transition: `seg-002 Bargain hunters (model v3)`, or `none` for a first placement. */
function side(id: string | null | undefined, name: string, version: number | null | undefined): string {
  if (!id) return 'none';
  return `${id} ${name}${version ? ` (model v${version})` : ''}`;
}

/** The transitions of the last re-cluster, most customers first: each side by id and name, with its model. */
export function transitionLines(transitions: RunSummary['transitions'], limit = 10): string[] {
  return [...transitions]
    .sort((a, b) => b.count - a.count || (a.from < b.from ? -1 : 1))
    .slice(0, limit)
    .map((t) => {
      const from = t.fromId === undefined ? t.from : side(t.fromId, t.from, t.fromVersion);
      const to = t.toId === undefined ? t.to : side(t.toId, t.to, t.toVersion);
      return `  ${from} -> ${to}: ${t.count}`;
    });
}
