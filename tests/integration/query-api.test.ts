import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { makeHandler } from '../../functions/query/app';
import { startLocalDynamo, type LocalDynamo } from '../../local/dynamodb';
import {
  activeModelResponseSchema,
  customerResponseSchema,
  membersResponseSchema,
  problemSchema,
  recommendationsResponseSchema,
  segmentResponseSchema,
  segmentsResponseSchema,
} from '../../shared/contracts/query';
import { TallyMetrics, noLogs } from '../../shared/ports/telemetry';
import { queryAdapters } from '../../shared/runtime/wiring';
import { NOW, seedQueryWorld } from '../support/query-fixture';
import { testSettings } from '../support/settings';

const settings = testSettings();
let dynamo: LocalDynamo;
let handler: ReturnType<typeof makeHandler>;
const metrics = new TallyMetrics();

beforeAll(async () => {
  dynamo = await startLocalDynamo({ tableName: 'query-api-test' });
  await seedQueryWorld(dynamo.client, dynamo.tableName, settings, 5);
  const stores = queryAdapters(dynamo.client, dynamo.tableName, settings);
  handler = makeHandler({ ...stores, settings, clock: () => NOW, metrics, log: noLogs });
});
afterAll(async () => dynamo.close());

/** An HTTP API (payload 2.0) event as API Gateway sends it after IAM authorization. */
function event(rawPath: string, rawQueryString = '', method = 'GET'): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: `${method} ${rawPath}`,
    rawPath,
    rawQueryString,
    headers: {},
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example',
      domainPrefix: 'api',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'r',
      routeKey: `${method} ${rawPath}`,
      stage: '$default',
      time: '',
      timeEpoch: 0,
    },
  };
}

async function call(path: string, query = '') {
  const res = await handler(event(path, query));
  return { status: res.statusCode, type: res.headers?.['content-type'], body: res.body ?? '' };
}

