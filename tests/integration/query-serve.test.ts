import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { exportAudience } from '../../cli/operate';
import { queryGet, regionOf } from '../../cli/query-client';
import { startLocalDynamo, type LocalDynamo } from '../../local/dynamodb';
import { startLocalQueryServer, type LocalQueryServer } from '../../local/query-server';
import { customerResponseSchema, problemSchema } from '../../shared/contracts/query';
import { noLogs, noMetrics } from '../../shared/ports/telemetry';
import { queryAdapters } from '../../shared/runtime/wiring';
import { NOW, seedQueryWorld } from '../support/query-fixture';
import { testSettings } from '../support/settings';

const ROOT = resolve(__dirname, '..', '..');
const settings = testSettings();
let dynamo: LocalDynamo;
let server: LocalQueryServer;

beforeAll(async () => {
  dynamo = await startLocalDynamo({ tableName: 'query-serve-test' });
  await seedQueryWorld(dynamo.client, dynamo.tableName, settings, 5);
  const stores = queryAdapters(dynamo.client, dynamo.tableName, settings);
  server = await startLocalQueryServer({ ...stores, settings, clock: () => NOW, metrics: noMetrics, log: noLogs });
});
afterAll(async () => {
  await server.close();
  await dynamo.close();
});

describe('the query API served locally over real HTTP (npm start -- --serve)', () => {
  test('GET /customers/{id} answers the same JSON as the Lambda', async () => {
    const res = await fetch(`${server.url}/customers/big`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = customerResponseSchema.parse(await res.json());
    expect(body.segment?.segmentId).toBe('seg-001');
    expect(body.why[0]?.feature).toBe('revenue');
  });

  test('an erased customer is a 404 problem+json', async () => {
    const res = await fetch(`${server.url}/customers/erased`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(problemSchema.parse(await res.json()).title).toBe('Unknown customer');
  });

  test('a percent-encoded id reaches the handler decoded (404 for an id that does not exist, not a 400 or a crash)', async () => {
    const res = await fetch(`${server.url}/customers/${encodeURIComponent('a/b c')}`);
    expect(res.status).toBe(404);
  });

  test('a bad query parameter is a 400 naming it', async () => {
    const res = await fetch(`${server.url}/segments/seg-001/members?limit=abc`);
    expect(res.status).toBe(400);
    expect(problemSchema.parse(await res.json()).invalidParams).toEqual([
      { name: 'limit', reason: expect.any(String) },
    ]);
  });
});

/** Runs the CLI without blocking this process (the server answering it lives here). */
async function shoal(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(resolve(ROOT, 'bin', 'shoal.js'), args, { cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  return { code, stdout, stderr };
}

describe('shoal audience and shoal customer against a local --serve endpoint', () => {
  test('audience --format csv: one header, then every member once, with traits', async () => {
    let out = '';
    const n = await exportAudience(server.url, 'seg-001', 'csv', (t) => (out += t));
    const lines = out.trimEnd().split('\n');
    expect(n).toBe(6);
    expect(lines[0]).toBe('customerId,confidence,lifecycleStage,pAlive,churnRisk,clv,rfmGroup');
    expect(
      lines
        .slice(1)
        .map((l) => l.split(',')[0])
        .sort(),
    ).toEqual(['big', 'c-0', 'c-1', 'c-2', 'c-3', 'c-4']);
    expect(lines[1]!.split(',')[2]).toMatch(/^(new|active|at_risk|lapsed|reactivated)$/);
  });

  test('audience --format ndjson: one member object per line', async () => {
    let out = '';
    await exportAudience(server.url, 'seg-001', 'ndjson', (t) => (out += t));
    const members = out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { customerId: string; pAlive: number });
    expect(members.map((m) => m.customerId).sort()).toEqual(['big', 'c-0', 'c-1', 'c-2', 'c-3', 'c-4']);
    for (const m of members) expect(m.pAlive).toBeGreaterThan(0);
  });

  test('npx shoal customer --id big --endpoint URL prints the customer', async () => {
    const res = await shoal(['customer', '--id', 'big', '--endpoint', server.url]);
    expect(res.code).toBe(0);
    expect(customerResponseSchema.parse(JSON.parse(res.stdout)).customerId).toBe('big');
  });

  test('npx shoal customer for an unknown id: one line with the problem, exit 1', async () => {
    const child = spawn(resolve(ROOT, 'bin', 'shoal.js'), ['customer', '--id', 'nobody', '--endpoint', server.url], {
      cwd: ROOT,
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(1);
    expect(stderr.trim()).toBe('404 Unknown customer: no customer with this id');
  });

  test('loopback endpoints are not signed; a deployed API takes its region from its host name', async () => {
    expect((await queryGet(server.url, '/models/active')).status).toBe(200);
    expect(regionOf(new URL('https://abc123.execute-api.eu-west-2.amazonaws.com'))).toBe('eu-west-2');
  });
});
