import fc from 'fast-check';
import { LIMITS } from '../../../shared/contracts/limits';
import { nestingDepth, REJECTION_REASONS, validateInbound } from '../../../shared/contracts/validate';
import { envelope, makeDetail } from '../../support/factories';

const NOW = new Date('2026-11-02T00:00:00Z');

/** A search.performed envelope whose detail carries `field` (given as raw JSON text) under the name `extra`. */
function searchWithRawField(rawJson: string): string {
  const body = envelope('search.performed', makeDetail('search.performed', { customerId: 'c-1', eventId: 'e-1' }));
  return body.replace('"detail":{', `"detail":{"extra":${rawJson},`);
}

describe('validateInbound bounds the detail (issue #9 C9)', () => {
  const cases: { name: string; body: () => string; reason: 'too_deep' | 'too_large' | null }[] = [
    {
      name: 'C9: an unknown field nested 5,000 arrays deep is too_deep (no stack overflow)',
      body: () => searchWithRawField('['.repeat(5_000) + ']'.repeat(5_000)),
      reason: 'too_deep',
    },
    {
      name: 'an unknown field nested 200,000 objects deep is too_deep',
      body: () => searchWithRawField('{"a":'.repeat(200_000) + '1' + '}'.repeat(200_000)),
      reason: 'too_deep',
    },
    {
      name: `nesting exactly at the limit (${LIMITS.maxDetailDepth} with the detail) is accepted`,
      body: () => searchWithRawField('['.repeat(LIMITS.maxDetailDepth - 1) + ']'.repeat(LIMITS.maxDetailDepth - 1)),
      reason: null,
    },
    {
      name: 'one level past the limit is too_deep',
      body: () => searchWithRawField('['.repeat(LIMITS.maxDetailDepth) + ']'.repeat(LIMITS.maxDetailDepth)),
      reason: 'too_deep',
    },
    {
      name: 'a 150 KB padding field is too_large',
      body: () => searchWithRawField(JSON.stringify('x'.repeat(150_000))),
      reason: 'too_large',
    },
    {
      name: 'multi-byte text is measured in UTF-8 bytes: 50,000 × "é" (100 KB) passes, 70,000 (140 KB) is too_large',
      body: () => searchWithRawField(JSON.stringify('é'.repeat(70_000))),
      reason: 'too_large',
    },
    {
      name: '50,000 × "é" (100,000 bytes) is accepted',
      body: () => searchWithRawField(JSON.stringify('é'.repeat(50_000))),
      reason: null,
    },
  ];

  test.each(cases)('$name', ({ body, reason }) => {
    const result = validateInbound(body(), NOW);
    if (reason === null) {
      expect(result.ok).toBe(true);
    } else {
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.rejection.reason).toBe(reason);
        expect(result.rejection).toMatchObject({ detailType: 'search.performed', customerId: 'c-1', eventId: 'e-1' });
      }
    }
  });

  test('a valid order of 500 long items that serialises past the cap is too_large, not a schema violation', () => {
    const items = Array.from({ length: 500 }, (_, i) => ({
      sku: `sku-${i}`,
      title: 't'.repeat(LIMITS.titleLength),
      category: 'c',
      price: 1,
      quantity: 1,
    }));
    const result = validateInbound(envelope('order.placed', makeDetail('order.placed', { items })), NOW);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.rejection.reason).toBe('too_large');
  });

  test('nestingDepth counts containers and stops at the limit', () => {
    expect(nestingDepth(1, 5)).toBe(0);
    expect(nestingDepth({ a: [1, { b: [] }] }, 5)).toBe(4);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(nestingDepth(cyclic, 10)).toBe(Infinity);
  });

  test('fuzz: arbitrary JSON, as text or parsed, never throws and always gives ok or a known reason', () => {
    const reasons = new Set<string>(REJECTION_REASONS);
    const detailTypes = fc.constantFrom('order.placed', 'search.performed', 'customer.erased', 'nope', '');
    const body = fc.oneof(
      fc.jsonValue(),
      fc.record({ 'detail-type': detailTypes, detail: fc.jsonValue() }),
      fc.record({
        'detail-type': detailTypes,
        detail: fc.record({ eventId: fc.string(), customerId: fc.string(), extra: fc.jsonValue({ maxDepth: 40 }) }),
      }),
    );
    fc.assert(
      fc.property(body, fc.boolean(), (value, asText) => {
        const input = asText ? JSON.stringify(value) : value;
        const result = validateInbound(input, NOW);
        return result.ok || reasons.has(result.rejection.reason);
      }),
      { numRuns: 2_000 },
    );
  });

  test('fuzz: mangled text never throws', () => {
    const base = envelope('order.placed', makeDetail('order.placed'));
    fc.assert(
      fc.property(fc.nat(base.length), fc.string(), (cut, junk) => {
        const result = validateInbound(base.slice(0, cut) + junk + base.slice(cut), NOW);
        return typeof result.ok === 'boolean';
      }),
      { numRuns: 1_000 },
    );
  });
});
