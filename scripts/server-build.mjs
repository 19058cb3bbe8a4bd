#!/usr/bin/env node
// @ts-check
/**
 * `npm run build` (also run by `npm ci`, through `prepare`): bundles the server's TypeScript
 * (its entry points: the command line, the CSV commands, and the benchmark's server) into
 * JavaScript in dist/, with esbuild, so `openroll` starts without compiling anything and without
 * resolving some 700 modules one package.json at a time: that resolution was most of a start
 * (about 2 s of CPU for `openroll --help`; the test suite starts such a process a hundred times).
 * The output keeps the entries' paths (dist/src/cli.js, dist/bench/bench-server.js); the code
 * they share is in dist/chunks/. Types are checked by `npm run typecheck`, not here.
 *
 * Left outside the bundle, loaded from node_modules as they are: packages that read their own
 * files next to their modules (PGlite's WebAssembly and data, swagger-ui's static pages).
 *
 * dist/.source-hash holds a digest of what the build read: bin/openroll.mjs runs the build
 * only while it matches the sources, and falls back to tsx (saying so) when it does not.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = path.join(ROOT, 'dist');
const STAMP = path.join(DIST, '.source-hash');
/** Everything the bundle is made of: its entries, what they import from outside src/, and the installed packages' versions. */
const INPUTS = ['src', 'console/source-hash.ts', 'bench/bench-server.ts', 'bench/ceiling.routes.ts', 'bench/floor.routes.ts', 'tsconfig.json', 'package-lock.json'];

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

/** Packages that read files beside their own modules, so they cannot be bundled. */
const EXTERNAL = ['@electric-sql/pglite', '@electric-sql/pglite/*', '@fastify/swagger-ui', 'pg-native'];
const ENTRIES = { 'src/cli': 'src/cli.ts', 'src/cli/tokens-csv': 'src/cli/tokens-csv.ts', 'bench/bench-server': 'bench/bench-server.ts' };

/** Builds into a fresh directory, then swaps it in: a server running from dist/ never sees half a build. */
export function buildServer() {
  const require = createRequire(import.meta.url);
  /** @type {typeof import('esbuild')} */
  let esbuild;
  try {
    esbuild = require('esbuild');
  } catch {
    return { ok: false, reason: 'esbuild is not installed (npm ci installs it): the server will run its sources through tsx' };
  }
  const hash = serverSourceHash();
  const next = `${DIST}.next-${process.pid}`;
  rmSync(next, { recursive: true, force: true });
  try {
    esbuild.buildSync({
      absWorkingDir: ROOT,
      entryPoints: ENTRIES,
      outdir: next,
      bundle: true,
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
      format: 'esm',
      platform: 'node',
      target: 'node22',
      sourcemap: true,
      external: EXTERNAL,
      logLevel: 'silent',
      // The bundled CommonJS packages call require() for node's own modules: give ESM one.
      banner: { js: "import { createRequire as openrollCreateRequire } from 'node:module'; const require = openrollCreateRequire(import.meta.url);" },
    });
  } catch (error) {
    rmSync(next, { recursive: true, force: true });
    return { ok: false, reason: `esbuild failed:\n${error instanceof Error ? error.message : String(error)}` };
  }
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
    // Without esbuild (a production install) there is nothing to build, and tsx still runs the server.
    process.exitCode = result.reason.startsWith('esbuild is not installed') ? 0 : 1;
  } else {
    console.log(`server build: dist/ bundled from src/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}
