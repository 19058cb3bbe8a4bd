#!/usr/bin/env node
// @ts-check
/**
 * Throwaway PostgreSQL server for tests: a fresh cluster in a temp dir, on
 * 127.0.0.1 and a free port, tuned for speed rather than durability.
 *
 * Library use:
 *   import { startThrowawayPostgres } from './throwaway-postgres.mjs';
 *   const pg = await startThrowawayPostgres({ log: (m) => console.error(m) });
 *   if (pg.ok) { ...use pg.url...; await pg.stop(); } else console.error(pg.reason);
 *   // Outage tests: await pg.halt('immediate'); ...; await pg.restart();  (same dataDir and port)
 *
 * CLI use (for shells; progress goes to stderr, only `export` lines to stdout):
 *   eval "$(node scripts/throwaway-postgres.mjs start)"   # sets OPENROLL_TEST_DATABASE_URL, OPENROLL_PG_DATADIR
 *   node scripts/throwaway-postgres.mjs stop "$OPENROLL_PG_DATADIR"
 *
 * Binaries (initdb, pg_ctl, postgres) are taken from $OPENROLL_PG_BINDIR if set,
 * else the first PATH directory holding all three, else the highest
 * /usr/lib/postgresql/<version>/bin (Debian's layout). As root, the cluster is
 * owned by and run as the `postgres` user (initdb and postgres refuse root).
 *
 * No dependencies beyond Node built-ins.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR_PREFIX = 'openroll-pg-';
const BINARIES = /** @type {const} */ (['initdb', 'pg_ctl', 'postgres']);
const RUN_AS_USER = 'postgres';
const LOG_FILE = 'server.log';

/**
 * @typedef {object} ThrowawayPostgresStarted
 * @property {true} ok
 * @property {string} url      e.g. `postgres://postgres@127.0.0.1:54321/postgres` (trust auth, no password)
 * @property {string} version  server version from `postgres --version`, e.g. `15.18`
 * @property {string} host     always `127.0.0.1`
 * @property {number} port
 * @property {string} dataDir  the cluster's data directory (a fresh mkdtemp dir under os.tmpdir())
 * @property {string} binDir   where initdb / pg_ctl / postgres were found
 * @property {() => Promise<void>} stop  `pg_ctl stop -m fast`, then removes dataDir; idempotent, never throws
 * @property {(mode?: 'fast' | 'immediate') => Promise<void>} halt  stops the server and keeps dataDir
 *   (`pg_ctl stop -m <mode>`, default `immediate`: a crash), for outage tests; rejects if it fails
 * @property {() => Promise<void>} restart  starts the server again on the same dataDir and port
 *   (restarts it if it is running) and waits until it answers; rejects if it fails
 */
/**
 * @typedef {object} ThrowawayPostgresUnavailable
 * @property {false} ok
 * @property {string} reason  one line saying why no server could be had
 */
/** @typedef {ThrowawayPostgresStarted | ThrowawayPostgresUnavailable} ThrowawayPostgresResult */

/**
 * @typedef {object} RunAs  how to run the server binaries
 * @property {string | null} runuser  path to runuser when running as root, else null
 * @property {number | null} uid      uid of the `postgres` user when running as root
 * @property {number | null} gid
 */

