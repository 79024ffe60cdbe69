import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { synthTemplate } from '../../../infra/app';
import { cachedTemplate, templateInputsHash } from '../../../local/template-cache';

const CACHE = resolve(__dirname, '..', '..', '..', 'node_modules', '.cache', 'shoal');

describe("the local runner's template cache", () => {
  test('a cached template is the synthesized one, and is read back the next time', async () => {
    const file = join(CACHE, `template-staging-${templateInputsHash('staging')}.json`);
    rmSync(file, { force: true });
    const synthesized = synthTemplate('staging', {}, { nag: false });
    const first = await cachedTemplate('staging');
    expect(existsSync(file)).toBe(true);
    const second = await cachedTemplate('staging');
    expect(first).toEqual(JSON.parse(JSON.stringify(synthesized)));
    expect(second).toEqual(first);
  });

  test('the key covers the stage and is stable for the same inputs', () => {
    expect(templateInputsHash('dev')).toBe(templateInputsHash('dev'));
    expect(templateInputsHash('dev')).not.toBe(templateInputsHash('prod'));
  });
});
