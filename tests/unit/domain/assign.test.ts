import fc from 'fast-check';
import { assignWithHysteresis, softAssign, type Centroids } from '../../../shared/domain/assign';

const model: Centroids & { version: number } = {
  k: 3,
  dim: 2,
  centroids: [0, 0, 10, 0, 0, 10],
  segmentIds: ['seg-001', 'seg-002', 'seg-003'],
  tau: 4,
  version: 2,
};
const NOW = new Date('2026-11-10T00:00:00Z');
const settings = { margin: 0.2, minDwellHours: 24 };

describe('softAssign', () => {
  test('probabilities are a softmax of -d²/τ and sum to 1', () => {
    const soft = softAssign([1, 0], model);
    expect(soft.nearest).toBe(0);
    expect(soft.d2).toEqual([1, 81, 101]);
    const w = [1, 81, 101].map((d) => Math.exp(-d / 4));
    const total = w.reduce((a, b) => a + b, 0);
    soft.probabilities.forEach((p, i) => expect(p).toBeCloseTo(w[i]! / total, 12));
  });

  test('property: assignment is invariant to centroid order', () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.double({ min: -20, max: 20, noNaN: true }), fc.double({ min: -20, max: 20, noNaN: true })),
        ([x, y]) => {
          const perm = [2, 0, 1];
          const permuted: Centroids = {
            ...model,
            centroids: perm.flatMap((c) => [model.centroids[c * 2] as number, model.centroids[c * 2 + 1] as number]),
            segmentIds: perm.map((c) => model.segmentIds[c]!),
          };
          const a = softAssign([x, y], model);
          const b = softAssign([x, y], permuted);
          const da = a.d2[a.nearest]!;
          const db = b.d2[b.nearest]!;
          expect(db).toBeCloseTo(da, 9);
          if (new Set(a.d2).size === 3) expect(permuted.segmentIds[b.nearest]).toBe(model.segmentIds[a.nearest]);
        },
      ),
    );
  });
});

describe('assignWithHysteresis', () => {
  const since = (hoursAgo: number) => new Date(NOW.getTime() - hoursAgo * 3_600_000).toISOString();
  const cases = [
    {
      name: 'first assignment goes to the nearest',
      current: null,
      point: [9, 0],
      expected: { move: true, segmentId: 'seg-002', why: 'first_assignment' },
    },
    {
      name: 'already nearest: stays',
      current: { segmentId: 'seg-002', modelVersion: 2, since: since(1) },
      point: [9, 0],
      expected: { move: false, segmentId: 'seg-002', why: 'same_segment' },
    },
    {
      name: 'just past the midpoint but within the margin: stays',
      current: { segmentId: 'seg-001', modelVersion: 2, since: since(100) },
      point: [5.2, 0],
      expected: { move: false, segmentId: 'seg-001', why: 'within_margin' },
    },
    {
      name: 'clearly closer but dwell not reached: stays',
      current: { segmentId: 'seg-001', modelVersion: 2, since: since(2) },
      point: [9, 0],
      expected: { move: false, segmentId: 'seg-001', why: 'dwell' },
    },
    {
      name: 'clearly closer after the dwell: moves',
      current: { segmentId: 'seg-001', modelVersion: 2, since: since(30) },
      point: [9, 0],
      expected: { move: true, segmentId: 'seg-002', why: 'closer' },
    },
    {
      name: 're-cluster, new version, nearest only just closer: keeps its aligned segment (hysteresis at re-cluster)',
      current: { segmentId: 'seg-001', modelVersion: 1, since: since(1) },
      point: [5.2, 0],
      newModelDecides: true,
      expected: { move: false, segmentId: 'seg-001', why: 'within_margin' },
    },
    {
      name: 're-cluster, new version, nearest closer by the margin: moves at once, no dwell',
      current: { segmentId: 'seg-001', modelVersion: 1, since: since(1) },
      point: [9, 0],
      newModelDecides: true,
      expected: { move: true, segmentId: 'seg-002', why: 'new_model' },
    },
    {
      name: 're-cluster, segment retired by the new model: moves at once',
      current: { segmentId: 'seg-009', modelVersion: 1, since: since(1) },
      point: [5.2, 0],
      newModelDecides: true,
      expected: { move: true, segmentId: 'seg-002', why: 'retired' },
    },
    {
      name: 'real-time, older version on the profile: hysteresis still applies in the aligned segment',
      current: { segmentId: 'seg-001', modelVersion: 1, since: since(1) },
      point: [5.2, 0],
      newModelDecides: false,
      expected: { move: false, segmentId: 'seg-001', why: 'within_margin' },
    },
    {
      name: 'retired segment: moves at once',
      current: { segmentId: 'seg-009', modelVersion: 2, since: since(1) },
      point: [0, 9],
      expected: { move: true, segmentId: 'seg-003', why: 'retired' },
    },
  ];
  test.each(cases)('$name', ({ current, point, expected, newModelDecides }) => {
    const decision = assignWithHysteresis({
      current,
      soft: softAssign(point, model),
      model,
      now: NOW,
      settings,
      newModelDecides: newModelDecides ?? false,
    });
    expect(decision).toMatchObject(expected);
  });

  test('property: at re-cluster a customer moves to a new version exactly when the nearest is closer by the margin', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -2, max: 12, noNaN: true }),
        fc.double({ min: -2, max: 12, noNaN: true }),
        fc.integer({ min: 0, max: 2 }),
        (x, y, aligned) => {
          const soft = softAssign([x, y], model);
          const current = { segmentId: model.segmentIds[aligned]!, modelVersion: 1, since: since(1) };
          const d = assignWithHysteresis({ current, soft, model, now: NOW, settings, newModelDecides: true });
          const clearlyCloser = soft.d2[soft.nearest]! < (1 - settings.margin) * soft.d2[aligned]!;
          expect(d.move).toBe(soft.nearest !== aligned && clearlyCloser);
          expect(d.segmentId).toBe(d.move ? model.segmentIds[soft.nearest] : current.segmentId);
        },
      ),
    );
  });

  test('property: with margin > 0 a customer oscillating inside the margin band around a midpoint never flaps', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 4.75, max: 5.25, noNaN: true }), { minLength: 2, maxLength: 30 }), (xs) => {
        let current = { segmentId: 'seg-001', modelVersion: 2, since: since(1000) };
        let moves = 0;
        for (const x of xs) {
          const d = assignWithHysteresis({ current, soft: softAssign([x, 0], model), model, now: NOW, settings });
          if (d.move) {
            moves += 1;
            current = { segmentId: d.segmentId, modelVersion: 2, since: since(1000) };
          }
        }
        expect(moves).toBe(0);
      }),
    );
  });
});
