/**
 * Segmentation lab: the simulator's store through the pure segmentation path, in process, without the embedded AWS
 * stack — the customer state (`applyEvent`), the nightly fit (`fitSegmentation`, warm-started from the previous
 * night) and the nightly placement with hysteresis (`assignWithHysteresis`, as AssignShard applies it). Real-time
 * moves are one evaluation per customer per day with the event path's margin and dwell, or one after every event
 * (LAB_REALTIME=event, closer to ingest, which evaluates after every batch).
 *
 * It answers "what would these features, weights and half-lives do?" in seconds rather than the minutes of a full
 * `npm start`, and prints the consumer targets. The figures the README quotes come from `npm start`.
 *
 *   npx tsx bench/segmentation-lab.ts [customers=1000] [days=30] [seed=11]
 * Environment (defaults: the dev stage's settings): LAB_ACTIVITY_HL, LAB_INTEREST_HL (days), LAB_MARGIN,
 * LAB_RECLUSTER_MARGIN, LAB_BEHAVIOUR_WEIGHT, LAB_INTEREST_WEIGHT, LAB_MIN_TENURE_DAYS, LAB_MIN_EVENTS; LAB_DETAIL=1
 * prints each night's fit and where the moves came from.
 */
import { cpus } from 'node:os';
import { localSettings } from '../local/run';
import { simulateStore } from '../local/simulator';
import { plantedAri, supervisedAriBound, switchOracleNight, switchWeekEndsTonight } from '../local/summary-metrics';
import { validateInbound } from '../shared/contracts/validate';
import { applyEvent, emptyState, featuresOf, type CustomerState } from '../shared/customer/state';
import { assignWithHysteresis, reclusterMarginOf, softAssign, type CurrentAssignment } from '../shared/domain/assign';
import { eventText, type FeatureSettings } from '../shared/domain/features';
import { behaviourRow, buildVector } from '../shared/domain/vector';
import { encodeText } from '../shared/embedding/hashing-encoder';
import { scanRowOf, segmentationRows, valueRowOf, withTraits } from '../shared/recluster/rows';
import { hasEvidence } from '../shared/customer/evaluate';
import { fitSegmentation } from '../shared/segmentation/fit';
import type { SegmentationModel } from '../shared/segmentation/model';
import { fitValueModel } from '../shared/value';

const [customers = 1000, days = 30, seed = 11] = process.argv.slice(2).map(Number);
const env = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const base = localSettings();
const settings = {
  ...base,
  vector: {
    behaviourWeight: env('LAB_BEHAVIOUR_WEIGHT', base.vector.behaviourWeight),
    interestWeight: env('LAB_INTEREST_WEIGHT', base.vector.interestWeight),
  },
  hysteresis: { ...base.hysteresis, margin: env('LAB_MARGIN', base.hysteresis.margin) },
  placement: {
    minTenureDays: env('LAB_MIN_TENURE_DAYS', base.placement.minTenureDays),
    minEvents: env('LAB_MIN_EVENTS', base.placement.minEvents),
  },
};
const reclusterMargin = env('LAB_RECLUSTER_MARGIN', reclusterMarginOf(base.hysteresis));
const PER_EVENT = process.env.LAB_REALTIME === 'event';
const fs: FeatureSettings = {
  activityHalfLifeDays: env('LAB_ACTIVITY_HL', settings.features.activityHalfLifeDays),
  interestHalfLifeDays: env('LAB_INTEREST_HL', settings.features.interestHalfLifeDays),
  timeZone: 'UTC',
};
const DAY = 86_400_000;
const started = Date.now();
const store = simulateStore({ customers, days, seed });
const states = new Map<string, CustomerState>();
const seen = new Set<string>();
const cache = new Map<string, Float32Array>();
const current = new Map<string, CurrentAssignment>();
const touched = new Set<string>();
const moves: { id: string; at: number; reason: 'event' | 'recluster' }[] = [];
let model: SegmentationModel | null = null;
const placedAt = new Map<string, number>();
const oracle = { hit: 0, total: 0, misses: new Map<string, number>() };
const switchDiag: { pair: string; moved: boolean; nearestIsCurrent: boolean; ratio: number | null }[] = [];
let start = 0;

