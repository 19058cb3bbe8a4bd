import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Openroll's own folder (the one with its package.json): where `migrations/`, `console/dist/` and
 * the embedded database's worker are. Found by walking up from this module, so it holds from the
 * TypeScript sources, from dist/ and from the bundle that `npm run build` writes, whose modules
 * sit at other depths.
 */
export const PACKAGE_ROOT = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

export function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'openroll') return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json named "openroll" above ${start}`);
  }
}
