import type { LoggerOptions } from 'pino';
import type { Config } from './config.ts';

/** Paths whose last segment is a link secret; they are logged with the secret masked. */
const SECRET_PATH = /\/(enroll)\/[^/?#]+/g;

export function maskUrl(url: string): string {
  return url.replace(SECRET_PATH, '/$1/[redacted]');
}

/** pino options: keys, link secrets and email bodies never reach the log. */
export function loggerOptions(config: Pick<Config, 'logLevel'>): LoggerOptions {
  return {
    level: config.logLevel,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'key', '*.key', 'secret', '*.secret', 'html', 'text', '*.html', '*.text'],
      censor: '[redacted]',
    },
    serializers: {
      req: (req: { method: string; url: string; hostname?: string; ip?: string }) => ({
        method: req.method,
        url: maskUrl(req.url),
        hostname: req.hostname,
        remoteAddress: req.ip,
      }),
    },
  };
}