function place(id: string, at: Date, reason: 'event' | 'recluster'): void {
  if (!model) return;
  const f = featuresOf(states.get(id)!, at, fs);
  if (!current.has(id) && !hasEvidence(f, settings.placement)) return;
  const v = buildVector(behaviourRow(f), f.interest, model);
  const soft = softAssign(v, model);
  const cur = current.get(id) ?? null;
  const decision = assignWithHysteresis({
    current: cur,
    soft,
    model,
    now: at,
    settings: settings.hysteresis,
    newModelDecides: reason === 'recluster',
    reclusterMargin,
  });
  if (decision.move) {
    if (cur) moves.push({ id, at: at.getTime(), reason });
    else placedAt.set(id, at.getTime());
    current.set(id, { segmentId: decision.segmentId, modelVersion: model.version, since: at.toISOString() });
  } else if (cur && reason === 'recluster') cur.modelVersion = model.version;
}

for (const day of store.days()) {
  if (!start) start = day.date.getTime();
  touched.clear();
  for (const d of day.deliveries) {
    const v = validateInbound({ 'detail-type': d.detailType, source: settings.source, detail: d.detail }, d.arrivalAt);
    if (!v.ok) continue;
    const event = v.event;
    if (event.type === 'customer.erased' || event.type === 'customer.merged') continue;
    if (seen.has(event.detail.eventId)) continue;
    seen.add(event.detail.eventId);
    const id = event.detail.customerId;
    const s = states.get(id) ?? emptyState();
    states.set(id, s);
    const text = eventText(event);
    let emb: Float32Array | null = null;
    if (text !== null) {
      emb = cache.get(text) ?? encodeText(text, settings.embedding.dimension);
      cache.set(text, emb);
    }
    applyEvent(s, event, emb, fs);
    touched.add(id);
    // LAB_REALTIME=event: the real-time path's evaluation after every event (ingest evaluates after every batch).
    if (PER_EVENT && current.has(id)) place(id, d.arrivalAt, 'event');
  }
  const night = new Date(day.date.getTime() + DAY);
  // Real-time path, once per customer with events today (unless evaluated after every event).
  if (!PER_EVENT) for (const id of touched) if (current.has(id)) place(id, new Date(night.getTime() - 1), 'event');
  // Nightly run: fit on everyone (the sample is the population at this size), then place everyone.
  const rows = [...states].map(([id, s]) => scanRowOf(id, featuresOf(s, night, fs), null, settings.placement));
  const value = fitValueModel(rows.map(valueRowOf), {
    minCustomers: settings.value.minCustomers,
    minRepeatCustomers: settings.value.minRepeatCustomers,
  });
  const result = fitSegmentation({
    sample: withTraits(segmentationRows(rows), value, settings.value),
    previous: model,
    settings: settings.recluster,
    weights: { behaviour: settings.vector.behaviourWeight, interest: settings.vector.interestWeight },
    embeddingDim: settings.embedding.dimension,
    version: (model?.version ?? 0) + 1,
    runId: `lab-${day.day}`,
    createdAt: night.toISOString(),
    asOf: night.toISOString(),
    value,
  });
  if (result.gate.passed) model = result.model;
  const before = moves.length;
  for (const id of states.keys()) place(id, night, 'recluster');
  if (process.env.LAB_DETAIL) {
    const c = result.diagnostics.continuity;
    console.log(
      day.day,
      'k',
      result.model.k,
      c?.chosen,
      c?.reason,
      c?.gain?.toFixed(3),
      'moves',
      moves.length - before,
    );
  }
  const dueTonight = [...store.truth.values()].some((t) => switchWeekEndsTonight(t, night));
  if (model && dueTonight) {
    // Oracle bound (switchOracleNight, as the run computes it): the nearest planted-persona mean of each switcher
    // whose week ends tonight. If even the persona means cannot tell, no segmentation of these vectors can.
    const vectors = new Map<string, ArrayLike<number>>();
    const events = new Map<string, number>();
    for (const [id, st] of states) {
      const f = featuresOf(st, night, fs);
      vectors.set(id, buildVector(behaviourRow(f), f.interest, model));
      events.set(id, st.events);
    }
    const tonight = switchOracleNight({ night, vectors, truth: store.truth, eventCounts: events });
    oracle.hit += tonight.hit;
    oracle.total += tonight.total;
    for (const m of tonight.misses) {
      const key = `${m.from}->${m.to}`;
      oracle.misses.set(key, (oracle.misses.get(key) ?? 0) + 1);
    }
  }
  if (process.env.LAB_DETAIL && model) {
    for (const [id, t] of store.truth) {
      if (switchWeekEndsTonight(t, night)) {
        const cur = current.get(id);
        if (!states.has(id)) continue;
        const f = featuresOf(states.get(id)!, night, fs);
        const soft = softAssign(buildVector(behaviourRow(f), f.interest, model), model);
        const ci = cur ? model.segmentIds.indexOf(cur.segmentId) : -1;
        const movedAlready = moves.some((m) => m.id === id && m.at >= t.switchedAt!.getTime());
        switchDiag.push({
          pair: `${t.persona}->${t.switchedTo}`,
          moved: movedAlready,
          nearestIsCurrent: soft.nearest === ci,
          ratio: ci >= 0 ? soft.d2[soft.nearest]! / soft.d2[ci]! : null,
        });
      }
    }
  }
}

