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
  /** Where users reach the server: enrollment links start with it. */
  publicUrl: string;
  /** PUBLIC_URL was not set: publicUrl is the address the server listens on (PORT, HOST). */
  publicUrlFromListen: boolean;
  /** Bound on each database statement of a read (GET, HEAD) request, in ms; 0: none. */
  statementTimeoutMs: number;
  /** Bound on each database statement of a write request (bulks included) and of background work. */
  writeStatementTimeoutMs: number;
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
  /** Messages one process sends at once (and SMTP sessions it keeps open). */
  mailConcurrency: number;
  /**
   * How long a claimed outbox row (an email, a webhook delivery) stays with its process unless
   * renewed; live processes renew every third of it, so this is how soon a dead one's rows move on.
   */
  outboxLeaseMs: number;
  /** Seconds after a token's last email before `send-email` may send another; 0: no cooldown. */
  emailResendCooldownSeconds: number;
  /** Enrollment emails an organization may queue per UTC day; 0: no cap. */
  emailDailyCapPerOrganization: number;
  /** /v1 requests one API key (or, unauthenticated, one client address) may make per window; 0 disables. */
  rateLimitPerMinute: number;
  /** /v1 requests without a valid key one client address may make per window; 0 disables. */
  rateLimitUnauthenticatedPerMinute: number;
  /** The rate limit's window: a minute; only tests shorten it. */
  rateLimitWindowMs: number;
  /** Requests of one API key served at once by one process (the next wait their turn); 0: no bound. */
  maxConcurrentRequestsPerKey: number;
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
  /**
   * OPENROLL_SECRET_KEY: 32 bytes (base64) that encrypt the certificate authorities' private keys
   * at rest. Required with DATABASE_URL (checked when the server starts: see requireSecretKey);
   * unset on the embedded database, where a key file is generated in DATA_DIR (src/pki/secret-key.ts).
   */
  secretKey: Buffer | undefined;
  /**
   * MDM_CLIENT_CERT_HEADER: the request header (lower-cased) in which the TLS-terminating proxy
   * forwards the client certificate of Windows management sessions; believed only on requests
   * whose connection comes from a TRUST_PROXY address (required with it).
   */
  mdmClientCertHeader: string | undefined;
  /**
   * TLS_CERT_FILE and TLS_KEY_FILE (PEM paths, both or neither): Openroll serves HTTPS itself and
   * asks every client for a certificate, which the device paths check against the organization's
   * register of issued certificates (one listener serves every organization's CA).
   */
  tls: { certFile: string; keyFile: string } | undefined;
  /**
   * MDM_ALLOW_UNVERIFIED_SESSIONS: a Windows management session that presents no client
   * certificate is taken as the enrolled device its DeviceID names. For trials only: anyone who
   * knows a DeviceID can then speak as that device (not unenroll it: Alert 1226 needs a certificate).
   */
  mdmAllowUnverifiedSessions: boolean;
  /** Lets webhooks reach private, loopback and other special-use addresses (off: only global ones). */
  webhookAllowPrivateNetworks: boolean;
  /** One delivery attempt's whole time: resolving, connecting, sending, reading the answer. */
  webhookTimeoutMs: number;
  /** Bytes of an endpoint's answer read at most. */
  webhookMaxResponseBytes: number;
  /** Delivery attempts of one webhook event before it is marked failed. */
  webhookMaxAttempts: number;
  /** First webhook retry delay; each later one doubles, up to an hour. */
  webhookRetryBaseMs: number;
  /** Webhook requests one process has in flight at once. */
  webhookConcurrency: number;
  /** APNS_URL: where MDM pushes go (Apple's production APNs unless set; tests point it at loopback). */
  apnsUrl: string;
  apnsMaxAttempts: number;
  /** First retry delay of a push after a 429, a 5xx or a network error; each later one doubles. */
  apnsRetryBaseMs: number;
  apnsConcurrency: number;
  /** Bearer token /metrics requires; undefined leaves /metrics open. */
  metricsToken: string | undefined;
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

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(name, `must be true or false, got "${env[name]}"`);
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

/** The format the README documents: `openssl rand -base64 32`. */
export const SECRET_KEY_HINT = '32 random bytes in base64, e.g. the output of `openssl rand -base64 32`';

function secretKey(env: Env, name: string): Buffer | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  // Standard or URL-safe base64, padding optional; anything else would decode to garbage silently.
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(raw)) throw new ConfigError(name, `must be ${SECRET_KEY_HINT}`);
  const key = Buffer.from(raw.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key.length !== 32) throw new ConfigError(name, `must be ${SECRET_KEY_HINT} (it decodes to ${key.length} bytes)`);
  return key;
}

