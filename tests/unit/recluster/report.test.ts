import { describeContinuity, describeDrift } from '../../../shared/recluster/report';

describe('run report wording', () => {
  test.each([
    {
      name: 'warm start kept, with the fresh fit shortfall',
      input: { chosen: 'warm' as const, reason: 'warm_kept', gain: -0.0123, searched: true },
      expected: 'Continuity: warm start from the active model kept (fresh fit silhouette gain -0.012).',
    },
    {
      name: 'a fresh fit adopted for its gain',
      input: { chosen: 'fresh' as const, reason: 'silhouette_gain', gain: 0.071, searched: true },
      expected: 'Continuity: fresh fit adopted: clearly better (fresh fit silhouette gain +0.071).',
    },
    {
      name: 'a dropped segment is named',
      input: { chosen: 'warm' as const, reason: 'warm_kept', gain: null, searched: true, droppedSegments: ['seg-004'] },
      expected: 'Continuity: warm start from the active model kept; dropped seg-004 (no longer held together).',
    },
    {
      name: 'a kept night says nothing was fitted, and why',
      input: { chosen: 'kept' as const, reason: 'no drift, refit in 3 nights', gain: null, searched: false },
      expected: 'Continuity: active model kept, nothing fitted (no drift, refit in 3 nights).',
    },
  ])('$name', ({ input, expected }) => {
    expect(describeContinuity(input)).toBe(expected);
  });

  test.each([
    { name: 'not measured', input: null, expected: 'Drift: not measured (no comparable active model).' },
    {
      name: 'detected, with its reasons and figures',
      input: { detected: true, reasons: ['features'], maxFeaturePsi: 0.4, sharePsi: 0.01, distanceInflation: 1.02 },
      expected: 'Drift detected (features): max feature PSI 0.400, share PSI 0.010, distance ×1.02.',
    },
  ])('drift: $name', ({ input, expected }) => {
    expect(describeDrift(input)).toBe(expected);
  });
});
