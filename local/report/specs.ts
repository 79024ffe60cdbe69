/**
 * Turns ReportData into the report's charts: one Vega-Lite spec per chart plus the
 * named datasets it reads (`data: { name }`; the page attaches them as `datasets`).
 * A chart with nothing to show gets a note instead of a spec.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ReportData } from './types';

export const CHART_IDS = [
  'chart-sizes',
  'chart-transitions',
  'chart-projection',
  'chart-profiles',
  'chart-clv',
  'chart-quality',
  'chart-moves',
  'chart-k',
  'chart-backtest',
] as const;
export type ChartId = (typeof CHART_IDS)[number];

/** Points drawn in the scatter at most; more are thinned with an even stride. */
export const MAX_PROJECTION_POINTS = 3000;

export type Row = Record<string, string | number | null>;

export interface Chart {
  id: ChartId;
  title: string;
  subtitle: string;
  /** Full-width card (the others share a row on wide screens). */
  wide: boolean;
  /** Null when there is nothing to draw; `note` says why. */
  spec: TopLevelSpec | null;
  note: string;
  datasets: Record<string, Row[]>;
  /** Faceted charts can't use width 'container': the page sets the cell width to fit this many columns. */
  fitColumns?: number;
}

/** Vega's tableau10, then lighter companions; one colour per segment label across all charts. */
export const PALETTE = [
  '#4c78a8',
  '#f58518',
  '#e45756',
  '#72b7b2',
  '#54a24b',
  '#eeca3b',
  '#b279a2',
  '#ff9da6',
  '#9d755d',
  '#bab0ac',
  '#9ecae9',
  '#ffbf79',
  '#ff9d98',
  '#88d27a',
  '#f2cf5b',
  '#83bcb6',
  '#d6a5c9',
  '#fcbfd2',
  '#d8b5a5',
  '#79706e',
];

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

const CONFIG = {
  font: FONT,
  background: null,
  view: { stroke: null },
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 500,
    gridColor: '#eceff3',
    domainColor: '#9aa3ad',
    tickColor: '#9aa3ad',
    labelColor: '#444',
    titleColor: '#333',
  },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 500, labelLimit: 220 },
  header: { labelFontSize: 12, labelFontWeight: 600, titleFontSize: 12 },
  title: { fontSize: 13, fontWeight: 600 },
} as const;

/** Segment labels: the name, or "name (id)" when one name stands for several segments at once. */
export class Labeller {
  private readonly ambiguous = new Set<string>();
  private readonly order: string[] = [];
  private readonly seen = new Set<string>();
  private readonly idToLabel = new Map<string, string>();
  private readonly nameToLabel = new Map<string, string>();

  constructor(data: ReportData) {
    const clash = (groups: Iterable<{ segmentId: string; name: string }[]>) => {
      for (const group of groups) {
        const ids = new Map<string, Set<string>>();
        for (const { segmentId, name } of group) {
          const set = ids.get(name) ?? new Set<string>();
          set.add(segmentId);
          ids.set(name, set);
        }
        for (const [name, set] of ids) if (set.size > 1) this.ambiguous.add(name);
      }
    };
    clash([data.segments.map((s) => ({ segmentId: s.id, name: s.name }))]);
    clash(groupBy(data.sizesOverTime, (r) => r.day).values());
    clash([data.projection, data.clvBySegment, data.profiles ?? []]);

    for (const s of data.segments) this.label(s.id, s.name);
    for (const r of data.sizesOverTime) this.label(r.segmentId, r.name);
    for (const r of data.projection) this.label(r.segmentId, r.name);
    for (const r of data.clvBySegment) this.label(r.segmentId, r.name);
    for (const r of data.profiles ?? []) this.label(r.segmentId, r.name);
  }

