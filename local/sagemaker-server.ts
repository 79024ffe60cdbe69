import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendInvocationResult, serveSageMakerProtocol } from './sagemaker-protocol';
import { SAGEMAKER_MAX_PAYLOAD_BYTES, type EmbeddingContract } from '../shared/adapters/sagemaker-embedder';
import { encodeText } from '../shared/embedding/hashing-encoder';

/**
 * A local stand-in for a SageMaker real-time embedding endpoint. It speaks the runtime protocol
 * (`POST /endpoints/{name}/invocations`, raw body in, raw body out, errors as `x-amzn-errortype` + JSON), so the
 * production `SageMakerEmbedder` runs unchanged against it, and it embeds with the deterministic `encodeText`.
 */

/** An injected failure: the next `times` invocations (all of them when omitted) answer with this error. */
export interface LocalFailureMode {
  /** HTTP status, e.g. 424 for `ModelError` (what SageMaker uses), 400 for `ThrottlingException`, 503. */
  status: number;
  /** Sent as `x-amzn-errortype`; the SDK raises the error class of that name (`ModelError`, `ServiceUnavailable`...). */
  errorType: string;
  times?: number;
  /** For `ModelError`: the status the "container" returned. Default: 400 when `status` is 424, else `status`. */
  originalStatusCode?: number;
  message?: string;
}

export interface LocalEmbeddingServerOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  dimension: number;
  /**
   * Forces the response shape. When omitted the response mirrors the request: `{"inputs"}` gets the TEI answer
   * `[[...]]`, `{"text_inputs"}` the JumpStart answer `{"embedding": [[...]]}`. Both request shapes are accepted.
   */
  contract?: EmbeddingContract;
  failMode?: LocalFailureMode | null;
  /**
   * The model's input limit, in Unicode code points (this stand-in's "tokens": one per code point, which is what a
   * WordPiece vocabulary gives CJK text). A longer input is refused like text-embeddings-inference refuses one past
   * its token limit: the container answers 413 "Input validation error", relayed as a `ModelError` — unless the
   * request carries `"truncate": true` (TEI's flag), in which case it is cut to the limit. Default: no limit.
   */
  maxInputChars?: number;
}

export interface LocalEmbeddingServerStats {
  /** Invocation requests received, failed ones included. */
  invocations: number;
  /** Texts embedded by successful invocations. */
  texts: number;
  /** Invocations answered with an error (injected or caused by the request). */
  failures: number;
}

export interface LocalEmbeddingServer {
  /** `http://127.0.0.1:PORT`, for `new SageMakerRuntimeClient({ endpoint })`. */
  readonly endpoint: string;
  readonly port: number;
  readonly stats: LocalEmbeddingServerStats;
  close(): Promise<void>;
  setFailure(mode: LocalFailureMode | null): void;
  /** Delays every answer (errors included) by this many milliseconds; 0 turns it off. */
  setLatency(ms: number): void;
}

const INVOCATIONS_PATH = /^\/endpoints\/([^/]+)\/invocations\/?$/;

interface ParsedRequest {
  texts: string[];
  shape: EmbeddingContract;
  truncate: boolean;
}

/** The first `max` code points of `text`. */
function firstCodePoints(text: string, max: number): string {
  let out = '';
  let n = 0;
  for (const ch of text) {
    if (n++ >= max) break;
    out += ch;
  }
  return out;
}

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

