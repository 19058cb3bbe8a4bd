import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, realpathSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Who owns an embedded database directory, as its lock file says. */
export interface LockHolder {
  pid: number;
  /** What the holder runs, e.g. "openroll serve". */
  command: string;
  /** Where its PostgreSQL socket is: other processes reach the database through it. */
  socketDir: string;
  since: string;
}

export const LOCK_FILE = 'openroll.lock';

export class DataDirBusyError extends Error {
  readonly dataDir: string;
  readonly holder: LockHolder;

  constructor(dataDir: string, holder: LockHolder) {
    super(
      `The embedded database in ${dataDir} is in use by process ${holder.pid} (${holder.command}). ` +
        `Stop that process first, or give this one another DATA_DIR.`,
    );
    this.name = 'DataDirBusyError';
    this.dataDir = dataDir;
    this.holder = holder;
  }
}

export interface DataDirLock {
  holder: LockHolder;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): LockHolder | 'unreadable' | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const holder = JSON.parse(text) as LockHolder;
    return Number.isInteger(holder.pid) ? holder : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

const ageMs = (path: string) => {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
};

/** The process that holds the directory now, if one does and is alive. */
export function liveHolder(dataDir: string): LockHolder | undefined {
  const holder = readHolder(join(dataDir, LOCK_FILE));
  return typeof holder === 'object' && alive(holder.pid) ? holder : undefined;
}

/**
 * Where the owner's socket goes: inside the data directory, unless its path would pass the
 * ~107 bytes a Unix socket path may have; then a private directory under the system's tmp.
 */
export function socketDirFor(dataDir: string): string {
  const absolute = realpathSync(dataDir);
  if (join(absolute, '.s.PGSQL.5432').length <= 100) return absolute;
  const dir = join(tmpdir(), `openroll-${createHash('sha256').update(absolute).digest('hex').slice(0, 16)}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/**
 * Takes the directory for this process's lifetime: an exclusive lock file with the pid. A lock
 * left by a process that is gone (killed, crashed) is taken over; one of a live process is not.
 */
export function acquireDataDirLock(dataDir: string, command: string): DataDirLock {
  const path = join(dataDir, LOCK_FILE);
  const holder: LockHolder = { pid: process.pid, command, socketDir: socketDirFor(dataDir), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, JSON.stringify(holder));
      } finally {
        closeSync(fd);
      }
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        process.off('exit', release);
        const current = readHolder(path);
        if (typeof current === 'object' && current.pid === process.pid) rmSync(path, { force: true });
      };
      process.on('exit', release);
      return { holder, release };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const current = readHolder(path);
    if (current === undefined) continue;
    if (current === 'unreadable' && ageMs(path) < 2_000) {
      // Another process is writing its lock this very moment.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      continue;
    }
    if (typeof current === 'object' && (alive(current.pid) || current.pid === process.pid)) throw new DataDirBusyError(dataDir, current);
    breakStaleLock(path, current);
  }
  throw new Error(`could not take the lock ${path}`);
}

/**
 * Removes a dead holder's lock. A second file serializes the takeover, so that two processes
 * that both found the same stale lock cannot each remove the lock the other one just wrote.
 */
function breakStaleLock(path: string, stale: LockHolder | 'unreadable'): void {
  const takeover = `${path}.takeover`;
  let fd: number;
  try {
    fd = openSync(takeover, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // A takeover that died half-way leaves its file behind: it is old, then.
    if (ageMs(takeover) > 5_000) rmSync(takeover, { force: true });
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    return;
  }
  try {
    const again = readHolder(path);
    const same = again === stale || (typeof again === 'object' && typeof stale === 'object' && again.pid === stale.pid && again.since === stale.since);
    if (same) rmSync(path, { force: true });
  } finally {
    closeSync(fd);
    rmSync(takeover, { force: true });
  }
}