  /** A segment's label is fixed by the first name it was seen with (current segments first): a renamed id stays one series. */
  label(id: string, name: string): string {
    const known = this.idToLabel.get(id);
    if (known !== undefined) return known;
    const text = name.trim() === '' ? id : this.ambiguous.has(name) ? `${name} (${id})` : name;
    if (!this.seen.has(text)) {
      this.seen.add(text);
      this.order.push(text);
    }
    if (!this.idToLabel.has(id)) this.idToLabel.set(id, text);
    if (!this.nameToLabel.has(name) && !this.ambiguous.has(name)) this.nameToLabel.set(name, text);
    return text;
  }

  /** For transitions, whose ends are ids or names. */
  lookup(idOrName: string): string | undefined {
    return this.idToLabel.get(idOrName) ?? this.nameToLabel.get(idOrName);
  }

  /** All labels, current segments first (in the given order), then older ones as first seen. */
  get domain(): string[] {
    return [...this.order];
  }

  colour(label: string): string {
    const i = this.order.indexOf(label);
    return PALETTE[(i < 0 ? 0 : i) % PALETTE.length] as string;
  }

  get range(): string[] {
    return this.order.map((l) => this.colour(l));
  }
}

export function buildCharts(data: ReportData, labeller: Labeller): Chart[] {
  const colour = { domain: labeller.domain, range: labeller.range };
  return [
    sizesChart(data, labeller, colour),
    transitionsChart(data, labeller),
    projectionChart(data, labeller, colour),
    profilesChart(data, labeller),
    clvChart(data, labeller, colour),
    qualityChart(data),
    movesChart(data),
    kChart(data),
    backtestChart(data),
  ];
}

const REASON_COLOURS: Record<string, string> = {
  event: '#4c78a8',
  recluster: '#f58518',
  retired: '#e45756',
  drift: '#b279a2',
  erasure: '#9d755d',
};

/**
 * Moves per night by reason (stacked), with the nights whose model the gate refused marked and explained (dashed red
 * rules), and the nights that kept the active model marked apart (grey ticks under the axis): a kept night fitted
 * nothing and is no failure.
 */
function movesChart(data: ReportData): Chart {
  const base = { id: 'chart-moves', title: 'Segment moves per night, by reason', wide: true } as const;
  const moves = data.movesByNight ?? [];
  const refused = data.refusedRuns ?? [];
  const kept = data.keptRuns ?? [];
  if (moves.length === 0 && refused.length === 0 && kept.length === 0) {
    return { ...base, subtitle: '', spec: null, note: 'No moves recorded.', datasets: {} };
  }
  const reasons = Object.keys(REASON_COLOURS);
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    width: 'container',
    height: 220,
    autosize: { type: 'fit', contains: 'padding' },
    layer: [
      {
        data: { name: 'moves' },
        mark: { type: 'bar' },
        encoding: {
          x: { field: 'day', type: 'temporal', title: 'Night', scale: { type: 'utc' }, axis: { format: '%b %d' } },
          y: { field: 'count', type: 'quantitative', stack: 'zero', title: 'Customers moved' },
          color: {
            field: 'reason',
            type: 'nominal',
            title: 'Reason',
            scale: { domain: reasons, range: reasons.map((r) => REASON_COLOURS[r]) },
          },
          tooltip: [
            { field: 'day', type: 'temporal', title: 'Night', format: '%Y-%m-%d', scale: { type: 'utc' } },
            { field: 'reason', type: 'nominal', title: 'Reason' },
            { field: 'count', type: 'quantitative', title: 'Moves', format: ',' },
          ],
        },
      },
      {
        data: { name: 'refused' },
        mark: { type: 'rule', color: '#e45756', strokeDash: [4, 3], strokeWidth: 1.5 },
        encoding: {
          x: { field: 'day', type: 'temporal', scale: { type: 'utc' } },
          tooltip: [
            { field: 'day', type: 'temporal', title: 'Refused run', format: '%Y-%m-%d', scale: { type: 'utc' } },
            { field: 'reasons', type: 'nominal', title: 'Gate' },
          ],
        },
      },
      // Only with kept nights: a layer over an empty dataset has an infinite extent (a Vega warning).
      ...(kept.length === 0
        ? []
        : [
            {
              data: { name: 'kept' },
              mark: { type: 'tick', color: '#9d9d9d', orient: 'vertical', thickness: 2, yOffset: 6 },
              encoding: {
                x: { field: 'day', type: 'temporal', scale: { type: 'utc' } },
                y: { value: 220 },
                tooltip: [
                  { field: 'day', type: 'temporal', title: 'Model kept', format: '%Y-%m-%d', scale: { type: 'utc' } },
                  { field: 'reason', type: 'nominal', title: 'Why' },
                ],
              },
            },
          ]),
    ],
  } as unknown as TopLevelSpec;
  const total = moves.reduce((s, m) => s + finite(m.count), 0);
  return {
    ...base,
    subtitle: `${fmtInt(total)} moves; ${refused.length} refused run${refused.length === 1 ? '' : 's'} (dashed, with the gate's reason); ${kept.length} night${kept.length === 1 ? '' : 's'} kept the active model (grey ticks)`,
    spec,
    note: '',
    datasets: {
      moves: moves.map((m) => ({ day: m.day, reason: m.reason, count: finite(m.count) })),
      refused: refused.map((r) => ({ day: r.day, reasons: r.reasons })),
      kept: kept.map((r) => ({ day: r.day, reason: r.reason })),
    },
  };
}

