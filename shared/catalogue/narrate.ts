/**
 * Turns catalogue statistics into catalogue entries: a fingerprint of the quantised profile, the narration (reused
 * from the previous model when the segment's fingerprint is unchanged, else from the narrator, else the rules), and
 * names unique within the model. Renames against the previous model are listed.
 */
import { createHash } from 'node:crypto';
import {
  MAX_SEGMENT_NAME_LENGTH,
  type CatalogueEntry,
  type Narration,
  type RenamedSegment,
} from '../contracts/catalogue';
import { isNarrationUnavailable, type Narrator } from '../ports/narrator';
import type { LogSink, MetricsSink } from '../ports/telemetry';
import { describeSegment, nameDisagreements, type NamingPopulation } from '../segmentation/naming';
import { mapLimit } from '../util/concurrency';
import type { CatalogueStats } from './build';
import { buildNarrationPrompt, narrationFacts, ungroundedNumbers } from './prompt';
import { namingView, ruleNarration } from './rules';

/**
 * The quantised profile a narration is valid for: the rule words (recency, value, interest), the three top
 * categories, median orders (whole), median revenue (half-octaves: round(2·log2(1 + revenue))), median recency
 * (30-day buckets), share (5-point buckets), buyers' mean churn risk (tenths) and the dominant lifecycle stage.
 * Small night-to-night noise leaves it unchanged; a move that changes what the card says changes it.
 */
export function profileFingerprint(stats: CatalogueStats, population: NamingPopulation): string {
  const p = stats.profile;
  const d = describeSegment(namingView(stats.segmentId, p), population);
  const lifecycle = Object.entries(p.lifecycleMix).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))[0]?.[0] ?? null;
  const key = {
    words: [d.recency, d.value, d.interest],
    top: p.topCategoriesByShare.slice(0, 3).map((c) => c.category),
    orders: Math.round(p.stats.orders?.median ?? 0),
    revenue: Math.round(2 * Math.log2(1 + Math.max(0, p.stats.revenue?.median ?? 0))),
    recency: p.stats.daysSinceLastOrder ? Math.round(p.stats.daysSinceLastOrder.median / 30) : null,
    share: Math.round(p.share * 20),
    churn: p.buyers.meanChurnRisk === null ? null : Math.round(p.buyers.meanChurnRisk * 10),
    lifecycle,
  };
  return createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 16);
}

export interface NarrateInput {
  stats: readonly CatalogueStats[];
  population: NamingPopulation;
  /** The previous model's names and catalogue, by segment id (null for the first model). */
  previous: { segmentIds: readonly string[]; names: readonly string[]; catalogue?: readonly CatalogueEntry[] } | null;
  /** Null when no LLM is configured: the rules narrate. */
  narrator: Narrator | null;
  metrics: MetricsSink;
  log: LogSink;
  /** Segments narrated in parallel (default 2). */
  concurrency?: number;
  /**
   * Wall-clock budget for the LLM calls of one model, in milliseconds (default: none). A segment whose turn comes
   * after it is narrated by the rules with reason `budget_exhausted`, so FitModel always ends inside its timeout.
   */
  budgetMs?: number;
  /** Milliseconds clock for the budget (default Date.now). */
  now?: () => number;
}

export interface NarrateOutput {
  entries: CatalogueEntry[];
  renamed: RenamedSegment[];
}

/**
 * Problems of a narration against the segment's statistics: the name must agree with the numbers
 * (nameDisagreements) and the persona may only state numbers the prompt's facts support (ungroundedNumbers).
 */
function checkerFor(stats: CatalogueStats, population: NamingPopulation, rules: Narration): (n: Narration) => string[] {
  const view = namingView(stats.segmentId, stats.profile);
  const facts = narrationFacts(stats, rules);
  return (n) => [
    ...nameDisagreements(n.name, view, population).map((p) => `name: ${p}`),
    ...(ungroundedNumbers(n.persona, facts).length ? ['persona: ungrounded_number'] : []),
  ];
}

/**
 * One entry per statistics row, in order. Per segment:
 * 1. the previous entry of the same segment id with the same fingerprint is reused (cached), if its name still
 *    agrees with the numbers and it was not a fallback (a failed LLM call is retried the next night);
 *    a fresh LLM answer must also keep its persona's figures to the facts (ungroundedNumbers);
 * 2. else the narrator writes it (validated, one repair); on NarrationUnavailableError the rules write it, the
 *    reason is recorded in `provenance.fallbackReason` and counted as `NarrationFallback` (+ `NarrationFallback_<reason>`);
 * 3. else the rules write it.
 * Names are then made unique (largest segment keeps the plain name; others get " (2)", …, cut to fit 40 characters).
 */