// --- Targets ----------------------------------------------------------------------------------------------------
const end = start + days * DAY;
const weekEnd = start + 7 * DAY;
const switched = new Map([...store.truth].flatMap(([id, t]) => (t.switchedAt ? [[id, t.switchedAt.getTime()]] : [])));
// Customer-nights in a segment after the first week, non-switchers (as local/summary-metrics counts them).
let placedNights = 0;
for (let t = weekEnd + DAY; t <= end + DAY; t += DAY) {
  for (const [id, at] of placedAt) if (!switched.has(id) && at < t) placedNights += 1;
}
const lateMoves = moves.filter((m) => m.at >= weekEnd && !switched.has(m.id));
let observed = 0;
let inTime = 0;
for (const [id, at] of switched) {
  if (at + 7 * DAY > end) continue;
  observed += 1;
  if (moves.some((m) => m.id === id && m.at >= at && m.at <= at + 7 * DAY)) inTime += 1;
}
const persona = new Map([...store.truth].map(([id, t]) => [id, t.switchedTo ?? t.persona]));
const counts = new Map([...states].map(([id, s]) => [id, s.events]));
const ari = plantedAri(
  [...current].map(([customerId, a]) => ({ customerId, segmentId: a.segmentId })),
  persona,
  counts,
);
const eligible = [...states].filter(([id, s]) => s.events >= 10 && persona.has(id));
const bound = model
  ? supervisedAriBound(
      eligible.map(([, s]) => {
        const f = featuresOf(s, new Date(end), fs);
        return buildVector(behaviourRow(f), f.interest, model!);
      }),
      eligible.map(([id]) => persona.get(id)!),
    )
  : null;
const byReason = { event: 0, recluster: 0 };
for (const m of lateMoves) byReason[m.reason] += 1;
console.log(
  JSON.stringify({
    customers,
    days,
    seed,
    halfLives: [fs.activityHalfLifeDays, fs.interestHalfLifeDays],
    margin: [settings.hysteresis.margin, reclusterMargin],
    weights: settings.vector,
    k: model?.k,
    nonSwitcherMovesPerNight: Number((lateMoves.length / Math.max(1, placedNights)).toFixed(4)),
    lateByReason: byReason,
    switchersIn7Days: Number((inTime / Math.max(1, observed)).toFixed(3)),
    switchersObserved: observed,
    switchOracle: Number((oracle.hit / Math.max(1, oracle.total)).toFixed(3)),
    ari: ari === null ? null : Number(ari.toFixed(3)),
    bound: bound ? Number(bound.bound.toFixed(3)) : null,
    seconds: Math.round((Date.now() - started) / 1000),
    cores: cpus().length,
  }),
);
if (process.env.LAB_DETAIL) {
  const ageBuckets = new Map<string, number>();
  const byPersona = new Map<string, number>();
  const perCustomer = new Map<string, number>();
  for (const m of lateMoves) {
    const s = states.get(m.id)!;
    const age = (m.at - (s.firstT ?? m.at)) / DAY;
    const b = age < 3 ? '<3d' : age < 7 ? '3-7d' : age < 14 ? '7-14d' : '14d+';
    ageBuckets.set(`${b}/${m.reason}`, (ageBuckets.get(`${b}/${m.reason}`) ?? 0) + 1);
    const p = store.truth.get(m.id)!.persona;
    byPersona.set(p, (byPersona.get(p) ?? 0) + 1);
    perCustomer.set(m.id, (perCustomer.get(m.id) ?? 0) + 1);
  }
  const hist = new Map<number, number>();
  for (const n of perCustomer.values()) hist.set(n, (hist.get(n) ?? 0) + 1);
  console.log('late non-switcher moves by age/reason', Object.fromEntries([...ageBuckets].sort()));
  console.log('by persona', Object.fromEntries([...byPersona].sort((a, b) => b[1] - a[1])));
  for (const d of switchDiag.filter((x) => !x.moved))
    console.log('unmoved switcher', d.pair, d.nearestIsCurrent ? 'nearest is current' : `ratio ${d.ratio?.toFixed(2)}`);
  console.log('oracle misses by switch', Object.fromEntries([...oracle.misses].sort((a, b) => b[1] - a[1])));
  console.log('moves per moving customer', Object.fromEntries([...hist].sort((a, b) => a[0] - b[0])));
}
