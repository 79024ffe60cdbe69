import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INBOUND_DETAIL_TYPES } from '../../../shared/contracts/inbound';
import { renderSchemas } from '../../../shared/contracts/json-schema';
import { OUTBOUND_DETAIL_TYPES } from '../../../shared/contracts/outbound';

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
      ].sort(),
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
