import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PACKAGE_ROOT } from '../package-root.ts';

/** What a batch of frontend messages came to. */
export type BatchResult = { ok: true; data: Buffer } | { ok: false; reason: 'timeout' | 'crashed'; message: string };

export interface PgliteBackend {
  /**
   * Runs messages on the backend. Past `timeoutMs` (0: no limit) the thread running PGlite is
   * stopped, since PGlite cannot interrupt a statement (its statement_timeout does nothing), and
   * a new one opens the directory again: PostgreSQL's crash recovery keeps every committed
   * transaction and drops the one that was running.
   */
  exec(messages: Buffer[], timeoutMs: number): Promise<BatchResult>;
  /** Resolves when a backend is ready (again); rejects if the directory cannot be opened. */
  ready(): Promise<void>;
  /** How many times the backend was restarted after a timeout or a crash. */
  readonly restarts: number;
  close(): Promise<void>;
}

// Plain JavaScript, run from src/ whether the server runs from its sources or from the build.
const WORKER_URL = pathToFileURL(path.join(PACKAGE_ROOT, 'src', 'db', 'pglite-worker.mjs'));

interface Running {
  worker: Worker;
  ready: Promise<void>;
}

function spawn(dataDir: string): Running {
  const worker = new Worker(WORKER_URL, { workerData: { dataDir } });
  const ready = new Promise<void>((resolve, reject) => {
    const onMessage = (m: { type: string; message?: string }) => {
      if (m.type === 'ready') resolve();
      else if (m.type === 'failed') reject(new Error(`the embedded database in ${dataDir} could not be opened: ${m.message}`));
      else return;
      worker.off('message', onMessage);
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the embedded database thread exited (${code}) while opening ${dataDir}`)));
  });
  ready.catch(() => {});
  return { worker, ready };
}

export function createPgliteBackend(dataDir: string): PgliteBackend {
  let current = spawn(dataDir);
  let restarts = 0;
  let closed = false;
  let nextId = 1;

  /** The old thread is stopped before the new one opens the directory: never two at once. */
  const restart = () => {
    const old = current.worker;
    restarts++;
    const ready = old.terminate().then(() => {
      current = spawn(dataDir);
      return current.ready;
    });
    current = { worker: old, ready };
    return ready;
  };

  return {
    get restarts() {
      return restarts;
    },
    ready: () => current.ready,

    async exec(messages, timeoutMs) {
      try {
        await current.ready;
      } catch (error) {
        return { ok: false, reason: 'crashed', message: (error as Error).message };
      }
      if (closed) return { ok: false, reason: 'crashed', message: 'the embedded database is closed' };
      const { worker } = current;
      const id = nextId++;
      const outcome = await new Promise<BatchResult>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        const done = (result: BatchResult) => {
          clearTimeout(timer);
          worker.off('message', onMessage);
          worker.off('exit', onExit);
          resolve(result);
        };
        const onMessage = (m: { type: string; id: number; data?: Uint8Array; message?: string }) => {
          if (m.id !== id) return;
          if (m.type === 'result') done({ ok: true, data: Buffer.from(m.data!.buffer, m.data!.byteOffset, m.data!.byteLength) });
          else done({ ok: false, reason: 'crashed', message: m.message ?? 'the embedded database failed' });
        };
        const onExit = () => done({ ok: false, reason: 'crashed', message: 'the embedded database thread stopped' });
        worker.on('message', onMessage);
        worker.on('exit', onExit);
        if (timeoutMs > 0) {
          timer = setTimeout(() => done({ ok: false, reason: 'timeout', message: 'canceling statement due to statement timeout' }), timeoutMs);
        }
        worker.postMessage({ type: 'exec', id, messages });
      });
      // A timed-out or crashed backend's state is unknown: it is replaced, and the next batch
      // waits for the new one, while the caller hears of its failure at once.
      if (!outcome.ok && !closed) void restart().catch(() => {});
      return outcome;
    },

    async close() {
      if (closed) return;
      closed = true;
      const { worker } = current;
      await current.ready.catch(() => {});
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 10_000);
        worker.on('message', (m: { type: string }) => {
          if (m.type === 'closed') {
            clearTimeout(timer);
            resolve();
          }
        });
        worker.once('exit', () => resolve());
        worker.postMessage({ type: 'close', id: 0 });
      });
      await worker.terminate();
    },
  };
}
