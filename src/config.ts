import { isIP } from 'node:net';

/**
 * Configuration, parsed once from the environment and passed explicitly. A bad value stops
 * the start with one line naming the variable.
 */
export interface Config {
  port: number;
  host: string;
  /** A PostgreSQL URL; undefined means the embedded PGlite database in dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  publicUrl: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Largest request body accepted, in bytes. */
  bodyLimit: number;
  /** Connections in the PostgreSQL pool (ignored on PGlite). */
  databasePoolSize: number;
  /** Seconds between sweeps that store EXPIRED on tokens whose expireAt has passed. */
  expirySweepSeconds: number;
  /** smtp:// or smtps:// URL; undefined keeps messages captured in the database. */
  smtpUrl: string | undefined;
  mailFrom: string;
  /** Delivery attempts of one message before it is marked failed. */
  mailMaxAttempts: number;
  /** First retry delay; each later one doubles, up to an hour. */
  mailRetryBaseMs: number;
  /** Seconds after a token's last email before `send-email` may send another; 0: no cooldown. */
  emailResendCooldownSeconds: number;
  /** Enrollment emails an organization may queue per UTC day; 0: no cap. */
  emailDailyCapPerOrganization: number;
  /** A captured list page for the benchmark's ceiling route (bench/); unset in production. */
  benchCeilingFile: string | undefined;
  /** /v1 requests one API key (or, unauthenticated, one client address) may make per window; 0 disables. */
  rateLimitPerMinute: number;
  /** /v1 requests without a valid key one client address may make per window; 0 disables. */
  rateLimitUnauthenticatedPerMinute: number;
  /** The rate limit's window: a minute; only tests shorten it. */
  rateLimitWindowMs: number;
  /**
   * Addresses and CIDR ranges of the reverse proxies whose X-Forwarded-For is believed; empty:
   * none is, and the client address is the connection's.
   */
  trustProxy: string[];
  /** Origins allowed to call the API from a browser (CORS); empty: CORS stays off. */
  corsOrigins: string[];
  /** Time a client has to send the request line and headers (slow-header attacks). */
  headersTimeoutMs: number;
  /** Time a client has to send the whole request, headers and body. */
  requestTimeoutMs: number;
  /** A socket with no traffic either way for this long is closed, also while a response is computed. */
  connectionTimeoutMs: number;
  /** How long an idle keep-alive connection stays open between requests. */
  keepAliveTimeoutMs: number;
}

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  return raw;
}

/** Comma-separated origins (scheme://host[:port]), each checked; `*` is refused: keys are bearer secrets. */
function origins(env: Env, name: string): string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((entry) => {
    const value = entry.trim();
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new ConfigError(name, `has an entry that is not an origin: "${value}"`);
    }
    if (!['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== value.replace(/\/+$/, '')) {
      throw new ConfigError(name, `entries must be origins like https://admin.example.com, got "${value}"`);
    }
    return parsed.origin;
  });
}

/** proxy-addr's names for the private ranges, accepted as TRUST_PROXY entries too. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * Comma-separated addresses or CIDR ranges (`10.0.0.0/8`, `::1`, `loopback`) of the proxies in
 * front of the server. Hop counts and `true` are refused: they would believe any client's
 * X-Forwarded-For.
 */
function proxies(env: Env, name: string): string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((entry) => {
    const value = entry.trim();
    if (PROXY_RANGE_NAMES.includes(value)) return value;
    const [address = '', bits, extra] = value.split('/');
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    const validBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max);
    if (family === 0 || !validBits || extra !== undefined) {
      throw new ConfigError(name, `entries must be IP addresses or CIDR ranges like 10.0.0.0/8 (or loopback, linklocal, uniquelocal), got "${value}"`);
    }
    return value;
  });
}

export function loadConfig(env: Env = process.env): Config {
  const logLevel = env.LOG_LEVEL === undefined || env.LOG_LEVEL === '' ? 'info' : env.LOG_LEVEL;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const host = env.HOST === undefined || env.HOST === '' ? '127.0.0.1' : env.HOST;
  const publicUrl = (url(env, 'PUBLIC_URL', ['http:', 'https:']) ?? 'http://localhost:3000').replace(/\/+$/, '');
  return {
    port: integer(env, 'PORT', 3000, 0, 65535),
    host,
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    dataDir: env.DATA_DIR === undefined || env.DATA_DIR === '' ? './data' : env.DATA_DIR,
    publicUrl,
    logLevel: logLevel as Config['logLevel'],
    bodyLimit: integer(env, 'BODY_LIMIT', 1_048_576, 1024, 104_857_600),
    databasePoolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 1000),
    expirySweepSeconds: integer(env, 'EXPIRY_SWEEP_SECONDS', 60, 1, 86_400),
    smtpUrl: url(env, 'SMTP_URL', ['smtp:', 'smtps:']),
    mailFrom: env.MAIL_FROM === undefined || env.MAIL_FROM === '' ? 'Openroll <no-reply@openroll.localhost>' : env.MAIL_FROM,
    mailMaxAttempts: integer(env, 'MAIL_MAX_ATTEMPTS', 8, 1, 100),
    mailRetryBaseMs: integer(env, 'MAIL_RETRY_BASE_MS', 30_000, 1, 3_600_000),
    emailResendCooldownSeconds: integer(env, 'EMAIL_RESEND_COOLDOWN_SECONDS', 300, 0, 86_400),
    emailDailyCapPerOrganization: integer(env, 'EMAIL_DAILY_CAP_PER_ORGANIZATION', 20_000, 0, 100_000_000),
    benchCeilingFile: env.BENCH_CEILING_FILE || undefined,
    rateLimitPerMinute: integer(env, 'RATE_LIMIT_PER_MINUTE', 600, 0, 1_000_000),
    rateLimitUnauthenticatedPerMinute: integer(env, 'RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE', 60, 0, 1_000_000),
    rateLimitWindowMs: 60_000,
    trustProxy: proxies(env, 'TRUST_PROXY'),
    corsOrigins: origins(env, 'CORS_ORIGINS'),
    ...timeouts(env),
  };
}

function timeouts(env: Env): Pick<Config, 'headersTimeoutMs' | 'requestTimeoutMs' | 'connectionTimeoutMs' | 'keepAliveTimeoutMs'> {
  const headersTimeoutMs = integer(env, 'HEADERS_TIMEOUT_MS', 10_000, 1000, 600_000);
  const requestTimeoutMs = integer(env, 'REQUEST_TIMEOUT_MS', 30_000, 1000, 3_600_000);
  // Node refuses a headers timeout longer than the whole-request one.
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError('HEADERS_TIMEOUT_MS', `must not exceed REQUEST_TIMEOUT_MS (${requestTimeoutMs}), got ${headersTimeoutMs}`);
  }
  return {
    headersTimeoutMs,
    requestTimeoutMs,
    connectionTimeoutMs: integer(env, 'CONNECTION_TIMEOUT_MS', 120_000, 1000, 3_600_000),
    keepAliveTimeoutMs: integer(env, 'KEEP_ALIVE_TIMEOUT_MS', 72_000, 1000, 3_600_000),
  };
}
