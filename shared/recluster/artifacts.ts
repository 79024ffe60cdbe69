import type { CampaignAggregate } from '../catalogue/tallies';
import { decodeVector, encodeVector } from '../customer/item';
import { BEHAVIOUR_FEATURES } from '../domain/vector';
import type { ObjectStore } from '../ports/stores';
import type { ScanRow } from './rows';

/** Object keys of a run. Everything a run writes lives under its runId, so a rerun overwrites its own objects only. */
export const runObjectKeys = {
  /** A shard's reservoir sample (JSON, ShardSampleFile): ScanShard writes it, FitModel reads every shard's. */
  sample: (runId: string, shard: number) => `runs/${runId}/shards/${shard}.json`,
  /** Every customer's vector inputs of a shard (binary, see encodeVectors), for reports and offline analysis. */
  vectors: (runId: string, shard: number) => `runs/${runId}/shards/${shard}.vectors.bin`,
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
export const VECTORS_FORMAT = 'shoal-vectors/1';

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

export interface VectorsHeader {
  format: typeof VECTORS_FORMAT;
  runId: string;
  shard: number;
  asOf: string;
  count: number;
  /** Raw behaviour features (behaviourRow, before the scaler), then the interest vector. */
  features: string[];
  interestDim: number;
  customerIds: string[];
  /** Row indices of customers without an interest vector (their interest block is zeros). */
  withoutInterest: number[];
}

export interface VectorRows {
  header: VectorsHeader;
  /** count × (features.length + interestDim), row-major. */
  values: Float32Array;
}

/**
 * Builds a shard's vector file incrementally: one JSON header line, then the rows as little-endian float32
 * (behaviour block, then interest block). ~1.6 kB per customer at 384 dimensions, a fifth of the JSON.
 */
export class VectorsBuilder {
  private values: Float32Array;
  private count = 0;
  private readonly ids: string[] = [];
  private readonly withoutInterest: number[] = [];
  private readonly width: number;

  constructor(
    private readonly meta: { runId: string; shard: number; asOf: string; interestDim: number },
    initialRows = 256,
  ) {
    this.width = BEHAVIOUR_FEATURES.length + meta.interestDim;
    this.values = new Float32Array(this.width * Math.max(1, initialRows));
  }

  add(customerId: string, behaviour: readonly number[], interest: readonly number[] | null): void {
    if ((this.count + 1) * this.width > this.values.length) {
      const grown = new Float32Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    const base = this.count * this.width;
    for (let j = 0; j < BEHAVIOUR_FEATURES.length; j++) this.values[base + j] = behaviour[j] ?? Number.NaN;
    if (interest && interest.length === this.meta.interestDim) {
      for (let j = 0; j < interest.length; j++) this.values[base + BEHAVIOUR_FEATURES.length + j] = interest[j]!;
    } else {
      this.withoutInterest.push(this.count);
    }
    this.ids.push(customerId);
    this.count += 1;
  }

  get size(): number {
    return this.count;
  }

  build(): Uint8Array {
    const header: VectorsHeader = {
      format: VECTORS_FORMAT,
      ...this.meta,
      count: this.count,
      features: [...BEHAVIOUR_FEATURES],
      customerIds: this.ids,
      withoutInterest: this.withoutInterest,
    };
    const head = new TextEncoder().encode(`${JSON.stringify(header)}\n`);
    const body = new Uint8Array(this.count * this.width * 4);
    const view = new DataView(body.buffer);
    for (let i = 0; i < this.count * this.width; i++) view.setFloat32(i * 4, this.values[i]!, true);
    const out = new Uint8Array(head.length + body.length);
    out.set(head, 0);
    out.set(body, head.length);
    return out;
  }
}

export function decodeVectors(bytes: Uint8Array): VectorRows {
  const newline = bytes.indexOf(10);
  if (newline < 0) throw new Error('vectors file has no header');
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(0, newline))) as VectorsHeader;
  if (header.format !== VECTORS_FORMAT) throw new Error(`not a ${VECTORS_FORMAT} file`);
  const width = header.features.length + header.interestDim;
  const n = header.count * width;
  if (bytes.length - newline - 1 !== n * 4) throw new Error('vectors file is truncated');
  const view = new DataView(bytes.buffer, bytes.byteOffset + newline + 1, n * 4);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = view.getFloat32(i * 4, true);
  return { header, values };
}