function headerName(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/.test(raw)) throw new ConfigError(name, `must be an HTTP header name, got "${raw}"`);
  return raw.toLowerCase();
}

function filePath(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw === undefined || raw === '' ? undefined : raw;
}

/** How Windows management sessions prove which device they are (README, "Windows enrollment"). */
function deviceSessions(env: Env): Pick<Config, 'mdmClientCertHeader' | 'tls' | 'mdmAllowUnverifiedSessions'> {
  const certFile = filePath(env, 'TLS_CERT_FILE');
  const keyFile = filePath(env, 'TLS_KEY_FILE');
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError(certFile === undefined ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE', 'must be set together with ' + (certFile === undefined ? 'TLS_KEY_FILE' : 'TLS_CERT_FILE'));
  }
  const header = headerName(env, 'MDM_CLIENT_CERT_HEADER');
  // A header any client can send is believed only from the proxy that overwrites it.
  if (header !== undefined && proxies(env, 'TRUST_PROXY').length === 0) {
    throw new ConfigError('MDM_CLIENT_CERT_HEADER', 'needs TRUST_PROXY: the addresses of the proxy that sets the header (from any other address it is ignored)');
  }
  return {
    mdmClientCertHeader: header,
    tls: certFile !== undefined && keyFile !== undefined ? { certFile, keyFile } : undefined,
    mdmAllowUnverifiedSessions: boolean(env, 'MDM_ALLOW_UNVERIFIED_SESSIONS', false),
  };
}

/**
 * What the start message says of Windows management sessions: how they are verified, or that
 * they are not (a trial setting) or refused (nothing to verify them with).
 */
export function deviceSessionNotice(config: Pick<Config, 'mdmClientCertHeader' | 'tls' | 'mdmAllowUnverifiedSessions' | 'trustProxy'>): { level: 'info' | 'warn'; message: string } {
  const ways = [
    ...(config.tls ? ['client certificates over this server\'s own TLS'] : []),
    ...(config.mdmClientCertHeader ? [`client certificates forwarded in ${config.mdmClientCertHeader} by ${config.trustProxy.join(', ')}`] : []),
  ];
  if (config.mdmAllowUnverifiedSessions) {
    const also = ways.length > 0 ? ` (certificates presented are still checked: ${ways.join('; ')})` : '';
    return {
      level: 'warn',
      message: `Windows management sessions: MDM_ALLOW_UNVERIFIED_SESSIONS=true is a trial setting. A session without a certificate is believed on the DeviceID it states${also}; never use it in production.`,
    };
  }
  if (ways.length === 0) {
    return { level: 'warn', message: 'Windows management sessions are refused: set TLS_CERT_FILE and TLS_KEY_FILE, or MDM_CLIENT_CERT_HEADER behind a proxy (README, "Windows enrollment").' };
  }
  return { level: 'info', message: `Windows management sessions are verified by ${ways.join(' and ')}.` };
}

/**
 * With PostgreSQL the server key cannot live in a local file (several servers share one
 * database), so the operator provides it; called when the server starts, not by every command.
 */
export function requireSecretKey(config: Pick<Config, 'databaseUrl' | 'secretKey'>): void {
  if (config.databaseUrl && !config.secretKey) {
    throw new ConfigError('OPENROLL_SECRET_KEY', `is required with DATABASE_URL: set it to ${SECRET_KEY_HINT}, the same on every server`);
  }
}