describe('query API over the real DynamoDB adapters (dynalite)', () => {
  test('GET /customers/{id}: segment, probabilities, traits, history with reasons, and why in natural units', async () => {
    const res = await call('/customers/big');
    expect(res.status).toBe(200);
    const body = customerResponseSchema.parse(JSON.parse(res.body));
    expect(body.segment?.segmentId).toBe('seg-001');
    expect(body.segment?.name).toBe('Garden buyers');
    expect(body.probabilities[0]?.segmentId).toBe('seg-001');
    expect(body.traits?.lifecycleStage).toBe(body.lifecycleStage);
    expect(body.history.find((h) => h.detailType === 'segment.changed')).toMatchObject({
      to: 'seg-001',
      reason: 'event',
    });
    // 6 orders against a median of 2 and an IQR of 2 (1..3): 2 IQRs above, the most distinctive feature.
    const orders = body.why.find((w) => w.feature === 'orders');
    expect(orders).toEqual({
      feature: 'orders',
      unit: 'orders',
      customer: 6,
      segmentMedian: 2,
      difference: 4,
      iqrUnits: 2,
      direction: 'above',
    });
    // revenue 6 × 59.90 = 359.40 GBP against a median of 100 and an IQR of 80.
    const revenue = body.why.find((w) => w.feature === 'revenue')!;
    expect(revenue.unit).toBe('currency');
    expect(revenue.customer).toBeCloseTo(359.4, 6);
    expect(revenue.iqrUnits).toBeCloseTo((359.4 - 100) / 80, 6);
    expect(body.why[0]!.feature).toBe('revenue');
    expect(body.currency).toBe('GBP');
  });

  test.each([
    ['an unknown customer', '/customers/nobody'],
    ['an erased customer (tombstone)', '/customers/erased'],
    ['recommendations of an erased customer', '/customers/erased/recommendations'],
    ['an unknown segment', '/segments/seg-999'],
    ['an unknown route', '/customer/big'],
  ])('404 problem+json for %s', async (_name, path) => {
    const res = await call(path);
    expect(res.status).toBe(404);
    expect(res.type).toBe('application/problem+json');
    expect(problemSchema.parse(JSON.parse(res.body)).status).toBe(404);
  });

  test.each([
    ['limit 0', 'limit=0', 'limit'],
    ['limit not a number', 'limit=ten', 'limit'],
    ['limit over 1000', 'limit=1001', 'limit'],
    ['format xml', 'format=xml', 'format'],
    ['a cursor that is not ours', 'cursor=bm90LWEtY3Vyc29y', 'cursor'],
  ])('400 problem+json naming the parameter for %s', async (_name, query, param) => {
    const res = await call('/segments/seg-001/members', query);
    expect(res.status).toBe(400);
    const problem = problemSchema.parse(JSON.parse(res.body));
    expect(problem.type).toBe('urn:shoal:problem:bad-parameter');
    expect(problem.invalidParams?.map((p) => p.name)).toEqual([param]);
  });

  test('400 for a customer id over 128 characters', async () => {
    const res = await call(`/customers/${'x'.repeat(129)}`);
    expect(res.status).toBe(400);
  });

  test('GET /customers/{id}/recommendations: the segment picks the customer has not ordered (SKU-1 was ordered)', async () => {
    const body = recommendationsResponseSchema.parse(JSON.parse((await call('/customers/big/recommendations')).body));
    expect(body).toEqual({ customerId: 'big', segmentId: 'seg-001', modelVersion: 1, skus: ['SKU-9', 'SKU-2'] });
  });

  test('GET /segments and /segments/{id}: the active model catalogue', async () => {
    const list = segmentsResponseSchema.parse(JSON.parse((await call('/segments')).body));
    expect(list.segments.map((s) => [s.segmentId, s.name, s.size])).toEqual([
      ['seg-001', 'Garden buyers', 40],
      ['seg-002', 'Browsers', 10],
    ]);
    const one = segmentResponseSchema.parse(JSON.parse((await call('/segments/seg-001')).body));
    expect(one.catalogue?.narration.strategy.objective).toBe('grow');
    expect(one.profile?.features.orders?.p50).toBe(2);
  });

  test('GET /segments/{id}/members pages through every member exactly once, with traits', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await call('/segments/seg-001/members', `limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      const body = membersResponseSchema.parse(JSON.parse(res.body));
      for (const m of body.members) {
        seen.push(m.customerId);
        expect(m.lifecycleStage).not.toBeNull();
        expect(m.pAlive).not.toBeNull();
      }
      cursor = body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen.sort()).toEqual(['big', 'c-0', 'c-1', 'c-2', 'c-3', 'c-4']);
    expect(pages).toBeGreaterThanOrEqual(3);
  });

  test('GET /segments/{id}/members?format=csv: a header and one RFC 4180 line per member', async () => {
    const res = await call('/segments/seg-001/members', 'format=csv&limit=100');
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/csv; charset=utf-8');
    const lines = res.body.trimEnd().split('\r\n');
    expect(lines[0]).toBe('customerId,confidence,lifecycleStage,pAlive,churnRisk,clv,rfmGroup');
    expect(
      lines
        .slice(1)
        .map((l) => l.split(',')[0])
        .sort(),
    ).toEqual(['big', 'c-0', 'c-1', 'c-2', 'c-3', 'c-4']);
  });

  test('GET /models/active: version, k, quality and when it was published', async () => {
    const body = activeModelResponseSchema.parse(JSON.parse((await call('/models/active')).body));
    expect(body).toMatchObject({ modelVersion: 1, k: 2, publishedAt: NOW.toISOString() });
  });

  test('a non-GET method is 405', async () => {
    const res = await handler(event('/segments', '', 'POST'));
    expect(res.statusCode).toBe(405);
  });
});

describe('a store failure is a 500 problem, counted, logged without the customer id', () => {
  test('DynamoDB unreachable (nothing listens on the port)', async () => {
    const client = new DynamoDBClient({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    const tally = new TallyMetrics();
    const lines: string[] = [];
    const log = {
      info: (m: string, f?: Record<string, unknown>) => lines.push(JSON.stringify({ m, ...f })),
      warn: (m: string, f?: Record<string, unknown>) => lines.push(JSON.stringify({ m, ...f })),
      error: (m: string, f?: Record<string, unknown>) => lines.push(JSON.stringify({ m, ...f })),
    };
    const broken = makeHandler({
      ...queryAdapters(client, 'nowhere', settings),
      settings,
      clock: () => NOW,
      metrics: tally,
      log,
    });
    const res = await broken({ ...event('/customers/secret-customer-42'), routeKey: 'GET /customers/{id}' });
    client.destroy();
    expect(res.statusCode).toBe(500);
    expect(problemSchema.parse(JSON.parse(res.body!)).type).toBe('urn:shoal:problem:internal');
    expect(tally.counts.QueryErrors).toBe(1);
    expect(lines.join('\n')).not.toContain('secret-customer-42');
  });
});
