/**
 * EventBridge event-pattern matcher (pure: no I/O).
 *
 * Semantics follow the EventBridge user guide ("Creating event patterns", "Content filtering in Amazon EventBridge
 * event patterns", "Comparison operators for use in event patterns", "Arrays in event patterns", "Matching null values
 * and empty strings") and aws/event-ruler, the engine EventBridge runs (README + JsonRuleCompiler for what a valid
 * pattern is). tests/unit/events/pattern.test.ts cites the doc line behind each behaviour.
 *
 * Decisions where the docs are silent (each is pinned by a test):
 * - A leaf matcher sees the event value's leaf values: a scalar (string, number, boolean, null) is one value, an array
 *   is flattened (nested arrays too) and its scalars are the values; objects are not leaves. A field matches when any
 *   matcher in its list matches any value; `anything-but` matches when some value is not excluded, so it needs the
 *   field to be present.
 * - `exists: true` needs at least one leaf value (null counts; an object or an empty array does not);
 *   `exists: false` is its negation, so it also matches a missing parent object.
 * - A nested pattern object applied to an array of objects matches when one element matches it as a whole
 *   (event-ruler's array-consistent matching), so fields from different elements are never combined.
 * - Numeric matching only matches JSON numbers within ±5.0e9 (event-ruler's range); exact-value matching of numbers
 *   is plain equality.
 */

export type ExactMatchValue = string | number | boolean | null;
export type NumericOperator = '=' | '<' | '<=' | '>' | '>=';
/** `["=", 5]`, `["<", 10]`, `[">", 0, "<=", 5]` … */
export type NumericExpression = readonly (NumericOperator | number)[];
export interface IgnoreCaseOperand {
  readonly 'equals-ignore-case': string;
}
export type AnythingButOperand =
  | string
  | number
  | readonly string[]
  | readonly number[]
  | { readonly prefix: string | readonly string[] }
  | { readonly suffix: string | readonly string[] }
  | { readonly 'equals-ignore-case': string | readonly string[] }
  | { readonly wildcard: string | readonly string[] };
export type ContentFilter =
  | { readonly prefix: string | IgnoreCaseOperand }
  | { readonly suffix: string | IgnoreCaseOperand }
  | IgnoreCaseOperand
  | { readonly wildcard: string }
  | { readonly 'anything-but': AnythingButOperand }
  | { readonly numeric: NumericExpression }
  | { readonly exists: boolean }
  | { readonly cidr: string };
export type PatternMatcher = ExactMatchValue | ContentFilter;

/** An EventBridge event pattern: fields map to nested patterns or to a non-empty list of matchers; `$or` holds ≥ 2 alternatives. */
export interface EventPattern {
  readonly [field: string]: EventPattern | readonly PatternMatcher[] | readonly EventPattern[];
}

/** Thrown for a malformed pattern; the message mirrors EventBridge's `InvalidEventPatternException`. */
export class InvalidEventPatternError extends Error {
  override readonly name = 'InvalidEventPatternException';
  constructor(
    readonly reason: string,
    readonly path: string,
  ) {
    super(`Event pattern is not valid. Reason: ${reason}${path ? ` at ${path}` : ''}`);
  }
}

