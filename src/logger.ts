import { stdSerializers, type LoggerOptions } from 'pino';
import type { Config } from './config.ts';

/** Paths whose last segment is a link secret; they are logged with the secret masked. */
const SECRET_PATH = /\/(enroll)\/[^/?#]+/g;
/** A path segment that holds an email address, plain or percent-encoded. */
const PERSONAL_SEGMENT = /[^/?#]*(?:@|%40)[^/?#]*/gi;
/** Query parameter names are kept when they look like names, so a log still says what was asked. */
const PARAM_NAME = /^[\w.[\]-]{1,64}$/;
/** Anything shaped like an email address, wherever it appears in a logged string. */
const EMAIL = /[^\s"'<>()[\],;:@/?&=]+@[^\s"'<>()[\],;:@/?&=]+/g;
const REDACTED = '[redacted]';

/**
 * The request URL as logged: the enrollment secret masked, any path segment holding an email
 * masked, and every query value replaced (`?email=[redacted]&page=[redacted]`): filters carry
 * emails and names, and the log is no place for them.
 */
export function maskUrl(url: string): string {
  const q = url.indexOf('?');
  const path = (q === -1 ? url : url.slice(0, q)).replace(SECRET_PATH, `/$1/${REDACTED}`).replace(PERSONAL_SEGMENT, REDACTED);
  if (q === -1) return path;
  const query = url
    .slice(q + 1)
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      return `${PARAM_NAME.test(name) ? name : REDACTED}=${REDACTED}`;
    });
  return `${path}?${query.join('&')}`;
}

/** Email addresses in free text (an SMTP server's answer, a driver's message) masked. */
export function scrubText(text: string): string {
  return text.replace(EMAIL, REDACTED);
}

type SerializedError = Record<string, unknown> & { message?: unknown; stack?: unknown; cause?: unknown };

/**
 * An error as logged: pino's serializer, then without what a failed query carries: drizzle
 * writes the query's parameters into the message ("params: a@b.c,..."), keeps them in `params`,
 * and PostgreSQL's `detail` quotes the offending row ("Key (email)=(...) already exists").
 */
export function serializeError(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error) || depth > 4) return error;
  const out = stdSerializers.err(error) as SerializedError;
  for (const field of ['params', 'parameters', 'detail', 'where', 'query']) delete out[field];
  for (const field of ['message', 'stack'] as const) {
    const value = out[field];
    if (typeof value === 'string') out[field] = scrubText(value.replace(/\nparams: [^\n]*/g, `\nparams: ${REDACTED}`));
  }
  if (error.cause !== undefined) out.cause = serializeError(error.cause, depth + 1);
  return out;
}

/**
 * The strings of a log line's own fields with emails masked. Runs before the serializers, so
 * it leaves anything but plain objects and arrays (a request, an error) to them.
 */
function scrubFields(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (depth > 3 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrubFields(v, depth + 1));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubFields(v, depth + 1)]));
}

/** pino options: keys, link secrets, email bodies and personal data never reach the log. */
export function loggerOptions(config: Pick<Config, 'logLevel'>): LoggerOptions {
  return {
    level: config.logLevel,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'key', '*.key', 'secret', '*.secret', 'html', 'text', '*.html', '*.text'],
      censor: REDACTED,
    },
    formatters: {
      log: (object) => scrubFields(object) as Record<string, unknown>,
    },
    serializers: {
      req: (req: { method: string; url: string; hostname?: string; ip?: string }) => ({
        method: req.method,
        url: maskUrl(req.url),
        hostname: req.hostname,
        remoteAddress: req.ip,
      }),
      err: serializeError,
    },
  };
}
