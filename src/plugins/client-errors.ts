import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyInstance } from 'fastify';

const ANSWERS: Record<string, { status: number; message: string; label: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, message: 'Client Timeout', label: 'timeout' },
  HPE_HEADER_OVERFLOW: { status: 431, message: 'Exceeded maximum allowed HTTP header size', label: 'header_overflow' },
};

/**
 * What a connection gets when Node cannot make a request of it (malformed HTTP, headers too
 * large, too slow): Fastify's own answer, but the log line keeps only the error's code and
 * message. Node attaches the bytes it had received (`rawPacket`), Authorization header included,
 * and Fastify's default handler logs them.
 */
export function clientErrorHandler(this: FastifyInstance, error: ConnectionError, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const answer = ANSWERS[error.code] ?? { status: 400, message: 'Client Error', label: 'error' };
  const statusText = STATUS_CODES[answer.status] ?? 'Error';
  this.log.trace({ err: { code: error.code, message: error.message } }, `client ${answer.label}`);
  if (socket.writable) {
    const body = JSON.stringify({ error: statusText, message: answer.message, statusCode: answer.status });
    socket.write(`HTTP/1.1 ${answer.status} ${statusText}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}
