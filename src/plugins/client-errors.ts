import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyInstance } from 'fastify';
import { AppError } from '../errors.ts';
import { errorBody } from './error-handler.ts';

const ANSWERS: Record<string, { error: () => AppError; label: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { error: () => new AppError('REQUEST_TIMEOUT'), label: 'timeout' },
  HPE_HEADER_OVERFLOW: { error: () => new AppError('HEADERS_TOO_LARGE'), label: 'header_overflow' },
};

const malformed = () => new AppError('VALIDATION', { data: { errors: [{ path: 'request', message: 'is not valid HTTP/1.1' }] } });

/**
 * What a connection gets when Node cannot make a request of it (malformed HTTP, headers too
 * large, too slow): the contract's envelope with a request id, like every other answer. Node
 * never built a request, so the id is a new one. The log line keeps only the error's code and
 * message: Node attaches the bytes it had received (`rawPacket`), Authorization header included,
 * and Fastify's default handler logs them.
 */
export function clientErrorHandler(this: FastifyInstance, error: ConnectionError, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const answer = ANSWERS[error.code] ?? { error: malformed, label: 'error' };
  const appError = answer.error();
  const requestId = randomUUID();
  this.log.trace({ err: { code: error.code, message: error.message }, reqId: requestId }, `client ${answer.label}`);
  if (socket.writable) {
    const body = JSON.stringify(errorBody(appError, requestId));
    const status = appError.statusCode;
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `x-request-id: ${requestId}\r\n` +
        'X-Content-Type-Options: nosniff\r\n' +
        'Cache-Control: no-store\r\n' +
        `Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