export interface CompiledEventPattern {
  readonly pattern: EventPattern;
  matches(event: unknown): boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Compiled form

type Scalar = string | number | boolean | null;

interface Node {
  fields: Field[];
  /** Each entry is one `$or`: at least one alternative must match. All entries and all fields are AND-ed. */
  ors: Node[][];
}

type Field = { key: string; kind: 'leaf'; matchers: LeafMatcher[] } | { key: string; kind: 'object'; node: Node };

type LeafMatcher =
  | { kind: 'exists'; present: boolean }
  | { kind: 'value'; test: (v: Scalar) => boolean }
  | { kind: 'anything-but'; excluded: (v: Scalar) => boolean };

const OR = '$or';
const FIVE_BILLION = 5e9;
const MATCH_TYPES = [
  'prefix',
  'suffix',
  'equals-ignore-case',
  'wildcard',
  'anything-but',
  'numeric',
  'exists',
  'cidr',
] as const;
/** event-ruler Constants.RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP: not usable as field names inside `$or`. */
const RESERVED_IN_OR = new Set<string>([
  'exactly',
  ...MATCH_TYPES,
  'html',
  '=',
  '<',
  '<=',
  '>',
  '>=',
  'regex',
  'not-wildcard',
  'not-equals-ignore-case',
  'date-after',
  'date-on-or-after',
  'date-before',
  'date-on-or-before',
  'in-date-range',
  'ip-address-in-range',
  'ip-address-not-in-range',
]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(reason: string, path: string): never {
  throw new InvalidEventPatternError(reason, path);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

// ---------------------------------------------------------------------------------------------------------------
// Validation + compilation

/** Validates (and compiles) a pattern; throws {@link InvalidEventPatternError} as EventBridge's PutRule would. */
export function compilePattern(pattern: unknown): CompiledEventPattern {
  let source = pattern;
  if (typeof source === 'string') {
    try {
      source = JSON.parse(source) as unknown;
    } catch (e) {
      fail(`pattern is not valid JSON (${e instanceof Error ? e.message : String(e)})`, '');
    }
  }
  if (!isObject(source)) fail('Filter is not an object', '');
  const root = compileObject(source, '', false);
  return {
    pattern: source as EventPattern,
    matches: (event: unknown) => evalNode(root, event),
  };
}

export function validatePattern(pattern: unknown): EventPattern {
  return compilePattern(pattern).pattern;
}

export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  return compilePattern(pattern).matches(event);
}

function compileObject(obj: Record<string, unknown>, path: string, insideOr: boolean): Node {
  const keys = Object.keys(obj);
  if (keys.length === 0) fail('Empty objects are not allowed', path);
  const node: Node = { fields: [], ors: [] };
  for (const key of keys) {
    const value = obj[key];
    const at = join(path, key);
    if (key === OR) {
      node.ors.push(compileOr(value, at));
      continue;
    }
    if (insideOr && RESERVED_IN_OR.has(key)) {
      fail(`${key} is Ruler reserved fieldName which cannot be used inside $or.`, at);
    }
    if (Array.isArray(value)) {
      node.fields.push({ key, kind: 'leaf', matchers: compileMatchers(value, at) });
    } else if (isObject(value)) {
      node.fields.push({ key, kind: 'object', node: compileObject(value, at, insideOr) });
    } else {
      fail(`"${key}" must be an object or an array`, at);
    }
  }
  return node;
}

function compileOr(value: unknown, path: string): Node[] {
  if (!Array.isArray(value)) fail('It must be an Array followed with $or.', path);
  const alternatives = value.map((alt: unknown, i) => {
    if (!isObject(alt)) fail('Only JSON object is allowed in array of $or relationship.', `${path}[${i}]`);
    return compileObject(alt, path.slice(0, -OR.length - 1), true);
  });
  if (alternatives.length < 2) fail('There must have at least 2 Objects in $or relationship.', path);
  return alternatives;
}

function compileMatchers(list: unknown[], path: string): LeafMatcher[] {
  if (list.length === 0) fail('Empty arrays are not allowed', path);
  return list.map((item: unknown) => {
    if (item === null || typeof item === 'string' || typeof item === 'boolean') {
      return { kind: 'value', test: (v: Scalar) => v === item };
    }
    if (typeof item === 'number') {
      if (!Number.isFinite(item)) fail('Match value must be String, number, true, false, or null', path);
      return { kind: 'value', test: (v: Scalar) => v === item };
    }
    if (isObject(item)) return compileExpression(item, path);
    return fail('Match value must be String, number, true, false, or null', path);
  });
}

function compileExpression(expr: Record<string, unknown>, path: string): LeafMatcher {
  const keys = Object.keys(expr);
  const op = keys[0];
  if (op === undefined) fail('Match expression name not found', path);
  if (keys.length > 1) fail('Only one key allowed in match expression', path);
  const operand = expr[op];
  const at = `${path}.${op}`;
  switch (op) {
    case 'prefix':
    case 'suffix': {
      const { text, ignoreCase } = prefixSuffixOperand(op, operand, at);
      const probe = ignoreCase ? text.toLowerCase() : text;
      const test =
        op === 'prefix'
          ? (s: string) => (ignoreCase ? s.toLowerCase() : s).startsWith(probe)
          : (s: string) => (ignoreCase ? s.toLowerCase() : s).endsWith(probe);
      return { kind: 'value', test: (v) => typeof v === 'string' && test(v) };
    }
    case 'equals-ignore-case': {
      if (typeof operand !== 'string') fail('equals-ignore-case match pattern must be a string', at);
      const test = ignoreCaseEquals(operand);
      return { kind: 'value', test: (v) => typeof v === 'string' && test(v) };
    }
    case 'wildcard': {
      if (typeof operand !== 'string') fail('wildcard match pattern must be a string', at);
      const re = wildcardRegExp(operand, at);
      return { kind: 'value', test: (v) => typeof v === 'string' && re.test(v) };
    }
    case 'numeric': {
      const test = compileNumeric(operand, at);
      return { kind: 'value', test: (v) => typeof v === 'number' && Math.abs(v) <= FIVE_BILLION && test(v) };
    }
    case 'exists': {
      if (typeof operand !== 'boolean') fail('exists match pattern must be either true or false.', at);
      return { kind: 'exists', present: operand };
    }
    case 'cidr': {
      if (typeof operand !== 'string') fail('cidr match pattern must be a string', at);
      const test = compileCidr(operand, at);
      return { kind: 'value', test: (v) => typeof v === 'string' && test(v) };
    }
    case 'anything-but':
      return { kind: 'anything-but', excluded: compileAnythingBut(operand, at) };
    default:
      return fail(`Unrecognized match type ${op}`, path);
  }
}

function prefixSuffixOperand(op: string, operand: unknown, path: string): { text: string; ignoreCase: boolean } {
  if (typeof operand === 'string') return { text: operand, ignoreCase: false };
  if (isObject(operand)) {
    const keys = Object.keys(operand);
    const inner = keys[0];
    if (inner === undefined) fail(`${op === 'prefix' ? 'Prefix' : 'Suffix'} expression name not found`, path);
    if (inner !== 'equals-ignore-case') fail(`Unsupported ${op} pattern: ${inner}`, path);
    if (keys.length > 1) fail('Only one key allowed in match expression', path);
    const text = operand[inner];
    if (typeof text !== 'string') fail('equals-ignore-case match pattern must be a string', `${path}.${inner}`);
    return { text, ignoreCase: true };
  }
  return fail(`${op} match pattern must be a string`, path);
}

function ignoreCaseEquals(expected: string): (s: string) => boolean {
  const lower = expected.toLowerCase();
  const upper = expected.toUpperCase();
  return (s) => s.toLowerCase() === lower || s.toUpperCase() === upper;
}

/** `*` matches any run of characters (zero or more); `\*` is a literal asterisk, `\\` a literal backslash. */
function wildcardRegExp(pattern: string, path: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '*') {
      if (pattern[i + 1] === '*') fail(`Consecutive wildcard characters at pos ${i}`, path);
      source += '.*';
    } else if (ch === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\') fail(`Invalid escape character at pos ${i}`, path);
      source += `\\${next}`;
      i++;
    } else {
      source += ch.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`, 's');
}

function checkNumber(value: unknown, operator: string, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(`Value of ${operator} must be numeric`, path);
  if (Math.abs(value) > FIVE_BILLION) fail(`Value of ${operator} must be between -5.0E9 and 5.0E9 inclusive`, path);
  return value;
}

function compileNumeric(operand: unknown, path: string): (v: number) => boolean {
  if (!Array.isArray(operand)) fail('Value of numeric must be an array.', path);
  const terms = operand as unknown[];
  const [op1, v1, op2, v2, ...rest] = terms;
  if (typeof op1 !== 'string') {
    fail(`Invalid member in numeric match: ${op1 === undefined ? 'empty expression' : JSON.stringify(op1)}`, path);
  }
  if (!['=', '<', '<=', '>', '>='].includes(op1)) fail(`Unrecognized numeric range operator: ${op1}`, path);
  const a = checkNumber(v1, op1, path);
  switch (op1) {
    case '=':
      if (terms.length > 2) fail('Too many elements in numeric expression', path);
      return (v) => v === a;
    case '<':
    case '<=':
      if (terms.length > 2) fail('Too many elements in numeric expression', path);
      return op1 === '<' ? (v) => v < a : (v) => v <= a;
    case '>':
    case '>=': {
      const lower = op1 === '>' ? (v: number) => v > a : (v: number) => v >= a;
      if (terms.length === 2) return lower;
      if (typeof op2 !== 'string') fail(`Bad value in numeric range: ${JSON.stringify(op2)}`, path);
      if (op2 !== '<' && op2 !== '<=') fail(`Bad numeric range operator: ${op2}`, path);
      const b = checkNumber(v2, op2, path);
      if (rest.length > 0) fail('Too many terms in numeric range expression', path);
      if (a >= b) fail('Bottom must be less than top', path);
      return op2 === '<' ? (v) => lower(v) && v < b : (v) => lower(v) && v <= b;
    }
    default:
      return fail(`Unrecognized numeric range operator: ${op1}`, path);
  }
}

function compileAnythingBut(operand: unknown, path: string): (v: Scalar) => boolean {
  if (typeof operand === 'string') return (v) => v === operand;
  if (typeof operand === 'number') {
    if (!Number.isFinite(operand)) fail('Value of anything-but must be an array or single string/number value.', path);
    return (v) => v === operand;
  }
  if (Array.isArray(operand)) {
    const values = operand as unknown[];
    const allStrings = values.every((x) => typeof x === 'string');
    const allNumbers = values.every((x) => typeof x === 'number' && Number.isFinite(x));
    if (values.some((x) => x === null || typeof x === 'boolean' || typeof x === 'object')) {
      fail('Inside anything but list, start|null|boolean is not supported.', path);
    }
    if (values.length === 0 || (!allStrings && !allNumbers)) {
      fail('Inside anything but list, either all values are number or string, mixed type is not supported', path);
    }
    const set = new Set<unknown>(values);
    return (v) => set.has(v);
  }
  if (isObject(operand)) {
    const keys = Object.keys(operand);
    const op = keys[0];
    if (op === undefined) fail('Anything-But expression name not found', path);
    if (keys.length > 1) fail('Only one key allowed in match expression', path);
    const at = `${path}.${op}`;
    const inner = operand[op];
    const list: unknown[] = Array.isArray(inner) ? (inner as unknown[]) : [inner];
    if (list.length === 0) fail('Empty arrays are not allowed', at);
    const strings = list.map((s) => {
      if (typeof s === 'string') return s;
      switch (op) {
        case 'equals-ignore-case':
          return fail('Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.', at);
        case 'wildcard':
          return fail('wildcard match pattern must be a string', at);
        case 'prefix':
        case 'suffix':
          return fail('prefix/suffix match pattern must be a string', at);
        default:
          return fail(`Unsupported anything-but pattern: ${op}`, path);
      }
    });
    let tests: ((s: string) => boolean)[];
    switch (op) {
      case 'prefix':
      case 'suffix':
        if (strings.some((s) => s === '')) fail('Null prefix/suffix not allowed', at);
        tests = strings.map((p) => (op === 'prefix' ? (s: string) => s.startsWith(p) : (s: string) => s.endsWith(p)));
        break;
      case 'equals-ignore-case':
        tests = strings.map(ignoreCaseEquals);
        break;
      case 'wildcard':
        tests = strings.map((w) => {
          const re = wildcardRegExp(w, at);
          return (s: string) => re.test(s);
        });
        break;
      default:
        return fail(`Unsupported anything-but pattern: ${op}`, path);
    }
    return (v) => typeof v === 'string' && tests.some((t) => t(v));
  }
  return fail('Value of anything-but must be an array or single string/number value.', path);
}

// ---------------------------------------------------------------------------------------------------------------
// CIDR (IPv4 and IPv6)

function parseIPv4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let out = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out = (out << 8n) | BigInt(n);
  }
  return out;
}

function parseIPv6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':')) return undefined;
  let groups: string[];
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? (halves[0] as string).split(':') : [];
  const tail = halves.length === 2 && halves[1] ? (halves[1] as string).split(':') : [];
  // An embedded IPv4 tail counts as two groups.
  const expand = (gs: string[]): string[] | undefined => {
    const last = gs[gs.length - 1];
    if (last === undefined || !last.includes('.')) return gs;
    const v4 = parseIPv4(last);
    if (v4 === undefined) return undefined;
    return [...gs.slice(0, -1), ((v4 >> 16n) & 0xffffn).toString(16), (v4 & 0xffffn).toString(16)];
  };
  const h = halves.length === 2 ? head : expand(head);
  const t = expand(tail);
  if (h === undefined || t === undefined) return undefined;
  if (halves.length === 2) {
    const missing = 8 - h.length - t.length;
    if (missing < 1) return undefined;
    groups = [...h, ...Array<string>(missing).fill('0'), ...t];
  } else {
    groups = h;
  }
  if (groups.length !== 8) return undefined;
  let out = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    out = (out << 16n) | BigInt(parseInt(g, 16));
  }
  return out;
}

function compileCidr(cidr: string, path: string): (s: string) => boolean {
  const slash = cidr.indexOf('/');
  const addr = slash === -1 ? cidr : cidr.slice(0, slash);
  const bitsText = slash === -1 ? undefined : cidr.slice(slash + 1);
  const v4 = parseIPv4(addr);
  const v6 = v4 === undefined ? parseIPv6(addr) : undefined;
  const width = v4 !== undefined ? 32 : 128;
  const base = v4 ?? v6;
  if (base === undefined) fail(`Nonsensical CIDR IP: ${cidr}`, path);
  const bits = bitsText === undefined ? width : /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
  if (!(bits >= 0 && bits <= width)) fail(`Nonsensical CIDR mask: ${cidr}`, path);
  const shift = BigInt(width - bits);
  const network = base >> shift;
  const parse = width === 32 ? parseIPv4 : parseIPv6;
  return (s) => {
    const ip = parse(s);
    return ip !== undefined && ip >> shift === network;
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Evaluation

function leafValues(value: unknown, out: Scalar[] = []): Scalar[] {
  if (Array.isArray(value)) {
    for (const v of value as unknown[]) leafValues(v, out);
  } else if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    out.push(value);
  }
  return out;
}

function objectElements(value: unknown[], out: Record<string, unknown>[] = []): Record<string, unknown>[] {
  for (const v of value) {
    if (Array.isArray(v)) objectElements(v as unknown[], out);
    else if (isObject(v)) out.push(v);
  }
  return out;
}

function evalLeaf(matchers: LeafMatcher[], values: Scalar[]): boolean {
  return matchers.some((m) => {
    switch (m.kind) {
      case 'exists':
        return values.length > 0 === m.present;
      case 'value':
        return values.some(m.test);
      case 'anything-but':
        return values.some((v) => !m.excluded(v));
    }
  });
}

function evalNode(node: Node, event: unknown): boolean {
  const obj = isObject(event) ? event : undefined;
  for (const field of node.fields) {
    const child = obj !== undefined && Object.hasOwn(obj, field.key) ? obj[field.key] : undefined;
    if (field.kind === 'leaf') {
      if (!evalLeaf(field.matchers, leafValues(child))) return false;
    } else if (Array.isArray(child)) {
      const elements = objectElements(child as unknown[]);
      const ok =
        elements.length === 0 ? evalNode(field.node, undefined) : elements.some((e) => evalNode(field.node, e));
      if (!ok) return false;
    } else if (!evalNode(field.node, child)) {
      return false;
    }
  }
  return node.ors.every((alternatives) => alternatives.some((alt) => evalNode(alt, event)));
}
