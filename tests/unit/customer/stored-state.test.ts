/**
 * The stored state round-trips, a current-version state passes the shape check, and anything else goes through the
 * full schema: older versions get their defaults, a damaged state is refused with a ZodError rather than trusted.
 */
import { ZodError } from 'zod';
import { decodeState, decodeVector, encodeState, encodeVector } from '../../../shared/customer/item';
import { applyEvent, emptyState, FEATURE_VERSION } from '../../../shared/customer/state';
import { featureSettingsOf } from '../../../shared/customer/update';
import { makeEvent } from '../../support/factories';
import { testSettings } from '../../support/settings';

const fs = featureSettingsOf(testSettings());

function sampleState() {
  const s = emptyState();
  applyEvent(s, makeEvent('order.placed', { customerId: 'c-1', eventId: 'e-1' }), null, fs);
  applyEvent(s, makeEvent('product.viewed', { customerId: 'c-1', eventId: 'e-2' }), new Float32Array([0.5, -1]), fs);
  return s;
}

describe('decodeState', () => {
  it('round-trips a current-version state, interest included', () => {
    const s = sampleState();
    expect(s.v).toBe(FEATURE_VERSION);
    expect(decodeState(encodeState(s))).toEqual(s);
  });

  it('gives an older-version state the defaults of the fields it predates', () => {
    const { recent: _recent, compacted: _compacted, ...older } = JSON.parse(encodeState(sampleState()));
    const decoded = decodeState(JSON.stringify({ ...older, v: FEATURE_VERSION - 1 }));
    expect(decoded.v).toBe(FEATURE_VERSION - 1);
    expect(decoded.compacted).toBeNull();
    expect(decoded.recent).toEqual({ channels: { web: 0, app: 0, store: 0, marketplace: 0 }, categories: {} });
  });

  it.each([
    ['a missing tally', (o: Record<string, unknown>) => delete o.views],
    ['a field of the wrong type', (o: Record<string, unknown>) => (o.orders = [])],
    ['ratings that are not five counts', (o: Record<string, unknown>) => (o.ratings = [1, 2])],
  ])('refuses a current-version state with %s (ZodError, not trusted)', (_name, damage) => {
    const o = JSON.parse(encodeState(sampleState())) as Record<string, unknown>;
    damage(o);
    expect(() => decodeState(JSON.stringify(o))).toThrow(ZodError);
  });
});

describe('encodeVector / decodeVector', () => {
  const bits = (v: readonly number[]) => Array.from(new Uint32Array(Float64Array.from(v).buffer));

  test('round-trip bit for bit, at every length from 1 to 40 floats', () => {
    const values = [0.1 + 1e-17, -2 / 3, Math.PI, 1e300, -0, 5e-324, -1e-310, 1];
    for (let n = 1; n <= 40; n++) {
      const v = Array.from({ length: n }, (_, i) => values[i % values.length]! * (1 + i / 1e3));
      const back = decodeVector(encodeVector(v));
      expect(back).toHaveLength(n);
      expect(bits(back!)).toEqual(bits(v));
      expect(Object.is(back![4 % n], v[4 % n])).toBe(true);
    }
  });

  test('null stays null; an empty vector stays empty', () => {
    expect(decodeVector(encodeVector(null))).toBeNull();
    expect(decodeVector(encodeVector([]))).toEqual([]);
  });
});
