import type { Delivery } from '../simulator/types';

export type { Delivery };

/** One item of a replay stream, in file order: an event to deliver, or a line that could not become one. */
export type ReplayItem =
  /** `line`: the 1-based line the event came from, when it came from one line (NDJSON). */
  { kind: 'event'; delivery: Delivery; line?: number } | { kind: 'rejected'; reason: string; line: number };

export type ReplayFormat = 'ndjson' | 'online-retail';
