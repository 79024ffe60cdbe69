/**
 * Reads the NDJSON replay format written by `local/simulator/ndjson.ts` (`--record FILE`): one
 * `{"detail-type": …, "detail": …}` object per line. Validation of the detail itself is left to the ingest path.
 */
import { readLines } from './lines';
import type { ReplayItem } from './types';

export const NDJSON_REJECTIONS = ['invalid_json', 'not_an_event'] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function timeOf(value: unknown): Date | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms) : undefined;
}

/**
 * Streams `path` (gzip when it ends in `.gz`) line by line. Blank lines are skipped; `line` numbers are 1-based
 * physical lines.
 *
 * Arrival time: the line's EventBridge `time` when present and parseable (written by `writeNdjson` with
 * `arrivalTime: true`), else `detail.occurredAt` when parseable, else the previous item's arrival time (the Unix
 * epoch before the first one).
 */
export async function* readNdjson(path: string): AsyncGenerator<ReplayItem> {
  let line = 0;
  let previous = new Date(0);
  for await (const text of readLines(path)) {
    line++;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      yield { kind: 'rejected', reason: 'invalid_json', line };
      continue;
    }
    if (!isRecord(value) || typeof value['detail-type'] !== 'string' || !('detail' in value)) {
      yield { kind: 'rejected', reason: 'not_an_event', line };
      continue;
    }
    const detail = value.detail;
    const arrivalAt = timeOf(value.time) ?? timeOf(isRecord(detail) ? detail.occurredAt : undefined) ?? previous;
    previous = arrivalAt;
    yield { kind: 'event', delivery: { arrivalAt, detailType: value['detail-type'], detail }, line };
  }
}
