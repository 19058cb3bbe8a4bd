// @ts-check
/**
 * The scheduler behind `npm test`: every (test file, database) pair is one job, a Node process
 * of its own running that file (node:test in the file's own process, the isolation `node --test`
 * gives each file), and a fixed number run at once across both databases. The longest jobs
 * start first (from the last run's times, kept in the temporary directory, or a guess from what
 * a file does), so the pool does not wait at the end for the one slow file that started last.
 * Each job's output is printed whole when it ends: two files never interleave.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * @typedef {{ tests: number, pass: number, fail: number, cancelled: number, skipped: number, todo: number }} Counts
 * @typedef {{ file: string, pass: string, env: NodeJS.ProcessEnv }} Job
 * @typedef {{ job: Job, ok: boolean, detail: string, counts: Counts | null, ms: number }} JobResult
 */

const TIMES_FILE = path.join(os.tmpdir(), 'openroll-test-times.json');

/** @param {string} text @returns {Counts | null} */
export function readTapCounts(text) {
  /** @type {Record<string, number>} */
  const c = {};
  // The closing block of the file's TAP: the last value of each counter wins.
  for (const m of text.matchAll(/^# (tests|pass|fail|cancelled|skipped|todo) (\d+)\s*$/gm)) {
    if (m[1] && m[2]) c[m[1]] = Number(m[2]);
  }
  if (c.tests === undefined || c.pass === undefined || c.fail === undefined) return null;
  return { tests: c.tests, pass: c.pass, fail: c.fail, cancelled: c.cancelled ?? 0, skipped: c.skipped ?? 0, todo: c.todo ?? 0 };
}

/** @returns {Record<string, number>} */
function lastTimes() {
  try {
    return JSON.parse(fs.readFileSync(TIMES_FILE, 'utf8'));
  } catch {
    return {};
  }
}

/** @param {JobResult[]} results */
function saveTimes(results) {
  const times = lastTimes();
  for (const r of results) if (r.ok) times[`${r.job.pass}\0${r.job.file}`] = r.ms;
  try {
    fs.writeFileSync(TIMES_FILE, JSON.stringify(times));
  } catch {
    // Only an ordering hint for the next run.
  }
}

/**
 * How long a job is expected to take, for the order: the last run's time, else a guess: files
 * that start processes or run properties are the slow ones, then the bigger the file the longer.
 * @param {string} root @param {Job} job @param {Record<string, number>} times
 */
function expectedMs(root, job, times) {
  const known = times[`${job.pass}\0${job.file}`];
  if (known !== undefined) return known;
  let text;
  try {
    text = fs.readFileSync(path.join(root, job.file), 'utf8');
  } catch {
    return 0;
  }
  const spawns = (text.match(/startServerProcess|runCli\(|spawn\(/g) ?? []).length;
  // Property runs (fast-check) are the other slow kind: thousands of requests each.
  const properties = (text.match(/fc\.assert\(/g) ?? []).length;
  return spawns * 5_000 + properties * 30_000 + text.length / 10;
}

/**
 * Runs every job, `concurrency` at a time; `onDone` gets each result with its output as it ends.
 * @param {{ root: string, jobs: Job[], concurrency: number, nodeArgs: string[], timeoutMs: number,
 *   onDone: (result: JobResult, output: string) => void, isInterrupted: () => boolean }} options
 * @returns {{ done: Promise<JobResult[]>, kill: (signal: NodeJS.Signals) => void }}
 */
export function runPool({ root, jobs, concurrency, nodeArgs, timeoutMs, onDone, isInterrupted }) {
  const times = lastTimes();
  const queue = [...jobs].sort((a, b) => expectedMs(root, b, times) - expectedMs(root, a, times));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'openroll-test-'));
  /** @type {Set<import('node:child_process').ChildProcess>} */
  const running = new Set();
  /** @type {JobResult[]} */
  const results = [];
  let seq = 0;

  /** @param {Job} job @returns {Promise<void>} */
  const runOne = (job) =>
    new Promise((resolve) => {
      const tap = path.join(tmp, `${seq++}.tap`);
      const spec = `${tap}.spec`;
      const started = Date.now();
      const args = ['--import', 'tsx', '--test-reporter=spec', `--test-reporter-destination=${spec}`, '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...nodeArgs, job.file];
      const child = spawn(process.execPath, args, { cwd: root, env: job.env, stdio: ['ignore', 'pipe', 'pipe'] });
      running.add(child);
      let out = '';
      child.stdout?.on('data', (d) => (out += d));
      child.stderr?.on('data', (d) => (out += d));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      const finish = (/** @type {number | null} */ code, /** @type {NodeJS.Signals | null} */ signal) => {
        clearTimeout(timer);
        running.delete(child);
        const read = (/** @type {string} */ f) => {
          try {
            return fs.readFileSync(f, 'utf8');
          } catch {
            return '';
          }
        };
        const counts = readTapCounts(read(tap));
        const ok = code === 0 && counts !== null && !isInterrupted();
        const detail = ok ? 'passed' : timedOut ? `FAILED (no end within ${timeoutMs / 1000} s)` : signal ? `FAILED (killed by ${signal})` : counts === null ? `FAILED (exit code ${code}, no results)` : `FAILED (exit code ${code})`;
        const result = { job, ok, detail, counts, ms: Date.now() - started };
        results.push(result);
        onDone(result, read(spec) + (out.trim() ? `${out.trimEnd()}\n` : ''));
        resolve();
      };
      child.on('error', (err) => {
        out += `could not start: ${err.message}\n`;
        finish(null, null);
      });
      child.on('close', finish);
    });

  const worker = async () => {
    for (let job = queue.shift(); job && !isInterrupted(); job = queue.shift()) await runOne(job);
  };
  const done = Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker)).then(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
    saveTimes(results);
    return results;
  });
  return { done, kill: (signal) => running.forEach((c) => c.kill(signal)) };
}
