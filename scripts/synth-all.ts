/**
 * `npm run synth`: synthesizes every stage offline into cdk.out/<stage>, with bundling, CDK's built-in template
 * validation and cdk-nag, exactly as `cdk synth -c stage=<stage>` does. Exits non-zero if any stage fails.
 */
import * as path from 'node:path';
import { buildApp } from '../infra/app';
import { STAGES } from '../infra/config/stages';

const root = path.resolve(__dirname, '..');
let failed = 0;
for (const stage of STAGES) {
  const started = Date.now();
  try {
    const { app, stack } = buildApp(stage, {}, { outdir: path.join(root, 'cdk.out', stage) });
    const assembly = app.synth();
    const template = assembly.getStackArtifact(stack.artifactId);
    const resources = Object.keys((template.template as { Resources?: object }).Resources ?? {}).length;
    console.log(
      `✓ ${stack.stackName}: ${resources} resources -> ${path.relative(root, template.templateFullPath)} (${Date.now() - started} ms)`,
    );
  } catch (error) {
    failed++;
    console.error(`✗ Shoal-${stage}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
if (failed > 0) {
  console.error(`${failed} of ${STAGES.length} stages failed to synthesize`);
  process.exit(1);
}
