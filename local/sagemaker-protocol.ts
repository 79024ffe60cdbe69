/**
 * The transport both local SageMaker-runtime stand-ins share (the embedding server and the LLM server): an HTTP
 * server on 127.0.0.1 that buffers each request body up to SageMaker's payload limit (draining past it, so the client
 * sees the answer rather than a reset), waits the configured latency, then hands the body to the stand-in's router.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SAGEMAKER_MAX_PAYLOAD_BYTES } from '../shared/adapters/sagemaker-embedder';

export type SageMakerRoute = (req: IncomingMessage, res: ServerResponse, body: Buffer, tooLarge: boolean) => void;

export async function serveSageMakerProtocol(
  route: SageMakerRoute,
  opts: { port?: number; latencyMs: () => number },
): Promise<{ endpoint: string; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received <= SAGEMAKER_MAX_PAYLOAD_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      const respond = (): void => {
        if (!res.destroyed) route(req, res, Buffer.concat(chunks), received > SAGEMAKER_MAX_PAYLOAD_BYTES);
      };
      const latency = opts.latencyMs();
      if (latency > 0) setTimeout(respond, latency).unref();
      else respond();
    });
    req.on('error', () => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // The SDK keeps connections alive; without this, close() waits for their idle timeout.
        server.closeAllConnections();
      }),
  };
}

/** A successful InvokeEndpoint answer: the model's JSON bytes, with the headers SageMaker adds. */
export function sendInvocationResult(res: ServerResponse, payload: string): void {
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    'x-amzn-invoked-production-variant': 'AllTraffic',
    'x-amzn-requestid': randomUUID(),
  });
  res.end(payload);
}
