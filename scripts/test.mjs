#!/usr/bin/env node
// @ts-check
/**
 * `npm test`: runs test/**\/*.test.ts with Node's test runner (through tsx), once per database
 * (except test/browser/, which drives a real browser: `npm run test:browser`, once in CI, and
 * test/faults/, which kills servers and databases: `npm run test:faults`, once in CI):
 *   1. PGlite (embedded) — OPENROLL_TEST_DATABASE_URL removed from the child's env;
 *   2. PostgreSQL — the server in OPENROLL_TEST_DATABASE_URL if set, else a throwaway
 *      one from scripts/throwaway-postgres.mjs (stopped afterwards, also on Ctrl-C).
 *      With no PostgreSQL to be had, the run goes on with PGlite alone and says so.
 *
 * Environment:
 *   OPENROLL_TEST_DATABASE_URL  PostgreSQL server for the second pass (postgres://...)
 *   OPENROLL_TEST_ONLY          `pglite` or `postgres`: run only that pass
 *                               (`postgres` fails when no server can be had)
 *
 * Arguments (`npm test -- ...`): plain words filter test files by substring of their
 * path (any match keeps the file); arguments starting with `-` go to `node --test`
 * as options (e.g. `npm test -- --test-name-pattern=tokens`).
 *
 * Exits non-zero if any pass failed.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startThrowawayPostgres } from './throwaway-postgres.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TEST_DIR = 'test';
/** Browser tests have their own script (`npm run test:browser`): one run, not one per database. */
const BROWSER_TEST_DIR = 'test/browser';
/** Fault-injection tests have theirs too (`npm run test:faults`): PostgreSQL only, minutes long. */
const FAULTS_TEST_DIR = 'test/faults';
const NODE = process.version;

/** @param {string} msg */
const say = (msg) => process.stdout.write(`${msg}\n`);

/**
 * Recursively lists test/**\/*.test.ts but test/browser/ and test/faults/, as sorted POSIX-style paths relative to ROOT.
 * @returns {string[]}
 */
