import fc from 'fast-check';
import { encodeText, fnv1a32, l2NormalizeToFloat32, tokenize } from '../../../shared/embedding/hashing-encoder';

const D = 384;

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

function norm(v: Float32Array): number {
  return Math.sqrt(dot(v, v));
}

const cosine = (a: string, b: string, dimension = D): number => dot(encodeText(a, dimension), encodeText(b, dimension));

describe('fnv1a32', () => {
  // Reference values of the standard 32-bit FNV-1a.
  it.each([
    { name: 'empty string', input: '', expected: 0x811c9dc5 },
    { name: 'a', input: 'a', expected: 0xe40c292c },
    { name: 'foobar', input: 'foobar', expected: 0xbf9cf968 },
  ])('matches the published FNV-1a value: $name', ({ input, expected }) => {
    expect(fnv1a32(input)).toBe(expected);
  });

  it('separates namespaces', () => {
    expect(fnv1a32('shoe', 0x55)).not.toBe(fnv1a32('shoe', 0x43));
    expect(fnv1a32('shoe', 0x55)).toBe(fnv1a32('shoe', 0x55));
  });
});

describe('tokenize', () => {
  it.each([
    {
      name: 'lower-cases and splits on punctuation',
      input: "Men's RUNNING-shoes!",
      expected: ['men', 's', 'running', 'shoes'],
    },
    { name: 'strips diacritics', input: 'Café Crème', expected: ['cafe', 'creme'] },
    { name: 'keeps digits', input: 'iPhone 15 Pro', expected: ['iphone', '15', 'pro'] },
    { name: 'keeps non-latin letters', input: 'Кроссовки для бега', expected: ['кроссовки', 'для', 'бега'] },
    { name: 'no words', input: '  !!! ... ', expected: [] },
  ])('$name', ({ input, expected }) => {
    expect(tokenize(input)).toEqual(expected);
  });
});

describe('encodeText', () => {
  it('is deterministic', () => {
    // Arrange
    const text = 'Wireless noise-cancelling headphones';

    // Act
    const first = encodeText(text, D);
    const second = encodeText(text, D);

    // Assert
    expect(Array.from(first)).toEqual(Array.from(second));
  });

  it('returns a unit vector of the requested dimension', () => {
    const v = encodeText('red summer dress', 256);

    expect(v).toBeInstanceOf(Float32Array);
    expect(v).toHaveLength(256);
    expect(norm(v)).toBeCloseTo(1, 5);
  });

  it.each([
    { name: 'empty text', input: '' },
    { name: 'only punctuation', input: '?!…—' },
    { name: 'only whitespace', input: ' \t\n ' },
  ])('returns the zero vector for $name', ({ input }) => {
    const v = encodeText(input, 64);

    expect(v).toHaveLength(64);
    expect(v.every((x) => x === 0)).toBe(true);
  });

  it('ignores case, diacritics and punctuation', () => {
    expect(cosine('Café crème', 'cafe CREME!')).toBeCloseTo(1, 5);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects dimension %p', (dimension) => {
    expect(() => encodeText('x', dimension)).toThrow(RangeError);
  });

  it.each([
    {
      name: 'shared words beat no shared words',
      query: 'running shoes for men',
      closer: "men's running shoes",
      farther: 'chocolate cake recipe',
    },
    {
      name: 'an inflection stays close (character grams)',
      query: 'running shoes',
      closer: 'running shoe',
      farther: 'garden hose',
    },
    {
      name: 'more shared words is closer',
      query: 'red summer dress',
      closer: 'red summer dress sale',
      farther: 'blue summer dress',
    },
    {
      name: 'same words in the same order beat a reordering (bigrams)',
      query: 'dark chocolate bar',
      closer: 'dark chocolate bar gift',
      farther: 'gift bar chocolate dark',
    },
    {
      name: 'a typo stays closer than another product',
      query: 'bluetooth headphones',
      closer: 'bluetoth headphones',
      farther: 'kitchen knife set',
    },
  ])('orders similarity: $name', ({ query, closer, farther }) => {
    expect(cosine(query, closer)).toBeGreaterThan(cosine(query, farther));
  });

  it.each([
    { name: 'paraphrase with shared words', a: "men's running shoes", b: 'running shoes for men', min: 0.6 },
    { name: 'one differing adjective', a: 'red summer dress', b: 'blue summer dress', min: 0.5 },
  ])('similar texts score high: $name', ({ a, b, min }) => {
    expect(cosine(a, b)).toBeGreaterThan(min);
  });

  it.each([
    { name: 'shoes vs cake', a: 'running shoes for men', b: 'chocolate cake recipe' },
    { name: 'garden vs kitchen', a: 'garden hose', b: 'kitchen knife set' },
    { name: 'sentence vs lecture', a: 'the cat sat on the mat', b: 'quantum chromodynamics lecture notes' },
  ])('unrelated texts score near 0: $name', ({ a, b }) => {
    expect(Math.abs(cosine(a, b))).toBeLessThan(0.15);
  });

  it('gives near-zero cosine on average over many unrelated pairs', () => {
    // Arrange: product phrases with no shared words
    const phrases = [
      'stainless steel kettle',
      'wool winter scarf',
      'organic green tea',
      'mechanical gaming keyboard',
      'yoga mat with strap',
      'leather wallet brown',
      'children picture book',
      'ceramic flower pot',
      'usb charging cable',
      'hiking backpack waterproof',
    ];

    // Act
    const values: number[] = [];
    for (let i = 0; i < phrases.length; i++) {
      for (let j = i + 1; j < phrases.length; j++)
        values.push(Math.abs(cosine(phrases[i] as string, phrases[j] as string)));
    }
    const mean = values.reduce((s, v) => s + v, 0) / values.length;

    // Assert
    expect(mean).toBeLessThan(0.08);
  });

  it('property: any string gives a finite vector of the right length with norm 1 or 0', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.integer({ min: 1, max: 512 }),
        (text, dimension) => {
          const v = encodeText(text, dimension);
          expect(v).toHaveLength(dimension);
          expect(v.every((x) => Number.isFinite(x))).toBe(true);
          const n = norm(v);
          expect(n === 0 || Math.abs(n - 1) < 1e-5).toBe(true);
          // Nothing to hash gives zero (signed features may also cancel, e.g. in one dimension).
          if (tokenize(text).length === 0) expect(n).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: depends only on the word sequence, not on spacing or case', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z0-9]{1,8}$/), { minLength: 1, maxLength: 8 }), (words) => {
        const a = encodeText(words.join(' '), 128);
        const b = encodeText(`  ${words.join(' ,  ').toUpperCase()} `, 128);
        expect(Array.from(b)).toEqual(Array.from(a));
      }),
    );
  });
});

describe('l2NormalizeToFloat32', () => {
  it.each([
    { name: 'zero stays zero', input: [0, 0, 0], expected: [0, 0, 0] },
    { name: 'empty stays empty', input: [], expected: [] },
    { name: '3-4-5', input: [3, 4], expected: [0.6, 0.8] },
    { name: 'huge components do not overflow', input: [3e300, 4e300], expected: [0.6, 0.8] },
    { name: 'tiny components do not underflow', input: [3e-300, -4e-300], expected: [0.6, -0.8] },
  ])('$name', ({ input, expected }) => {
    const out = Array.from(l2NormalizeToFloat32(input));

    expect(out).toHaveLength(expected.length);
    out.forEach((x, i) => expect(x).toBeCloseTo(expected[i] as number, 6));
  });
});
