import type { CatalogueStats } from '../../../shared/catalogue/build';
import { narrateCatalogue, profileFingerprint, uniqueCappedNames } from '../../../shared/catalogue/narrate';
import { narrationFacts, ungroundedNumbers } from '../../../shared/catalogue/prompt';
import { ruleNarration } from '../../../shared/catalogue/rules';
import type { Narration } from '../../../shared/contracts/catalogue';
import { NarrationUnavailableError, type NarrationPrompt, type Narrator } from '../../../shared/ports/narrator';
import { noLogs, TallyMetrics } from '../../../shared/ports/telemetry';
import { population, statsOf, type RowSpec } from './fixtures';

const loyal: RowSpec = { orders: 5, revenue: 250, days: 12, tenure: 400, categories: ['kitchen'] };
const lapsed: RowSpec = { orders: 6, revenue: 900, days: 300, tenure: 700, categories: ['garden'] };

class FakeNarrator implements Narrator {
  calls = 0;
  constructor(private readonly answer: (p: NarrationPrompt) => Narration) {}
  async narrate(prompt: NarrationPrompt): Promise<Narration> {
    this.calls++;
    return this.answer(prompt);
  }
}

const llmAnswer = (name: string) => (): Narration => ({
  name,
  persona: 'A persona written by the hosted model from the numbers.',
  strategy: {
    objective: 'grow',
    actions: [{ channel: 'email', action: 'Recommend kitchen best sellers' }],
    offerType: 'Bundle',
    cadence: 'Every 2 weeks',
    kpis: ['order frequency'],
    cautions: [],
  },
});

async function narrate(
  stats: CatalogueStats[],
  narrator: Narrator | null,
  previous: Parameters<typeof narrateCatalogue>[0]['previous'] = null,
) {
  const metrics = new TallyMetrics();
  const out = await narrateCatalogue({ stats, population, previous, narrator, metrics, log: noLogs });
  return { ...out, metrics: metrics.counts };
}

