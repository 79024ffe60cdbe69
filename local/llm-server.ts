import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendInvocationResult, serveSageMakerProtocol } from './sagemaker-protocol';
import { ACTION_CHANNELS, OBJECTIVES, type Narration } from '../shared/contracts/catalogue';
import type { LocalFailureMode } from './sagemaker-server';

/**
 * A local stand-in for a SageMaker-hosted LLM that narrates segments. It speaks the runtime protocol
 * (`POST /endpoints/{name}/invocations`, errors as `x-amzn-errortype` + JSON) and both request contracts:
 * - `{"inputs", "parameters"}` → `[{"generated_text"}]` (text-generation-inference, JumpStart);
 * - `{"messages", "max_tokens", …}` → `{"choices": [{"message": {"content"}}]}` (TGI messages API, LMI).
 *
 * It is a TEMPLATE, not a language model: it reads the `FACTS = {...}` JSON of the prompt and fills a fixed
 * narration from its numbers (the rule name, the rule objective, the main channel, the discount share), so the
 * answer is deterministic and valid against `narrationSchema`. Its only purpose is to run the real
 * `SageMakerNarrator` in `npm start` and in the tests.
 */
export interface LocalLlmServerOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
}

export interface LocalLlmServer {
  readonly endpoint: string;
  readonly port: number;
  readonly stats: { invocations: number; failures: number; tgi: number; chat: number };
  /** The last request body received (tests inspect the prompt and the JSON-constraint parameters). */
  readonly lastRequest: unknown;
  setFailure(mode: LocalFailureMode | null): void;
  setLatency(ms: number): void;
  /** The next generated texts, verbatim, before the template resumes (e.g. invalid JSON to exercise the repair). */
  script(texts: readonly string[]): void;
  close(): Promise<void>;
}

const INVOCATIONS_PATH = /^\/endpoints\/([^/]+)\/invocations\/?$/;

type Facts = Record<string, unknown>;

function num(x: unknown): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}
function rec(x: unknown): Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : {};
}

/** The template narration for the facts of a prompt. */
export function templateNarration(facts: Facts): Narration {
  const stats = rec(facts['medianAndMean']);
  const median = (name: string): number | null => num(rec(stats[name])['median']);
  const name =
    typeof facts['ruleBasedName'] === 'string' && facts['ruleBasedName'] ? facts['ruleBasedName'] : 'Segment';
  const objectiveRaw = facts['ruleBasedObjective'];
  const objective = OBJECTIVES.find((o) => o === objectiveRaw) ?? 'grow';
  const channels = Object.entries(rec(facts['channelMix']))
    .flatMap(([c, v]) => (typeof v === 'number' ? [[c, v] as const] : []))
    .sort((a, b) => b[1] - a[1]);
  const main = ACTION_CHANNELS.find((c) => c === channels[0]?.[0]) ?? 'email';
  const categories = (Array.isArray(facts['topCategoriesByShare']) ? facts['topCategoriesByShare'] : [])
    .map((c) => rec(c)['category'])
    .filter((c): c is string => typeof c === 'string')
    .slice(0, 3);
  const share = num(facts['segmentShare']) ?? 0;
  const orders = median('orders') ?? 0;
  const revenue = median('revenue') ?? 0;
  const discount = median('discountShare') ?? 0;
  const dealSeekers = discount >= 0.25;
  const persona =
    `Template narration (local stand-in, not a language model). ${Math.round(share * 100)} % of customers; ` +
    `the median member has ${orders} order(s) worth ${revenue.toFixed(2)} in total` +
    (categories.length ? ` and shops mostly in ${categories.join(', ')}.` : '.');
  const verb = { convert: 'Convert', grow: 'Grow', retain: 'Retain', win_back: 'Win back' }[objective];
  return {
    name: name.slice(0, 40),
    persona: persona.slice(0, 800),
    strategy: {
      objective,
      actions: [
        { channel: main, action: `${verb} with picks from ${categories[0] ?? 'their top category'}` },
        ...(main === 'email' ? [] : [{ channel: 'email' as const, action: `${verb} with a monthly digest` }]),
      ],
      offerType: dealSeekers ? 'Time-limited promotion' : 'Loyalty perks, no price cut',
      cadence: objective === 'win_back' ? 'Two messages 10 days apart' : 'Every 2 weeks',
      kpis: objective === 'convert' ? ['first-order conversion rate'] : ['order frequency', 'revenue per customer'],
      cautions: dealSeekers ? ['Cap discount depth'] : ['Do not discount customers who are not deal seekers'],
    },
  };
}

