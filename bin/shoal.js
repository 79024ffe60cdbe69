#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx shoal ...` works in a fresh clone without a build step.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs');
require('../cli/main.ts');