/** The silhouette of each candidate k on the runs that searched k, the chosen k marked. */
function kChart(data: ReportData): Chart {
  const base = { id: 'chart-k', title: 'Silhouette against k (how k was chosen)', wide: false } as const;
  const scores = data.kScores ?? [];
  if (scores.length === 0) {
    return { ...base, subtitle: '', spec: null, note: 'No run searched k.', datasets: {} };
  }
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    width: 'container',
    height: 220,
    autosize: { type: 'fit', contains: 'padding' },
    data: { name: 'kscores' },
    layer: [
      {
        mark: { type: 'line', strokeWidth: 1, opacity: 0.5 },
        encoding: {
          x: { field: 'k', type: 'quantitative', title: 'k', axis: { format: 'd', tickMinStep: 1 } },
          y: { field: 'silhouette', type: 'quantitative', title: 'Silhouette', scale: { zero: false } },
          detail: { field: 'run', type: 'nominal' },
          color: { field: 'run', type: 'quantitative', title: 'Run', scale: { scheme: 'blues' } },
        },
      },
      {
        transform: [{ filter: 'datum.chosen' }],
        mark: { type: 'point', filled: true, size: 60, color: '#e45756' },
        encoding: {
          x: { field: 'k', type: 'quantitative' },
          y: { field: 'silhouette', type: 'quantitative' },
          tooltip: [
            { field: 'run', type: 'quantitative', title: 'Run' },
            { field: 'day', type: 'nominal', title: 'Day' },
            { field: 'k', type: 'quantitative', title: 'Chosen k' },
            { field: 'silhouette', type: 'quantitative', title: 'Silhouette', format: '.3f' },
          ],
        },
      },
    ],
  } as unknown as TopLevelSpec;
  const runs = new Set(scores.map((s) => s.run)).size;
  return {
    ...base,
    subtitle: `${runs} run${runs === 1 ? '' : 's'}; red: the k each run chose`,
    spec,
    note: '',
    datasets: {
      kscores: scores.map((s) => ({
        run: s.run,
        day: s.day,
        k: s.k,
        silhouette: round(s.silhouette),
        chosen: s.chosen ? 1 : 0,
      })),
    },
  };
}

interface ColourScale {
  domain: string[];
  range: string[];
}

const ISO_DAY = /^\d{4}-\d{2}-\d{2}(?:$|T)/;

