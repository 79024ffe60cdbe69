import {
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { S3ObjectStore } from '../../../shared/adapters/s3-object-store';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

describe('S3ObjectStore', () => {
  const store = () =>
    new S3ObjectStore({ client: new S3Client({ region: 'us-east-1' }), bucket: 'runs-bucket', prefix: 'recluster/' });

  test('puts under the prefix with a content type', async () => {
    s3.on(PutObjectCommand).resolves({});
    await store().put('reports/r1/report.json', '{}', 'application/json');
    expect(s3.commandCalls(PutObjectCommand)[0]!.args[0].input).toEqual({
      Bucket: 'runs-bucket',
      Key: 'recluster/reports/r1/report.json',
      Body: '{}',
      ContentType: 'application/json',
    });
  });

  test('gets the bytes back, and null for a missing key', async () => {
    s3.on(GetObjectCommand, { Key: 'recluster/a' }).resolves({
      Body: {
        transformToByteArray: async () => new Uint8Array([7, 8, 9]),
      } as unknown as GetObjectCommandOutput['Body'],
    });
    s3.on(GetObjectCommand, { Key: 'recluster/missing' }).rejects(new NoSuchKey({ message: 'no', $metadata: {} }));
    s3.on(GetObjectCommand, { Key: 'recluster/denied' }).rejects(
      Object.assign(new Error('denied'), { name: 'AccessDenied' }),
    );
    expect(Array.from((await store().get('a'))!)).toEqual([7, 8, 9]);
    expect(await store().get('missing')).toBeNull();
    await expect(store().get('denied')).rejects.toThrow('denied');
  });
});
