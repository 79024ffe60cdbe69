import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { settingsSchema } from '../../shared/config/settings';
import { DynamoModelStore, documentClient } from '../../shared/adapters/dynamo';
import { MODEL_STORAGE } from '../../shared/adapters/dynamo/model-store';
import { keys } from '../../shared/contracts/table';
import { BEHAVIOUR_FEATURES } from '../../shared/domain/vector';
import type { SegmentationModel } from '../../shared/segmentation/model';
import { createRng } from '../../shared/util/rng';
import { startLocalDynamo, type LocalDynamo } from '../../local/dynamodb';
import { makeEvent } from '../support/factories';
import { modelFromPrototypes } from '../support/model';
import { testSettings } from '../support/settings';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startLocalDynamo({ tableName: 'model-store-test' });
});
afterAll(async () => dynamo.close());

const now = new Date('2026-11-10T12:00:00Z');

/** The largest dimension and k the settings schema allows, read from the schema itself. */
function schemaBounds(): { dimension: number; kMax: number } {
  const embedding = settingsSchema.shape.embedding.shape.dimension;
  const recluster = settingsSchema.shape.recluster.shape.kMax;
  return { dimension: embedding.maxValue!, kMax: recluster.maxValue! };
}

/** A model of `k` segments at embedding dimension `dimension`, with full-precision centroids and a profile each. */
function modelOfSize(dimension: number, k: number, version: number, runId = `run-${version}`): SegmentationModel {
  const settings = testSettings();
  const base = modelFromPrototypes(
    [{ segmentId: 'seg-001', name: 'Seed', events: [makeEvent('search.performed', { customerId: 'p' })] }],
    { ...settings, embedding: { ...settings.embedding, dimension } },
    now,
    version,
  );
  const rng = createRng(version);
  const dim = BEHAVIOUR_FEATURES.length + dimension;
  const ids = Array.from({ length: k }, (_, i) => `seg-${String(i + 1).padStart(3, '0')}`);
  return {
    ...base,
    runId,
    k,
    dim,
    centroids: Array.from({ length: k * dim }, () => rng.normal()),
    segmentIds: ids,
    names: ids.map((id) => `Segment ${id}`),
    nextSegmentNumber: k + 1,
  };
}

describe('model storage at the sizes the settings allow', () => {
  const bounds = schemaBounds();
  const cases = [
    { name: 'the default dev model (dimension 64, k = 10): one item', dimension: 64, k: 10, parts: 0 },
    { name: "the issue's model (dimension 3,072, k = 10: over 400 KB as JSON)", dimension: 3072, k: 10, parts: 0 },
    { name: 'k = 40 at dimension 384 (near 400 KB as JSON)', dimension: 384, k: 40, parts: 0 },
    { name: 'the schema bounds (dimension 4,096 × kMax 64)', dimension: bounds.dimension, k: bounds.kMax, parts: 8 },
  ];

  it('reads the bounds from the schema (4,096 and 64)', () => {
    expect(bounds).toEqual({ dimension: 4096, kMax: 64 });
  });

  it.each(cases.map((c, i) => ({ ...c, version: i + 1 })))('$name round-trips exactly', async (c) => {
    const store = new DynamoModelStore(documentClient(dynamo.client), dynamo.tableName);
    const model = modelOfSize(c.dimension, c.k, c.version);
    const json = JSON.stringify(model).length;

    await store.putVersion(model);
    await store.activate(c.version, c.version === 1 ? null : c.version - 1);
    // A fresh store (a cold start) reads it from the table.
    const fresh = new DynamoModelStore(documentClient(dynamo.client), dynamo.tableName);
    const active = await fresh.getActive();

    expect(json).toBeGreaterThan(c.dimension * c.k * 10);
    if (c.dimension === 3072) expect(json).toBeGreaterThan(400 * 1024); // the size that failed before
    expect(active).toEqual(model);
    expect(await fresh.latestVersionNumber()).toBe(c.version);
    const header = await documentClient(dynamo.client).send(
      new GetCommand({
        TableName: dynamo.tableName,
        Key: { pk: keys.modelPk, sk: keys.modelVersion(c.version) },
      }),
    );
    expect(header.Item?.parts).toBe(c.parts);
    process.stdout.write(`${c.name}: JSON ${json} B, gzip ${header.Item?.bytes} B, parts ${header.Item?.parts}\n`);
  });

  it("refuses to overwrite another run's version, parts included", async () => {
    const store = new DynamoModelStore(documentClient(dynamo.client), dynamo.tableName);
    const mine = modelOfSize(3072, 10, 50, 'run-a');
    await store.putVersion(mine);

    await expect(store.putVersion(modelOfSize(3072, 10, 50, 'run-b'))).rejects.toThrow('belongs to another run');
    await store.putVersion(mine); // a rerun of the same run converges

    expect(await new DynamoModelStore(documentClient(dynamo.client), dynamo.tableName).getVersion(50)).toEqual(mine);
  });

  it('a refresh of an unchanged active model reads two small items, not the parts', async () => {
    const client = new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const calls: string[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        calls.push(context.commandName as string);
        return next(args);
      },
      { step: 'initialize' },
    );
    const doc = documentClient(client);
    await doc.send(
      new PutCommand({ TableName: dynamo.tableName, Item: { pk: keys.modelPk, sk: keys.activeModel, version: 4 } }),
    );
    const store = new DynamoModelStore(doc, dynamo.tableName);
    calls.length = 0;

    await store.getActive(); // the bound model: pointer, header, then its parts (2.4 MB: Query pages of 1 MB)
    const first = calls.splice(0);
    await store.getActive();

    expect(first.slice(0, 2)).toEqual(['GetItemCommand', 'GetItemCommand']);
    expect(first.slice(2).every((c) => c === 'QueryCommand') && first.length > 2).toBe(true);
    expect(calls).toEqual(['GetItemCommand', 'GetItemCommand']);
    client.destroy();
  });

  it('reads a model stored by the previous layout (a JSON string attribute)', async () => {
    const legacy = modelOfSize(8, 3, 60);
    await documentClient(dynamo.client).send(
      new PutCommand({
        TableName: dynamo.tableName,
        Item: {
          pk: keys.modelPk,
          sk: keys.modelVersion(60),
          version: 60,
          runId: legacy.runId,
          model: JSON.stringify(legacy),
        },
      }),
    );
    const store = new DynamoModelStore(documentClient(dynamo.client), dynamo.tableName);
    expect(await store.getVersion(60)).toEqual(legacy);
    expect(MODEL_STORAGE.partBytes).toBeLessThan(400 * 1024);
  });
});
