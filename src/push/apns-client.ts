import { connect, constants, type ClientHttp2Session } from 'node:http2';

/** The organization's push certificate as TLS client credentials; `id` changes when it is replaced. */
export interface PushCredentials {
  id: string;
  topic: string;
  certificatePem: string;
  privateKeyPem: string;
}

/** One push: the device's token (bytes, sent as hex) and its PushMagic. */
export interface ApnsPush {
  pushToken: Buffer;
  pushMagic: string;
}

/** What APNs answered: `status` 0 when no answer came (network, TLS, timeout). */
export interface ApnsResult {
  status: number;
  /** APNs' `reason` on an error (BadDeviceToken, Unregistered, TooManyRequests, ...), or the network error. */
  reason: string | null;
  apnsId: string | null;
}

export interface ApnsClientOptions {
  /** APNS_URL: `https://api.push.apple.com` unless configured. */
  url: string;
  /** Extra trust for APNS_URL's certificate (tests); by default the system CAs and NODE_EXTRA_CA_CERTS. */
  ca?: string;
  timeoutMs?: number;
}

const { HTTP2_HEADER_METHOD, HTTP2_HEADER_PATH, HTTP2_HEADER_STATUS, HTTP2_HEADER_CONTENT_TYPE } = constants;

/**
 * An APNs client over HTTP/2: one session per organization's push certificate, kept open and
 * shared by every push of that organization (APNs asks providers not to open a connection per
 * push), opened again when it closes, errs or is told to go away, and replaced when the
 * organization uploads another certificate.
 */
export function createApnsClient(options: ApnsClientOptions) {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const sessions = new Map<string, { credentialsId: string; session: ClientHttp2Session }>();
  let opened = 0;

  function sessionFor(organizationId: string, credentials: PushCredentials): ClientHttp2Session {
    const current = sessions.get(organizationId);
    if (current && current.credentialsId === credentials.id && !current.session.closed && !current.session.destroyed) return current.session;
    current?.session.close();
    const session = connect(options.url, {
      cert: credentials.certificatePem,
      key: credentials.privateKeyPem,
      ...(options.ca ? { ca: options.ca } : {}),
    });
    opened++;
    const forget = () => {
      if (sessions.get(organizationId)?.session === session) sessions.delete(organizationId);
    };
    session.on('close', forget);
    session.on('goaway', forget);
    // An error closes the session; the push that met it reports it, the next one reconnects.
    session.on('error', forget);
    // An idle pool must not keep the process alive.
    session.unref();
    sessions.set(organizationId, { credentialsId: credentials.id, session });
    return session;
  }

  /** Sends one MDM push; never throws: every failure is an ApnsResult the sender can settle. */
  function send(organizationId: string, credentials: PushCredentials, push: ApnsPush): Promise<ApnsResult> {
    return new Promise((resolve) => {
      let session: ClientHttp2Session;
      try {
        session = sessionFor(organizationId, credentials);
      } catch (error) {
        resolve({ status: 0, reason: describe(error), apnsId: null });
        return;
      }
      const body = JSON.stringify({ mdm: push.pushMagic });
      const request = session.request({
        [HTTP2_HEADER_METHOD]: 'POST',
        [HTTP2_HEADER_PATH]: `/3/device/${push.pushToken.toString('hex')}`,
        [HTTP2_HEADER_CONTENT_TYPE]: 'application/json',
        'apns-topic': credentials.topic,
        'apns-push-type': 'mdm',
        'apns-priority': '10',
      });
      let status = 0;
      let apnsId: string | null = null;
      const chunks: Buffer[] = [];
      let settled = false;
      const finish = (result: ApnsResult) => {
        if (settled) return;
        settled = true;
        resolve(result);
      };
      request.setTimeout(timeoutMs, () => {
        request.close(constants.NGHTTP2_CANCEL);
        finish({ status: 0, reason: `no answer within ${timeoutMs} ms`, apnsId: null });
      });
      request.on('response', (headers) => {
        status = Number(headers[HTTP2_HEADER_STATUS]);
        const id = headers['apns-id'];
        apnsId = typeof id === 'string' ? id : null;
      });
      request.on('data', (chunk: Buffer) => {
        if (chunks.length < 16) chunks.push(chunk);
      });
      request.on('end', () => finish({ status, reason: status === 200 ? null : reasonOf(Buffer.concat(chunks)), apnsId }));
      request.on('error', (error) => finish({ status: 0, reason: describe(error), apnsId: null }));
      request.end(body);
    });
  }

  return {
    send,
    /** Sessions opened since start (the pool's test counts them). */
    sessionsOpened: () => opened,
    /** Closes every pooled session (shutdown). */
    close(): void {
      for (const { session } of sessions.values()) session.close();
      sessions.clear();
    },
  };
}

export type ApnsClient = ReturnType<typeof createApnsClient>;

/** APNs' error body is `{"reason": "..."}` (Apple, "Handling notification responses from APNs"). */
function reasonOf(body: Buffer): string | null {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (parsed && typeof parsed === 'object' && 'reason' in parsed && typeof parsed.reason === 'string') return parsed.reason.slice(0, 100);
  } catch {
    // Not APNs' JSON (a proxy's page): the status says enough.
  }
  return null;
}

function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').slice(0, 200);
}

/** A push token as logs may show it: its first 8 hex digits only. */
export function redactPushToken(token: Buffer): string {
  return `${token.subarray(0, 4).toString('hex')}…`;
}
