import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { keys } from '../../contracts/table';
import type { ModelStore } from '../../ports/stores';
import type { SegmentationModel } from '../../segmentation/model';
import { mapLimit } from '../../util/concurrency';
import { PK, SK, isConditionFailure, queryAll } from './client';

/**
 * Storage of model versions in the table, at every size the settings allow (embedding dimension up to 4,096, kMax up
 * to 64: 64 × 4,116 centroid coordinates, ~5 MB of JSON).
 *
 *   MODEL / V#<n>            header: version, runId, sha256 and byte length of the gzipped JSON, part count; holds the
 *                            gzipped model inline (`modelGz`) when it fits in one item
 *   MODEL / V#<n>#P#<iiii>   part i of the gzipped JSON (at most PART_BYTES each), written before the header
 *
 * DynamoDB items are at most 400 KB, so a model is gzipped (the JSON of random-looking doubles shrinks to ~45 %) and
 * split into parts of 300,000 bytes: the bound model takes ~8 parts. Every write is conditional on the runId, so a
 * rerun of a run rewrites its own version and another run's version is never touched (parts included). A reader
 * checks the SHA-256 of the reassembled bytes.
 *
 * The real-time path re-reads ACTIVE every minute (ModelCache): decoded versions are memoised by their header's
 * SHA-256, so a refresh costs the pointer and the header (two small GetItems), never the parts again.
 */
export const MODEL_STORAGE = {
  /** Bytes of gzipped model kept inline in the header item. */
  inlineMaxBytes: 300_000,
  /** Bytes of gzipped model per part item (under the 400 KB item limit with keys and attributes). */
  partBytes: 300_000,
} as const;

const headerSchema = z.object({
  version: z.number().int(),
  runId: z.string(),
  /** Items written before the gzip layout: the model as a JSON string. */
  model: z.string().optional(),
  modelGz: z.instanceof(Uint8Array).optional(),
  parts: z.number().int().nonnegative().optional(),
  sha256: z.string().optional(),
  bytes: z.number().int().nonnegative().optional(),
});
const partSchema = z.object({ [SK]: z.string(), data: z.instanceof(Uint8Array) });

export function partKey(version: number, index: number): string {
  return `${keys.modelVersion(version)}#P#${String(index).padStart(4, '0')}`;
}

export class DynamoModelStore implements ModelStore {
  /** Decoded versions by version number, with the SHA-256 they were decoded from (versions are few and immutable). */
  private readonly decoded = new Map<number, { sha256: string; model: SegmentationModel }>();

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async getActive(): Promise<SegmentationModel | null> {
    const res = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { [PK]: keys.modelPk, [SK]: keys.activeModel },
        ConsistentRead: true,
      }),
    );
    const version = res.Item?.version as number | undefined;
    return version === undefined ? null : this.getVersion(version);
  }

  async getVersion(version: number): Promise<SegmentationModel | null> {
    const res = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { [PK]: keys.modelPk, [SK]: keys.modelVersion(version) },
        ConsistentRead: true,
      }),
    );
    if (!res.Item) return null;
    const header = headerSchema.parse(res.Item);
    if (header.model !== undefined) return JSON.parse(header.model) as SegmentationModel;
    if (header.sha256 === undefined) throw new Error(`model version ${version}: header without a digest`);
    const memo = this.decoded.get(version);
    if (memo && memo.sha256 === header.sha256) return memo.model;

    let gz: Uint8Array;
    if (header.modelGz) gz = header.modelGz;
    else gz = await this.readParts(version, header.parts ?? 0);
    if (sha256(gz) !== header.sha256 || (header.bytes !== undefined && gz.byteLength !== header.bytes)) {
      throw new Error(`model version ${version}: parts do not match the header's digest`);
    }
    const model = JSON.parse(gunzipSync(gz).toString('utf8')) as SegmentationModel;
    this.decoded.set(version, { sha256: header.sha256, model });
    return model;
  }

  async putVersion(model: SegmentationModel): Promise<void> {
    const gz = gzipSync(Buffer.from(JSON.stringify(model), 'utf8'));
    const inline = gz.byteLength <= MODEL_STORAGE.inlineMaxBytes;
    const parts: Uint8Array[] = [];
    if (!inline) {
      for (let at = 0; at < gz.byteLength; at += MODEL_STORAGE.partBytes) {
        parts.push(gz.subarray(at, at + MODEL_STORAGE.partBytes));
      }
    }
    const owned = {
      // A rerun of the same run may rewrite its own version; another run's version is never replaced.
      ConditionExpression: 'attribute_not_exists(#pk) OR runId = :run',
      ExpressionAttributeNames: { '#pk': PK },
      ExpressionAttributeValues: { ':run': model.runId },
    };
    try {
      // Parts first, the header last: a reader never finds a header whose parts are not all there.
      await mapLimit(parts, 4, (data, i) =>
        this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              [PK]: keys.modelPk,
              [SK]: partKey(model.version, i),
              version: model.version,
              runId: model.runId,
              data,
            },
            ...owned,
          }),
        ),
      );
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            [PK]: keys.modelPk,
            [SK]: keys.modelVersion(model.version),
            version: model.version,
            runId: model.runId,
            encoding: 'json+gzip',
            sha256: sha256(gz),
            bytes: gz.byteLength,
            parts: parts.length,
            ...(inline ? { modelGz: new Uint8Array(gz) } : {}),
          },
          ...owned,
        }),
      );
    } catch (err) {
      if (isConditionFailure(err))
        throw new Error(`model version ${model.version} belongs to another run`, { cause: err });
      throw err;
    }
  }

  async activate(version: number, expected: number | null): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { [PK]: keys.modelPk, [SK]: keys.activeModel, version, activatedAt: new Date().toISOString() },
          ConditionExpression:
            expected === null ? 'attribute_not_exists(#pk) OR version = :v' : 'version = :e OR version = :v',
          ExpressionAttributeNames: expected === null ? { '#pk': PK } : undefined,
          ExpressionAttributeValues: expected === null ? { ':v': version } : { ':e': expected, ':v': version },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async latestVersionNumber(): Promise<number> {
    // Part items sort after their header and carry the same `version`, so the last V# item names the latest version.
    const res = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :v)',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
        ExpressionAttributeValues: { ':pk': keys.modelPk, ':v': 'V#' },
        ProjectionExpression: 'version',
        ScanIndexForward: false,
        Limit: 1,
      }),
    );
    return (res.Items?.[0]?.version as number | undefined) ?? 0;
  }

  private async readParts(version: number, count: number): Promise<Uint8Array> {
    const wanted = new Set(Array.from({ length: count }, (_, i) => partKey(version, i)));
    const found = new Map<string, Uint8Array>();
    for await (const item of queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
      ExpressionAttributeValues: { ':pk': keys.modelPk, ':prefix': `${keys.modelVersion(version)}#P#` },
      ConsistentRead: true,
    })) {
      const part = partSchema.parse(item);
      const key = part[SK] as string;
      // A rerun that wrote fewer parts leaves stale higher ones behind; the header's count says which belong.
      if (wanted.has(key)) found.set(key, part.data);
    }
    if (found.size !== count) throw new Error(`model version ${version}: ${found.size} of ${count} parts found`);
    return Buffer.concat([...wanted].map((k) => found.get(k)!));
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