/** The facts JSON of a prompt text, or null. */
export function factsOf(text: string): Facts | null {
  const line = text.split('\n').find((l) => l.startsWith('FACTS = '));
  if (!line) return null;
  try {
    return rec(JSON.parse(line.slice('FACTS = '.length)));
  } catch {
    return null;
  }
}

export async function startLocalLlmServer(options: LocalLlmServerOptions = {}): Promise<LocalLlmServer> {
  const stats = { invocations: 0, failures: 0, tgi: 0, chat: 0 };
  let failure: LocalFailureMode | null = null;
  let remaining: number | undefined;
  let latencyMs = 0;
  let scripted: string[] = [];
  let lastRequest: unknown = null;

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
  const modelError = (res: ServerResponse, original: number, message: string): void =>
    sendError(res, 424, 'ModelError', {
      message: `Received ${original >= 500 ? 'server' : 'client'} error (${original}) from primary with message "${message}".`,
      OriginalStatusCode: original,
      OriginalMessage: message,
    });

  const invoke = (res: ServerResponse, body: Buffer, oversize: boolean): void => {
    stats.invocations++;
    if (oversize) return sendError(res, 413, 'ValidationError', { message: 'HTTP content length exceeded.' });
    if (failure) {
      const f = failure;
      if (remaining !== undefined && --remaining <= 0) {
        failure = null;
        remaining = undefined;
      }
      const message = f.message ?? `Injected ${f.errorType}`;
      if (f.errorType === 'ModelError') return modelError(res, f.originalStatusCode ?? 400, message);
      return sendError(res, f.status, f.errorType, { message });
    }
    let request: Record<string, unknown>;
    try {
      request = rec(JSON.parse(body.toString('utf8')));
    } catch {
      return modelError(res, 422, 'request body is not valid JSON');
    }
    lastRequest = request;
    let prompt: string;
    let contract: 'tgi' | 'chat';
    if (typeof request['inputs'] === 'string') {
      contract = 'tgi';
      prompt = request['inputs'];
    } else if (Array.isArray(request['messages'])) {
      contract = 'chat';
      prompt = request['messages'].map((m) => String(rec(m)['content'] ?? '')).join('\n');
    } else {
      return modelError(res, 422, 'expected "inputs" (text generation) or "messages" (chat)');
    }
    const facts = factsOf(prompt);
    if (facts === null && scripted.length === 0) return modelError(res, 422, 'prompt carries no FACTS');
    const text = scripted.length ? scripted.shift()! : JSON.stringify(templateNarration(facts ?? {}));
    stats[contract]++;
    const payload = JSON.stringify(
      contract === 'tgi'
        ? [{ generated_text: text }]
        : {
            id: randomUUID(),
            object: 'chat.completion',
            choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
          },
    );
    sendInvocationResult(res, payload);
  };

  const route = (req: IncomingMessage, res: ServerResponse, body: Buffer, oversize: boolean): void => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'POST' && INVOCATIONS_PATH.test(path)) return invoke(res, body, oversize);
    sendError(res, 404, 'UnknownOperationException', { message: `No operation for ${req.method} ${path}` });
  };

  const listening = await serveSageMakerProtocol(route, { port: options.port, latencyMs: () => latencyMs });
  const { port } = listening;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stats,
    get lastRequest() {
      return lastRequest;
    },
    setFailure(mode) {
      failure = mode && (mode.times === undefined || mode.times > 0) ? mode : null;
      remaining = failure?.times;
    },
    setLatency(ms) {
      latencyMs = Math.max(0, ms);
    },
    script(texts) {
      scripted = [...texts];
    },
    close: () => listening.close(),
  };
}
