import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderSchemas } from '../shared/contracts/json-schema';

/** Writes the consumer-facing JSON Schemas to schemas/. `npm run schemas`; a test fails when they are stale. */
const dir = join(__dirname, '..', 'schemas');
mkdirSync(dir, { recursive: true });
for (const [file, content] of Object.entries(renderSchemas())) writeFileSync(join(dir, file), content);
console.log(`wrote ${Object.keys(renderSchemas()).length} schemas to schemas/`);
