/**
 * The few pieces of the PostgreSQL wire protocol (v3) the embedded database's owner needs to
 * share one PGlite backend between many client connections: framing, the names of prepared
 * statements and portals (each connection gets its own namespace), and the backend messages
 * that say where a transaction stands.
 */

const PROTOCOL_V3 = 196_608;
export const SSL_REQUEST = 80_877_103;
export const GSS_REQUEST = 80_877_104;
export const CANCEL_REQUEST = 80_877_102;

export interface FrontendMessage {
  /** The type byte ('P', 'B', 'Q', ...); '' for the untyped startup-phase messages. */
  type: string;
  bytes: Buffer;
  /** For untyped messages: the protocol code (startup, SSL, GSS, cancel). */
  code?: number;
}

/**
 * Cuts complete messages off the front of `buffer`; `started` says whether the connection is
 * past its startup message (before it, messages carry no type byte).
 */
export function takeMessages(buffer: Buffer, started: () => boolean): { messages: FrontendMessage[]; rest: Buffer } {
  const messages: FrontendMessage[] = [];
  let offset = 0;
  while (true) {
    if (!started()) {
      if (buffer.length - offset < 8) break;
      const length = buffer.readInt32BE(offset);
      if (length < 8 || length > 10_000) throw new Error('invalid startup packet');
      if (buffer.length - offset < length) break;
      const code = buffer.readInt32BE(offset + 4);
      messages.push({ type: '', code, bytes: buffer.subarray(offset, offset + length) });
      offset += length;
      if (code === PROTOCOL_V3) return { messages, rest: Buffer.from(buffer.subarray(offset)) };
      continue;
    }
    if (buffer.length - offset < 5) break;
    const length = buffer.readInt32BE(offset + 1);
    if (length < 4) throw new Error('invalid message length');
    if (buffer.length - offset < 1 + length) break;
    messages.push({ type: String.fromCharCode(buffer[offset]!), bytes: buffer.subarray(offset, offset + 1 + length) });
    offset += 1 + length;
  }
  return { messages, rest: Buffer.from(buffer.subarray(offset)) };
}

export const isStartup = (m: FrontendMessage) => m.type === '' && m.code === PROTOCOL_V3;

/** The startup message's parameters (user, database, options, statement_timeout, ...). */
export function startupParameters(m: FrontendMessage): Record<string, string> {
  const parts = m.bytes.subarray(8).toString('utf8').split('\0');
  const params: Record<string, string> = {};
  for (let i = 0; i + 1 < parts.length && parts[i] !== ''; i += 2) params[parts[i]!] = parts[i + 1]!;
  return params;
}

function cstring(bytes: Buffer, at: number): { value: string; end: number } {
  const end = bytes.indexOf(0, at);
  return { value: bytes.toString('utf8', at, end), end: end + 1 };
}

function frame(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const cstr = (value: string) => Buffer.from(`${value}\0`, 'utf8');

/**
 * The message with its statement and portal names moved into the connection's namespace, so
 * that two connections preparing "tokens_page" get two statements. The unnamed ones stay
 * unnamed: a connection owns the backend from its Parse to its Sync, so nobody else uses them.
 */
export function renameObjects(m: FrontendMessage, rename: (name: string) => string): { bytes: Buffer; statement?: string } {
  const body = m.bytes.subarray(5);
  const map = (name: string) => (name === '' ? '' : rename(name));
  switch (m.type) {
    case 'P': {
      const name = cstring(body, 0);
      if (name.value === '') return { bytes: m.bytes };
      const renamed = map(name.value);
      return { bytes: frame('P', Buffer.concat([cstr(renamed), body.subarray(name.end)])), statement: renamed };
    }
    case 'B': {
      const portal = cstring(body, 0);
      const statement = cstring(body, portal.end);
      if (portal.value === '' && statement.value === '') return { bytes: m.bytes };
      return { bytes: frame('B', Buffer.concat([cstr(map(portal.value)), cstr(map(statement.value)), body.subarray(statement.end)])) };
    }
    case 'D':
    case 'C': {
      const name = cstring(body, 1);
      if (name.value === '') return { bytes: m.bytes };
      return { bytes: frame(m.type, Buffer.concat([body.subarray(0, 1), cstr(map(name.value)), body.subarray(name.end)])) };
    }
    case 'E': {
      const portal = cstring(body, 0);
      if (portal.value === '') return { bytes: m.bytes };
      return { bytes: frame('E', Buffer.concat([cstr(map(portal.value)), body.subarray(portal.end)])) };
    }
    default:
      return { bytes: m.bytes };
  }
}

/** The name of the prepared statement a Close message frees, if it closes one. */
export function closedStatement(m: FrontendMessage): string | undefined {
  if (m.type !== 'C' || m.bytes[5] !== 0x53 /* 'S' */) return undefined;
  return cstring(m.bytes, 6).value;
}

/** The SQL text of a simple Query message. */
export function queryText(m: FrontendMessage): string | undefined {
  return m.type === 'Q' ? cstring(m.bytes, 5).value : undefined;
}

export function startupMessage(params: Record<string, string>): Buffer {
  const body = Buffer.from(`${Object.entries(params).map(([k, v]) => `${k}\0${v}\0`).join('')}\0`, 'utf8');
  const head = Buffer.alloc(8);
  head.writeInt32BE(body.length + 8, 0);
  head.writeInt32BE(PROTOCOL_V3, 4);
  return Buffer.concat([head, body]);
}

export const queryMessage = (text: string) => frame('Q', cstr(text));
export const syncMessage = () => frame('S', Buffer.alloc(0));
export const closeStatementMessage = (name: string) => frame('C', Buffer.concat([Buffer.from('S'), cstr(name)]));

/** An ErrorResponse (severity ERROR) and, when `ready`, a ReadyForQuery for an idle backend. */
export function errorResponse(sqlState: string, message: string, ready = true): Buffer {
  const fields = Buffer.concat([
    Buffer.from('S'),
    cstr('ERROR'),
    Buffer.from('V'),
    cstr('ERROR'),
    Buffer.from('C'),
    cstr(sqlState),
    Buffer.from('M'),
    cstr(message),
    Buffer.from([0]),
  ]);
  const error = frame('E', fields);
  return ready ? Buffer.concat([error, frame('Z', Buffer.from('I'))]) : error;
}

export interface BackendSummary {
  /** Status of the last ReadyForQuery: 'I' idle, 'T' in a transaction, 'E' in a failed one; undefined if none. */
  status: string | undefined;
  /** The output without its NotificationResponse messages. */
  output: Buffer;
  notifications: Array<{ channel: string; message: Buffer }>;
}

/** Reads the backend's answer: where the transaction stands, and the notifications to route. */
export function summarizeBackend(data: Buffer): BackendSummary {
  let status: string | undefined;
  const notifications: BackendSummary['notifications'] = [];
  const kept: Buffer[] = [];
  let keptFrom = 0;
  for (let offset = 0; offset + 5 <= data.length; ) {
    const type = String.fromCharCode(data[offset]!);
    const end = offset + 1 + data.readInt32BE(offset + 1);
    if (type === 'Z') status = String.fromCharCode(data[offset + 5]!);
    if (type === 'A') {
      kept.push(data.subarray(keptFrom, offset));
      keptFrom = end;
      notifications.push({ channel: cstring(data, offset + 9).value, message: data.subarray(offset, end) });
    }
    offset = end;
  }
  if (notifications.length === 0) return { status, output: data, notifications };
  kept.push(data.subarray(keptFrom));
  return { status, output: Buffer.concat(kept), notifications };
}