function sizesChart(data: ReportData, labeller: Labeller, colour: ColourScale): Chart {
  const base = { id: 'chart-sizes', title: 'Segment sizes over time', wide: true } as const;
  if (data.sizesOverTime.length === 0) {
    return { ...base, subtitle: '', spec: null, note: 'No nightly runs yet.', datasets: {} };
  }
  const days = unique(data.sizesOverTime.map((r) => r.day));
  const sums = new Map<string, number>();
  const labels = new Set<string>();
  for (const r of data.sizesOverTime) {
    const label = labeller.label(r.segmentId, r.name);
    labels.add(label);
    const key = `${r.day}\u0000${label}`;
    sums.set(key, (sums.get(key) ?? 0) + finite(r.size));
  }
  const ordered = colour.domain.filter((l) => labels.has(l));
  // Complete grid: a segment that does not exist on a day counts 0, so stacks stay continuous.
  const rows: Row[] = [];
  for (const day of days) {
    for (const label of ordered) rows.push({ day, segment: label, size: sums.get(`${day}\u0000${label}`) ?? 0 });
  }
  const temporal = days.every((d) => ISO_DAY.test(d));
  const x = temporal
    ? {
        field: 'day',
        type: 'temporal',
        title: 'Simulated day',
        scale: { type: 'utc' },
        axis: { format: '%b %d', labelOverlap: true, tickCount: Math.min(days.length, 12) },
      }
    : { field: 'day', type: 'ordinal', title: 'Run', sort: days };
  const single = days.length < 2;
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    width: 'container',
    height: 280,
    autosize: { type: 'fit', contains: 'padding' },
    data: { name: 'sizes' },
    mark: single
      ? { type: 'bar', width: 40 }
      : { type: 'area', interpolate: 'monotone', opacity: 0.9, line: { strokeWidth: 1 } },
    encoding: {
      x,
      y: { field: 'size', type: 'quantitative', stack: 'zero', title: 'Customers' },
      color: { field: 'segment', type: 'nominal', title: 'Segment', scale: colour, sort: ordered },
      order: { field: 'segmentOrder', type: 'quantitative' },
      tooltip: [
        {
          field: 'day',
          type: temporal ? 'temporal' : 'nominal',
          title: 'Day',
          ...(temporal ? { format: '%Y-%m-%d', scale: { type: 'utc' } } : {}),
        },
        { field: 'segment', type: 'nominal', title: 'Segment' },
        { field: 'size', type: 'quantitative', title: 'Customers', format: ',' },
      ],
    },
  } as unknown as TopLevelSpec;
  const withOrder = rows.map((r) => ({ ...r, segmentOrder: ordered.indexOf(String(r.segment)) }));
  return {
    ...base,
    subtitle: `${days.length} run${days.length === 1 ? '' : 's'}, ${ordered.length} segment${ordered.length === 1 ? '' : 's'}`,
    spec,
    note: '',
    datasets: { sizes: withOrder },
  };
}