/** @param {string} p */
function isExecutableFile(p) {
  try {
    if (!fs.statSync(p).isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** @param {string} dir */
function hasAllBinaries(dir) {
  return BINARIES.every((b) => isExecutableFile(path.join(dir, b)));
}

/** @returns {{ binDir: string } | { reason: string }} */
export function findPostgresBinDir() {
  const override = process.env.OPENROLL_PG_BINDIR;
  if (override) {
    return hasAllBinaries(override)
      ? { binDir: override }
      : { reason: `OPENROLL_PG_BINDIR=${override} lacks one of ${BINARIES.join(', ')}` };
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && hasAllBinaries(dir)) return { binDir: dir };
  }
  const debianRoot = '/usr/lib/postgresql';
  /** @type {string[]} */
  let versions = [];
  try {
    versions = fs
      .readdirSync(debianRoot)
      .filter((v) => /^\d+(\.\d+)*$/.test(v))
      .sort((a, b) => compareVersions(b, a));
  } catch {
    // no Debian-style install
  }
  for (const v of versions) {
    const dir = path.join(debianRoot, v, 'bin');
    if (hasAllBinaries(dir)) return { binDir: dir };
  }
  return {
    reason: `PostgreSQL server binaries (${BINARIES.join(', ')}) not found on PATH or under ${debianRoot}/<version>/bin`,
  };
}

/** @param {string} a @param {string} b */
function compareVersions(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** @param {string} name */
function findOnPath(name, extraDirs = /** @type {string[]} */ ([])) {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), ...extraDirs];
  for (const dir of dirs) {
    if (dir && isExecutableFile(path.join(dir, name))) return path.join(dir, name);
  }
  return null;
}

/**
 * @typedef {object} RunResult
 * @property {number | null} code
 * @property {string | null} signal
 * @property {string} stdout
 * @property {string} stderr
 * @property {string | null} error  spawn error or timeout, if any
 */

/**
 * Runs a command to completion, capturing output. Never rejects.
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd?: string, timeoutMs?: number, runAs?: RunAs | null }} [opts]
 * @returns {Promise<RunResult>}
 */
function run(cmd, args, { cwd, timeoutMs = 120_000, runAs = null } = {}) {
  /** @type {import('node:child_process').SpawnOptions} */
  const spawnOpts = { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: process.env };
  let file = cmd;
  let argv = args;
  if (runAs?.runuser) {
    file = runAs.runuser;
    argv = ['-u', RUN_AS_USER, '--', cmd, ...args];
  } else if (runAs && runAs.uid !== null && runAs.gid !== null) {
    spawnOpts.uid = runAs.uid;
    spawnOpts.gid = runAs.gid;
  }
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let settled = false;
    /** @param {RunResult} r */
    const done = (r) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    let child;
    try {
      child = spawn(file, argv, spawnOpts);
    } catch (err) {
      resolve({ code: null, signal: null, stdout, stderr, error: String(err) });
      return;
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done({ code: null, signal: 'SIGKILL', stdout, stderr, error: `timed out after ${timeoutMs} ms` });
    }, timeoutMs);
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => (stderr += d));
    child.on('error', (err) => done({ code: null, signal: null, stdout, stderr, error: err.message }));
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr, error: null }));
  });
}

/** @param {RunResult} r */
function describeFailure(r) {
  const out = `${r.stderr}\n${r.stdout}`.trim().split('\n').filter(Boolean).slice(-3).join(' | ');
  const status = r.error ?? (r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`);
  return out ? `${status}: ${out}` : status;
}

/** @returns {Promise<{ runAs: RunAs | null } | { reason: string }>} */
async function resolveRunAs() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { runAs: null };
  const uidRes = await run('id', ['-u', RUN_AS_USER], { timeoutMs: 10_000 });
  const gidRes = await run('id', ['-g', RUN_AS_USER], { timeoutMs: 10_000 });
  const uid = Number.parseInt(uidRes.stdout.trim(), 10);
  const gid = Number.parseInt(gidRes.stdout.trim(), 10);
  if (uidRes.code !== 0 || gidRes.code !== 0 || !Number.isInteger(uid) || !Number.isInteger(gid)) {
    return {
      reason: `running as root and there is no '${RUN_AS_USER}' user to run the server as (PostgreSQL refuses root)`,
    };
  }
  // runuser (util-linux) as asked for; Node's own uid/gid switch is the fallback.
  const runuser = findOnPath('runuser', ['/usr/sbin', '/sbin']);
  return { runAs: { runuser, uid, gid } };
}

/** @returns {Promise<number>} */
function findFreePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not get a free port'))));
    });
  });
}

/**
 * Checks that a PostgreSQL server answers on host:port by sending an SSLRequest
 * and expecting the one-byte 'S' / 'N' reply.
 * @param {string} host @param {number} port
 * @returns {Promise<boolean>}
 */
function probePostgres(host, port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const finish = (/** @type {boolean} */ ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(2000, () => finish(false));
    sock.on('error', () => finish(false));
    sock.on('connect', () => {
      const buf = Buffer.alloc(8);
      buf.writeInt32BE(8, 0);
      buf.writeInt32BE(80877103, 4); // SSLRequest code
      sock.write(buf);
    });
    sock.once('data', (d) => finish(d[0] === 0x4e /* N */ || d[0] === 0x53 /* S */));
  });
}

/** @param {string} dir */
async function readLogTail(dir, lines = 5) {
  try {
    const text = await fsp.readFile(path.join(dir, LOG_FILE), 'utf8');
    return text.trim().split('\n').slice(-lines).join(' | ');
  } catch {
    return '';
  }
}

/** @param {string} s  value for a single-quoted postgresql.conf string */
function confString(s) {
  return `'${s.replace(/'/g, "''")}'`;
}

