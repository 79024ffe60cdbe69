import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { StageName } from '../../infra/config/stages';

/**
 * Synthesized templates for the infra tests, synthesized once per stage and source state and shared between test
 * files through a disk cache (jest gives every file its own module registry, and a synth costs seconds on 2 cores).
 * The key hashes every input of the template: infra/, shared/, cdk.json and the CDK and cdk-nag versions.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const INPUTS = [
  'infra',
  'shared',
  'cdk.json',
  'node_modules/aws-cdk-lib/package.json',
  'node_modules/cdk-nag/package.json',
];

function listFiles(entry: string): string[] {
  const full = path.join(ROOT, entry);
  if (!fs.existsSync(full)) return [];
  if (fs.statSync(full).isFile()) return [full];
  return fs
    .readdirSync(full, { withFileTypes: true })
    .flatMap((d) =>
      d.isDirectory() ? listFiles(path.join(entry, d.name)) : d.name.endsWith('.ts') ? [path.join(full, d.name)] : [],
    )
    .sort();
}

let cacheDir: string | undefined;
function templateCacheDir(): string {
  if (!cacheDir) {
    const hash = createHash('sha256');
    for (const file of INPUTS.flatMap(listFiles))
      hash.update(path.relative(ROOT, file)).update('\0').update(fs.readFileSync(file));
    cacheDir = path.join(os.tmpdir(), 'shoal-infra-templates', hash.digest('hex').slice(0, 16));
  }
  return cacheDir;
}

export type TemplateJson = {
  Resources: Record<
    string,
    { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string }
  >;
  Outputs?: Record<string, unknown>;
};

const memo = new Map<StageName, TemplateJson>();

/** The stage's template as JSON (bundling skipped, cdk-nag on: a synth with an unacknowledged finding throws). */
export async function stageTemplate(stage: StageName): Promise<TemplateJson> {
  const cached = memo.get(stage);
  if (cached) return cached;
  const file = path.join(templateCacheDir(), `${stage}.json`);
  let template: TemplateJson;
  if (fs.existsSync(file)) {
    template = JSON.parse(fs.readFileSync(file, 'utf8')) as TemplateJson;
  } else {
    // Required lazily so that a test file reading cached templates never loads the CDK app.
    const { synthTemplate } = await import('../../infra/app');
    template = synthTemplate(stage) as TemplateJson;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(template));
    fs.renameSync(tmp, file);
  }
  memo.set(stage, template);
  return template;
}

/** Resources of one type, by logical id. */
export function resourcesOfType(template: TemplateJson, type: string): Array<[string, Record<string, unknown>]> {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id, r]) => [id, r.Properties ?? {}]);
}
