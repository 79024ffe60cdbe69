import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
/** Everything the synthesized template depends on: the CDK app and the code it reads, its context, the locked packages. */
const INPUT_DIRS = ['infra', 'shared'];
const INPUT_FILES = ['cdk.json', 'package-lock.json'];
const CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'shoal');

function sourcesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourcesUnder(path));
    else if (entry.name.endsWith('.ts') || entry.name.endsWith('.json')) out.push(path);
  }
  return out;
}

/** SHA-256 over the paths and contents of every input of the synthesis (about 20 ms). */
export function templateInputsHash(stage: string): string {
  const hash = createHash('sha256').update(`stage ${stage}\n`);
  const files = [...INPUT_DIRS.flatMap((d) => sourcesUnder(join(ROOT, d))), ...INPUT_FILES.map((f) => join(ROOT, f))];
  for (const file of files.sort()) hash.update(`${file.slice(ROOT.length)}\n`).update(readFileSync(file));
  return hash.digest('hex').slice(0, 32);
}

/**
 * The stage's synthesized CloudFormation template for the local runner (`synthTemplate(stage, {}, { nag: false })`),
 * from `node_modules/.cache/shoal/` when a template was synthesized from the same inputs before: the same sources
 * under infra/ and shared/, cdk.json and package-lock.json, hashed by `templateInputsHash`. Loading aws-cdk-lib and
 * synthesizing took 0.8 s of every `npm start`; any change to an input synthesizes again. The cache is a file per
 * hash, written atomically (a temporary file renamed), so concurrent runs never read half a template.
 */
export async function cachedTemplate(stage: string): Promise<Record<string, unknown>> {
  const file = join(CACHE_DIR, `template-${stage}-${templateInputsHash(stage)}.json`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    // not cached yet (or unreadable): synthesize
  }
  const { synthTemplate } = await import('../infra/app');
  const template = synthTemplate(stage, {}, { nag: false });
  try {
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(template));
    renameSync(tmp, file);
  } catch {
    // a read-only node_modules: run without the cache
  }
  return template;
}