describe('narrateCatalogue', () => {
  const a = statsOf([{ spec: loyal, n: 10 }], 'seg-001');
  const b = statsOf([{ spec: lapsed, n: 6 }], 'seg-002');

  it('without an LLM: the rule narration, source rules', async () => {
    const { entries } = await narrate([a, b], null);
    expect(entries.map((e) => e.name)).toEqual(['Loyal regulars · kitchen', 'Lapsed high spenders · garden']);
    expect(entries[0]!.provenance).toMatchObject({ source: 'rules', cached: false, fallbackReason: null });
    expect(entries[1]!.narration.strategy.objective).toBe('win_back');
    expect(entries[1]!.narration.strategy.cautions).toContain(
      'Do not discount high-value customers who are not deal seekers',
    );
  });

  it('with an LLM: its narration, source llm', async () => {
    const llm = new FakeNarrator(llmAnswer('Kitchen enthusiasts'));
    const { entries, metrics } = await narrate([a], llm);
    expect(entries[0]).toMatchObject({ name: 'Kitchen enthusiasts', provenance: { source: 'llm', cached: false } });
    expect(metrics).toEqual({ NarrationGenerated: 1 });
  });

  it.each(['timeout', 'invalid_json', 'model_error'] as const)(
    'LLM failure (%s): the rules, with the reason and a metric',
    async (reason) => {
      const llm = new FakeNarrator(() => {
        throw new NarrationUnavailableError(reason, 'x', 2);
      });
      const { entries, metrics } = await narrate([a], llm);
      expect(entries[0]!.name).toBe('Loyal regulars · kitchen');
      expect(entries[0]!.provenance).toMatchObject({ source: 'rules', fallbackReason: reason });
      expect(metrics).toEqual({ NarrationFallback: 1, [`NarrationFallback_${reason}`]: 1 });
    },
  );

  it('stability: an unchanged fingerprint keeps name and text without calling the LLM', async () => {
    const first = await narrate([a], new FakeNarrator(llmAnswer('Kitchen enthusiasts')));
    const previous = { segmentIds: ['seg-001'], names: ['Kitchen enthusiasts'], catalogue: first.entries };
    // Night two: a little noise (one more member, revenue 250 → 262) that leaves the quantised profile alone.
    const moved = statsOf(
      [
        { spec: loyal, n: 10 },
        { spec: { ...loyal, revenue: 262 }, n: 1 },
      ],
      'seg-001',
    );
    expect(profileFingerprint(moved, population)).toBe(profileFingerprint(a, population));
    const llm = new FakeNarrator(llmAnswer('Something else'));
    const second = await narrate([moved], llm, previous);
    expect(llm.calls).toBe(0);
    expect(second.entries[0]).toMatchObject({
      name: 'Kitchen enthusiasts',
      provenance: { cached: true, source: 'llm' },
    });
    expect(second.entries[0]!.narration.persona).toBe(first.entries[0]!.narration.persona);
    expect(second.renamed).toEqual([]);
  });

  it('a real move changes the fingerprint, re-narrates and announces the rename', async () => {
    const first = await narrate([a], null);
    const previous = { segmentIds: ['seg-001'], names: [first.entries[0]!.name], catalogue: first.entries };
    const cooled = statsOf([{ spec: { ...loyal, days: 100 }, n: 10 }], 'seg-001');
    const second = await narrate([cooled], null, previous);
    expect(second.entries[0]!.name).toBe('Cooling regulars · kitchen');
    expect(second.renamed).toEqual([
      { segmentId: 'seg-001', oldName: 'Loyal regulars · kitchen', newName: 'Cooling regulars · kitchen' },
    ]);
  });

  it('a cached name that now contradicts the numbers is not kept', async () => {
    const browsers = statsOf(
      [{ spec: { orders: 0, revenue: 0, tenure: 300, categories: ['kitchen'] }, n: 10 }],
      'seg-001',
    );
    const [entry] = (await narrate([browsers], null)).entries;
    // Forge a previous entry with today's fingerprint but a name saying "browsers" for buyers.
    const fp = profileFingerprint(a, population);
    const forged = { ...entry!, segmentId: 'seg-001', provenance: { ...entry!.provenance, fingerprint: fp } };
    const { entries } = await narrate([a], null, {
      segmentIds: ['seg-001'],
      names: [forged.name],
      catalogue: [forged],
    });
    expect(entries[0]!.name).toBe('Loyal regulars · kitchen');
    expect(entries[0]!.provenance.cached).toBe(false);
  });

  it('past the time budget, the remaining segments get the rules with reason budget_exhausted', async () => {
    let t = 0;
    const llm = new FakeNarrator(() => {
      t += 60_000;
      return llmAnswer('Kitchen enthusiasts')();
    });
    const metrics = new TallyMetrics();
    const { entries } = await narrateCatalogue({
      stats: [a, b],
      population,
      previous: null,
      narrator: llm,
      metrics,
      log: noLogs,
      concurrency: 1,
      budgetMs: 30_000,
      now: () => t,
    });
    expect(llm.calls).toBe(1);
    expect(entries.map((e) => e.provenance.fallbackReason)).toEqual([null, 'budget_exhausted']);
    expect(entries[1]!.name).toBe('Lapsed high spenders · garden');
    expect(metrics.counts).toEqual({
      NarrationGenerated: 1,
      NarrationFallback: 1,
      NarrationFallback_budget_exhausted: 1,
    });
  });

  it('names are unique within the model', async () => {
    const twin = statsOf([{ spec: loyal, n: 4 }], 'seg-003');
    const { entries } = await narrate([a, twin], null);
    expect(entries.map((e) => e.name)).toEqual(['Loyal regulars · kitchen', 'Loyal regulars · kitchen (2)']);
  });
});

