import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { answerQuery, type QueryDeps, type QueryResponse } from '../../shared/query/api';
import type { LogSink, MetricsSink } from '../../shared/ports/telemetry';

export interface QueryHandlerDeps extends QueryDeps {
  metrics: MetricsSink;
  log: LogSink;
}

const INTERNAL_ERROR: QueryResponse = {
  status: 500,
  headers: { 'content-type': 'application/problem+json' },
  body: JSON.stringify({
    type: 'urn:shoal:problem:internal',
    title: 'Internal error',
    status: 500,
    detail: 'the request could not be answered; it is safe to retry',
  }),
};

/**
 * The query API behind the HTTP API (payload format 2.0): translates the event to a transport-free request, answers
 * it with `answerQuery` and translates back. Logs the route key and status only (no customer ids, no bodies); a
 * store failure is a 500 problem and a `QueryErrors` metric, never a stack trace to the caller.
 */
export function makeHandler(
  deps: QueryHandlerDeps,
): (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2> {
  return async (event) => {
    let res: QueryResponse;
    try {
      res = await answerQuery(deps, {
        method: event.requestContext.http.method,
        path: event.rawPath,
        query: Object.fromEntries(new URLSearchParams(event.rawQueryString ?? '')),
      });
    } catch (err) {
      deps.metrics.count('QueryErrors');
      deps.log.error('query failed', { routeKey: event.routeKey, error: (err as Error).name });
      res = INTERNAL_ERROR;
    }
    deps.metrics.count(`QueryStatus${Math.floor(res.status / 100)}xx`);
    deps.log.info('query answered', { routeKey: event.routeKey, status: res.status });
    return { statusCode: res.status, headers: res.headers, body: res.body };
  };
}
