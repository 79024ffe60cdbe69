import type { Delivery } from '../simulator/types';

export type { Delivery };

/** One item of a replay stream, in file order: an event to deliver, or a line that could not become one. */
export type ReplayItem = { kind: 'event'; delivery: Delivery } | { kind: 'rejected'; reason: string; line: number };

export type ReplayFormat = 'ndjson' | 'online-retail';