/**
 * Stops the cluster in dataDir (`pg_ctl stop -m fast`, `-m immediate` if that fails)
 * and removes the dir. Refuses to delete a dir that does not look like one of ours.
 * @param {string} dataDir
 * @param {{ log?: (msg: string) => void, binDir?: string, runAs?: RunAs | null }} [opts]
 * @returns {Promise<{ ok: true } | { ok: false, reason: string }>}
 */
export async function stopThrowawayPostgres(dataDir, { log = () => {}, binDir, runAs } = {}) {
  const dir = path.resolve(dataDir);
  if (!path.basename(dir).startsWith(DIR_PREFIX)) {
    return { ok: false, reason: `${dir} is not a throwaway PostgreSQL dir (name must start with ${DIR_PREFIX})` };
  }
  if (!fs.existsSync(dir)) return { ok: true };
  if (binDir === undefined) {
    const found = findPostgresBinDir();
    binDir = 'binDir' in found ? found.binDir : undefined;
  }
  if (runAs === undefined) {
    const r = await resolveRunAs();
    runAs = 'runAs' in r ? r.runAs : null;
  }
  let stopError = null;
  if (fs.existsSync(path.join(dir, 'postmaster.pid'))) {
    if (!binDir) {
      stopError = 'pg_ctl not found, cannot stop the server';
    } else {
      const pgCtl = path.join(binDir, 'pg_ctl');
      log(`stopping PostgreSQL in ${dir}`);
      let r = await run(pgCtl, ['stop', '-D', dir, '-m', 'fast', '-w', '-t', '30'], { cwd: dir, runAs, timeoutMs: 45_000 });
      if (r.code !== 0 && fs.existsSync(path.join(dir, 'postmaster.pid'))) {
        log(`pg_ctl stop -m fast failed (${describeFailure(r)}); trying -m immediate`);
        r = await run(pgCtl, ['stop', '-D', dir, '-m', 'immediate', '-w', '-t', '30'], { cwd: dir, runAs, timeoutMs: 45_000 });
      }
      if (r.code !== 0 && fs.existsSync(path.join(dir, 'postmaster.pid'))) {
        stopError = `pg_ctl stop failed: ${describeFailure(r)}`;
      }
    }
  }
  if (stopError) return { ok: false, reason: `${stopError} (left ${dir} in place)` };
  await fsp.rm(dir, { recursive: true, force: true });
  return { ok: true };
}

/**
 * Starts a fresh throwaway PostgreSQL server.
 *
 * Returns a discriminated union on `ok`:
 *  - `{ ok: true, url, version, host, port, dataDir, binDir, stop }` — server is up and
 *    accepting TCP connections at `url`; call `stop()` to shut it down and delete dataDir.
 *  - `{ ok: false, reason }` — no server (binaries missing, no `postgres` user as root,
 *    initdb/start failure, ...); nothing is left behind. Never throws.
 *
 * @param {{ log?: (msg: string) => void, durable?: boolean }} [opts]  log receives one-line
 *   progress messages; durable keeps PostgreSQL's default fsync and commit settings (benchmarks)
 *   instead of the fast, crash-unsafe ones tests use
 * @returns {Promise<ThrowawayPostgresResult>}
 */
