/**
 * Replay readers for `npm start -- --replay FILE`: NDJSON of inbound events (the `--record` format) or the UCI
 * Online Retail CSV. Both stream; neither validates details (the ingest path does).
 */
import { readNdjson } from './ndjson';
import { readOnlineRetail } from './online-retail';
import type { ReplayFormat, ReplayItem } from './types';

export type { Delivery, ReplayFormat, ReplayItem } from './types';
export { readNdjson, NDJSON_REJECTIONS } from './ndjson';
export {
  readOnlineRetail,
  onlineRetailCategory,
  ONLINE_RETAIL_REJECTIONS,
  type OnlineRetailRejection,
  type OnlineRetailOptions,
} from './online-retail';
export { londonToUtc, parseLondonTimestamp } from './london-time';
export { parseCsvRecord } from './csv';
export { readLines } from './lines';

/** `explicit` wins; else `.ndjson`, `.jsonl` (optionally `.gz`) → ndjson and `.csv` (optionally `.gz`) → online-retail. */
export function detectFormat(path: string, explicit?: ReplayFormat): ReplayFormat {
  if (explicit) return explicit;
  const name = path.toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.ndjson') || name.endsWith('.jsonl')) return 'ndjson';
  if (name.endsWith('.csv')) return 'online-retail';
  throw new Error(
    `cannot tell the replay format of ${path}: use .ndjson/.jsonl or .csv (optionally .gz), or name the format`,
  );
}

/** Streams a replay file in the detected (or given) format. */
export function readReplay(path: string, format?: ReplayFormat): AsyncGenerator<ReplayItem> {
  return detectFormat(path, format) === 'ndjson' ? readNdjson(path) : readOnlineRetail(path);
}
