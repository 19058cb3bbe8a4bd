import type { ServerOptions } from 'node:http';
import type { Config } from '../config.ts';

type Timeouts = Pick<Config, 'headersTimeoutMs' | 'requestTimeoutMs' | 'connectionTimeoutMs' | 'keepAliveTimeoutMs'>;

/**
 * Fastify's server options against slow clients. A client that trickles its headers or body
 * byte by byte never looks idle, so the idle timeout alone would not catch it: the headers and
 * whole-request timeouts bound those. Node checks both only every `connectionsCheckingInterval`
 * (30 s by default, longer than the timeouts themselves), so the check runs more often here.
 */
export function serverTimeouts(config: Timeouts): {
  connectionTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  http: ServerOptions;
} {
  return {
    connectionTimeout: config.connectionTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    http: {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, Math.max(25, Math.floor(config.headersTimeoutMs / 10))),
    },
  };
}
