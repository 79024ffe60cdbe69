import { z } from 'zod';
import { INBOUND_SCHEMAS } from './inbound';
import { renderOpenApi } from './openapi';
import { OUTBOUND_SCHEMAS } from './outbound';

/**
 * JSON Schemas for consumers, generated from the zod schemas: one file per detail-type, named
 * `inbound.<type>.json` / `outbound.<type>.json`, and the query API's OpenAPI document, `openapi.query.json`. Returned as file name -> content so the generator
 * and the staleness test share one rendering.
 */
export function renderSchemas(): Record<string, string> {
  const files: Record<string, string> = {};
  const render = (direction: 'inbound' | 'outbound', type: string, schema: z.ZodType) => {
    const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    const doc = { $id: `urn:shoal:${direction}:${type}`, title: `${type} detail`, ...json };
    files[`${direction}.${type}.json`] = `${JSON.stringify(doc, null, 2)}\n`;
  };
  for (const [type, schema] of Object.entries(INBOUND_SCHEMAS)) render('inbound', type, schema);
  for (const [type, schema] of Object.entries(OUTBOUND_SCHEMAS)) render('outbound', type, schema);
  files['openapi.query.json'] = `${JSON.stringify(renderOpenApi(), null, 2)}\n`;
  return files;
}
