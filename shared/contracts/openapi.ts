import { z } from 'zod';
import { membersQuerySchema, problemSchema, QUERY_ROUTES } from './query';

/** JSON Schema of a zod schema, as OpenAPI 3.1 takes it (draft 2020-12, no `$schema` key inside a document). */
function schemaOf(schema: z.ZodType, io: 'input' | 'output' = 'output'): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

function componentName(path: string): string {
  const words = path.split('/').filter((p) => p && !p.startsWith('{'));
  const name = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  return `${name || 'Root'}${path.endsWith('}') ? 'Item' : ''}Response`;
}

/**
 * The query API's OpenAPI 3.1 document, generated from the same zod schemas the handler parses its answers with
 * (shared/contracts/query.ts). Every route requires SigV4 (IAM) and answers problem+json for 400 and 404.
 */
export function renderOpenApi(): Record<string, unknown> {
  const schemas: Record<string, unknown> = { Problem: schemaOf(problemSchema) };
  const paths: Record<string, Record<string, unknown>> = {};
  const problemRef = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };
  const membersQuery = schemaOf(membersQuerySchema, 'input') as { properties: Record<string, unknown> };
  for (const route of QUERY_ROUTES) {
    const name = componentName(route.path);
    schemas[name] = schemaOf(route.response);
    const parameters: unknown[] = [];
    if (route.path.includes('{id}')) {
      parameters.push({
        name: 'id',
        in: 'path',
        required: true,
        schema: { type: 'string', minLength: 1, maxLength: 128 },
      });
    }
    if (route.path.endsWith('/members')) {
      for (const [param, schema] of Object.entries(membersQuery.properties)) {
        parameters.push({ name: param, in: 'query', required: false, schema });
      }
    }
    const content: Record<string, unknown> = {
      'application/json': { schema: { $ref: `#/components/schemas/${name}` } },
    };
    if (route.path.endsWith('/members')) {
      content['text/csv'] = {
        schema: { type: 'string', description: 'format=csv: a header line, then one member per line (RFC 4180)' },
      };
    }
    paths[route.path] = {
      [route.method.toLowerCase()]: {
        summary: route.summary,
        operationId: name.replace(/Response$/, '').replace(/^./, (c) => c.toLowerCase()),
        parameters,
        responses: {
          '200': { description: 'OK', content },
          '400': { description: 'Bad parameter', content: problemRef },
          '404': {
            description: 'Unknown or erased customer, unknown segment, or no active model',
            content: problemRef,
          },
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Shoal query API',
      version: '1',
      description:
        'Customers, segments, audiences and the active model. IAM (SigV4, service execute-api) on every route.',
    },
    security: [{ sigv4: [] }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        sigv4: { type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'awsSigv4' },
      },
    },
  };
}