export function loadConfig(env: Env = process.env): Config {
  const logLevel = env.LOG_LEVEL === undefined || env.LOG_LEVEL === '' ? 'info' : env.LOG_LEVEL;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const host = env.HOST === undefined || env.HOST === '' ? '127.0.0.1' : env.HOST;
  const port = integer(env, 'PORT', 3000, 0, 65535);
  const explicitUrl = url(env, 'PUBLIC_URL', ['http:', 'https:']);
  const sessions = deviceSessions(env);
  return {
    port,
    host,
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    dataDir: env.DATA_DIR === undefined || env.DATA_DIR === '' ? './data' : env.DATA_DIR,
    publicUrl: explicitUrl?.replace(/\/+$/, '') ?? listenUrl(host, port, sessions.tls !== undefined),
    publicUrlFromListen: explicitUrl === undefined,
    statementTimeoutMs: integer(env, 'STATEMENT_TIMEOUT_MS', 10_000, 0, 3_600_000),
    writeStatementTimeoutMs: integer(env, 'WRITE_STATEMENT_TIMEOUT_MS', 60_000, 0, 3_600_000),
    logLevel: logLevel as Config['logLevel'],
    bodyLimit: integer(env, 'BODY_LIMIT', 1_048_576, 1024, 104_857_600),
    databasePoolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 1000),
    expirySweepSeconds: integer(env, 'EXPIRY_SWEEP_SECONDS', 60, 1, 86_400),
    smtpUrl: url(env, 'SMTP_URL', ['smtp:', 'smtps:']),
    mailFrom: env.MAIL_FROM === undefined || env.MAIL_FROM === '' ? 'Openroll <no-reply@openroll.localhost>' : env.MAIL_FROM,
    mailMaxAttempts: integer(env, 'MAIL_MAX_ATTEMPTS', 8, 1, 100),
    mailRetryBaseMs: integer(env, 'MAIL_RETRY_BASE_MS', 30_000, 1, 3_600_000),
    mailConcurrency: integer(env, 'MAIL_CONCURRENCY', 5, 1, 100),
    outboxLeaseMs: integer(env, 'OUTBOX_LEASE_SECONDS', 10, 2, 600) * 1000,
    emailResendCooldownSeconds: integer(env, 'EMAIL_RESEND_COOLDOWN_SECONDS', 300, 0, 86_400),
    emailDailyCapPerOrganization: integer(env, 'EMAIL_DAILY_CAP_PER_ORGANIZATION', 20_000, 0, 100_000_000),
    rateLimitPerMinute: integer(env, 'RATE_LIMIT_PER_MINUTE', 600, 0, 1_000_000),
    rateLimitUnauthenticatedPerMinute: integer(env, 'RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE', 60, 0, 1_000_000),
    rateLimitWindowMs: 60_000,
    maxConcurrentRequestsPerKey: integer(env, 'MAX_CONCURRENT_REQUESTS_PER_KEY', 2, 0, 10_000),
    trustProxy: proxies(env, 'TRUST_PROXY'),
    corsOrigins: origins(env, 'CORS_ORIGINS'),
    secretKey: secretKey(env, 'OPENROLL_SECRET_KEY'),
    ...sessions,
    ...timeouts(env),
    ...integrations(env),
  };
}

function integrations(
  env: Env,
): Pick<Config, 'apnsUrl' | 'apnsMaxAttempts' | 'apnsRetryBaseMs' | 'apnsConcurrency' | 'webhookAllowPrivateNetworks' | 'webhookTimeoutMs' | 'webhookMaxResponseBytes' | 'webhookMaxAttempts' | 'webhookRetryBaseMs' | 'webhookConcurrency' | 'metricsToken'> {
  const metricsToken = env.METRICS_TOKEN === undefined || env.METRICS_TOKEN === '' ? undefined : env.METRICS_TOKEN;
  // A bearer secret: short ones are guessable, and characters outside visible ASCII cannot travel in a header.
  if (metricsToken !== undefined && !/^[\x21-\x7e]{16,256}$/.test(metricsToken)) {
    throw new ConfigError('METRICS_TOKEN', 'must be 16 to 256 visible ASCII characters');
  }
  return {
    apnsUrl: (url(env, 'APNS_URL', ['https:']) ?? 'https://api.push.apple.com').replace(/\/+$/, ''),
    apnsMaxAttempts: integer(env, 'APNS_MAX_ATTEMPTS', 10, 1, 100),
    apnsRetryBaseMs: integer(env, 'APNS_RETRY_BASE_MS', 5_000, 1, 3_600_000),
    apnsConcurrency: integer(env, 'APNS_CONCURRENCY', 20, 1, 500),
    webhookAllowPrivateNetworks: boolean(env, 'WEBHOOK_ALLOW_PRIVATE_NETWORKS', false),
    webhookTimeoutMs: integer(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
    webhookMaxResponseBytes: integer(env, 'WEBHOOK_MAX_RESPONSE_BYTES', 65_536, 0, 10_485_760),
    webhookMaxAttempts: integer(env, 'WEBHOOK_MAX_ATTEMPTS', 12, 1, 100),
    webhookRetryBaseMs: integer(env, 'WEBHOOK_RETRY_BASE_MS', 30_000, 1, 3_600_000),
    webhookConcurrency: integer(env, 'WEBHOOK_CONCURRENCY', 8, 1, 200),
    metricsToken,
  };
}

/**
 * The URL of the address the server listens on: `localhost` for the loopback and for all
 * interfaces (the one name sure to reach it from this machine), the address itself otherwise.
 */
export function listenUrl(host: string, port: number, tls = false): string {
  const local = ['127.0.0.1', 'localhost', '::1', '0.0.0.0', '::', ''].includes(host);
  const name = local ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `${tls ? 'https' : 'http'}://${name}:${port}`;
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