function collectTestFiles() {
  /** @type {string[]} */
  const found = [];
  /** @param {string} rel */
  const walk = (rel) => {
    let entries;
    try {
      entries = fs.readdirSync(path.join(ROOT, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
      const childRel = `${rel}/${e.name}`;
      if (childRel === BROWSER_TEST_DIR || childRel === FAULTS_TEST_DIR) continue;
      if (e.isDirectory()) walk(childRel);
      else if (e.isFile() && e.name.endsWith('.test.ts')) found.push(childRel);
    }
  };
  walk(TEST_DIR);
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * @typedef {{ tests: number, pass: number, fail: number, cancelled: number, skipped: number, todo: number }} Counts
 * @typedef {{ label: string, ok: boolean, detail: string, counts: Counts | null }} PassResult
 */

/** @param {string} tapFile @returns {Counts | null} */
function readTapCounts(tapFile) {
  let text;
  try {
    text = fs.readFileSync(tapFile, 'utf8');
  } catch {
    return null;
  }
  /** @type {Record<string, number>} */
  const c = {};
  for (const m of text.matchAll(/^# (tests|pass|fail|cancelled|skipped|todo) (\d+)\s*$/gm)) {
    if (m[1] && m[2]) c[m[1]] = Number(m[2]);
  }
  if (c.tests === undefined || c.pass === undefined || c.fail === undefined) return null;
  return {
    tests: c.tests,
    pass: c.pass,
    fail: c.fail,
    cancelled: c.cancelled ?? 0,
    skipped: c.skipped ?? 0,
    todo: c.todo ?? 0,
  };
}

/** @type {import('node:child_process').ChildProcess | null} */
let currentChild = null;
let interrupted = false;
/** @type {(() => Promise<void>) | null} */
let stopPostgres = null;

/**
 * Runs one pass of the suite in a child Node process; stdio is inherited, and a
 * TAP copy of the results goes to a temp file for the summary's counts.
 * @param {string} label
 * @param {NodeJS.ProcessEnv} env
 * @param {string[]} nodeTestOptions
 * @param {string[]} files
 * @returns {Promise<PassResult>}
 */
async function runPass(label, env, nodeTestOptions, files) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'openroll-test-'));
  const tapFile = path.join(tmp, 'results.tap');
  const args = [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    '--test-concurrency=2',
    ...nodeTestOptions,
    ...files,
  ];
  try {
    const { code, signal } = await new Promise((resolve) => {
      const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: 'inherit' });
      currentChild = child;
      child.on('error', (err) => {
        say(`could not start the test runner: ${err.message}`);
        resolve({ code: null, signal: null });
      });
      child.on('close', (c, s) => resolve({ code: c, signal: s }));
    });
    currentChild = null;
    const counts = readTapCounts(tapFile);
    const ok = code === 0 && !interrupted;
    const detail = ok
      ? 'passed'
      : interrupted
        ? 'INTERRUPTED'
        : signal
          ? `FAILED (killed by ${signal})`
          : `FAILED (exit code ${code})`;
    return { label, ok, detail, counts };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Server version for a PostgreSQL URL via the project's `pg` driver (best effort).
 * @param {string} url
 * @returns {Promise<{ version: string } | { error: string }>}
 */
async function queryServerVersion(url) {
  try {
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    try {
      await client.connect();
      const res = await client.query('show server_version');
      return { version: String(res.rows[0]?.server_version ?? '').split(' ')[0] || 'unknown' };
    } finally {
      await client.end().catch(() => {});
    }
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/** @param {string} url */
function describeServer(url) {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}`;
  } catch {
    return 'OPENROLL_TEST_DATABASE_URL';
  }
}

/** @param {number} code */
async function cleanupAndExit(code) {
  if (stopPostgres) {
    const stop = stopPostgres;
    stopPostgres = null;
    await stop();
  }
  process.exit(code);
}

/** @param {NodeJS.Signals} sig */
function onSignal(sig) {
  if (interrupted) {
    // Second signal: stop waiting for the test runner.
    currentChild?.kill('SIGKILL');
    void cleanupAndExit(130);
    return;
  }
  interrupted = true;
  say(`\n${sig} received: stopping tests`);
  // On a terminal Ctrl-C the child got the signal too; forward it for `kill -INT <pid>`.
  if (currentChild && currentChild.exitCode === null && currentChild.signalCode === null) {
    currentChild.kill(sig);
  }
}

async function main() {
  const only = (process.env.OPENROLL_TEST_ONLY ?? '').trim().toLowerCase();
  if (only !== '' && only !== 'pglite' && only !== 'postgres') {
    say(`OPENROLL_TEST_ONLY must be 'pglite' or 'postgres' (got '${process.env.OPENROLL_TEST_ONLY}')`);
    return 2;
  }

  const cliArgs = process.argv.slice(2);
  const nodeTestOptions = cliArgs.filter((a) => a.startsWith('-'));
  const filters = cliArgs.filter((a) => !a.startsWith('-'));
  const all = collectTestFiles();
  const files = filters.length ? all.filter((f) => filters.some((flt) => f.includes(flt))) : all;
  if (all.length === 0) {
    say(`No test files found (${TEST_DIR}/**/*.test.ts)`);
    return 1;
  }
  if (files.length === 0) {
    say(`No test file matches ${filters.map((f) => `'${f}'`).join(' or ')} (of ${all.length} in ${TEST_DIR}/)`);
    return 1;
  }

  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  /** @type {PassResult[]} */
  const results = [];
  /** @type {string[]} */
  const notes = [];
  let failed = false;

  if (only !== 'postgres') {
    const label = 'PGlite (embedded)';
    say(`\n== Openroll tests on ${label} · Node ${NODE} ==\n`);
    const env = { ...process.env };
    delete env.OPENROLL_TEST_DATABASE_URL;
    results.push(await runPass(label, env, nodeTestOptions, files));
  } else {
    notes.push('PGlite pass skipped (OPENROLL_TEST_ONLY=postgres)');
  }

  if (only === 'pglite') {
    notes.push('Ran on PGlite alone: PostgreSQL pass skipped (OPENROLL_TEST_ONLY=pglite)');
  } else if (!interrupted) {
    /** @type {{ url: string, version: string } | null} */
    let server = null;
    /** @type {string} */
    let noServerReason = '';
    const given = process.env.OPENROLL_TEST_DATABASE_URL;
    if (given) {
      const v = await queryServerVersion(given);
      if ('error' in v) say(`warning: cannot query ${describeServer(given)} for its version: ${v.error}`);
      server = { url: given, version: 'version' in v ? v.version : '(version unknown)' };
    } else {
      say('\nNo OPENROLL_TEST_DATABASE_URL: starting a throwaway PostgreSQL server');
      const pg = await startThrowawayPostgres({ log: (m) => say(`[throwaway-postgres] ${m}`) });
      if (pg.ok) {
        stopPostgres = pg.stop;
        server = { url: pg.url, version: pg.version };
      } else {
        noServerReason = pg.reason;
      }
    }
    if (server && !interrupted) {
      const label = `PostgreSQL ${server.version} at ${describeServer(server.url)}`;
      say(`\n== Openroll tests on ${label} · Node ${NODE} ==\n`);
      const env = { ...process.env, OPENROLL_TEST_DATABASE_URL: server.url };
      results.push(await runPass(label, env, nodeTestOptions, files));
    } else if (!server) {
      if (only === 'postgres') {
        notes.push(`FAILED: OPENROLL_TEST_ONLY=postgres but no PostgreSQL server (${noServerReason})`);
        failed = true;
      } else {
        notes.push(`Ran on PGlite alone: no PostgreSQL server (${noServerReason})`);
      }
    }
    if (stopPostgres) {
      const stop = stopPostgres;
      stopPostgres = null;
      await stop();
    }
  }

  say(`\n== Openroll test summary · Node ${NODE} ==`);
  for (const r of results) {
    const c = r.counts;
    const counts = c
      ? ` — ${c.tests} tests: ${c.pass} passed, ${c.fail} failed` +
        (c.cancelled ? `, ${c.cancelled} cancelled` : '') +
        (c.skipped ? `, ${c.skipped} skipped` : '') +
        (c.todo ? `, ${c.todo} todo` : '')
      : '';
    say(`${r.label}: ${r.detail}${counts}`);
    if (!r.ok) failed = true;
  }
  for (const n of notes) say(n);
  if (interrupted) {
    say('Interrupted.');
    return 130;
  }
  if (results.length > 0 && results.every((r) => r.counts)) {
    const sum = (/** @type {(c: Counts) => number} */ f) =>
      results.reduce((n, r) => n + (r.counts ? f(r.counts) : 0), 0);
    say(`tests: ${sum((c) => c.pass)} passed, ${sum((c) => c.fail + c.cancelled)} failed, ${sum((c) => c.skipped)} skipped`);
  }
  return failed ? 1 : 0;
}

const exitCode = await main().catch((err) => {
  say(`scripts/test.mjs: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return 1;
});
await cleanupAndExit(exitCode);
