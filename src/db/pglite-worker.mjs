// @ts-check
/**
 * The embedded database's thread: PGlite runs here, off the server's event loop, so a slow
 * statement delays other statements but never an HTTP answer that needs no database.
 *
 * It only executes PostgreSQL wire-protocol messages that the owner (src/db/pglite-owner.ts)
 * hands it, one batch at a time, and answers with the backend's bytes. Plain JavaScript on
 * purpose: a worker thread does not inherit the TypeScript loader of the thread that starts it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';

if (!parentPort) throw new Error('pglite-worker.mjs runs as a worker thread');
const port = parentPort;
const { dataDir } = /** @type {{ dataDir: string }} */ (workerData);

/** @type {PGlite | undefined} */
let db;
try {
  db = new PGlite(dataDir, { extensions: { pg_trgm } });
  await db.waitReady;
  port.postMessage({ type: 'ready' });
} catch (error) {
  port.postMessage({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
}

/** Runs complete frontend messages in order and joins the backend's answers. */
function execute(/** @type {Uint8Array[]} */ messages) {
  const outputs = messages.map((m) => /** @type {PGlite} */ (db).execProtocolRawSync(m));
  const result = new Uint8Array(outputs.reduce((n, o) => n + o.byteLength, 0));
  let at = 0;
  for (const out of outputs) {
    result.set(out, at);
    at += out.byteLength;
  }
  return result;
}

port.on('message', async (/** @type {{ type: string, id: number, messages?: Uint8Array[] }} */ message) => {
  if (!db) return;
  if (message.type === 'exec' && message.messages) {
    try {
      const result = execute(message.messages);
      port.postMessage({ type: 'result', id: message.id, data: result }, [result.buffer]);
    } catch (error) {
      port.postMessage({ type: 'crashed', id: message.id, message: error instanceof Error ? error.message : String(error) });
    }
  } else if (message.type === 'close') {
    await db.close().catch(() => {});
    port.postMessage({ type: 'closed', id: message.id });
  }
});
