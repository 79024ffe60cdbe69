import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../contracts/table';
import type { ModelStore } from '../../ports/stores';
import type { SegmentationModel } from '../../segmentation/model';
import { PK, SK, isConditionFailure } from './client';

export class DynamoModelStore implements ModelStore {
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
      new GetCommand({ TableName: this.tableName, Key: { [PK]: keys.modelPk, [SK]: keys.modelVersion(version) } }),
    );
    return res.Item ? (JSON.parse(res.Item.model as string) as SegmentationModel) : null;
  }

  async putVersion(model: SegmentationModel): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            [PK]: keys.modelPk,
            [SK]: keys.modelVersion(model.version),
            version: model.version,
            runId: model.runId,
            model: JSON.stringify(model),
          },
          // A rerun of the same run may rewrite its own version; another run's version is never replaced.
          ConditionExpression: 'attribute_not_exists(#pk) OR runId = :run',
          ExpressionAttributeNames: { '#pk': PK },
          ExpressionAttributeValues: { ':run': model.runId },
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
}