export async function startThrowawayPostgres({ log = () => {}, durable = false } = {}) {
  /** @type {string | null} */
  let dataDir = null;
  /** @type {RunAs | null} */
  let runAs = null;
  /** @type {string} */
  let binDir = '';
  /** @param {string} reason @returns {Promise<ThrowawayPostgresUnavailable>} */
  const fail = async (reason) => {
    if (dataDir) {
      const s = await stopThrowawayPostgres(dataDir, { binDir: binDir || undefined, runAs }).catch((e) => ({
        ok: false,
        reason: String(e),
      }));
      if (!s.ok && 'reason' in s) reason += `; cleanup: ${s.reason}`;
    }
    return { ok: false, reason };
  };
  try {
    const found = findPostgresBinDir();
    if ('reason' in found) return { ok: false, reason: found.reason };
    binDir = found.binDir;

    const versionRes = await run(path.join(binDir, 'postgres'), ['--version'], { timeoutMs: 15_000 });
    const versionMatch = /(\d+(?:\.\d+)+|\d+(?:beta|rc)\d+)/.exec(versionRes.stdout);
    if (versionRes.code !== 0 || !versionMatch) {
      return { ok: false, reason: `\`postgres --version\` failed: ${describeFailure(versionRes)}` };
    }
    const version = versionMatch[1] ?? 'unknown';

    const who = await resolveRunAs();
    if ('reason' in who) return { ok: false, reason: who.reason };
    runAs = who.runAs;

    dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), DIR_PREFIX));
    if (runAs && runAs.uid !== null && runAs.gid !== null) await fsp.chown(dataDir, runAs.uid, runAs.gid);
    log(`PostgreSQL ${version} from ${binDir}; initdb in ${dataDir}${runAs ? ` (as user ${RUN_AS_USER})` : ''}`);

    const initdb = path.join(binDir, 'initdb');
    const initArgs = ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'];
    // A fixed locale keeps initdb independent of the caller's LANG (which may name a
    // locale that is not installed); C.UTF-8 where the libc has it, plain C otherwise.
    let init = await run(initdb, [...initArgs, '--locale=C.UTF-8'], { cwd: dataDir, runAs });
    if (init.code !== 0) {
      log(`initdb with C.UTF-8 failed (${describeFailure(init)}); retrying with --no-locale`);
      init = await run(initdb, [...initArgs, '--no-locale'], { cwd: dataDir, runAs });
    }
    if (init.code !== 0) return await fail(`initdb failed: ${describeFailure(init)}`);

    const conf = [
      '',
      '# --- throwaway test server (scripts/throwaway-postgres.mjs) ---',
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = ${confString(dataDir)}`,
      ...(durable ? ['shared_buffers = 1GB'] : ['fsync = off', 'synchronous_commit = off', 'full_page_writes = off']),
      'max_connections = 200',
      '',
    ].join('\n');
    await fsp.appendFile(path.join(dataDir, 'postgresql.conf'), conf);

    const pgCtl = path.join(binDir, 'pg_ctl');
    const logFile = path.join(dataDir, LOG_FILE);
    let port = 0;
    let started = false;
    let lastFailure = '';
    // The free port is only free when we look; retry if someone grabs it first.
    for (let attempt = 1; attempt <= 3 && !started; attempt++) {
      port = await findFreePort();
      const r = await run(pgCtl, ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', `-p ${port}`], {
        cwd: dataDir,
        runAs,
        timeoutMs: 90_000,
      });
      if (r.code === 0) {
        started = true;
        break;
      }
      const tail = await readLogTail(dataDir);
      lastFailure = `pg_ctl start failed: ${describeFailure(r)}${tail ? ` — log: ${tail}` : ''}`;
      if (!/could not bind|address already in use/i.test(tail)) break;
      log(`port ${port} was taken; retrying`);
    }
    if (!started) return await fail(lastFailure);

    const host = '127.0.0.1';
    let ready = false;
    for (let i = 0; i < 50 && !ready; i++) {
      ready = await probePostgres(host, port);
      if (!ready) await new Promise((r) => setTimeout(r, 200));
    }
    if (!ready) return await fail(`server started but does not answer on ${host}:${port}`);

    const url = `postgres://postgres@${host}:${port}/postgres`;
    log(`PostgreSQL ${version} listening at ${host}:${port}`);

    const startedDir = dataDir;
    const startedRunAs = runAs;
    /** @type {Promise<void> | null} */
    let stopping = null;
    const stop = () => {
      stopping ??= stopThrowawayPostgres(startedDir, { log, binDir, runAs: startedRunAs }).then(
        (s) => {
          if (!s.ok) log(`could not stop throwaway PostgreSQL: ${s.reason}`);
        },
        (e) => log(`could not stop throwaway PostgreSQL: ${e}`),
      );
      return stopping;
    };
    /** @param {'fast' | 'immediate'} mode */
    const halt = async (mode = 'immediate') => {
      const r = await run(pgCtl, ['stop', '-D', startedDir, '-m', mode, '-w', '-t', '60'], { cwd: startedDir, runAs: startedRunAs, timeoutMs: 75_000 });
      if (r.code !== 0) throw new Error(`pg_ctl stop -m ${mode} failed: ${describeFailure(r)}`);
      log(`PostgreSQL at ${host}:${port} stopped (-m ${mode}); ${startedDir} kept`);
    };
    const restart = async () => {
      const status = await run(pgCtl, ['status', '-D', startedDir], { cwd: startedDir, runAs: startedRunAs, timeoutMs: 15_000 });
      if (status.code === 0) await halt('fast');
      // Same port as before: clients that hold the URL reconnect to it.
      const r = await run(pgCtl, ['start', '-D', startedDir, '-l', logFile, '-w', '-t', '60', '-o', `-p ${port}`], {
        cwd: startedDir,
        runAs: startedRunAs,
        timeoutMs: 90_000,
      });
      if (r.code !== 0) {
        const tail = await readLogTail(startedDir);
        throw new Error(`pg_ctl start failed: ${describeFailure(r)}${tail ? ` — log: ${tail}` : ''}`);
      }
      for (let i = 0; i < 50; i++) {
        if (await probePostgres(host, port)) {
          log(`PostgreSQL at ${host}:${port} is back`);
          return;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`PostgreSQL restarted but does not answer on ${host}:${port}`);
    };
    return { ok: true, url, version, host, port, dataDir, binDir, stop, halt, restart };
  } catch (err) {
    return await fail(`unexpected error: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** @param {string} s */
function shellQuote(s) {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** @param {string[]} argv */
async function main(argv) {
  const log = (/** @type {string} */ m) => process.stderr.write(`[throwaway-postgres] ${m}\n`);
  const [cmd, arg] = argv;
  if (cmd === 'start') {
    const pg = await startThrowawayPostgres({ log });
    if (!pg.ok) {
      log(`no PostgreSQL server: ${pg.reason}`);
      return 1;
    }
    process.stdout.write(
      `export OPENROLL_TEST_DATABASE_URL=${shellQuote(pg.url)}\n` + `export OPENROLL_PG_DATADIR=${shellQuote(pg.dataDir)}\n`,
    );
    return 0;
  }
  if (cmd === 'stop' && arg) {
    const r = await stopThrowawayPostgres(arg, { log });
    if (!r.ok) {
      log(r.reason);
      return 1;
    }
    log(`stopped and removed ${path.resolve(arg)}`);
    return 0;
  }
  process.stderr.write(
    'usage: node scripts/throwaway-postgres.mjs start        # prints export lines for eval\n' +
      '       node scripts/throwaway-postgres.mjs stop <datadir>\n',
  );
  return 2;
}

const isMain = (() => {
  if (!process.argv[1]) return false;
  try {
    return fs.realpathSync(process.argv[1]) === fs.realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();

if (isMain) {
  process.exitCode = await main(process.argv.slice(2));
}
