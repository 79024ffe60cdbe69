import { holdoutDraw, isHeldOut } from '../../../shared/domain/holdout';

const ids = Array.from({ length: 20_000 }, (_, i) => `cust-${i}`);

describe('holdout groups: a deterministic hash of (customer, segment, salt) against the share', () => {
  test('the same customer, segment and salt always give the same answer', () => {
    expect(holdoutDraw('c-1', 'seg-001', 'prod')).toBe(holdoutDraw('c-1', 'seg-001', 'prod'));
    expect(isHeldOut('c-1', 'seg-001', { share: 0.3, salt: 'prod' })).toBe(
      isHeldOut('c-1', 'seg-001', { share: 0.3, salt: 'prod' }),
    );
  });

  test('share 0 (the default) holds nobody out', () => {
    expect(ids.filter((id) => isHeldOut(id, 'seg-001', { share: 0, salt: 'x' }))).toEqual([]);
    expect(isHeldOut('c-1', 'seg-001', undefined)).toBe(false);
  });

  test('share 0.1 holds out 10 % of 20,000 customers (within 4 binomial standard deviations, ±0.85 %)', () => {
    const held = ids.filter((id) => isHeldOut(id, 'seg-001', { share: 0.1, salt: 'prod' })).length / ids.length;
    expect(Math.abs(held - 0.1)).toBeLessThan(4 * Math.sqrt((0.1 * 0.9) / ids.length));
  });

  test('each segment draws its own group: overlap of two segments’ groups is share² (±4 sd)', () => {
    const h = { share: 0.2, salt: 'prod' };
    const both = ids.filter((id) => isHeldOut(id, 'seg-001', h) && isHeldOut(id, 'seg-002', h)).length / ids.length;
    expect(Math.abs(both - 0.04)).toBeLessThan(4 * Math.sqrt((0.04 * 0.96) / ids.length));
  });

  test('a new salt draws a new group', () => {
    const a = ids.filter((id) => isHeldOut(id, 'seg-001', { share: 0.2, salt: 'one' }));
    const b = new Set(ids.filter((id) => isHeldOut(id, 'seg-001', { share: 0.2, salt: 'two' })));
    const overlap = a.filter((id) => b.has(id)).length / ids.length;
    expect(Math.abs(overlap - 0.04)).toBeLessThan(4 * Math.sqrt((0.04 * 0.96) / ids.length));
  });

  test('a larger share keeps every customer the smaller share held out (nested groups)', () => {
    for (const id of ids.slice(0, 2000)) {
      if (isHeldOut(id, 'seg-001', { share: 0.05, salt: 's' }))
        expect(isHeldOut(id, 'seg-001', { share: 0.1, salt: 's' })).toBe(true);
    }
  });
});
