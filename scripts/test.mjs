#!/usr/bin/env node
// @ts-check
/**
 * `npm test`: runs test/**\/*.test.ts with Node's test runner (through tsx) on each database
 * (except test/browser/, which drives a real browser: `npm run test:browser`, once in CI, and
 * test/faults/, which kills servers and databases: `npm run test:faults`, once in CI):
 *   - PGlite (embedded): OPENROLL_TEST_DATABASE_URL removed from the file's env;
 *   - PostgreSQL: the server in OPENROLL_TEST_DATABASE_URL if set, else a throwaway one from
 *     scripts/throwaway-postgres.mjs (stopped afterwards, also on Ctrl-C). With no PostgreSQL
 *     to be had, the run goes on with PGlite alone and says so.
 * Every (file, database) pair is a process of its own, several at once over both databases,
 * the longest first (scripts/test-pool.mjs); each file starts from a migrated template
 * database (test/helpers/test-db.ts). The summary names the slowest files.
 *
 * Environment:
 *   OPENROLL_TEST_DATABASE_URL  PostgreSQL server for the second database (postgres://...)
 *   OPENROLL_TEST_ONLY          `pglite` or `postgres`: run on that database only
 *                               (`postgres` fails when no server can be had)
 *   OPENROLL_TEST_CONCURRENCY   files at once (default: twice the cores, at least 2)
 *
 * Arguments (`npm test -- ...`): plain words filter test files by substring of their
 * path (any match keeps the file); arguments starting with `-` go to node as test options
 * (e.g. `npm test -- --test-name-pattern=tokens`).
 *
 * Exits non-zero if any file failed or did not run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPool } from './test-pool.mjs';
import { startThrowawayPostgres } from './throwaway-postgres.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TEST_DIR = 'test';
/** Browser tests have their own script (`npm run test:browser`): one run, not one per database. */
const BROWSER_TEST_DIR = 'test/browser';
/** Fault-injection tests have theirs too (`npm run test:faults`): PostgreSQL only, minutes long. */
const FAULTS_TEST_DIR = 'test/faults';
const NODE = process.version;
/**
 * Files at once, over both databases. Many files spend part of their time waiting (on a spawned
 * server, on PostgreSQL's own process, on timers), so twice the cores keeps both busy.
 */
const DEFAULT_CONCURRENCY = Math.max(2, os.availableParallelism() * 2);
/** A file that has not ended after this long is stopped and counted as failed. */
const FILE_TIMEOUT_MS = 15 * 60_000;

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

/** @typedef {import('./test-pool.mjs').JobResult} JobResult */

/** @type {{ kill: (signal: NodeJS.Signals) => void } | null} */
let currentPool = null;
let interrupted = false;
/** @type {(() => Promise<void>) | null} */
let stopPostgres = null;

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
    // Second signal: stop waiting for the test files.
    currentPool?.kill('SIGKILL');
    void cleanupAndExit(130);
    return;
  }
  interrupted = true;
  say(`\n${sig} received: stopping tests`);
  // On a terminal Ctrl-C the children got the signal too; forward it for `kill -INT <pid>`.
  currentPool?.kill(sig);
}

/** @param {number} ms */
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

/**
 * The PostgreSQL server of the second database: the one given, or a throwaway one.
 * @param {string} only
 * @returns {Promise<{ server: { url: string, version: string } | null, reason: string }>}
 */
async function acquirePostgres(only) {
  if (only === 'pglite') return { server: null, reason: 'OPENROLL_TEST_ONLY=pglite' };
  const given = process.env.OPENROLL_TEST_DATABASE_URL;
  if (given) {
    const v = await queryServerVersion(given);
    if ('error' in v) say(`warning: cannot query ${describeServer(given)} for its version: ${v.error}`);
    return { server: { url: given, version: 'version' in v ? v.version : '(version unknown)' }, reason: '' };
  }
  say('No OPENROLL_TEST_DATABASE_URL: starting a throwaway PostgreSQL server');
  const pg = await startThrowawayPostgres({ log: (m) => say(`[throwaway-postgres] ${m}`) });
  if (!pg.ok) return { server: null, reason: pg.reason };
  stopPostgres = pg.stop;
  return { server: { url: pg.url, version: pg.version }, reason: '' };
}