describe('uniqueCappedNames', () => {
  it.each([
    {
      name: 'the largest keeps the plain name',
      input: [
        { name: 'A', size: 1, segmentId: 's1' },
        { name: 'A', size: 5, segmentId: 's2' },
      ],
      expected: ['A (2)', 'A'],
    },
    {
      name: 'a suffix never pushes a name past 40 characters',
      input: [
        { name: 'x'.repeat(40), size: 2, segmentId: 's1' },
        { name: 'x'.repeat(40), size: 1, segmentId: 's2' },
      ],
      expected: ['x'.repeat(40), `${'x'.repeat(36)} (2)`],
    },
  ])('$name', ({ input, expected }) => {
    const out = uniqueCappedNames(input);
    expect(out).toEqual(expected);
    expect(new Set(out).size).toBe(out.length);
    for (const n of out) expect(n.length).toBeLessThanOrEqual(40);
  });
});

describe('rule narration', () => {
  it('a long category drops the interest rather than cutting the name', () => {
    const long = statsOf([{ spec: { ...loyal, categories: ['outdoor furniture and garden decoration'] }, n: 6 }]);
    const n = ruleNarration('seg-001', long.profile, { ...population, categoryShare: {} });
    expect(n.name).toBe('Loyal regulars');
  });
});

describe('heavy-tail caution', () => {
  it.each([
    {
      name: 'mostly browsers with a few wholesalers: cautioned',
      specs: [
        { spec: { orders: 0, revenue: 0, tenure: 20, categories: ['pets'] }, n: 8 },
        { spec: { orders: 20, revenue: 9_000, days: 5, tenure: 20, categories: ['pets'] }, n: 2 },
      ],
      expected: 'A few heavy buyers lift mean revenue to 1800.00 (median 0.00): treat them apart',
    },
    {
      name: 'an even segment: no caution',
      specs: [{ spec: loyal, n: 10 }],
      expected: null,
    },
  ])('$name', ({ specs, expected }) => {
    const stats = statsOf(specs);
    const n = ruleNarration('seg-001', stats.profile, population);
    if (expected === null) expect(n.strategy.cautions.some((c) => c.startsWith('A few heavy'))).toBe(false);
    else expect(n.strategy.cautions).toContain(expected);
    expect(n.name.includes('browsers')).toBe((stats.profile.stats.orders?.median ?? 0) < 1);
  });
});

describe('grounding', () => {
  const stats = statsOf([{ spec: loyal, n: 10 }]);
  const rules = ruleNarration('seg-001', stats.profile, population);
  const facts = narrationFacts(stats, rules);
  it.each([
    { name: 'the rule persona states only facts', text: rules.persona, expected: [] },
    { name: 'rounded facts are fine', text: 'They spend about 250 in total over 400 days.', expected: [] },
    { name: 'a share as a percentage is fine', text: 'All of them (100 %) buy kitchenware.', expected: [] },
    { name: 'small counts are not checked', text: 'Send 2 emails over 3 weeks.', expected: [] },
    { name: 'an invented figure is caught', text: 'They spend 5,000 a year.', expected: [5000] },
    { name: 'a wrong recency is caught', text: 'Last seen 90 days ago.', expected: [90] },
  ])('$name', ({ text, expected }) => {
    expect(ungroundedNumbers(text, facts)).toEqual(expected);
  });

  it('an LLM persona with an invented figure is not accepted: the adapter sees the problem', async () => {
    const seen: string[][] = [];
    const llm = new FakeNarrator((p) => {
      const answer = { ...llmAnswer('Kitchen enthusiasts')(), persona: 'They spend 5,000 a year on kitchenware.' };
      seen.push(p.check(answer));
      throw new NarrationUnavailableError('invalid_narration', 'x', 2);
    });
    const { entries } = await narrate([stats], llm);
    expect(seen).toEqual([['persona: ungrounded_number']]);
    expect(entries[0]!.provenance.fallbackReason).toBe('invalid_narration');
  });
});