function transitionsChart(data: ReportData, labeller: Labeller): Chart {
  const base = { id: 'chart-transitions', title: 'Transitions between the last two models', wide: false } as const;
  const valid = data.transitions.filter((t) => finite(t.count) > 0);
  if (valid.length === 0) {
    return {
      ...base,
      subtitle: '',
      spec: null,
      note: 'No transitions yet — fewer than two models have been trained.',
      datasets: {},
    };
  }
  const end = (value: string, side: 'from' | 'to'): string =>
    value === 'none' ? (side === 'from' ? '(new)' : '(none)') : (labeller.lookup(value) ?? value);
  const counts = new Map<string, number>();
  const froms = new Set<string>();
  const tos = new Set<string>();
  for (const t of valid) {
    const from = end(t.from, 'from');
    const to = end(t.to, 'to');
    froms.add(from);
    tos.add(to);
    const key = `${from}\u0000${to}`;
    counts.set(key, (counts.get(key) ?? 0) + finite(t.count));
  }
  const rank = (l: string): number =>
    l.startsWith('(') ? -1 : labeller.domain.indexOf(l) < 0 ? 1e6 : labeller.domain.indexOf(l);
  const sortLabels = (s: Set<string>): string[] => [...s].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const fromOrder = sortLabels(froms);
  const toOrder = sortLabels(tos);
  const rows: Row[] = [];
  let max = 0;
  for (const from of fromOrder) {
    const total = toOrder.reduce((s, to) => s + (counts.get(`${from}\u0000${to}`) ?? 0), 0);
    for (const to of toOrder) {
      const count = counts.get(`${from}\u0000${to}`) ?? 0;
      max = Math.max(max, count);
      rows.push({ from, to, count, share: total > 0 ? count / total : 0 });
    }
  }
  const moved = rows.reduce((s, r) => s + (r.from !== r.to ? Number(r.count) : 0), 0);
  const total = rows.reduce((s, r) => s + Number(r.count), 0);
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    width: 'container',
    // Explicit, not { step }: a step height with width 'container' makes Vega-Lite warn.
    height: fromOrder.length * 34,
    // Room for the last rotated column label.
    padding: { left: 5, top: 5, bottom: 5, right: 40 },
    data: { name: 'transitions' },
    encoding: {
      x: {
        field: 'to',
        type: 'nominal',
        sort: toOrder,
        title: 'To (latest model)',
        axis: { labelAngle: -30, labelLimit: 140, orient: 'top' },
      },
      y: { field: 'from', type: 'nominal', sort: fromOrder, title: 'From (previous model)', axis: { labelLimit: 160 } },
    },
    layer: [
      {
        mark: { type: 'rect', stroke: '#fff', strokeWidth: 1 },
        encoding: {
          color: {
            field: 'count',
            type: 'quantitative',
            title: 'Customers',
            scale: { scheme: 'blues', domainMin: 0 },
            legend: { gradientLength: Math.max(60, Math.min(200, fromOrder.length * 34 - 10)) },
          },
          tooltip: [
            { field: 'from', type: 'nominal', title: 'From' },
            { field: 'to', type: 'nominal', title: 'To' },
            { field: 'count', type: 'quantitative', title: 'Customers', format: ',' },
            { field: 'share', type: 'quantitative', title: 'Share of row', format: '.1%' },
          ],
        },
      },
      {
        mark: { type: 'text', fontSize: 11 },
        encoding: {
          text: { field: 'count', type: 'quantitative', format: ',' },
          color: { condition: { test: `datum.count > ${max * 0.55}`, value: '#fff' }, value: '#222' },
        },
      },
    ],
  } as unknown as TopLevelSpec;
  return {
    ...base,
    subtitle: `${fmtInt(total)} customers, ${total > 0 ? ((moved / total) * 100).toFixed(1) : '0.0'}% changed segment`,
    spec,
    note: '',
    datasets: { transitions: rows },
  };
}

function projectionChart(data: ReportData, labeller: Labeller, colour: ColourScale): Chart {
  const base = { id: 'chart-projection', title: 'Customers in 2-D (PCA projection)', wide: false } as const;
  const points = data.projection.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  if (points.length === 0) {
    return { ...base, subtitle: '', spec: null, note: 'No customer vectors to project.', datasets: {} };
  }
  const stride = points.length > MAX_PROJECTION_POINTS ? points.length / MAX_PROJECTION_POINTS : 1;
  const sample =
    stride === 1
      ? points
      : Array.from(
          { length: MAX_PROJECTION_POINTS },
          (_, i) => points[Math.floor(i * stride)] as (typeof points)[number],
        );
  const rows: Row[] = sample.map((p) => ({
    x: round(p.x),
    y: round(p.y),
    segment: labeller.label(p.segmentId, p.name),
  }));
  const present = new Set(rows.map((r) => String(r.segment)));
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    width: 'container',
    height: 380,
    autosize: { type: 'fit', contains: 'padding' },
    data: { name: 'projection' },
    mark: { type: 'point', filled: true, size: 16, opacity: 0.6 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: 'PC 1', scale: { zero: false, nice: true } },
      y: { field: 'y', type: 'quantitative', title: 'PC 2', scale: { zero: false, nice: true } },
      color: {
        field: 'segment',
        type: 'nominal',
        title: 'Segment',
        scale: colour,
        legend: { values: colour.domain.filter((l) => present.has(l)) },
      },
      tooltip: [{ field: 'segment', type: 'nominal', title: 'Segment' }],
    },
  } as unknown as TopLevelSpec;
  const shown =
    rows.length < data.projection.length
      ? `${fmtInt(rows.length)} of ${fmtInt(data.projection.length)}`
      : fmtInt(rows.length);
  return {
    ...base,
    subtitle: `${shown} customers, coloured by segment`,
    spec,
    note: '',
    datasets: { projection: rows },
  };
}

