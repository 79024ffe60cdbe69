/**
 * The UMD builds of vega, vega-lite and vega-embed, read from node_modules so the
 * report can inline them and open offline (no CDN at view time). The packages'
 * `exports` maps do not expose the build files, so we look for them on disk,
 * walking up from this module (and from the working directory) like Node's own
 * resolution would.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';

export const VENDOR_FILES = [
  { pkg: 'vega', file: 'build/vega.min.js' },
  { pkg: 'vega-lite', file: 'build/vega-lite.min.js' },
  { pkg: 'vega-embed', file: 'build/vega-embed.min.js' },
] as const;

export interface VendorScript {
  pkg: string;
  version: string;
  source: string;
}

let cache: VendorScript[] | undefined;

/** The three library builds, in load order, ready to sit inside `<script>` tags. Cached. */
export function vendorScripts(): VendorScript[] {
  cache ??= VENDOR_FILES.map(({ pkg, file }) => {
    const root = findPackageRoot(pkg, file);
    const version =
      (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? '?';
    return { pkg, version, source: toInlineScript(readFileSync(join(root, file), 'utf8')) };
  });
  return cache;
}

/** Makes JS safe to put between `<script>` and `</script>`: no closing tag, no source-map fetch. */
export function toInlineScript(source: string): string {
  return source.replace(/^\/\/# sourceMappingURL=.*$/gm, '').replace(/<\/(script)/gi, '<\\/$1');
}

function findPackageRoot(pkg: string, file: string): string {
  const starts = [typeof __dirname === 'string' ? __dirname : undefined, process.cwd()];
  for (const start of starts) {
    if (start === undefined) continue;
    let dir = start;
    for (;;) {
      const candidate = join(dir, 'node_modules', pkg);
      if (existsSync(join(candidate, file))) return candidate;
      const parent = dirname(dir);
      if (parent === dir || dir === parse(dir).root) break;
      dir = parent;
    }
  }
  throw new Error(
    `report: cannot find ${pkg}/${file} in any node_modules above ${starts.filter(Boolean).join(' or ')}`,
  );
}
