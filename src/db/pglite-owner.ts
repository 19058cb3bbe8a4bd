import { chmodSync, rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { createPgliteBackend, type BatchResult, type PgliteBackend } from './pglite-backend.ts';
import {
  CANCEL_REQUEST,
  closedStatement,
  closeStatementMessage,
  errorResponse,
  isStartup,
  queryMessage,
  queryText,
  renameObjects,
  startupMessage,
  startupParameters,
  summarizeBackend,
  syncMessage,
  takeMessages,
  type FrontendMessage,
} from './wire-protocol.ts';

/** The port number in the socket's name; node-postgres finds `<dir>/.s.PGSQL.<port>`. */
export const SOCKET_PORT = 5432;
export const socketPath = (socketDir: string) => join(socketDir, `.s.PGSQL.${SOCKET_PORT}`);

export interface PgliteOwnerOptions {
  dataDir: string;
  socketDir: string;
  /** A connection that holds a transaction open and sends nothing for this long is closed. */
  idleInTransactionMs?: number;
  onRestart?: (reason: string) => void;
}

export interface PgliteOwner {
  socketDir: string;
  backend: PgliteBackend;
  close(): Promise<void>;
}

interface Session {
  id: number;
  /** null: work of the owner itself (cleanup, replay after a restart), whose answers are dropped. */
  socket: net.Socket | null;
  buffer: Buffer;
  started: boolean;
  queue: Buffer[];
  /** Prepared statements by their backend name, kept to prepare them again after a restart. */
  statements: Map<string, Buffer>;
  channels: Set<string>;
  timeoutMs: number;
  closed: boolean;
}

const LISTEN = /^\s*(UN)?LISTEN\s+"?([A-Za-z_][\w$]*)"?\s*;?\s*$/i;
const SET_TIMEOUT = /^\s*SET\s+(?:SESSION\s+)?statement_timeout\s*(?:=|TO)\s*'?(\d+)\s*(ms|s|min)?'?\s*;?\s*$/i;

export function parseTimeout(value: string | undefined): number | undefined {
  const match = /^\s*(\d+)\s*(ms|s|min)?\s*$/i.exec(value ?? '');
  if (!match) return undefined;
  const unit = (match[2] ?? 'ms').toLowerCase();
  return Number(match[1]) * (unit === 'min' ? 60_000 : unit === 's' ? 1000 : 1);
}

/**
 * Serves one PGlite database to many PostgreSQL clients on a Unix socket. PGlite has a single
 * backend, so a connection gets it alone from its first message until the backend is idle
 * again outside any transaction: two connections' transactions never interleave, and a
 * transaction that fails leaves nothing of itself behind for the next one. Each connection's
 * prepared statements live under its own names.
 */
export async function startPgliteOwner(options: PgliteOwnerOptions): Promise<PgliteOwner> {
  const backend = createPgliteBackend(options.dataDir);
  await backend.ready();
  // Every connection gets the backend's own answer to a startup, given here once: a new
  // connection then opens at once, even while another one holds a long transaction.
  const hello = await backend.exec([startupMessage({ user: 'postgres', database: 'postgres' })], 0);
  if (!hello.ok) throw new Error(`the embedded database in ${options.dataDir} did not start: ${hello.message}`);
  const startupAnswer = hello.data;
  const idleInTransactionMs = options.idleInTransactionMs ?? 60_000;
  const sessions = new Set<Session>();
  const waiting: Session[] = [];
  let holder: Session | null = null;
  let running = false;
  let closing = false;
  let nextId = 1;
  let idleTimer: NodeJS.Timeout | undefined;

  const newSession = (socket: net.Socket | null): Session => ({
    id: nextId++,
    socket,
    buffer: Buffer.alloc(0),
    started: socket === null,
    queue: [],
    statements: new Map(),
    channels: new Set(),
    timeoutMs: 0,
    closed: false,
  });

  const internal = (messages: Buffer[]): Session => {
    const session = newSession(null);
    session.queue.push(...messages, syncMessage());
    return session;
  };

  const schedule = (session: Session, first = false) => {
    if (session !== holder && !waiting.includes(session)) {
      if (first) waiting.unshift(session);
      else waiting.push(session);
    }
    pump();
  };

  function pump(): void {
    if (running || closing) return;
    clearTimeout(idleTimer);
    let session: Session | undefined;
    if (holder) {
      if (holder.queue.length === 0) {
        const idle = holder;
        idleTimer = setTimeout(() => idle === holder && !running && idle.socket?.destroy(), idleInTransactionMs).unref();
        return;
      }
      session = holder;
    } else {
      while ((session = waiting.shift()) && session.queue.length === 0);
      if (!session) return;
    }
    const batch = session.queue.splice(0);
    const last = batch[batch.length - 1]!;
    const endsAtSync = last[0] === 0x53 /* S */ || last[0] === 0x51; /* Q */
    running = true;
    holder = session;
    void backend.exec(batch, session.socket ? session.timeoutMs : 0).then((result) => {
      running = false;
      finish(session, endsAtSync, result);
      pump();
    });
  }

  function finish(session: Session, endsAtSync: boolean, result: BatchResult): void {
    if (!result.ok) {
      // The backend was replaced: the batch's transaction is gone, and so is every
      // connection's server-side state, which is prepared again before anything else runs.
      options.onRestart?.(`${result.reason}: ${result.message}`);
      holder = null;
      if (!session.closed) session.socket?.write(errorResponse(result.reason === 'timeout' ? '57014' : '57P01', result.message));
      // A replay that fails itself is not replayed again: the backend cannot be opened.
      if (!session.socket) return;
      const replay = [...sessions].flatMap((s) => [...s.statements.values(), ...[...s.channels].map((c) => queryMessage(`LISTEN "${c}"`))]);
      schedule(internal(replay), true);
      return;
    }
    const summary = summarizeBackend(result.data);
    for (const n of summary.notifications) {
      for (const s of sessions) if (s.channels.has(n.channel) && !s.closed) s.socket?.write(n.message);
    }
    if (!session.closed) session.socket?.write(summary.output);
    const idle = summary.status === 'I' && endsAtSync;
    if (idle) holder = null;
    if (session.closed && !idle) release(session);
  }

  /** Frees what a closed connection left on the backend: its transaction and its statements. */
  function release(session: Session): void {
    const owned = holder === session;
    if (!owned && session.statements.size === 0) return;
    const cleanup = internal([...(owned ? [queryMessage('ROLLBACK')] : []), ...[...session.statements.keys()].map(closeStatementMessage)]);
    session.statements.clear();
    if (owned) holder = cleanup;
    schedule(cleanup, true);
  }

  function onMessage(session: Session, m: FrontendMessage): boolean {
    if (m.type === '') {
      if (isStartup(m)) {
        session.started = true;
        session.timeoutMs = parseTimeout(startupParameters(m).statement_timeout) ?? 0;
        session.socket?.write(startupAnswer);
      } else if (m.code === CANCEL_REQUEST) {
        session.socket?.end();
        return false;
      } else {
        session.socket?.write('N'); // no SSL or GSS on a local socket
      }
      return true;
    }
    if (m.type === 'X') {
      session.socket?.end();
      return false;
    }
    const text = queryText(m);
    if (text !== undefined) {
      const timeout = SET_TIMEOUT.exec(text);
      if (timeout) session.timeoutMs = parseTimeout(`${timeout[1]}${timeout[2] ?? ''}`) ?? session.timeoutMs;
      const listen = LISTEN.exec(text);
      if (listen) {
        if (listen[1]) session.channels.delete(listen[2]!);
        else session.channels.add(listen[2]!);
      }
    }
    const closed = closedStatement(m);
    const { bytes, statement } = renameObjects(m, (name) => `c${session.id}_${name}`);
    if (closed) session.statements.delete(`c${session.id}_${closed}`);
    if (statement) session.statements.set(statement, bytes);
    session.queue.push(bytes);
    return true;
  }

  const server = net.createServer((socket) => {
    const session = newSession(socket);
    sessions.add(session);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      try {
        const { messages, rest } = takeMessages(Buffer.concat([session.buffer, chunk]), () => session.started);
        session.buffer = rest;
        for (const m of messages) if (!onMessage(session, m)) break;
        if (session.queue.length > 0) schedule(session);
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      session.closed = true;
      sessions.delete(session);
      const at = waiting.indexOf(session);
      if (at >= 0) waiting.splice(at, 1);
      session.queue.length = 0;
      if (!(running && holder === session)) release(session);
      pump();
    });
  });

  const path = socketPath(options.socketDir);
  // A socket file left by an owner that was killed: the data directory's lock says it is ours now.
  rmSync(path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);

  return {
    socketDir: options.socketDir,
    backend,
    async close() {
      if (closing) return;
      clearTimeout(idleTimer);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sessions) s.socket?.destroy();
      });
      closing = true;
      while (running) await new Promise((r) => setTimeout(r, 10));
      await backend.close();
      rmSync(path, { force: true });
    },
  };
}
