/**
 * A client of the query API for the CLI: plain fetch to a local `--serve` endpoint (loopback, unsigned), or SigV4
 * (service execute-api) signed requests to a deployed stage, with the standard AWS credential chain (environment,
 * profile, SSO, instance role). The region comes from the API's host name (`….execute-api.<region>.amazonaws.com`),
 * else AWS_REGION.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

export interface QueryAnswer {
  status: number;
  contentType: string;
  headers: Headers;
  body: string;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function isLoopback(endpoint: URL): boolean {
  return LOOPBACK.has(endpoint.hostname);
}

export function regionOf(endpoint: URL): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(endpoint.hostname)?.[1] ?? process.env.AWS_REGION;
}

/** GET `path` (already percent-encoded) with `query` from the API at `endpoint`. */
export async function queryGet(
  endpoint: string,
  path: string,
  query: Record<string, string> = {},
): Promise<QueryAnswer> {
  const base = new URL(endpoint);
  const url = new URL(base.pathname.replace(/\/$/, '') + path, base);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  let headers: Record<string, string> = { accept: 'application/json, text/csv, application/problem+json' };
  if (!isLoopback(base)) {
    const region = regionOf(base);
    if (!region) throw new Error('cannot tell the region of the API: set AWS_REGION');
    const signer = new SignatureV4({
      service: 'execute-api',
      region,
      credentials: defaultProvider(),
      sha256: Hash.bind(null, 'sha256'),
    });
    const signed = await signer.sign(
      new HttpRequest({
        method: 'GET',
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port ? Number(url.port) : undefined,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: { ...headers, host: url.host },
      }),
    );
    headers = signed.headers;
  }
  const res = await fetch(url, { headers });
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    headers: res.headers,
    body: await res.text(),
  };
}

/** The one line to print for a non-200 answer: the problem's title and detail when it is problem+json. */
export function problemLine(answer: QueryAnswer): string {
  try {
    const p = JSON.parse(answer.body) as { title?: string; detail?: string; status?: number };
    return `${answer.status} ${p.title ?? ''}: ${p.detail ?? ''}`.trim();
  } catch {
    return `${answer.status} ${answer.body.slice(0, 200)}`;
  }
}
