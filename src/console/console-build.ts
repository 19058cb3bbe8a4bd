import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { CONSOLE_DIR, consoleSourceHash } from '../../console/source-hash.ts';

export type ConsoleBuild = 'current' | 'built' | 'failed' | 'unavailable';

function builtHash(): string | undefined {
  try {
    return readFileSync(path.join(CONSOLE_DIR, 'dist', '.source-hash'), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * `npm ci` builds the console (the root `prepare` script); this builds it again at start when
 * console/dist is missing or older than its sources (a pull without `npm ci`), so the README's
 * two commands stay the only setup. Without Vite (installed with --omit=dev) the server still
 * starts, and /console/ says how to build it.
 */
export async function ensureConsoleBuilt(say: (line: string) => void): Promise<ConsoleBuild> {
  if (builtHash() === consoleSourceHash()) return 'current';
  let viteBin: string;
  try {
    viteBin = path.join(path.dirname(createRequire(path.join(CONSOLE_DIR, 'package.json')).resolve('vite/package.json')), 'bin', 'vite.js');
  } catch {
    say('The admin console is not built and Vite is not installed (npm ci installs it): /console/ will say so.');
    return 'unavailable';
  }
  say('Building the admin console (its sources changed since the last build)...');
  const output: Buffer[] = [];
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [viteBin, 'build', '--logLevel', 'warn'], { cwd: CONSOLE_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
    child.on('error', () => resolve(null));
    child.on('close', resolve);
  });
  if (code === 0) return 'built';
  say(`The admin console failed to build:\n${Buffer.concat(output).toString('utf8').trim()}`);
  return 'failed';
}
