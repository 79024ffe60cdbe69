import type { Settings } from '../../../shared/config/settings';
import { BEHAVIOUR_FEATURES } from '../../../shared/domain/vector';
import { fitSegmentation, type SampleRow } from '../../../shared/segmentation/fit';
import type { StoredValueModel } from '../../../shared/segmentation/model';
import { PRIOR_VALUE, reclusterSettings } from '../../support/segmentation';

const B = BEHAVIOUR_FEATURES.length;
const settings: Settings['recluster'] = reclusterSettings({ minSegmentShare: 0 });
const value: StoredValueModel = PRIOR_VALUE;

/** `n` customers cycling through `points` distinct behaviour rows, with no interest vector. */
function customers(n: number, points: number[][]): SampleRow[] {
  return Array.from({ length: n }, (_, i) => ({
    customerId: `c-${i}`,
    behaviour: points[i % points.length]!,
    interest: null,
    natural: {},
    topCategories: [],
    channelShares: { web: 1, app: 0, store: 0, marketplace: 0 },
    traits: { clv: 10, churnRisk: 0.5 },
  }));
}

function fit(rows: SampleRow[]) {
  return fitSegmentation({
    sample: rows,
    previous: null,
    settings,
    weights: { behaviour: 1, interest: 1.5 },
    embeddingDim: 4,
    version: 1,
    runId: 'run-1',
    createdAt: '2026-11-10T03:00:00.000Z',
    value,
  });
}

describe('the nightly fit on degenerate samples (issue #9 D13, D14)', () => {
  test('D14: 300 identical customers are refused with a reason, never published as k = 1', () => {
    const row = Array.from({ length: B }, (_, j) => j + 1);
    const result = fit(customers(300, [row]));
    expect(result.gate.passed).toBe(false);
    expect(result.gate.reasons).toEqual(['1 distinct customer vector(s) < 2']);
  });

  test('D13: 60 customers on 2 distinct points, kMin 3: k is capped at 2, and identical customers share a segment', () => {
    const a = Array.from({ length: B }, (_, j) => j);
    const b = Array.from({ length: B }, (_, j) => 10 * j + 5);
    const result = fit(customers(60, [a, b]));
    expect(result.model.k).toBe(2);
    expect(result.diagnostics.kScores.map((s) => s.k)).toEqual([2]);
    const labelOfEven = result.labels[0];
    const labelOfOdd = result.labels[1];
    expect(labelOfEven).not.toBe(labelOfOdd);
    result.labels.forEach((label, i) => expect(label).toBe(i % 2 === 0 ? labelOfEven : labelOfOdd));
  });
});
