import type { CampaignAggregate } from '../catalogue/tallies';
import { decodeVector, encodeVector } from '../customer/item';
import type { ObjectStore } from '../ports/stores';
import type { ScanRow } from './rows';

/** Object keys of a run. Everything a run writes lives under its runId, so a rerun overwrites its own objects only. */
export const runObjectKeys = {
  /** A shard's reservoir sample (JSON, ShardSampleFile): ScanShard writes it, FitModel reads every shard's. */
  sample: (runId: string, shard: number) => `runs/${runId}/shards/${shard}.json`,
  /** The fitted model with its gate result and fit diagnostics, published or not. */
  model: (runId: string) => `runs/${runId}/model.json`,
  reportJson: (runId: string) => `reports/${runId}/report.json`,
  reportHtml: (runId: string) => `reports/${runId}/report.html`,
} as const;

/**
 * Version 2 stores each row's behaviour and interest vectors as `encodeVector` strings (exact float64s): formatting
 * and parsing 80 floats a row was half the time of writing and reading a sample. Version 1 (plain arrays) is read too.
 */
export const SAMPLE_FORMAT = 'shoal-shard-sample/2';
const SAMPLE_FORMAT_V1 = 'shoal-shard-sample/1';

export interface ShardSampleFile {
  format: typeof SAMPLE_FORMAT;
  runId: string;
  shard: number;
  totalShards: number;
  asOf: string;
  /** Customers in the shard; `rows` is a uniform sample of them. */
  population: number;
  rows: ScanRow[];
  /** Campaign responses of every customer of the shard (not only the sample), by segment delivered to. */
  campaigns?: CampaignAggregate;
  /** The earliest purchase day (local day number) of any customer of the shard: how much history the store has. */
  firstPurchaseDay?: number | null;
}

export async function putJson(store: ObjectStore, key: string, value: unknown): Promise<void> {
  await store.put(key, JSON.stringify(value), 'application/json');
}

export async function getJson<T>(store: ObjectStore, key: string): Promise<T | null> {
  const bytes = await store.get(key);
  return bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as T) : null;
}

/** Writes a shard's sample (SAMPLE_FORMAT: the rows' vectors encoded, see `encodeVector`). */
export async function writeShardSample(store: ObjectStore, key: string, file: ShardSampleFile): Promise<void> {
  await putJson(store, key, {
    ...file,
    format: SAMPLE_FORMAT,
    rows: file.rows.map((r) => ({ ...r, behaviour: encodeVector(r.behaviour), interest: encodeVector(r.interest) })),
  });
}

/** Reads a shard's sample, of this format or the previous one. Throws when it is missing or not a sample. */
export async function readShardSample(store: ObjectStore, key: string): Promise<ShardSampleFile> {
  const file = await getJson<ShardSampleFile>(store, key);
  if (!file) throw new Error(`shard sample ${key} is missing`);
  const format: string = file.format;
  if (
    (format !== SAMPLE_FORMAT && format !== SAMPLE_FORMAT_V1) ||
    !Array.isArray(file.rows) ||
    !Number.isInteger(file.population)
  ) {
    throw new Error(`shard sample ${key} is not a ${SAMPLE_FORMAT} file`);
  }
  if (format === SAMPLE_FORMAT_V1) return { ...file, format: SAMPLE_FORMAT };
  for (const r of file.rows as unknown as { behaviour: number[] | string; interest: number[] | string | null }[]) {
    r.behaviour = decodeVector(r.behaviour as string) ?? [];
    r.interest = decodeVector(r.interest as string | null);
  }
  return file;
}
