import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INBOUND_DETAIL_TYPES } from '../../../shared/contracts/inbound';
import { renderSchemas } from '../../../shared/contracts/json-schema';
import { OUTBOUND_DETAIL_TYPES } from '../../../shared/contracts/outbound';
import { QUERY_ROUTES } from '../../../shared/contracts/query';

const dir = join(__dirname, '..', '..', '..', 'schemas');

describe('published JSON Schemas', () => {
  test('schemas/ matches the zod schemas (run `npm run schemas` after changing a contract)', () => {
    const expected = renderSchemas();
    const onDisk = Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
    expect(onDisk).toEqual(expected);
  });

  test('there is one schema per inbound and outbound detail-type', () => {
    expect(Object.keys(renderSchemas()).sort()).toEqual(
      [
        ...INBOUND_DETAIL_TYPES.map((t) => `inbound.${t}.json`),
        ...OUTBOUND_DETAIL_TYPES.map((t) => `outbound.${t}.json`),
        'openapi.query.json',
      ].sort(),
    );
  });

  test('the OpenAPI document has every query route, a response schema for each, and problem+json errors', () => {
    const doc = JSON.parse(renderSchemas()['openapi.query.json']!) as {
      openapi: string;
      paths: Record<
        string,
        { get: { responses: Record<string, { content: Record<string, { schema: { $ref?: string } }> }> } }
      >;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual(QUERY_ROUTES.map((r) => r.path).sort());
    for (const path of Object.keys(doc.paths)) {
      const ref = doc.paths[path]!.get.responses['200']!.content['application/json']!.schema.$ref!;
      expect(doc.components.schemas[ref.split('/').pop()!]).toBeDefined();
      expect(doc.paths[path]!.get.responses['404']!.content['application/problem+json']).toBeDefined();
    }
    expect(Object.keys(doc.components.schemas.CustomersItemResponse!.properties!)).toEqual(
      expect.arrayContaining(['segment', 'probabilities', 'traits', 'rfm', 'history', 'why']),
    );
  });

  test('inbound schemas keep unknown fields and require the common ids', () => {
    const schema = JSON.parse(renderSchemas()['inbound.order.placed.json']!) as {
      required: string[];
      additionalProperties?: unknown;
    };
    expect(schema.required).toEqual(
      expect.arrayContaining(['eventId', 'customerId', 'occurredAt', 'schemaVersion', 'orderId', 'items']),
    );
    expect(schema.additionalProperties).not.toBe(false);
  });
});
