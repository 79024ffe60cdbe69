/**
 * Deterministic local text encoder: signed feature hashing (the "hashing trick") of
 *  - lower-cased word unigrams,
 *  - word bigrams,
 *  - character 3-grams of each word with boundary markers (`<shoe>` -> `<sh`, `sho`, `hoe`, `oe>`),
 * into `dimension` buckets, then L2-normalised.
 *
 * Texts sharing words share most of their mass, so their cosine is high; the character grams make
 * inflections (shoe/shoes) and typos land close. Unrelated texts only meet through hash collisions and
 * common grams, and the random sign makes collisions cancel in expectation, so their cosine is near 0.
 *
 * Pure: no state, no randomness. The same text and dimension always give the same vector on any machine.
 */

const WEIGHT_UNIGRAM = 1;
const WEIGHT_BIGRAM = 0.7;
const WEIGHT_CHAR_TRIGRAM = 0.35;

// Distinct namespaces, so the word "abc" and the character gram "abc" hash to unrelated buckets.
const NS_UNIGRAM = 0x55; // 'U'
const NS_BIGRAM = 0x42; // 'B'
const NS_TRIGRAM = 0x43; // 'C'

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

const WORD = /[\p{L}\p{N}]+/gu;
const COMBINING_MARK = /\p{M}+/gu;

/**
 * 32-bit FNV-1a over the UTF-16 code units of `text` (both bytes of code units above 0xff), optionally preceded by a
 * namespace byte. Without a namespace and for Latin-1 text this is the standard FNV-1a.
 */
export function fnv1a32(text: string, namespace?: number): number {
  let h = FNV_OFFSET;
  if (namespace !== undefined) h = Math.imul(h ^ (namespace & 0xff), FNV_PRIME);
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    h = Math.imul(h ^ (unit & 0xff), FNV_PRIME);
    if (unit > 0xff) h = Math.imul(h ^ (unit >>> 8), FNV_PRIME);
  }
  return h >>> 0;
}

/** murmur3's 32-bit finaliser: spreads FNV's weak low bits so `% dimension` and the sign bit are independent. */
function fmix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Lower-case, fold compatibility forms and strip diacritics (café -> cafe), then split into words. */
export function tokenize(text: string): string[] {
  const folded = text.normalize('NFKD').replace(COMBINING_MARK, '').toLowerCase();
  return folded.match(WORD) ?? [];
}

function addFeature(acc: Float64Array, feature: string, namespace: number, weight: number): void {
  const h = fmix32(fnv1a32(feature, namespace));
  const index = h % acc.length;
  const sign = h >>> 31 === 0 ? 1 : -1;
  acc[index] = (acc[index] ?? 0) + sign * weight;
}

/**
 * Encodes `text` into a unit vector of length `dimension` (or the zero vector when the text has no letters or
 * digits).
 */
export function encodeText(text: string, dimension: number): Float32Array {
  if (!Number.isInteger(dimension) || dimension < 1) {
    throw new RangeError(`dimension must be a positive integer, got ${dimension}`);
  }
  const acc = new Float64Array(dimension);
  const words = tokenize(text);
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    addFeature(acc, word, NS_UNIGRAM, WEIGHT_UNIGRAM);
    const next = words[i + 1];
    if (next !== undefined) addFeature(acc, `${word} ${next}`, NS_BIGRAM, WEIGHT_BIGRAM);
    const marked = `<${word}>`;
    // Iterate by code point so astral characters (emoji, CJK extension planes) stay whole.
    const chars = Array.from(marked);
    for (let j = 0; j + 3 <= chars.length; j++) {
      addFeature(acc, chars.slice(j, j + 3).join(''), NS_TRIGRAM, WEIGHT_CHAR_TRIGRAM);
    }
  }
  return l2NormalizeToFloat32(acc);
}

/**
 * Returns `values / ‖values‖₂` as a Float32Array; a zero (or empty) vector stays zero. Scales by the largest
 * magnitude first, so very large or very small finite components neither overflow nor underflow.
 */
export function l2NormalizeToFloat32(values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(values.length);
  let maxAbs = 0;
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i] as number);
    if (a > maxAbs) maxAbs = a;
  }
  if (maxAbs === 0) return out;
  let sumSquares = 0;
  for (let i = 0; i < values.length; i++) {
    const v = (values[i] as number) / maxAbs;
    sumSquares += v * v;
  }
  const norm = Math.sqrt(sumSquares);
  for (let i = 0; i < values.length; i++) out[i] = (values[i] as number) / maxAbs / norm;
  return out;
}