async function main() {
  const only = (process.env.OPENROLL_TEST_ONLY ?? '').trim().toLowerCase();
  if (only !== '' && only !== 'pglite' && only !== 'postgres') {
    say(`OPENROLL_TEST_ONLY must be 'pglite' or 'postgres' (got '${process.env.OPENROLL_TEST_ONLY}')`);
    return 2;
  }
  const concurrency = Number(process.env.OPENROLL_TEST_CONCURRENCY || DEFAULT_CONCURRENCY);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    say(`OPENROLL_TEST_CONCURRENCY must be a whole number of at least 1 (got '${process.env.OPENROLL_TEST_CONCURRENCY}')`);
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
  const started = Date.now();

  /** @type {string[]} */
  const notes = [];
  let failed = false;
  /** @type {{ label: string, env: NodeJS.ProcessEnv }[]} */
  const passes = [];
  if (only !== 'postgres') {
    const env = { ...process.env };
    delete env.OPENROLL_TEST_DATABASE_URL;
    passes.push({ label: 'PGlite (embedded)', env });
  } else {
    notes.push('PGlite pass skipped (OPENROLL_TEST_ONLY=postgres)');
  }
  const { server, reason } = await acquirePostgres(only);
  if (server) {
    passes.push({ label: `PostgreSQL ${server.version} at ${describeServer(server.url)}`, env: { ...process.env, OPENROLL_TEST_DATABASE_URL: server.url } });
  } else if (only === 'postgres') {
    notes.push(`FAILED: OPENROLL_TEST_ONLY=postgres but no PostgreSQL server (${reason})`);
    failed = true;
  } else {
    notes.push(`Ran on PGlite alone: no PostgreSQL server (${reason})`);
  }

  // Node (22.1 and later) keeps the compiled code of every module on disk between the files'
  // processes, and the server processes they start: about a tenth less CPU a file.
  const compileCache = process.env.NODE_COMPILE_CACHE || path.join(os.tmpdir(), 'openroll-node-compile-cache');
  const jobs = passes.flatMap((p) => files.map((file) => ({ file, pass: p.label, env: { ...p.env, NODE_COMPILE_CACHE: compileCache } })));
  say(`\n== Openroll tests · Node ${NODE} · ${files.length} files on ${passes.map((p) => p.label).join(' and ')}, ${concurrency} at a time ==\n`);
  let finished = 0;
  const pool = runPool({
    root: ROOT,
    jobs,
    concurrency,
    nodeArgs: nodeTestOptions,
    timeoutMs: FILE_TIMEOUT_MS,
    isInterrupted: () => interrupted,
    onDone: (r, output) => {
      finished += 1;
      say(`\n-- [${finished}/${jobs.length}] ${r.job.file} on ${r.job.pass}: ${r.detail} in ${seconds(r.ms)}`);
      process.stdout.write(output);
    },
  });
  currentPool = pool;
  /** @type {JobResult[]} */
  const results = await pool.done;
  currentPool = null;
  if (stopPostgres) {
    const stop = stopPostgres;
    stopPostgres = null;
    await stop();
  }

  say(`\n== Openroll test summary · Node ${NODE} · ${seconds(Date.now() - started)} ==`);
  say('Slowest files:');
  for (const r of [...results].sort((a, b) => b.ms - a.ms).slice(0, 12)) say(`  ${seconds(r.ms).padStart(8)}  ${r.job.file} (${r.job.pass})`);
  for (const p of passes) {
    const mine = results.filter((r) => r.job.pass === p.label);
    const sum = (/** @type {(c: import('./test-pool.mjs').Counts) => number} */ f) => mine.reduce((n, r) => n + (r.counts ? f(r.counts) : 0), 0);
    const bad = mine.filter((r) => !r.ok);
    const ranAll = mine.length === files.length;
    say(
      `${p.label}: ${bad.length === 0 && ranAll ? 'passed' : 'FAILED'} — ${mine.length} of ${files.length} files, ` +
        `${sum((c) => c.tests)} tests: ${sum((c) => c.pass)} passed, ${sum((c) => c.fail)} failed` +
        (sum((c) => c.cancelled) ? `, ${sum((c) => c.cancelled)} cancelled` : '') +
        (sum((c) => c.skipped) ? `, ${sum((c) => c.skipped)} skipped` : '') +
        (sum((c) => c.todo) ? `, ${sum((c) => c.todo)} todo` : ''),
    );
    for (const r of bad) say(`  ${r.job.file}: ${r.detail}`);
    if (bad.length > 0 || !ranAll) failed = true;
  }
  for (const n of notes) say(n);
  if (interrupted) {
    say('Interrupted.');
    return 130;
  }
  if (results.length > 0) {
    const sum = (/** @type {(c: import('./test-pool.mjs').Counts) => number} */ f) => results.reduce((n, r) => n + (r.counts ? f(r.counts) : 0), 0);
    // A file that died without results counts as one failure, so the total never reads clean.
    const lost = results.filter((r) => !r.counts).length;
    say(`tests: ${sum((c) => c.pass)} passed, ${sum((c) => c.fail + c.cancelled) + lost} failed, ${sum((c) => c.skipped)} skipped`);
  }
  return failed ? 1 : 0;
}

const exitCode = await main().catch((err) => {
  say(`scripts/test.mjs: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return 1;
});
await cleanupAndExit(exitCode);