export async function startLocalEmbeddingServer(options: LocalEmbeddingServerOptions): Promise<LocalEmbeddingServer> {
  const { dimension } = options;
  if (!Number.isInteger(dimension) || dimension < 1) throw new RangeError(`dimension must be >= 1, got ${dimension}`);

  const stats: LocalEmbeddingServerStats = { invocations: 0, texts: 0, failures: 0 };
  let failure: LocalFailureMode | null = null;
  let remainingFailures: number | undefined;
  const armFailure = (mode: LocalFailureMode | null | undefined): void => {
    failure = mode !== null && mode !== undefined && (mode.times === undefined || mode.times > 0) ? mode : null;
    remainingFailures = failure?.times;
  };
  armFailure(options.failMode);
  let latencyMs = 0;

  const sendError = (res: ServerResponse, status: number, errorType: string, body: Record<string, unknown>): void => {
    stats.failures++;
    const payload = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
      'x-amzn-errortype': errorType,
      'x-amzn-requestid': randomUUID(),
    });
    res.end(payload);
  };

  const sendModelError = (res: ServerResponse, originalStatus: number, originalMessage: string): void => {
    const kind = originalStatus >= 500 ? 'server' : 'client';
    sendError(res, 424, 'ModelError', {
      message: `Received ${kind} error (${originalStatus}) from primary with message "${originalMessage}".`,
      ErrorCode: kind === 'server' ? 'SERVER_ERROR_FROM_MODEL' : 'CLIENT_ERROR_FROM_MODEL',
      OriginalStatusCode: originalStatus,
      OriginalMessage: originalMessage,
    });
  };

  /** Takes one injected failure, if any is armed. */
  const takeFailure = (): LocalFailureMode | null => {
    if (failure === null) return null;
    const current = failure;
    if (remainingFailures !== undefined) {
      remainingFailures--;
      if (remainingFailures <= 0) {
        failure = null;
        remainingFailures = undefined;
      }
    }
    return current;
  };

  const handleInvocation = (res: ServerResponse, body: Buffer, oversize: boolean): void => {
    stats.invocations++;
    if (oversize) {
      sendError(res, 413, 'ValidationError', {
        message: `HTTP content length exceeded ${SAGEMAKER_MAX_PAYLOAD_BYTES} bytes.`,
      });
      return;
    }
    const injected = takeFailure();
    if (injected !== null) {
      const message = injected.message ?? `Injected ${injected.errorType}`;
      if (injected.errorType === 'ModelError') {
        const original = injected.originalStatusCode ?? (injected.status === 424 ? 400 : injected.status);
        const kind = original >= 500 ? 'server' : 'client';
        sendError(res, injected.status, 'ModelError', {
          message: `Received ${kind} error (${original}) from primary with message "${message}".`,
          OriginalStatusCode: original,
          OriginalMessage: message,
        });
      } else {
        sendError(res, injected.status, injected.errorType, { message });
      }
      return;
    }

    const parsed = parseRequest(body);
    if (typeof parsed === 'string') {
      // SageMaker relays the container's rejection as a ModelError; TEI answers 422 to a malformed body.
      sendModelError(res, 422, parsed);
      return;
    }

    const limit = options.maxInputChars;
    let texts = parsed.texts;
    if (limit !== undefined) {
      if (parsed.truncate) {
        texts = texts.map((text) => firstCodePoints(text, limit));
      } else {
        const longest = Math.max(...texts.map(codePoints));
        if (longest > limit) {
          // TEI's wording and status for an input past max_input_length (the text itself is not echoed).
          sendModelError(
            res,
            413,
            `Input validation error: \`inputs\` must have less than ${limit} tokens. Given: ${longest}`,
          );
          return;
        }
      }
    }
    const vectors = texts.map((text) => Array.from(encodeText(text, dimension)));
    const shape = options.contract ?? parsed.shape;
    const payload = JSON.stringify(shape === 'tei' ? vectors : { embedding: vectors });
    stats.texts += parsed.texts.length;
    sendInvocationResult(res, payload);
  };

  const route = (req: IncomingMessage, res: ServerResponse, body: Buffer, oversize: boolean): void => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && path === '/ping') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
      return;
    }
    if (req.method === 'POST' && INVOCATIONS_PATH.test(path)) {
      handleInvocation(res, body, oversize);
      return;
    }
    sendError(res, 404, 'UnknownOperationException', { message: `No operation for ${req.method} ${path}` });
  };

  const listening = await serveSageMakerProtocol(route, { port: options.port, latencyMs: () => latencyMs });
  const { port } = listening;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stats,
    setFailure: armFailure,
    setLatency(ms) {
      latencyMs = Math.max(0, ms);
    },
    close: () => listening.close(),
  };
}

/** Accepts both request shapes; returns an error message for anything else. */
function parseRequest(body: Buffer): ParsedRequest | string {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return 'request body is not valid JSON';
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'request body must be a JSON object';
  const record = json as Record<string, unknown>;
  const [shape, value]: [EmbeddingContract, unknown] =
    'inputs' in record ? ['tei', record['inputs']] : ['jumpstart', record['text_inputs']];
  const truncate = shape === 'tei' && record['truncate'] === true;
  if (typeof value === 'string') return { texts: [value], shape, truncate };
  if (Array.isArray(value) && value.every((v): v is string => typeof v === 'string')) {
    if (value.length === 0) return `${shape === 'tei' ? 'inputs' : 'text_inputs'} cannot be empty`;
    return { texts: value, shape, truncate };
  }
  return 'expected "inputs" (TEI) or "text_inputs" (JumpStart): a string or an array of strings';
}
