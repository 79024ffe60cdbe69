import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { queryGet } from '../../cli/query-client';

/**
 * A stand-in for a deployed API: listens on 127.0.0.2 (a loopback address the client does not treat as local, so it
 * signs) and records the request headers.
 */
let server: Server;
let seen: IncomingHttpHeaders | null = null;
let url = '';
const saved = { ...process.env };

beforeAll(async () => {
  server = createServer((req, res) => {
    seen = req.headers;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.2', r));
  url = `http://127.0.0.2:${(server.address() as AddressInfo).port}`;
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    AWS_REGION: 'eu-west-1',
  });
  delete process.env.AWS_PROFILE;
});
afterAll(async () => {
  process.env = saved;
  await new Promise<void>((r) => server.close(() => r()));
});

describe('the CLI signs requests to a deployed query API with SigV4 (execute-api)', () => {
  test('Authorization names the credential chain’s key, the region and execute-api, and signs host and x-amz-date', async () => {
    const answer = await queryGet(url, '/segments/seg-001/members', { limit: '10', format: 'csv' });
    expect(answer.status).toBe(200);
    const auth = String(seen?.authorization);
    expect(auth).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*x-amz-date[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
    );
    expect(seen?.['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);

    // The signature verifies: the same request signed at the same instant with the same key gives the same header.
    const amzDate = String(seen!['x-amz-date']);
    const at = new Date(
      `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
    );
    const signer = new SignatureV4({
      service: 'execute-api',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
      sha256: Hash.bind(null, 'sha256'),
    });
    const u = new URL(url);
    const expected = await signer.sign(
      new HttpRequest({
        method: 'GET',
        protocol: 'http:',
        hostname: u.hostname,
        port: Number(u.port),
        path: '/segments/seg-001/members',
        query: { limit: '10', format: 'csv' },
        headers: { accept: String(seen!.accept), host: u.host },
      }),
      { signingDate: at },
    );
    expect(auth).toBe(expected.headers.authorization);
  });
});