export async function narrateCatalogue(input: NarrateInput): Promise<NarrateOutput> {
  const { stats, population, previous, narrator, metrics, log } = input;
  const previousEntries = new Map((previous?.catalogue ?? []).map((e) => [e.segmentId, e]));
  const previousNames = new Map((previous?.segmentIds ?? []).map((id, i) => [id, previous?.names[i] ?? '']));
  const fingerprints = stats.map((s) => profileFingerprint(s, population));
  const now = input.now ?? Date.now;
  const deadline = input.budgetMs === undefined ? Infinity : now() + input.budgetMs;

  const drafts = await mapLimit(stats, input.concurrency ?? 2, async (s, i) => {
    const fingerprint = fingerprints[i]!;
    const rules = ruleNarration(s.segmentId, s.profile, population);
    const check = checkerFor(s, population, rules);
    const before = previousEntries.get(s.segmentId);
    if (
      before &&
      before.provenance.fingerprint === fingerprint &&
      before.provenance.fallbackReason === null &&
      // Only the name is re-checked: the text was grounded when written, and the fingerprint says the numbers
      // barely moved since (re-checking each figure would re-narrate on every small drift).
      check(before.narration).every((p) => !p.startsWith('persona:'))
    ) {
      metrics.count('NarrationCached');
      return { narration: before.narration, source: before.provenance.source, cached: true, fallbackReason: null };
    }
    if (!narrator) return { narration: rules, source: 'rules' as const, cached: false, fallbackReason: null };
    if (now() >= deadline) {
      metrics.count('NarrationFallback');
      metrics.count('NarrationFallback_budget_exhausted');
      return { narration: rules, source: 'rules' as const, cached: false, fallbackReason: 'budget_exhausted' };
    }
    const taken = stats
      .flatMap((_, j) => (j === i ? [] : [previousNames.get(stats[j]!.segmentId) ?? '']))
      .filter(Boolean);
    try {
      const narration = await narrator.narrate(buildNarrationPrompt(s, rules, taken, check));
      metrics.count('NarrationGenerated');
      return { narration, source: 'llm' as const, cached: false, fallbackReason: null };
    } catch (error) {
      if (!isNarrationUnavailable(error)) throw error;
      metrics.count('NarrationFallback');
      metrics.count(`NarrationFallback_${error.reason}`);
      log.warn('narration fell back to rules', {
        segmentId: s.segmentId,
        reason: error.reason,
        attempts: error.attempts,
      });
      return { narration: rules, source: 'rules' as const, cached: false, fallbackReason: error.reason };
    }
  });

  const names = uniqueCappedNames(
    drafts.map((d, i) => ({ name: d.narration.name, size: stats[i]!.profile.size, segmentId: stats[i]!.segmentId })),
  );
  const entries: CatalogueEntry[] = stats.map((s, i) => {
    const d = drafts[i]!;
    return {
      segmentId: s.segmentId,
      name: names[i]!,
      narration: { ...d.narration, name: names[i]! },
      provenance: {
        source: d.source,
        fingerprint: fingerprints[i]!,
        cached: d.cached,
        fallbackReason: d.fallbackReason,
      },
      profile: s.profile,
      recommendations: s.recommendations,
      campaigns: s.campaigns,
      feedback: s.feedback,
    };
  });
  const renamed = entries.flatMap((e) => {
    const oldName = previousNames.get(e.segmentId);
    return oldName !== undefined && oldName !== '' && oldName !== e.name
      ? [{ segmentId: e.segmentId, oldName, newName: e.name }]
      : [];
  });
  return { entries, renamed };
}

/**
 * Unique names of at most 40 characters, in input order: the largest segment (then the lowest id) keeps its name,
 * the others get " (2)", " (3)", … with the base cut so that the suffix fits.
 */
export function uniqueCappedNames(candidates: readonly { name: string; size: number; segmentId: string }[]): string[] {
  const order = candidates
    .map((c, i) => ({ ...c, i }))
    .sort((a, b) => b.size - a.size || (a.segmentId < b.segmentId ? -1 : a.segmentId > b.segmentId ? 1 : 0));
  const taken = new Set<string>();
  const out = new Array<string>(candidates.length).fill('');
  for (const c of order) {
    const base = c.name.slice(0, MAX_SEGMENT_NAME_LENGTH);
    let name = base;
    for (let n = 2; taken.has(name); n++) {
      const suffix = ` (${n})`;
      name = `${base.slice(0, MAX_SEGMENT_NAME_LENGTH - suffix.length).trimEnd()}${suffix}`;
    }
    taken.add(name);
    out[c.i] = name;
  }
  return out;
}