function profilesChart(data: ReportData, labeller: Labeller): Chart {
  const base = { id: 'chart-profiles', title: 'Segment profiles (standardised means)', wide: false } as const;
  const profiles = (data.profiles ?? []).filter((p) => Number.isFinite(p.value));
  if (profiles.length === 0) {
    return { ...base, subtitle: '', spec: null, note: 'No segment profiles in this run.', datasets: {} };
  }
  const rows: Row[] = profiles.map((p) => ({
    segment: labeller.label(p.segmentId, p.name),
    feature: p.feature,
    value: round(p.value),
  }));
  const features = unique(profiles.map((p) => p.feature));
  const present = new Set(rows.map((r) => String(r.segment)));
  const segments = labeller.domain.filter((l) => present.has(l));
  const extent = Math.max(1, ...profiles.map((p) => Math.abs(p.value)));
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    width: 'container',
    height: segments.length * 34,
    padding: { left: 5, top: 5, bottom: 5, right: 40 },
    data: { name: 'profiles' },
    encoding: {
      x: {
        field: 'feature',
        type: 'nominal',
        sort: features,
        title: null,
        axis: { labelAngle: -35, labelLimit: 140, orient: 'top' },
      },
      y: { field: 'segment', type: 'nominal', sort: segments, title: null, axis: { labelLimit: 160 } },
    },
    layer: [
      {
        mark: { type: 'rect', stroke: '#fff', strokeWidth: 1 },
        encoding: {
          color: {
            field: 'value',
            type: 'quantitative',
            title: 'z-score',
            scale: { scheme: 'redblue', reverse: true, domain: [-extent, extent], domainMid: 0 },
            legend: {
              values: legendTicks(extent),
              gradientLength: Math.max(60, Math.min(200, segments.length * 34 - 10)),
            },
          },
          tooltip: [
            { field: 'segment', type: 'nominal', title: 'Segment' },
            { field: 'feature', type: 'nominal', title: 'Feature' },
            { field: 'value', type: 'quantitative', title: 'z-score', format: '+.2f' },
          ],
        },
      },
      {
        mark: { type: 'text', fontSize: 10 },
        encoding: {
          text: { field: 'value', type: 'quantitative', format: '+.1f' },
          color: { condition: { test: `abs(datum.value) > ${extent * 0.6}`, value: '#fff' }, value: '#222' },
        },
      },
    ],
  } as unknown as TopLevelSpec;
  return {
    ...base,
    subtitle: `${segments.length} segments × ${features.length} features; red above average, blue below`,
    spec,
    note: '',
    datasets: { profiles: rows },
  };
}

const METRICS = [
  { key: 'silhouette', label: 'Silhouette (higher is better)', format: '.2f' },
  { key: 'daviesBouldin', label: 'Davies–Bouldin (lower is better)', format: '.2f' },
  { key: 'stability', label: 'Stability vs previous model (ARI)', format: '.2f' },
  { key: 'k', label: 'Number of segments (k)', format: 'd' },
] as const;

