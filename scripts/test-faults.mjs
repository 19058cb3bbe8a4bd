#!/usr/bin/env node
// @ts-check
/**
 * `npm run test:faults`: the fault-injection suites of test/faults/ (the server SIGKILLed mid-bulk
 * and mid-delivery, PostgreSQL stopped under load, races), one file at a time, on PostgreSQL only:
 * the server in OPENROLL_TEST_DATABASE_URL, else a throwaway one from scripts/throwaway-postgres.mjs
 * (stopped afterwards), else a clear failure. `npm test` leaves these files out: they take minutes.
 *
 * Each suite prints one `faults: ...` line saying what it injected and what survived; they are
 * repeated at the end, and the output ends with a plain count line:
 *   tests: <passed> passed, <failed> failed, <skipped> skipped
 *
 * Arguments (`npm run test:faults -- ...`): plain words keep the files whose path contains one of
 * them; arguments starting with `-` go to `node --test`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startThrowawayPostgres } from './throwaway-postgres.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FAULTS_DIR = 'test/faults';
/** No single fault test may run longer than this (each is bounded well below it). */
const TEST_TIMEOUT_MS = 10 * 60_000;

/** @param {string} msg */
const say = (msg) => process.stdout.write(`${msg}\n`);

/** @type {import('node:child_process').ChildProcess | null} */
let child = null;
/** @type {(() => Promise<void>) | null} */
let stopPostgres = null;
let interrupted = false;
/** The last line of the output, printed once everything else (the server's stop too) is done. */
let countLine = 'tests: 0 passed, 1 failed, 0 skipped';

/** @param {NodeJS.Signals} signal */
function onSignal(signal) {
  if (interrupted) {
    child?.kill('SIGKILL');
    return;
  }
  interrupted = true;
  say(`\n${signal} received: stopping the fault tests`);
  if (child && child.exitCode === null && child.signalCode === null) child.kill(signal);
}

/** @param {string} tapFile */
function readTap(tapFile) {
  let text;
  try {
    text = fs.readFileSync(tapFile, 'utf8');
  } catch {
    return { counts: null, summaries: [] };
  }
  /** @type {Record<string, number>} */
  const c = {};
  for (const m of text.matchAll(/^# (tests|pass|fail|cancelled|skipped|todo) (\d+)\s*$/gm)) {
    if (m[1] && m[2]) c[m[1]] = Number(m[2]);
  }
  const summaries = [...text.matchAll(/^\s*# (faults: .*)$/gm)].map((m) => m[1] ?? '');
  const counts = c.tests === undefined ? null : { pass: c.pass ?? 0, fail: (c.fail ?? 0) + (c.cancelled ?? 0), skipped: (c.skipped ?? 0) + (c.todo ?? 0) };
  return { counts, summaries };
}

async function main() {
  const args = process.argv.slice(2);
  const options = args.filter((a) => a.startsWith('-'));
  const filters = args.filter((a) => !a.startsWith('-'));
  const all = fs
    .readdirSync(path.join(ROOT, FAULTS_DIR))
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => `${FAULTS_DIR}/${f}`);
  const files = filters.length ? all.filter((f) => filters.some((w) => f.includes(w))) : all;
  if (files.length === 0) {
    say(`No fault test file matches ${filters.length ? filters.join(' or ') : `${FAULTS_DIR}/*.test.ts`}`);
    countLine = 'tests: 0 passed, 1 failed, 0 skipped';
    return 1;
  }

  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let url = process.env.OPENROLL_TEST_DATABASE_URL;
  if (!url) {
    say('No OPENROLL_TEST_DATABASE_URL: starting a throwaway PostgreSQL server');
    const pg = await startThrowawayPostgres({ log: (m) => say(`[throwaway-postgres] ${m}`) });
    if (!pg.ok) {
      say(`The fault tests run on PostgreSQL only, and there is none: ${pg.reason}.`);
      say('Set OPENROLL_TEST_DATABASE_URL=postgres://... or install the PostgreSQL server binaries (initdb, pg_ctl, postgres).');
      countLine = 'tests: 0 passed, 1 failed, 0 skipped';
      return 1;
    }
    stopPostgres = pg.stop;
    url = pg.url;
  }

  say(`\n== Openroll fault tests on PostgreSQL · Node ${process.version} · ${files.length} files ==\n`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'openroll-faults-'));
  const tapFile = path.join(tmp, 'results.tap');
  const started = Date.now();
  try {
    const code = await new Promise((resolve) => {
      child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '--test',
          '--test-concurrency=1',
          `--test-timeout=${TEST_TIMEOUT_MS}`,
          '--test-reporter=spec',
          '--test-reporter-destination=stdout',
          '--test-reporter=tap',
          `--test-reporter-destination=${tapFile}`,
          ...options,
          ...files,
        ],
        { cwd: ROOT, env: { ...process.env, OPENROLL_TEST_DATABASE_URL: url }, stdio: 'inherit' },
      );
      child.on('error', (err) => {
        say(`could not start the test runner: ${err.message}`);
        resolve(1);
      });
      child.on('close', (c, signal) => resolve(signal ? 1 : (c ?? 1)));
    });
    child = null;
    const { counts, summaries } = readTap(tapFile);
    say(`\n== Openroll fault tests: ${code === 0 && !interrupted ? 'passed' : interrupted ? 'INTERRUPTED' : 'FAILED'} in ${Math.round((Date.now() - started) / 1000)}s ==`);
    for (const line of summaries) say(line);
    const c = counts ?? { pass: 0, fail: 1, skipped: 0 };
    // A run that failed without a failing test (a crash of the runner) still counts as a failure.
    const failed = code !== 0 && c.fail === 0 ? 1 : c.fail;
    countLine = `tests: ${c.pass} passed, ${failed} failed, ${c.skipped} skipped`;
    return code === 0 && !interrupted ? 0 : 1;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

const exitCode = await main().catch((err) => {
  say(`scripts/test-faults.mjs: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return 1;
});
if (stopPostgres) await stopPostgres();
say(countLine);
process.exit(exitCode);
