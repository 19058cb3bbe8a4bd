/**
 * A digest of everything the console's build reads, written beside the build output
 * (dist/.source-hash) so that `npm start` can tell whether console/dist is current.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPackageRoot } from '../src/package-root.ts';

/** console/, whether this file runs from its source, from dist/ or from the server's bundle. */
export const CONSOLE_DIR = path.join(findPackageRoot(path.dirname(fileURLToPath(import.meta.url))), 'console');
const INPUTS = ['index.html', 'vite.config.ts', 'package.json', 'src', '../clients/typescript/src/index.ts'];

function files(entry: string): string[] {
  const full = path.join(CONSOLE_DIR, entry);
  if (!statSync(full, { throwIfNoEntry: false })) return [];
  if (!statSync(full).isDirectory()) return [entry];
  return readdirSync(full)
    .sort()
    .flatMap((name) => files(path.join(entry, name)));
}

export function consoleSourceHash(): string {
  const hash = createHash('sha256');
  for (const file of INPUTS.flatMap(files)) hash.update(`${file}\0`).update(readFileSync(path.join(CONSOLE_DIR, file))).update('\0');
  return hash.digest('hex');
}
