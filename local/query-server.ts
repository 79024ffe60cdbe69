/**
 * The query API on 127.0.0.1 (`npm start -- --serve`): plain node:http in front of the same Lambda handler
 * (functions/query/app.ts), translating each request to the HTTP API's payload-2.0 event and the result back. No
 * authorization (loopback only); a deployed stage has IAM.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { makeHandler, type QueryHandlerDeps } from '../functions/query/app';

export interface LocalQueryServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** The HTTP API event (payload format 2.0) for a request to the local server. */
export function toHttpApiEvent(
  method: string,
  rawUrl: string,
  headers: Record<string, string>,
): APIGatewayProxyEventV2 {
  const [rawPath = '/', rawQueryString = ''] = rawUrl.split(/\?(.*)/s, 2);
  const now = new Date();
  return {
    version: '2.0',
    routeKey: `${method} ${rawPath}`,
    rawPath,
    rawQueryString,
    headers,
    isBase64Encoded: false,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? '127.0.0.1',
      domainPrefix: 'local',
      http: {
        method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: `local-${now.getTime()}`,
      routeKey: `${method} ${rawPath}`,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
  };
}

export async function startLocalQueryServer(deps: QueryHandlerDeps, port = 0): Promise<LocalQueryServer> {
  const handler = makeHandler(deps);
  const server = createServer((req, res) => {
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]),
    );
    req.resume(); // GET only: drain any body
    handler(toHttpApiEvent(req.method ?? 'GET', req.url ?? '/', headers))
      .then((result) => {
        res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
        res.end(result.body ?? '');
      })
      .catch(() => {
        res.writeHead(500, { 'content-type': 'application/problem+json' });
        res.end(
          JSON.stringify({ type: 'urn:shoal:problem:internal', title: 'Internal error', status: 500, detail: '' }),
        );
      });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
