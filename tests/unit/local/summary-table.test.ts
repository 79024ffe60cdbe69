import { segmentTableText, transitionLines } from '../../../local/summary-table';

const segments = [
  {
    id: 'seg-001',
    name: 'Garden buyers',
    size: 120,
    share: 0.6,
    meanOrders: 2.5,
    meanRevenue: 140.5,
    medianOrders: 2,
    medianRevenue: 95,
    meanClv: 80.25,
    meanChurnRisk: 0.2,
    topCategories: ['garden', 'tools'],
  },
  {
    id: 'seg-002',
    name: 'Browsers, mostly',
    size: 80,
    share: 0.4,
    meanOrders: 0,
    meanRevenue: 0,
    medianOrders: 0,
    medianRevenue: 0,
    meanClv: null,
    meanChurnRisk: null,
    topCategories: [],
  },
];

describe('npm start prints its segment table with cli-table3', () => {
  const text = segmentTableText(segments);

  test('no (index) column and no quoted strings', () => {
    expect(text).not.toContain('(index)');
    expect(text).not.toMatch(/'|"/);
  });

  test('one header line and one row per segment, values as given', () => {
    const rows = text.split('\n').filter((l) => l.startsWith('│'));
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(
      /│ id\s+│ name\s+│ size │ share │ median orders │ median revenue │ mean revenue │ mean CLV \(buyers\) │ top categories │/,
    );
    expect(rows[1]).toMatch(
      /│ seg-001 │ Garden buyers\s+│\s+120 │ 60\.0% │\s+2\.0 │\s+95\.00 │\s+140\.50 │\s+80\.25 │ garden, tools\s+│/,
    );
    expect(rows[2]).toMatch(/│ seg-002 │ Browsers, mostly │\s+80 │ 40\.0% │\s+0\.0 │\s+0\.00 │\s+0\.00 │\s+- │/);
  });
});

describe('transitions name segments by id and name, with the model each side came from', () => {
  test.each([
    [
      'a move between two models',
      {
        from: 'Bargain hunters',
        to: 'Loyal regulars',
        count: 12,
        fromId: 'seg-002',
        toId: 'seg-004',
        fromVersion: 3,
        toVersion: 4,
      },
      '  seg-002 Bargain hunters (model v3) -> seg-004 Loyal regulars (model v4): 12',
    ],
    [
      'a first placement',
      { from: 'none', to: 'New visitors', count: 5, fromId: null, toId: 'seg-001', fromVersion: null, toVersion: 4 },
      '  none -> seg-001 New visitors (model v4): 5',
    ],
  ])('%s', (_name, t, line) => {
    expect(transitionLines([t])).toEqual([line]);
  });

  test('most customers first, at most 10', () => {
    const many = Array.from({ length: 12 }, (_, i) => ({
      from: `A${i}`,
      to: 'B',
      count: i,
      fromId: `seg-${i}`,
      toId: 'seg-099',
      fromVersion: 1,
      toVersion: 2,
    }));
    const lines = transitionLines(many);
    expect(lines).toHaveLength(10);
    expect(lines[0]).toMatch(/: 11$/);
  });
});