function qualityChart(data: ReportData): Chart {
  const base = { id: 'chart-quality', title: 'Clustering quality over runs', wide: true } as const;
  if (data.qualityOverRuns.length === 0) {
    return { ...base, subtitle: '', spec: null, note: 'No runs yet.', datasets: {} };
  }
  const rows: Row[] = [];
  for (const q of data.qualityOverRuns) {
    for (const m of METRICS) {
      const value = q[m.key];
      if (value === null || !Number.isFinite(value)) continue;
      rows.push({ run: q.run, day: q.day, metric: m.key, value: round(value) });
    }
  }
  const runs = data.qualityOverRuns.map((q) => q.run).filter((r) => Number.isFinite(r));
  const runDomain = [Math.min(...runs), Math.max(...runs)];
  // One panel per metric (concat, not facet, so each has its own axis format); the page sets the widths.
  const panel = (m: (typeof METRICS)[number]) => ({
    title: { text: m.label, anchor: 'start', fontSize: 12 },
    width: 360,
    height: 130,
    transform: [{ filter: `datum.metric === '${m.key}'` }],
    encoding: {
      x: {
        field: 'run',
        type: 'quantitative',
        title: 'Run',
        scale: { domain: runDomain, nice: false },
        axis: { format: 'd', tickMinStep: 1 },
      },
      y: {
        field: 'value',
        type: 'quantitative',
        title: null,
        scale: { zero: false, nice: true },
        axis: m.key === 'k' ? { format: 'd', tickMinStep: 1 } : { format: m.format, tickCount: 5 },
      },
    },
    layer: [
      { mark: { type: 'line', strokeWidth: 2, color: '#4c78a8' } },
      {
        mark: { type: 'point', filled: true, size: 36, color: '#4c78a8' },
        encoding: {
          tooltip: [
            { field: 'run', type: 'quantitative', title: 'Run' },
            { field: 'day', type: 'nominal', title: 'Day' },
            { field: 'value', type: 'quantitative', title: m.label, format: m.key === 'k' ? 'd' : '.3f' },
          ],
        },
      },
    ],
  });
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    data: { name: 'quality' },
    columns: 2,
    spacing: { row: 18, column: 40 },
    concat: METRICS.map(panel),
  } as unknown as TopLevelSpec;
  const n = data.qualityOverRuns.length;
  return {
    ...base,
    subtitle: `${n} run${n === 1 ? '' : 's'}`,
    spec,
    note: '',
    datasets: { quality: rows },
    fitColumns: 2,
  };
}

function clvChart(data: ReportData, labeller: Labeller, colour: ColourScale): Chart {
  const base = { id: 'chart-clv', title: 'Customer lifetime value by segment', wide: false } as const;
  const samples = data.clvBySegment.filter((r) => Number.isFinite(r.clv));
  if (samples.length === 0) {
    return { ...base, subtitle: '', spec: null, note: 'No CLV estimates in this run.', datasets: {} };
  }
  const rows: Row[] = samples.map((r) => ({ segment: labeller.label(r.segmentId, r.name), clv: round(r.clv) }));
  const present = new Set(rows.map((r) => String(r.segment)));
  const segments = labeller.domain.filter((l) => present.has(l));
  // CLV is heavy-tailed: a symlog axis keeps the small segments readable next to the big spenders.
  const values = samples.map((r) => r.clv);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const logScale = min >= 0 && max >= 100;
  const x = logScale
    ? {
        field: 'clv',
        type: 'quantitative',
        title: 'CLV (log scale)',
        scale: { type: 'symlog', constant: 10 },
        axis: { values: logTicks(max), labelExpr: "format(datum.value, ',d')" },
      }
    : { field: 'clv', type: 'quantitative', title: 'CLV', scale: { zero: min >= 0 } };
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    width: 'container',
    height: segments.length * 36,
    data: { name: 'clv' },
    mark: { type: 'boxplot', extent: 1.5, size: 20, median: { color: '#222' }, outliers: { size: 10, opacity: 0.5 } },
    encoding: {
      y: { field: 'segment', type: 'nominal', sort: segments, title: null, axis: { labelLimit: 160 } },
      x,
      color: { field: 'segment', type: 'nominal', scale: colour, legend: null },
    },
  } as unknown as TopLevelSpec;
  return {
    ...base,
    subtitle: `${fmtInt(rows.length)} customer estimates; whiskers at 1.5 IQR`,
    spec,
    note: '',
    datasets: { clv: rows },
  };
}

