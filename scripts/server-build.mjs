#!/usr/bin/env node
// @ts-check
/**
 * `npm run build` (also run by `npm ci`, through `prepare`): compiles the server's TypeScript
 * (src/, and the benchmark's server in bench/) to JavaScript in dist/, so `openroll serve`
 * starts without compiling anything. TypeScript's own compiler does it: relative `.ts` imports
 * become `.js` (rewriteRelativeImportExtensions) and the output mirrors the sources, one
 * directory deeper (dist/src/...). Types are checked by `npm run typecheck`, not here (noCheck).
 *
 * dist/.source-hash holds a digest of what the build read: bin/openroll.mjs runs the build
 * only while it matches the sources, and falls back to tsx (saying so) when it does not.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = path.join(ROOT, 'dist');
const STAMP = path.join(DIST, '.source-hash');
/** Everything the build reads (tsconfig.build.json's include and what src/ imports from outside it). */
const INPUTS = ['src', 'console/source-hash.ts', 'bench/bench-server.ts', 'bench/ceiling.routes.ts', 'bench/floor.routes.ts', 'tsconfig.json', 'tsconfig.build.json'];

/** @param {string} entry @returns {string[]} */
function files(entry) {
  const full = path.join(ROOT, entry);
  const stat = statSync(full, { throwIfNoEntry: false });
  if (!stat) return [];
  if (!stat.isDirectory()) return [entry];
  return readdirSync(full)
    .sort()
    .flatMap((name) => files(path.join(entry, name)));
}

export function serverSourceHash() {
  const hash = createHash('sha256');
  for (const file of INPUTS.flatMap(files)) hash.update(`${file}\0`).update(readFileSync(path.join(ROOT, file))).update('\0');
  return hash.digest('hex');
}

/** Whether dist/ holds the build of the sources as they are now; why not, if not. */
export function serverBuildState() {
  let built;
  try {
    built = readFileSync(STAMP, 'utf8').trim();
  } catch {
    return { current: false, reason: 'dist/ holds no build' };
  }
  return built === serverSourceHash() ? { current: true, reason: '' } : { current: false, reason: 'dist/ is older than the sources' };
}

/** Compiles into a fresh directory, then swaps it in: a server running from dist/ never sees half a build. */
export function buildServer() {
  const require = createRequire(import.meta.url);
  let tsc;
  try {
    tsc = require.resolve('typescript/bin/tsc');
  } catch {
    return { ok: false, reason: 'TypeScript is not installed (npm ci installs it): the server will run its sources through tsx' };
  }
  const hash = serverSourceHash();
  const next = `${DIST}.next-${process.pid}`;
  rmSync(next, { recursive: true, force: true });
  const run = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', next], { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) {
    rmSync(next, { recursive: true, force: true });
    return { ok: false, reason: `tsc failed:\n${run.stdout}${run.stderr}` };
  }
  // What src/ loads besides its modules: the embedded database's worker.
  for (const file of files('src').filter((f) => !f.endsWith('.ts'))) cpSync(path.join(ROOT, file), path.join(next, file));
  writeFileSync(path.join(next, '.source-hash'), `${hash}\n`);
  const old = `${DIST}.old-${process.pid}`;
  if (existsSync(DIST)) renameSync(DIST, old);
  renameSync(next, DIST);
  rmSync(old, { recursive: true, force: true });
  return { ok: true, reason: '' };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  const result = buildServer();
  if (!result.ok) {
    console.error(`server build: ${result.reason}`);
    // Without TypeScript (a production install) there is nothing to build, and tsx still runs the server.
    process.exitCode = result.reason.startsWith('TypeScript is not installed') ? 0 : 1;
  } else {
    console.log(`server build: dist/ compiled from src/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}