/** 0, 10, 30, 100, 300, … up to the first 1-3 step at or above `max`. */
function logTicks(max: number): number[] {
  const ticks = [0];
  for (let decade = 10; ; decade *= 10) {
    ticks.push(decade);
    if (decade >= max) break;
    ticks.push(decade * 3);
    if (decade * 3 >= max) break;
  }
  return ticks;
}

/** Symmetric, whole-number legend ticks for a ±extent diverging scale. */
function legendTicks(extent: number): number[] {
  const step = extent <= 2.5 ? 1 : Math.ceil(extent / 2);
  const top = Math.floor(extent / step) * step;
  const ticks: number[] = [];
  for (let v = -top; v <= top + 1e-9; v += step) ticks.push(v);
  return ticks;
}

function groupBy<T>(rows: T[], key: (row: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const list = out.get(k);
    if (list) list.push(row);
    else out.set(k, [row]);
  }
  return out;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function finite(v: number): number {
  return Number.isFinite(v) ? v : 0;
}

/** Five significant digits: plenty for a chart, and it keeps the embedded JSON small. */
function round(v: number): number {
  return v === 0 ? 0 : Number(v.toPrecision(5));
}

function fmtInt(v: number): string {
  return Math.round(v).toLocaleString('en-US');
}

/** The value model's backtest: predicted against actual holdout purchase days, per calibration frequency. */
function backtestChart(data: ReportData): Chart {
  const base = {
    id: 'chart-backtest',
    title: 'Does the value model predict? Holdout purchase days by calibration frequency',
    wide: false,
  } as const;
  const b = data.backtest;
  if (!b || b.bins.length === 0) {
    return {
      ...base,
      subtitle: '',
      spec: null,
      note: 'Not enough history yet: the backtest needs two quarters of purchases before a one-quarter holdout.',
      datasets: {},
    };
  }
  const rows = b.bins.flatMap((bin) => [
    { frequency: bin.frequency, series: 'predicted', value: round(bin.predicted), customers: bin.customers },
    { frequency: bin.frequency, series: 'actual', value: round(bin.actual), customers: bin.customers },
  ]);
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    width: 'container',
    height: 220,
    autosize: { type: 'fit', contains: 'padding' },
    data: { name: 'backtest' },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'frequency', type: 'ordinal', title: 'Repeat purchase days in calibration', sort: null },
      xOffset: { field: 'series' },
      y: { field: 'value', type: 'quantitative', title: 'Purchase days in the holdout' },
      color: { field: 'series', type: 'nominal', title: '', scale: { range: ['#4c78a8', '#f58518'] } },
      tooltip: [
        { field: 'frequency', title: 'Calibration frequency' },
        { field: 'series', title: 'Series' },
        { field: 'value', type: 'quantitative', title: 'Purchase days', format: '.1f' },
        { field: 'customers', type: 'quantitative', title: 'Customers' },
      ],
    },
  } as unknown as TopLevelSpec;
  return {
    ...base,
    subtitle: `${b.holdoutWeeks}-week holdout; MAE ${b.meanAbsoluteError.toFixed(3)} per customer${
      b.correlation === null ? '' : `, correlation ${b.correlation.toFixed(3)}`
    }`,
    spec,
    note: '',
    datasets: { backtest: rows },
  };
}
